"""The instrumentation never breaks the app it observes, records only inside a run, and keeps
nothing of a run once it is over."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path
from types import FrameType

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from tests.helpers import kinds
from visualizer.capture import hooks
from visualizer.capture.lines import ProgramFiles
from visualizer.capture.recorder import Recorder, current_request, current_run
from visualizer.contract.events import GARBAGE_COLLECTOR
from visualizer.execution.runner import run_scenario
from visualizer.execution.scenarios import Registry
from visualizer.lesson.textbook import step_for


class ExplodingLines(ProgramFiles):
    """Finding the program's line fails, as a broken hook body would."""

    def frame_line(self, frame: FrameType | None) -> tuple[int, str, str] | None:
        raise RuntimeError("hook exploded")


def test_a_hook_that_raises_does_not_break_the_request(registry: Registry) -> None:
    trace = run_scenario(
        registry.get("create_item"),
        recorder_factory=lambda program: Recorder(ExplodingLines(program.files)),
    )
    assert trace.requests[0].status == 200
    assert trace.requests[0].body == '{"id":1,"name":"apple"}'
    assert "sql" not in kinds(trace)  # every SQL event failed, and was counted
    assert "response.start" in kinds(trace)  # events that need no line still came
    assert trace.hook_errors["sql: RuntimeError: hook exploded"] == 2


def test_a_full_buffer_drops_events_counts_them_and_says_so(registry: Registry) -> None:
    trace = run_scenario(
        registry.get("create_item"),
        recorder_factory=lambda program: Recorder(program, capacity=5),
    )
    assert trace.requests[0].status == 200
    assert len(trace.events) == 5
    assert trace.dropped_events > 0
    assert any("dropped" in warning for warning in trace.warnings)


def test_every_server_event_belongs_to_a_request_and_a_thread(registry: Registry) -> None:
    trace = run_scenario(registry.get("commit_in_dependency"))
    assert {e.request for e in trace.events} == {1, 2}
    threads = {e.thread for e in trace.events}
    assert {"event loop", "client"} <= threads
    assert any(t.startswith("worker thread") for t in threads)
    # ASGI messages are sent from the event loop; the sync get_db runs on worker threads.
    assert all(e.thread == "event loop" for e in trace.events if e.kind.startswith("response."))
    assert all(e.thread.startswith("worker") for e in trace.events if e.kind == "session.create")


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite:///{tmp_path / 'capture.db'}")
    yield engine
    engine.dispose()


def test_outside_a_run_nothing_is_recorded(engine) -> None:  # type: ignore[no-untyped-def]
    hooks.install()
    recorder = Recorder(ProgramFiles([__file__]))
    with Session(engine) as session:  # no run in charge: the visualizer's own kind of work
        session.execute(text("SELECT 1"))
        session.commit()
    assert not recorder.events and current_run.get() is None
    token, request = current_run.set(recorder), current_request.set(7)
    try:
        with Session(engine) as session:
            session.execute(text("SELECT 1"))
    finally:
        current_request.reset(request)
        current_run.reset(token)
    recorded = [raw.kind for raw in recorder.drain()]
    assert recorded[0] == "session.create" and recorded[-1] == "session.close"
    assert "sql" in recorded and "pool.checkout" in recorded


def test_a_connection_the_collector_frees_belongs_to_the_request_that_took_it(
    engine,  # type: ignore[no-untyped-def]
) -> None:
    hooks.install()
    recorder = Recorder(ProgramFiles([__file__]))
    session_local = sessionmaker(bind=engine)
    was_enabled = gc.isenabled()
    gc.disable()
    token = current_run.set(recorder)
    try:
        request = current_request.set(1)
        try:
            leaked = session_local()
            leaked.execute(text("SELECT 1"))  # checks a connection out, never closed
        finally:
            current_request.reset(request)
        del leaked  # the Session and its transaction still refer to each other
        current_run.reset(token)  # the collector may run anywhere, even outside the run
        token = None
        request = current_request.set(2)
        try:
            gc.collect()
        finally:
            current_request.reset(request)
    finally:
        if token is not None:
            current_run.reset(token)
        if was_enabled:
            gc.enable()
    checkin = next(e for e in recorder.drain() if e.kind == "pool.checkin")
    assert checkin.request == 1 and checkin.session == 1 and checkin.connection == 1
    assert checkin.detail == {"by": GARBAGE_COLLECTOR}
    assert step_for(checkin) is None
    assert recorder.pools_left()[0].checked_out == 0
    assert recorder.hook_errors == {}


LEAK_CHECK = """
import gc, json, weakref
from fastapi import FastAPI
from sqlalchemy.pool import Pool
from visualizer.capture.recorder import Recorder
from visualizer.execution.runner import run_scenario
from visualizer.execution.scenarios import Registry

seen = []
def recorder_factory(program):
    recorder = Recorder(program)
    seen.append(weakref.ref(recorder))
    return recorder

statuses = []
for name in ("create_item", "async_session", "pool_exhaustion", "background_task"):
    trace = run_scenario(Registry().get(name), recorder_factory=recorder_factory)
    statuses.append([r.status for r in trace.requests])
del trace
gc.collect()
alive = [type(o).__name__ for o in gc.get_objects() if isinstance(o, (FastAPI, Recorder, Pool))]
print(json.dumps({"statuses": statuses, "recorders": [r() is not None for r in seen],
                  "alive": alive}))
"""


def test_nothing_of_a_finished_run_stays_reachable() -> None:
    """No listener, closure or cache holds a run's recorder, app, engine or pool.

    In a process of its own: pytest keeps the log records of uvicorn's 500s, tracebacks and
    frames included, where a server's log handlers format them and let them go.
    """
    result = subprocess.run(
        [sys.executable, "-c", LEAK_CHECK], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout.splitlines()[-1])
    assert found["statuses"][2] == [200, 200, 500, 500]  # the leaking scenarios really ran
    assert found["recorders"] == [False, False, False, False]
    assert found["alive"] == []


def test_an_async_with_session_closes_on_its_own_line() -> None:
    """AsyncSession's `async with` closes in a task of its own, out of the program's stack:
    the close still names the line of the `async with` in get_db."""
    from pathlib import Path

    from visualizer.execution.runner import run_scenario
    from visualizer.execution.scenarios import read_program

    program = read_program(Path(__file__).parent / "corpus" / "async_context_manager.py", [])
    trace = run_scenario(program)
    lines = program.code.splitlines()
    closes = [e for e in trace.events if e.kind == "session.close"]
    assert closes
    for close in closes:
        assert close.line is not None
        assert lines[close.line - 1].strip() == "async with SessionLocal() as session:"
