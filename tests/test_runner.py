"""Runs are real, sandboxed, and never share events, data or connections."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

from tests.helpers import kinds
from visualizer.events import Event
from visualizer.runner import run_scenario
from visualizer.scenarios import Registry
from visualizer.trace import Trace


def test_two_runs_at_once_produce_disjoint_traces(registry: Registry) -> None:
    scenario = registry.get("create_item")
    with ThreadPoolExecutor(max_workers=2) as pool:
        traces: list[Trace] = list(pool.map(lambda _: run_scenario(scenario), range(2)))
    for trace in traces:
        # Each run has its own database: both created item 1.
        assert trace.requests[0].body == '{"id":1,"name":"apple"}'
        assert kinds(trace).count("session.create") == 1
        assert kinds(trace).count("session.close") == 1
        assert kinds(trace).count("pool.checkout") == 2
        assert max(e.pool.checked_out or 0 for e in trace.events) == 1
        assert [e.seq for e in trace.events] == list(range(1, len(trace.events) + 1))


def test_the_sink_sees_every_event_in_order_and_the_module_is_gone(registry: Registry) -> None:
    seen: list[Event] = []
    trace = run_scenario(registry.get("read_items"), sink=seen.append)
    assert seen == trace.events
    assert not [m for m in sys.modules if m.startswith("visualizer_run_read_items")]


def test_events_are_in_time_order_client_included(registry: Registry) -> None:
    trace = run_scenario(registry.get("read_items"))
    times = [e.t_ms for e in trace.events]
    assert times == sorted(times) and times[0] == 0.0
    client = [e for e in trace.events if e.kind.startswith("client.")]
    assert [e.kind for e in client] == ["client.headers", "client.body"]
    assert all(e.thread == "client" for e in client)
