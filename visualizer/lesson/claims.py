"""Checking a claim against a run: true only when the recorded events make it so."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from visualizer.contract.claims import (
    AbsentClaim,
    BodyClaim,
    CountClaim,
    DbAtClaim,
    DetailClaim,
    OrderClaim,
    PoolAfterClaim,
    PresentClaim,
    StatusClaim,
    ThreadClaim,
)
from visualizer.contract.claims import Claim as AnyClaim
from visualizer.contract.events import Event
from visualizer.contract.trace import Trace
from visualizer.lesson.lanes import first

Events = list[Event]


def _order(claim: OrderClaim, events: Events, trace: Trace) -> bool:
    seqs = [getattr(first(events, kind), "seq", None) for kind in claim.order]
    found = [s for s in seqs if s is not None]
    return len(found) == len(seqs) and found == sorted(found)


def _status(claim: StatusClaim, events: Events, trace: Trace) -> bool:
    sent = first(events, "response.start")
    return sent is not None and sent.detail.get("status") == claim.status


def _db_at(claim: DbAtClaim, events: Events, trace: Trace) -> bool:
    kind, state = claim.db_at
    event = first(events, kind)
    return event is not None and event.db == state


def _count(claim: CountClaim, events: Events, trace: Trace) -> bool:
    kind, times = claim.count
    return sum(1 for e in events if e.kind == kind) == times


def _thread(claim: ThreadClaim, events: Events, trace: Trace) -> bool:
    kind, thread = claim.thread
    event = first(events, kind)
    return event is not None and (event.thread == thread or event.thread.startswith(f"{thread} "))


_IDENTITY = ("session", "transaction", "transaction_kind", "connection")


def _detail(claim: DetailClaim, events: Events, trace: Trace) -> bool:
    kind, key, value = claim.detail
    event = first(events, kind)
    if event is None:
        return False
    if key in _IDENTITY:
        return bool(getattr(event, key) == value)
    return key in event.detail and event.detail[key] == value


def _body(claim: BodyClaim, events: Events, trace: Trace) -> bool:
    """The response body of the claim's request (of any request if none) is exactly this."""
    lane = {e.request for e in events}
    return any(r.id in lane and r.body == claim.body for r in trace.requests)


_CHECKS: dict[type[Any], Callable[[Any, Events, Trace], bool]] = {
    OrderClaim: _order,
    PresentClaim: lambda claim, events, trace: first(events, claim.present) is not None,
    AbsentClaim: lambda claim, events, trace: first(events, claim.absent) is None,
    StatusClaim: _status,
    DbAtClaim: _db_at,
    CountClaim: _count,
    PoolAfterClaim: lambda claim, events, trace: trace.pool_after.checked_out == claim.pool_after,
    ThreadClaim: _thread,
    DetailClaim: _detail,
    BodyClaim: _body,
}


def holds(claim: AnyClaim, trace: Trace, request: int | None) -> bool:
    """Whether the recorded run makes this claim true (for one request, or the whole run)."""
    events = [e for e in trace.events if request is None or e.request == request]
    return _CHECKS[type(claim)](claim, events, trace)
