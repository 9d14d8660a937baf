"""One observed request at a glance: the line the live page lists, and its badges."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from visualizer.contract.events import Event
from visualizer.lesson.deviations import find_deviations
from visualizer.lesson.lanes import first, status_of

# The deviations worth a badge in a list of requests, and what the badge says.
BADGES = {
    "response_before_close": "response before close",
    "missing_close": "session never closed",
    "response_before_commit": "commit after the response",
    "query_after_commit": "query after commit",
    "pool_near_limit": "pool near its limit",
}
NEAR_LIMIT = 0.8  # of a pool's size: the gauge reads "near its limit" from here


@dataclass(frozen=True, slots=True)
class RequestSummary:
    number: int
    method: str
    path: str
    status: int | None
    started_ms: float
    duration_ms: float | None  # from arriving to the app's last event for it
    sessions: int
    sql: int
    badges: tuple[str, ...]  # keys of BADGES

    def badge_texts(self) -> list[tuple[str, str]]:
        return [(badge, BADGES[badge]) for badge in self.badges]


def _near_limit(events: Sequence[Event]) -> bool:
    return any(
        e.pool.size
        and e.pool.checked_out is not None
        and e.pool.checked_out >= NEAR_LIMIT * e.pool.size
        for e in events
    )


def summarize(number: int, events: Sequence[Event]) -> RequestSummary:
    """The request's line in the list; `events` are the request's own, in order."""
    start = first(events, "request.start")
    kinds = {d.kind for d in find_deviations(events)}
    badges = [badge for badge in BADGES if badge in kinds]
    if _near_limit(events):
        badges.append("pool_near_limit")
    server = [e for e in events if not e.kind.startswith("client.")]
    started = start.t_ms if start else (server[0].t_ms if server else 0.0)
    return RequestSummary(
        number=number,
        method=str(start.detail.get("method", "?")) if start else "?",
        path=str(start.detail.get("path", "?")) if start else "?",
        status=status_of(events),
        started_ms=started,
        duration_ms=round(server[-1].t_ms - started, 2) if server else None,
        sessions=sum(1 for e in events if e.kind == "session.create"),
        sql=sum(1 for e in events if e.kind == "sql"),
        badges=tuple(badges),
    )
