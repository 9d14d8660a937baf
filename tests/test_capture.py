"""The instrumentation never breaks the app it observes, and ties events to their request."""

from __future__ import annotations

from typing import Any

from tests.helpers import kinds
from visualizer.capture import Recorder
from visualizer.runner import run_scenario
from visualizer.scenarios import Registry


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
