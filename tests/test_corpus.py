"""The engine against an independent observer, on programs written the way projects write them.

For each program in tests/corpus, the trace must agree with what plain SQLAlchemy listeners
and a pure ASGI wrapper saw under plain uvicorn: each request's order of begin, commit,
rollback, transaction end, checkout, checkin, SQL and response, the statuses, the pool's
gauge at every checkout and checkin, and the `db` state at every transaction event.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.reference_observer import observe
from visualizer.contract.events import DbState, Event
from visualizer.contract.trace import Trace
from visualizer.execution.runner import run_scenario
from visualizer.execution.scenarios import read_program

CORPUS = Path(__file__).parent / "corpus"
PROGRAMS = sorted(p for p in CORPUS.glob("[!_]*.py"))
STATES = {
    DbState.IDLE.value: "no transaction",
    DbState.TRANSACTION.value: "transaction",
    DbState.CONNECTION.value: "connection",
}
TRANSACTION_EVENTS = {
    "after_begin": "begin",
    "after_commit": "commit",
    "after_rollback": "rollback",
}


def _seen(event: Event) -> tuple[Any, ...] | None:
    """The event in the reference's words, or None for what the reference cannot see."""
    if event.kind in TRANSACTION_EVENTS:
        return (TRANSACTION_EVENTS[event.kind], STATES.get(event.db, event.db))
    if event.kind == "after_transaction_end" and event.transaction_kind == "root":
        return ("end", STATES.get(event.db, event.db))
    if event.kind in ("pool.checkout", "pool.checkin"):
        return (event.kind.removeprefix("pool."), event.pool.checked_out, event.pool.size)
    if event.kind == "sql":
        return ("sql", event.detail["sql"])
    if event.kind == "response.start":
        return ("response", event.detail["status"])
    return None


def _by_request(trace: Trace) -> dict[int | None, list[tuple[Any, ...]]]:
    out: dict[int | None, list[tuple[Any, ...]]] = {}
    for event in trace.events:
        seen = _seen(event)
        if seen is not None:
            out.setdefault(event.request, []).append(seen)
    return out


def test_the_corpus_has_at_least_twelve_shapes() -> None:
    assert len(PROGRAMS) >= 12


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_the_trace_agrees_with_an_independent_observer(program: Path, tmp_path: Path) -> None:
    scenario = read_program(program, [])
    trace = run_scenario(scenario)
    planned = [(r.method, r.path) for r in scenario.requests]
    reference = observe(program, planned, tmp_path)

    assert trace.hook_errors == {} and trace.warnings == []
    assert {r.id: r.status for r in trace.requests} == reference.statuses
    ours = _by_request(trace)
    assert set(ours) == set(reference.events)
    for request, theirs in reference.events.items():
        assert ours[request] == theirs, f"request {request} of {program.name}"
