"""Each deviation rule on hand-built events: when it fires, and when it must not."""

from __future__ import annotations

from typing import Any

import pytest

from visualizer.contract.events import DbState, Event, PoolStatus
from visualizer.lesson.deviations import find_deviations

IDLE, CONN, CLOSED = DbState.IDLE.value, DbState.CONNECTION.value, DbState.CLOSED.value
STEPS = {
    "request.start": 1,
    "session.create": 2,
    "session.yield": 3,
    "before_commit": 5,
    "after_commit": 5,
    "after_rollback": 5,
    "session.close": 6,
    "response.start": 7,
    "response.end": 7,
}


def story(*specs: tuple[Any, ...], request: int = 1, session: int | None = 1) -> list[Event]:
    """Events from (kind, detail?, overrides?) tuples, one ms apart, in that order."""
    events = []
    for seq, spec in enumerate(specs, start=1):
        kind, detail, extra = (*spec, {}, {})[:3]
        fields: dict[str, Any] = {
            "seq": seq,
            "t_ms": float(seq),
            "request": request,
            "kind": kind,
            "step": STEPS.get(kind, None if kind in ("session.resume", "request.error") else 4),
            "line": None,
            "thread": "worker thread 1",
            "db": CONN,
            "pool": PoolStatus(checked_out=1, size=5, overflow=0),
            "detail": detail,
            "text": kind,
            "session": None if kind.startswith(("request.", "response.")) else session,
        }
        fields.update(extra)
        events.append(Event(**fields))
    return events


def kinds_found(events: list[Event]) -> list[str]:
    return [d.kind for d in find_deviations(events)]


YIELDED = (("session.create",), ("session.yield", {"dependency": "get_db"}))


def test_response_before_close_fires_only_for_a_yielded_session() -> None:
    late_close = story(
        ("request.start",),
        *YIELDED,
        ("sql", {"sql": "SELECT 1"}),
        ("response.start", {"status": 200}),
        ("session.resume", {"dependency": "get_db"}),
        ("session.close", {"before": CONN}),
    )
    found = find_deviations(late_close)
    assert [d.kind for d in found] == ["response_before_close", "rollback_in_close"]
    assert found[0].observed == "7 the response (200) was sent 2.0 ms before 6 the session closed"
    assert found[0].step == 6 and found[0].session == 1
    # The same order for a session a background task opened itself is no deviation.
    not_yielded = [e for e in late_close if e.kind not in ("session.yield", "session.resume")]
    assert "response_before_close" not in kinds_found(not_yielded)


def test_response_before_commit_names_the_dependency_and_whether_it_failed() -> None:
    events = story(
        ("request.start",),
        ("session.create",),
        ("session.yield", {"dependency": "Database.session"}),
        ("response.start", {"status": 200}),
        ("before_commit",),
        ("request.error", {"error": "IntegrityError", "message": "CHECK constraint failed"}),
        ("session.close", {"before": CONN}),
    )
    (commit,) = [d for d in find_deviations(events) if d.kind == "response_before_commit"]
    assert commit.why.startswith("Database.session commits after its yield")
    assert "this commit failed" in commit.why
    assert "commit_failed_after_response" in kinds_found(events)


def test_query_after_commit_needs_sql_of_the_same_session() -> None:
    events = story(
        ("request.start",),
        *YIELDED,
        ("before_commit",),
        ("after_commit",),
        ("sql", {"sql": "SELECT items.id FROM items"}),
        ("response.start", {"status": 200}),
        ("session.close", {"before": CONN}),
    )
    assert "query_after_commit" in kinds_found(events)
    other = [
        e.model_copy(update={"session": 2}) if e.kind == "sql" else e for e in events
    ]  # another session's query after this one's commit
    assert "query_after_commit" not in kinds_found(other)


def test_used_after_close_says_the_connection_stays_out() -> None:
    events = story(
        ("request.start",),
        *YIELDED,
        ("session.close", {"before": IDLE}, {"db": CLOSED}),
        ("response.start", {"status": 200}),
        ("response.end",),
        ("do_orm_execute", {"statement": "SELECT"}, {"db": CLOSED}),
        ("pool.checkout",),
        ("sql", {"sql": "SELECT 1"}),
    )
    (used,) = [d for d in find_deviations(events) if d.kind == "used_after_close"]
    assert used.observed.endswith("after the response was sent")
    assert "stays checked out after the request (1 of 5 in use)" in used.why


def test_query_after_response_fires_for_a_task_before_the_close() -> None:
    events = story(
        ("request.start",),
        *YIELDED,
        ("response.start", {"status": 200}),
        ("response.end",),
        ("sql", {"sql": "SELECT count(*) FROM items"}),
        ("session.close", {"before": CONN}),
    )
    assert "query_after_response" in kinds_found(events)
    closed_first = [*events[:-2], events[-1], events[-2]]
    resequenced = [
        e.model_copy(update={"seq": i, "t_ms": float(i)}) for i, e in enumerate(closed_first, 1)
    ]
    assert "query_after_response" not in kinds_found(resequenced)


def test_missing_close_tells_an_error_at_the_yield_from_a_plain_leak() -> None:
    thrown = story(
        ("request.start",),
        *YIELDED,
        ("session.resume", {"dependency": "get_db", "error": "HTTPException(404)"}),
        ("response.start", {"status": 404}),
    )
    (missing,) = [d for d in find_deviations(thrown) if d.kind == "missing_close"]
    assert missing.why.startswith("HTTPException(404) left get_db at its `yield`")
    middleware = story(("request.start",), ("session.create", {"created_in": "count_hits"}))
    (leak,) = [d for d in find_deviations(middleware) if d.kind == "missing_close"]
    assert leak.why.startswith("count_hits ended without calling close()")


@pytest.mark.parametrize(
    ("before", "queried", "expected"),
    [
        (CONN, True, "rollback_in_close"),
        (IDLE, False, "unused_session"),
        (IDLE, True, None),  # it ran SQL, and released its connection: nothing skipped
    ],
)
def test_close_without_commit_or_rollback(before: str, queried: bool, expected: str | None) -> None:
    events = story(
        ("request.start",),
        *YIELDED,
        *([("sql", {"sql": "SELECT 1"})] if queried else []),
        ("session.close", {"before": before}),
        ("response.start", {"status": 200}),
    )
    skipped = {"rollback_in_close", "unused_session"} & set(kinds_found(events))
    assert skipped == ({expected} if expected else set())


def test_status_replaced_fires_when_the_raised_status_is_not_sent() -> None:
    swallowed = story(
        ("request.start",),
        *YIELDED,
        ("session.resume", {"dependency": "get_db", "error": "HTTPException(404)"}),
        ("after_rollback",),
        ("session.close", {"before": IDLE}),
        ("response.start", {"status": 500}),
        ("request.error", {"error": "FastAPIError", "message": "Response not awaited. More."}),
    )
    (replaced,) = [d for d in find_deviations(swallowed) if d.kind == "status_replaced"]
    assert replaced.observed == "7 the client got 500 instead of 404"
    assert '("Response not awaited")' in replaced.why
    kept = [e for e in swallowed if e.kind != "request.error"]
    kept = [
        e.model_copy(update={"detail": {"status": 404}}) if e.kind == "response.start" else e
        for e in kept
    ]
    assert "status_replaced" not in kinds_found(kept)


def test_pool_exhausted_reads_the_gauge_at_the_error() -> None:
    events = story(
        ("request.start",),
        *YIELDED,
        (
            "request.error",
            {"error": "TimeoutError", "message": "QueuePool limit of size 2 overflow 0 reached"},
            {"pool": PoolStatus(checked_out=2, size=2, overflow=0)},
        ),
        ("response.start", {"status": 500}),
    )
    (exhausted,) = [d for d in find_deviations(events) if d.kind == "pool_exhausted"]
    assert exhausted.observed.startswith("4 found no free connection (2 of 2 checked out")
    other_timeout = [
        e.model_copy(update={"detail": {"error": "TimeoutError", "message": "read timed out"}})
        if e.kind == "request.error"
        else e
        for e in events
    ]
    assert "pool_exhausted" not in kinds_found(other_timeout)


def test_each_session_of_a_request_is_judged_on_its_own() -> None:
    """A middleware's session closed before the response; get_db's closed after it."""
    events = story(
        ("request.start",),
        ("session.create", {"created_in": "count_hits"}, {"session": 1}),
        ("before_commit", {}, {"session": 1}),
        ("after_commit", {}, {"session": 1}),
        ("session.close", {"before": IDLE}, {"session": 1}),
        ("session.create", {}, {"session": 2}),
        ("session.yield", {"dependency": "get_db"}, {"session": 2}),
        ("before_commit", {}, {"session": 2}),
        ("sql", {"sql": "INSERT INTO items"}, {"session": 2}),
        ("after_commit", {}, {"session": 2}),
        ("response.start", {"status": 200}),
        ("session.close", {"before": IDLE}, {"session": 2}),
    )
    found = [(d.session, d.kind) for d in find_deviations(events)]
    assert found == [(2, "response_before_close")]
