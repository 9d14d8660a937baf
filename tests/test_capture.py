"""The instrumentation never breaks the app it observes, and ties events to their request."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from tests.helpers import kinds
from visualizer.capture.instrument import listen_engine_events
from visualizer.capture.recorder import Recorder, current_request
from visualizer.contract.events import GARBAGE_COLLECTOR
from visualizer.execution.runner import run_scenario
from visualizer.execution.scenarios import Registry
from visualizer.lesson.textbook import step_for


class FailingOnSql(Recorder):
    """A recorder whose hook body raises for every SQL statement."""

    def _append(self, kind: str, *args: Any) -> None:
        if kind == "sql":
            raise RuntimeError("hook exploded")
        super()._append(kind, *args)


def test_a_hook_that_raises_does_not_break_the_request(registry: Registry) -> None:
    trace = run_scenario(registry.get("create_item"), recorder_factory=FailingOnSql)
    assert trace.requests[0].status == 200
    assert trace.requests[0].body == '{"id":1,"name":"apple"}'
    assert "sql" not in kinds(trace)
    assert "session.close" in kinds(trace)
    assert trace.hook_errors == {"sql: RuntimeError: hook exploded": 2}


def test_a_full_buffer_drops_events_and_counts_them(registry: Registry) -> None:
    trace = run_scenario(
        registry.get("create_item"), recorder_factory=lambda f: Recorder(f, capacity=5)
    )
    assert trace.requests[0].status == 200
    assert len(trace.events) == 5
    assert trace.dropped_events > 0


def test_every_server_event_belongs_to_a_request_and_a_thread(registry: Registry) -> None:
    trace = run_scenario(registry.get("commit_in_dependency"))
    assert {e.request for e in trace.events} == {1, 2}
    threads = {e.thread for e in trace.events}
    assert {"event loop", "client"} <= threads
    assert any(t.startswith("worker thread") for t in threads)
    # ASGI messages are sent from the event loop; the sync get_db runs on worker threads.
    assert all(e.thread == "event loop" for e in trace.events if e.kind.startswith("response."))
    assert all(e.thread.startswith("worker") for e in trace.events if e.kind == "session.create")


def test_a_connection_the_collector_frees_belongs_to_the_request_that_took_it(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'gc.db'}")
    recorder = Recorder(__file__)
    listen_engine_events(engine, recorder)
    session_local = sessionmaker(bind=engine)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        token = current_request.set(1)
        try:
            leaked = session_local()
            leaked.execute(text("SELECT 1"))  # checks a connection out, never closed
        finally:
            current_request.reset(token)
        del leaked  # the Session and its transaction still refer to each other
        assert recorder.pool_status().checked_out == 1
        token = current_request.set(2)  # the collector runs while request 2 is served
        try:
            gc.collect()
        finally:
            current_request.reset(token)
    finally:
        if was_enabled:
            gc.enable()
        engine.dispose()
    checkin = next(e for e in recorder.taken() if e.kind == "pool.checkin")
    assert checkin.request == 1
    assert checkin.detail == {"connection": 1, "by": GARBAGE_COLLECTOR}
    assert step_for(checkin) is None
    assert recorder.pool_status().checked_out == 0
    assert recorder.hook_errors == {}
