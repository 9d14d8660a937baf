"""Checking a claim against a run: true only when the recorded events make it so, and, when
it is false, what the run did instead."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from visualizer.contract.claims import (
    AbsentClaim,
    AllClaim,
    BodyClaim,
    CountClaim,
    DbAtClaim,
    DetailClaim,
    GcClaim,
    OrderClaim,
    PoolAfterClaim,
    PoolAtClaim,
    PoolPeakClaim,
    PresentClaim,
    StatusClaim,
    ThreadClaim,
)
from visualizer.contract.claims import Claim as AnyClaim
from visualizer.contract.events import Event
from visualizer.contract.trace import Trace
from visualizer.lesson.lanes import first

Events = list[Event]
_IDENTITY = ("session", "transaction", "transaction_kind", "connection")


def _value(event: Event, key: str) -> Any:
    return getattr(event, key) if key in _IDENTITY else event.detail.get(key)


def _bodies(events: Events, trace: Trace) -> list[str]:
    """The response bodies of the claim's request (of every request if it names none)."""
    lane = {e.request for e in events}
    return [r.body for r in trace.requests if r.id in lane]


def _order(claim: OrderClaim, events: Events, trace: Trace) -> tuple[bool, str]:
    found = [(kind, first(events, kind)) for kind in claim.order]
    missing = [kind for kind, event in found if event is None]
    if missing:
        return False, f"{missing[0]} never happened"
    seqs = [event.seq for _, event in found if event is not None]
    said = ", then ".join(
        f"{kind} (#{event.seq})"
        for kind, event in sorted(
            ((k, e) for k, e in found if e is not None), key=lambda pair: pair[1].seq
        )
    )
    return seqs == sorted(seqs), f"the order was {said}"


def _presence(kind: str, events: Events) -> str:
    event = first(events, kind)
    return f"{kind} happened (#{event.seq})" if event else f"{kind} never happened"


def _status(claim: StatusClaim, events: Events, trace: Trace) -> tuple[bool, str]:
    sent = first(events, "response.start")
    status = sent.detail.get("status") if sent else None
    return status == claim.status, f"the server sent {status}" if sent else "no response was sent"


def _at(kind: str, events: Events, what: Callable[[Event], Any]) -> tuple[Any, str]:
    event = first(events, kind)
    return (what(event), "") if event else (None, f"{kind} never happened")


def _db_at(claim: DbAtClaim, events: Events, trace: Trace) -> tuple[bool, str]:
    kind, state = claim.db_at
    db, missing = _at(kind, events, lambda e: e.db)
    return db == state, missing or f"db was {db!r} at {kind}"


def _count(claim: CountClaim, events: Events, trace: Trace) -> tuple[bool, str]:
    kind, times = claim.count
    counted = sum(1 for e in events if e.kind == kind)
    return counted == times, f"{kind} happened {counted} time{'s' if counted != 1 else ''}"


def _thread(claim: ThreadClaim, events: Events, trace: Trace) -> tuple[bool, str]:
    kind, thread = claim.thread
    ran, missing = _at(kind, events, lambda e: e.thread)
    holds = ran is not None and (ran == thread or ran.startswith(f"{thread} "))
    return holds, missing or f"{kind} ran on the {ran}"


def _detail(claim: DetailClaim, events: Events, trace: Trace) -> tuple[bool, str]:
    kind, key, value = claim.detail
    found, missing = _at(kind, events, lambda e: _value(e, key))
    return found is not None and found == value, missing or f"{kind}'s {key} was {found!r}"


def _pool_at(claim: PoolAtClaim, events: Events, trace: Trace) -> tuple[bool, str]:
    kind, out = claim.pool_at
    gauge, missing = _at(kind, events, lambda e: e.pool.checked_out)
    return gauge == out, missing or f"{gauge} connection(s) were checked out at {kind}"


def _pool_after(claim: PoolAfterClaim, events: Events, trace: Trace) -> tuple[bool, str]:
    left = trace.pool_after.checked_out
    return left == claim.pool_after, f"{left} connection(s) were checked out when the run ended"


def _pool_peak(claim: PoolPeakClaim, events: Events, trace: Trace) -> tuple[bool, str]:
    peak = max((e.pool.checked_out or 0 for e in events), default=0)
    return peak == claim.pool_peak, f"at most {peak} connection(s) were checked out at once"


def _gc(claim: GcClaim, events: Events, trace: Trace) -> tuple[bool, str]:
    return trace.gc == claim.gc, f"the garbage collector was {trace.gc}"


def _body(claim: BodyClaim, events: Events, trace: Trace) -> tuple[bool, str]:
    bodies = _bodies(events, trace)
    return claim.body in bodies, f"the body was {bodies[0]!r}" if bodies else "no response"


def _all(claim: AllClaim, events: Events, trace: Trace) -> tuple[bool, str]:
    for part in claim.all:
        holds, instead = _check(part, events, trace)
        if not holds:
            return False, instead
    return True, ""


_CHECKS: dict[type[Any], Callable[[Any, Events, Trace], tuple[bool, str]]] = {
    OrderClaim: _order,
    PresentClaim: lambda c, events, t: (
        first(events, c.present) is not None,
        _presence(c.present, events),
    ),
    AbsentClaim: lambda c, events, t: (
        first(events, c.absent) is None,
        _presence(c.absent, events),
    ),
    StatusClaim: _status,
    DbAtClaim: _db_at,
    CountClaim: _count,
    PoolAfterClaim: _pool_after,
    ThreadClaim: _thread,
    DetailClaim: _detail,
    BodyClaim: _body,
    PoolAtClaim: _pool_at,
    PoolPeakClaim: _pool_peak,
    GcClaim: _gc,
    AllClaim: _all,
}


def _check(claim: AnyClaim, events: Events, trace: Trace) -> tuple[bool, str]:
    return _CHECKS[type(claim)](claim, events, trace)


def check(claim: AnyClaim, trace: Trace, request: int | None) -> tuple[bool, str]:
    """Whether the run makes the claim true (for one request, or the whole run); if not,
    one sentence of what it did instead."""
    events = [e for e in trace.events if request is None or e.request == request]
    holds, instead = _check(claim, events, trace)
    return holds, "" if holds else instead


def holds(claim: AnyClaim, trace: Trace, request: int | None) -> bool:
    """Whether the recorded run makes this claim true."""
    return check(claim, trace, request)[0]
