"""The seed scenarios, as the installed FastAPI and SQLAlchemy really run them."""

from __future__ import annotations

from collections.abc import Callable

from tests.helpers import deviation_kinds, first, kinds, seq_of, steps
from visualizer.contract.events import DbState
from visualizer.contract.trace import Trace

Traced = Callable[[str], Trace]


def test_create_item_sends_the_response_before_the_session_closes(traced: Traced) -> None:
    trace = traced("create_item")
    assert trace.requests[0].status == 200
    assert seq_of(trace, "response.start") < seq_of(trace, "session.close")
    assert first(trace, "client.body").t_ms <= first(trace, "session.close").t_ms + 50
    assert steps(trace) == [1, 2, 3, 4, 5, 4, 7, 6]
    assert {"response_before_close", "query_after_commit"} <= deviation_kinds(trace)


def test_create_item_connection_is_lazy_and_commit_returns_it(traced: Traced) -> None:
    trace = traced("create_item")
    order = kinds(trace)
    # SessionLocal() touches nothing; the first connection comes with commit's flush.
    assert order.index("session.create") < order.index("pool.checkout")
    assert first(trace, "session.create").pool.checked_out == 0
    assert order.index("before_commit") < order.index("pool.checkout") < order.index("sql")
    assert order.index("after_commit") < order.index("pool.checkin")
    # refresh() opens a second transaction on a fresh checkout, which close() rolls back.
    assert order.count("pool.checkout") == 2
    close = first(trace, "session.close")
    assert close.detail["before"] == DbState.CONNECTION.value
    assert close.pool.checked_out == 0
    assert close.db == DbState.CLOSED.value


def test_read_items_never_commits_and_close_rolls_back(traced: Traced) -> None:
    trace = traced("read_items")
    assert trace.requests[0].status == 200
    assert '"apple"' in trace.requests[0].body
    order = kinds(trace)
    assert "before_commit" not in order and "after_rollback" not in order
    assert order.index("response.start") < order.index("session.close")
    assert steps(trace) == [1, 2, 3, 4, 7, 6]
    assert {"response_before_close", "rollback_in_close"} <= deviation_kinds(trace)


def test_item_not_found_closes_before_the_404_is_sent(traced: Traced) -> None:
    trace = traced("item_not_found")
    assert trace.requests[0].status == 404
    assert first(trace, "session.resume").detail["error"] == "HTTPException(404)"
    assert seq_of(trace, "session.close") < seq_of(trace, "response.start")
    assert steps(trace) == [1, 2, 3, 4, 6, 7]
    assert "response_before_close" not in deviation_kinds(trace)


def test_session_ready_never_checks_out_a_connection(traced: Traced) -> None:
    trace = traced("session_ready")
    order = kinds(trace)
    assert "pool.checkout" not in order and "sql" not in order
    assert "after_transaction_create" not in order
    close = first(trace, "session.close")
    assert close.detail["before"] == DbState.IDLE.value
    assert steps(trace) == [1, 2, 3, 7, 6]
    assert "unused_session" in deviation_kinds(trace)


def test_endpoint_error_is_a_500_and_close_rolls_back_the_insert(traced: Traced) -> None:
    trace = traced("endpoint_error")
    assert trace.requests[0].status == 500
    assert first(trace, "sql").detail["sql"].startswith("INSERT INTO items")
    assert first(trace, "session.resume").detail["error"] == "RuntimeError"
    close = first(trace, "session.close")
    assert close.detail["before"] == DbState.CONNECTION.value
    order = kinds(trace)
    assert "pool.reset" in order[order.index("sql") : order.index("session.close")]
    assert seq_of(trace, "session.close") < seq_of(trace, "response.start")
    assert steps(trace) == [1, 2, 3, 4, 6, 7]


def test_missing_finally_never_closes_and_leaks_a_connection(traced: Traced) -> None:
    trace = traced("missing_finally")
    assert trace.requests[0].status == 404
    order = kinds(trace)
    assert "session.close" not in order
    assert "pool.checkin" not in order
    assert first(trace, "response.start").db == DbState.CONNECTION.value
    assert trace.pool_after.checked_out == 1
    assert steps(trace) == [1, 2, 3, 4, 7]
    assert "missing_close" in deviation_kinds(trace)


def test_commit_in_dependency_commits_after_the_200(traced: Traced) -> None:
    trace = traced("commit_in_dependency")
    assert [r.status for r in trace.requests] == [200, 400]
    assert seq_of(trace, "response.start") < seq_of(trace, "before_commit")
    assert seq_of(trace, "after_commit") < seq_of(trace, "session.close")
    assert steps(trace, 1) == [1, 2, 3, 4, 7, 5, 6]
    assert "response_before_commit" in deviation_kinds(trace)


def test_commit_in_dependency_rolls_back_before_the_400(traced: Traced) -> None:
    trace = traced("commit_in_dependency")
    order = kinds(trace, request=2)
    assert "before_commit" not in order
    assert first(trace, "session.resume", 2).detail["error"] == "HTTPException(400)"
    assert seq_of(trace, "after_rollback", 2) < seq_of(trace, "session.close", 2)
    assert seq_of(trace, "session.close", 2) < seq_of(trace, "response.start", 2)
    assert steps(trace, 2) == [1, 2, 3, 4, 5, 6, 7]
