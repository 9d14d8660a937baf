"""Several sessions in one request, several pools in one run: each is told on its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from visualizer.cli.terminal import render_trace
from visualizer.contract.events import DbState
from visualizer.contract.trace import Trace
from visualizer.execution.runner import run_scenario
from visualizer.execution.scenarios import read_program
from visualizer.web.stage import stage_context

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture(scope="module")
def middleware() -> Trace:
    return run_scenario(read_program(CORPUS / "middleware_session.py", []))


@pytest.fixture(scope="module")
def two_databases() -> Trace:
    return run_scenario(read_program(CORPUS / "two_databases.py", []))


def test_each_session_of_a_request_has_its_own_lane_and_db(middleware: Trace) -> None:
    context = stage_context(middleware, len(middleware.events))
    lanes = {lane.session: lane for lane in context["frame"].lanes}
    assert set(lanes) == {1, 2}
    assert lanes[1].made_by == "count_hits" and lanes[2].made_by == "get_db"
    assert context["labels"][1, 2] == "Request 1 · session 2 (get_db)"
    # The middleware's session closed before the response; get_db's after it.
    assert lanes[1].visited == (1, 2, 4, 5, 6, 7)
    assert lanes[2].visited == (1, 2, 3, 4, 5, 7, 6)
    assert lanes[1].db == lanes[2].db == DbState.CLOSED.value
    assert [d.session for d in context["frame"].deviations] == [2]


def test_the_stage_follows_the_session_of_the_current_event(middleware: Trace) -> None:
    commit = next(e for e in middleware.events if e.kind == "after_commit" and e.session == 1)
    focus = stage_context(middleware, commit.seq)["focus"]
    assert focus.key == (1, 1)
    yielded = next(e for e in middleware.events if e.kind == "session.yield")
    assert stage_context(middleware, yielded.seq)["focus"].key == (1, 2)


def test_every_pool_has_its_own_gauge_named_by_its_database(two_databases: Trace) -> None:
    context = stage_context(two_databases, len(two_databases.events))
    gauges = {g.name: g for g in context["gauges"]}
    assert set(gauges) == {"sqlite app.db", "sqlite audit.db"}
    assert len(gauges["sqlite app.db"].slots) == 5 and len(gauges["sqlite audit.db"].slots) == 2
    checkouts = [e for e in two_databases.events if e.kind == "pool.checkout"]
    assert [(e.pool.database, e.pool.checked_out, e.pool.size) for e in checkouts] == [
        ("sqlite app.db", 1, 5),
        ("sqlite audit.db", 1, 2),
    ]
    assert {p.database for p in two_databases.pools_after} == {"sqlite app.db", "sqlite audit.db"}


def test_the_terminal_names_each_session(middleware: Trace) -> None:
    told = render_trace(middleware)
    assert "Variable tracker: db (request 1 · session 1 (count_hits))" in told
    assert "Variable tracker: db (request 1 · session 2 (get_db))" in told
    assert "[request 1, session 2, #" in told
