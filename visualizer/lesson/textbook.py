"""The seven textbook steps, and which step each observed event belongs to."""

from __future__ import annotations

from dataclasses import dataclass

from visualizer.contract.events import GARBAGE_COLLECTOR, RawEvent


@dataclass(frozen=True, slots=True)
class Step:
    number: int
    title: str
    textbook_state: str


STEPS = (
    Step(1, "Request starts", "No session"),
    Step(2, "get_db creates a session", "Session open"),
    Step(3, "Session yielded to the endpoint", "Session open"),
    Step(4, "Endpoint runs queries", "Session open"),
    Step(5, "Commit or rollback", "Session open"),
    Step(6, "Session closed in finally", "Session closed"),
    Step(7, "Response returned", "Session closed"),
)

_FIXED_STEPS = {
    "request.start": 1,
    "session.create": 2,
    "session.yield": 3,
    "before_commit": 5,
    "after_commit": 5,
    "after_rollback": 5,
    "after_soft_rollback": 5,
    "session.close": 6,
    "response.start": 7,
    "response.end": 7,
    "client.headers": 7,
    "client.body": 7,
}
# What the program had called when the event fired. A savepoint's RELEASE or ROLLBACK TO is
# part of the endpoint's work (4), never the request's commit or rollback (5); what get_db
# does before its yield is its setup (2).
_PHASE_STEPS = {"commit": 5, "rollback": 5, "close": 6, "setup": 2, "release": 4, "rollback_to": 4}
_SAVEPOINT_PHASES = frozenset({"release", "rollback_to"})


def step_for(event: RawEvent) -> int | None:
    """The textbook step an event belongs to; None where no step fits."""
    if event.request is None:
        return None  # e.g. a connection freed by the garbage collector, outside any request
    if event.detail.get("by") == GARBAGE_COLLECTOR or event.kind == "request.error":
        return None  # neither is one of the seven steps: the explanations say what they are
    if event.kind in _FIXED_STEPS and event.phase not in _SAVEPOINT_PHASES:
        return _FIXED_STEPS[event.kind]
    if event.phase in _PHASE_STEPS:
        return _PHASE_STEPS[event.phase]
    if event.kind == "session.resume":
        return None  # the endpoint is done; get_db goes on after its yield
    return 4
