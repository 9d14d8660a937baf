"""One difference between a request's observed events and the textbook's seven steps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from visualizer.events import Event

ORDER = "order"  # steps happened in another order than the textbook's
SKIPPED = "skipped"  # a textbook step did not happen as the textbook says
OUTCOME = "outcome"  # the steps ran, but the result is not what the code meant


@dataclass(frozen=True, slots=True)
class Deviation:
    request: int
    kind: str
    type: str
    seq: int  # the event at which the difference shows
    expected: str
    observed: str
    why: str

    def to_json(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "kind": self.kind,
            "type": self.type,
            "seq": self.seq,
            "expected": self.expected,
            "observed": self.observed,
            "why": self.why,
        }


def first(lane: list[Event], *kinds: str, after: int = 0) -> Event | None:
    """The lane's first event of one of `kinds` whose seq is greater than `after`."""
    return next((e for e in lane if e.kind in kinds and e.seq > after), None)


def status_of(lane: list[Event]) -> int | None:
    response = first(lane, "response.start")
    return response.detail.get("status") if response else None
