"""The real-world scenarios, as the installed FastAPI, SQLAlchemy and aiosqlite really run them."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable

import pytest

from tests.helpers import deviation_kinds, first, kinds, seq_of, steps
from visualizer.contract.events import KINDS, DbState, Event
from visualizer.contract.trace import Trace, read_trace
from visualizer.lesson.deviations import find_deviations
from visualizer.lesson.document import document_json

Traced = Callable[[str], Trace]


def _lane(trace: Trace, request: int) -> list[Event]:
    return [e for e in trace.events if e.request == request]


def _deviations(trace: Trace, kind: str) -> list[int]:
    return sorted(d.request for d in find_deviations(trace.events) if d.kind == kind)


# -- function_scope -------------------------------------------------------------------------


def test_function_scope_commits_and_closes_before_the_response(traced: Traced) -> None:
    trace = traced("function_scope")
    assert trace.requests[0].status == 200
    assert seq_of(trace, "session.resume") < seq_of(trace, "before_commit")
    assert seq_of(trace, "after_commit") < seq_of(trace, "session.close")
    assert seq_of(trace, "session.close") < seq_of(trace, "response.start")
    assert steps(trace, 1) == [1, 2, 3, 4, 5, 6, 7]
    # The session was freed once closed; the response still shows it as closed, not None.
    assert first(trace, "response.start").db == DbState.CLOSED.value
    assert not {"response_before_close", "response_before_commit"} & deviation_kinds(trace)


def test_function_scope_turns_a_failed_commit_into_a_500(traced: Traced) -> None:
    trace = traced("function_scope")
    assert trace.requests[1].status == 500
    order = kinds(trace, request=2)
    assert "after_commit" not in order
    assert order.index("before_commit") < order.index("after_rollback")
    assert order.index("session.close") < order.index("response.start")
    error = first(trace, "request.error", 2)
    assert error.detail["error"] == "IntegrityError"
    assert "CHECK constraint failed" in error.detail["message"]
    assert "commit_failed_after_response" not in deviation_kinds(trace)


# -- commit_fails_after_response --------------------------------------------------------------


def test_a_commit_that_fails_after_the_200_leaves_the_row_out(traced: Traced) -> None:
    trace = traced("commit_fails_after_response")
    assert [r.status for r in trace.requests] == [200, 200, 200]
    assert trace.requests[1].body == '{"name":"pear","price":-1}'  # what the client was told
    assert trace.requests[2].body == '["apple"]'  # what the table holds
    assert seq_of(trace, "response.start", 2) < seq_of(trace, "before_commit", 2)
    assert "after_commit" not in kinds(trace, request=2)
    error = first(trace, "request.error", 2)
    assert error.detail["error"] == "IntegrityError"
    assert "CHECK constraint failed" in error.detail["message"]
    assert seq_of(trace, "response.start", 2) < error.seq
    assert steps(trace, 2) == [1, 2, 3, 4, 7, 5, 6]
    assert _deviations(trace, "commit_failed_after_response") == [2]


# -- swallowed_exception ----------------------------------------------------------------------


def test_a_swallowed_404_becomes_a_500(traced: Traced) -> None:
    trace = traced("swallowed_exception")
    assert trace.requests[0].status == 500
    assert first(trace, "session.resume").detail["error"] == "HTTPException(404)"
    assert seq_of(trace, "after_rollback") < seq_of(trace, "session.close")
    error = first(trace, "request.error")
    assert error.detail["error"] == "FastAPIError"
    assert error.detail["message"].startswith("Response not awaited")
    assert steps(trace) == [1, 2, 3, 4, 5, 6, 7]  # the textbook order, and still wrong
    (deviation,) = [d for d in find_deviations(trace.events) if d.kind == "status_replaced"]
    assert deviation.observed == "7 the client got 500 instead of 404"


# -- background_task --------------------------------------------------------------------------


def test_default_scope_runs_the_background_task_before_the_close(traced: Traced) -> None:
    trace = traced("background_task")
    assert [r.status for r in trace.requests] == [200, 200]
    task_sql = first(trace, "sql", 1)
    assert seq_of(trace, "response.end", 1) < task_sql.seq < seq_of(trace, "session.close", 1)
    assert task_sql.db == DbState.CONNECTION.value
    assert steps(trace, 1) == [1, 2, 3, 7, 4, 6]
    assert _deviations(trace, "query_after_response") == [1]


def test_function_scope_hands_the_task_a_closed_session_that_leaks(traced: Traced) -> None:
    trace = traced("background_task")
    close = first(trace, "session.close", 2)
    assert close.seq < seq_of(trace, "response.start", 2)
    use = first(trace, "do_orm_execute", 2)
    assert close.seq < use.seq and use.db == DbState.CLOSED.value
    checkout = first(trace, "pool.checkout", 2)
    assert use.seq < checkout.seq
    lane = _lane(trace, 2)
    assert [e.kind for e in lane].count("session.close") == 1  # nothing closes it again
    assert "pool.checkin" not in [e.kind for e in lane]
    assert trace.pool_after.checked_out == 1
    assert trace.gc == "paused"
    assert _deviations(trace, "used_after_close") == [2]


# -- pool_exhaustion --------------------------------------------------------------------------


def test_unclosed_sessions_exhaust_the_pool_into_500s(traced: Traced) -> None:
    trace = traced("pool_exhaustion")
    assert [r.status for r in trace.requests] == [200, 200, 500, 500]
    for request in (3, 4):
        error = first(trace, "request.error", request)
        assert error.detail["error"] == "TimeoutError"
        assert error.detail["message"].startswith("QueuePool limit of size 2 overflow 0 reached")
        assert first(trace, "session.resume", request).detail["error"] == "TimeoutError"
    assert _deviations(trace, "pool_exhausted") == [3, 4]
    assert _deviations(trace, "missing_close") == [1, 2, 3, 4]


def test_the_pool_fills_and_stays_full(traced: Traced) -> None:
    trace = traced("pool_exhaustion")
    order = kinds(trace, request=None)
    assert order.count("pool.checkout") == 2
    assert "pool.checkin" not in order and "session.close" not in order
    full = seq_of(trace, "pool.checkout", 2)
    gauged = [e for e in trace.events if e.seq >= full and e.pool.size is not None]
    assert gauged and all(e.pool.checked_out == 2 for e in gauged)
    assert trace.pool_after.checked_out == 2 and trace.pool_after.size == 2


def test_the_collector_is_paused_for_the_run_and_on_again_after(traced: Traced) -> None:
    trace = traced("pool_exhaustion")
    assert trace.gc == "paused"
    assert traced("create_item").gc == "enabled"
    assert gc.isenabled()


# -- concurrent_requests ----------------------------------------------------------------------


def test_concurrent_requests_overlap_on_the_server(traced: Traced) -> None:
    trace = traced("concurrent_requests")
    assert [r.status for r in trace.requests] == [200, 200, 200]
    starts = [seq_of(trace, "request.start", n) for n in (1, 2, 3)]
    checkouts = [seq_of(trace, "pool.checkout", n) for n in (1, 2, 3)]
    checkins = [seq_of(trace, "pool.checkin", n) for n in (1, 2, 3)]
    responses = [seq_of(trace, "response.start", n) for n in (1, 2, 3)]
    # All three arrived before any was answered, and held their connections at the same time.
    assert max(starts) < min(responses)
    assert max(checkouts) < min(checkins)
    assert max(e.pool.checked_out or 0 for e in trace.events) == 3
    assert [s["request"] for s in document_json(trace)["steps_observed"]] == [1, 2, 3]
    assert all(steps(trace, n) == [1, 2, 3, 4, 7, 6] for n in (1, 2, 3))


def test_each_concurrent_request_has_its_own_session_and_connection(traced: Traced) -> None:
    trace = traced("concurrent_requests")
    sessions = [first(trace, "session.create", n).session for n in (1, 2, 3)]
    connections = [first(trace, "pool.checkout", n).connection for n in (1, 2, 3)]
    assert len(set(sessions)) == 3 and len(set(connections)) == 3
    for n in (1, 2, 3):
        assert kinds(trace, request=n).count("session.create") == 1
        # The connection a request checked in is the one it checked out.
        assert first(trace, "pool.checkin", n).connection == connections[n - 1]
    endpoint_threads = {first(trace, "sql", n).thread for n in (1, 2, 3)}
    assert len(endpoint_threads) == 3  # three endpoints sleeping at once: three workers


# -- async_session ----------------------------------------------------------------------------


def test_async_session_runs_every_step_on_the_event_loop(traced: Traced) -> None:
    trace = traced("async_session")
    assert [r.status for r in trace.requests] == [200, 200]
    assert trace.requests[1].body == '[{"id":1,"name":"apple"}]'
    server = [e for e in trace.events if not e.kind.startswith("client.")]
    assert {e.thread for e in server} == {"event loop"}
    assert steps(trace, 1) == [1, 2, 3, 4, 5, 7, 6]
    assert steps(trace, 2) == [1, 2, 3, 4, 7, 6]
    assert seq_of(trace, "response.start", 1) < seq_of(trace, "session.close", 1)


def test_async_session_events_are_tied_to_their_request_and_line(traced: Traced) -> None:
    trace = traced("async_session")
    # The sync Session runs inside SQLAlchemy's greenlets: the contextvar still reaches it,
    # and the scenario line is found in the greenlet's parent.
    code = trace.code.splitlines()

    def line_of(text: str) -> int:
        return next(n for n, line in enumerate(code, start=1) if text in line)

    assert first(trace, "sql", 1).line == line_of("await db.commit()")
    assert first(trace, "after_commit", 1).line == line_of("await db.commit()")
    assert first(trace, "sql", 2).line == line_of("await db.execute(")
    assert first(trace, "session.close", 2).line == line_of("await db.close()")
    assert first(trace, "before_commit", 1).step == 5
    close = first(trace, "session.close", 2)
    assert close.detail["before"] == DbState.CONNECTION.value
    assert close.pool.checked_out == 0
    assert trace.pool_after.checked_out == 0


# -- every new scenario -----------------------------------------------------------------------

NEW = (
    "function_scope",
    "commit_fails_after_response",
    "swallowed_exception",
    "background_task",
    "pool_exhaustion",
    "concurrent_requests",
    "async_session",
)


@pytest.mark.parametrize("name", NEW)
def test_new_scenarios_follow_the_trace_contract(name: str, traced: Traced) -> None:
    data = json.loads(json.dumps(document_json(traced(name))))
    assert all(e["kind"] in KINDS and len(e["text"]) > 20 for e in data["events"])
    assert [s["request"] for s in data["steps_observed"]] == [r["id"] for r in data["requests"]]
    assert document_json(read_trace(data)) == data
