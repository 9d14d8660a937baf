"""Textbook against reality: each of the seven steps as taught, next to what this run did."""

from __future__ import annotations

from dataclasses import dataclass

from visualizer.deviations import Deviation
from visualizer.events import Event
from visualizer.textbook import STEPS, Step
from visualizer.trace import Trace


@dataclass(frozen=True, slots=True)
class Visit:
    """One stretch of consecutive events on the same step."""

    position: int  # 1-based place in the observed order
    t_ms: float
    db: str  # `db` when the stretch ended

    @property
    def ordinal(self) -> str:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(self.position % 10, "th")
        return f"{self.position}{'th' if 10 <= self.position % 100 <= 20 else suffix}"


@dataclass(frozen=True, slots=True)
class StepComparison:
    step: Step
    visits: tuple[Visit, ...]
    differences: tuple[Deviation, ...]

    @property
    def happened(self) -> bool:
        return bool(self.visits)


def _visits(lane: list[Event]) -> dict[int, list[Visit]]:
    found: dict[int, list[Visit]] = {}
    position, current = 0, None
    for event in lane:
        if event.step is None or event.kind.startswith("client."):
            continue
        if event.step != current:
            position += 1
            current = event.step
            found.setdefault(event.step, []).append(Visit(position, event.t_ms, event.db))
        else:
            last = found[event.step][-1]
            found[event.step][-1] = Visit(last.position, last.t_ms, event.db)
    return found


def _step_of(deviation: Deviation) -> int:
    """The textbook step a difference is about: the first number in what was expected."""
    return int(deviation.expected.split()[0]) if deviation.expected[0].isdigit() else 0


def compare(
    trace: Trace, request: int, deviations: list[Deviation] | None = None
) -> list[StepComparison]:
    """One row per textbook step for one request."""
    lane = [e for e in trace.events if e.request == request]
    visits = _visits(lane)
    deviations = [d for d in (deviations or trace.deviations) if d.request == request]
    return [
        StepComparison(
            step,
            tuple(visits.get(step.number, [])),
            tuple(d for d in deviations if _step_of(d) == step.number),
        )
        for step in STEPS
    ]
