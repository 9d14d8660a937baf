"""Textbook against reality: each of the seven steps as taught, next to what this run did."""

from __future__ import annotations

from dataclasses import dataclass

from visualizer.contract.document import Deviation
from visualizer.contract.trace import Trace
from visualizer.lesson.deviations import find_deviations
from visualizer.lesson.lanes import by_request, stories, stretches
from visualizer.lesson.textbook import STEPS, Step


@dataclass(frozen=True, slots=True)
class Visit:
    """One stretch of a request on a step: where it came in the order, when, and `db` after."""

    position: int  # 1-based place in the observed order
    t_ms: float
    db: str

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


def compare(
    trace: Trace,
    request: int,
    deviations: list[Deviation] | None = None,
    session: int | None = None,
) -> list[StepComparison]:
    """One row per textbook step for one request (for one of its sessions, if named)."""
    lane = by_request(trace.events).get(request, [])
    if session is not None:
        lane = dict(stories(lane)).get(session, [])
    visits: dict[int, list[Visit]] = {}
    for position, stretch in enumerate(stretches(lane), start=1):
        visits.setdefault(stretch.step, []).append(Visit(position, stretch.start_ms, stretch.db))
    if deviations is None:
        deviations = find_deviations(trace.events)
    mine = [d for d in deviations if d.request == request and session in (None, d.session)]
    return [
        StepComparison(
            step,
            tuple(visits.get(step.number, [])),
            tuple(d for d in mine if d.step == step.number),
        )
        for step in STEPS
    ]
