"""Where a request's observed order leaves the textbook's 1 to 7, and why, with the real figures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from visualizer.difference import ORDER, OUTCOME, SKIPPED, Deviation, first
from visualizer.events import DbState, Event
from visualizer.misuse import misuse_deviations

__all__ = ["ORDER", "OUTCOME", "SKIPPED", "Deviation", "find_deviations", "steps_observed"]


def _by_request(events: Sequence[Event]) -> dict[int, list[Event]]:
    lanes: dict[int, list[Event]] = {}
    for event in events:
        if event.request is not None:
            lanes.setdefault(event.request, []).append(event)
    return lanes


def steps_observed(events: Sequence[Event]) -> list[dict[str, Any]]:
    """Each request's steps in the order the server went through them, repeats folded.

    The client's own events are left out: when its process gets the body races with
    the server's teardown, and the server's order is what the textbook describes.
    """
    result = []
    for request, lane in sorted(_by_request(events).items()):
        steps: list[int] = []
        for event in lane:
            if event.kind.startswith("client."):
                continue
            if event.step is not None and (not steps or steps[-1] != event.step):
                steps.append(event.step)
        result.append({"request": request, "steps": steps})
    return result


def _request_deviations(request: int, lane: list[Event]) -> list[Deviation]:
    found: list[Deviation] = []
    created = first(lane, "session.create")
    close = first(lane, "session.close")
    response = first(lane, "response.start")
    commit = first(lane, "before_commit")
    resume = first(lane, "session.resume")
    if created is None:
        return found

    if response and close and response.seq < close.seq:
        gap = close.t_ms - response.t_ms
        holding = (
            "still holding its connection"
            if close.detail.get("before") == (DbState.CONNECTION.value)
            else "still open"
        )
        found.append(
            Deviation(
                request,
                "response_before_close",
                ORDER,
                response.seq,
                "6 close the session, then 7 send the response",
                f"7 the response ({response.detail.get('status')}) was sent {gap:.1f} ms "
                "before 6 the session closed",
                'By default (Depends scope "request") FastAPI runs a yield dependency\'s code '
                "after `yield` only once the response has gone out, so the client can hold its "
                f"answer while the session is {holding}.",
            )
        )
    if response and commit and response.seq < commit.seq:
        gap = commit.t_ms - response.t_ms
        status = response.detail.get("status")
        outcome = (
            f"this commit failed, and the client still has its {status}."
            if first(lane, "after_commit", after=commit.seq) is None
            else f"had this commit failed, the client would still have its {status}."
        )
        found.append(
            Deviation(
                request,
                "response_before_commit",
                ORDER,
                commit.seq,
                "5 commit, then 7 send the response",
                f"5 the commit started {gap:.1f} ms after 7 the response "
                f"({response.detail.get('status')}) was sent",
                "get_db commits after its yield, and that code runs after the response by "
                f"default: {outcome}",
            )
        )
    after_commit = first(lane, "after_commit")
    if after_commit:
        later_sql = next(
            (e for e in lane if e.seq > after_commit.seq and e.kind == "sql" and e.step == 4), None
        )
        if later_sql:
            found.append(
                Deviation(
                    request,
                    "query_after_commit",
                    ORDER,
                    later_sql.seq,
                    "4 queries, then 5 commit, and no more queries",
                    "4 came back after 5: SQL ran after the commit",
                    "Reading attributes after commit() (refresh(), or any expired attribute) makes "
                    "the session begin a new transaction and check out a connection again; "
                    "close() later rolls that transaction back.",
                )
            )
    if close is None:
        error = resume.detail.get("error") if resume else None
        why = (
            f"{error} left get_db at its `yield`, and no `finally` around the yield called "
            "db.close(). The session and its connection stay open until the garbage "
            "collector frees them."
            if error
            else "get_db ended without calling db.close(): the session stays open until the "
            "garbage collector frees it."
        )
        found.append(
            Deviation(
                request,
                "missing_close",
                SKIPPED,
                (resume or created).seq,
                "6 the session is closed in finally",
                "6 never happened: no db.close()",
                why,
            )
        )
    elif not any(e.step == 5 for e in lane):
        before = close.detail.get("before")
        if before == DbState.CONNECTION.value:
            found.append(
                Deviation(
                    request,
                    "rollback_in_close",
                    SKIPPED,
                    close.seq,
                    "5 commit or roll back",
                    "5 never happened: close() rolled the transaction back",
                    "Nothing called commit() or rollback(), so the transaction that held the "
                    "connection was ended by close(), which rolls back and returns the connection "
                    "(SQLAlchemy fires no after_rollback for this rollback).",
                )
            )
        elif not any(e.step == 4 for e in lane):
            found.append(
                Deviation(
                    request,
                    "unused_session",
                    SKIPPED,
                    close.seq,
                    "4 queries and 5 commit or rollback",
                    "4 and 5 never happened: the endpoint did not use db",
                    "The session was created and yielded but never used: no transaction began and "
                    "no connection was checked out, so close() had nothing to do. SessionLocal() "
                    "itself touches no database.",
                )
            )
    return found


def find_deviations(events: Sequence[Event]) -> list[Deviation]:
    """Every place, request by request, where reality differs from the seven textbook steps."""
    found: list[Deviation] = []
    for request, lane in _by_request(events).items():
        found.extend(_request_deviations(request, lane))
        found.extend(misuse_deviations(request, lane))
    return sorted(found, key=lambda d: d.seq)
