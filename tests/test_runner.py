"""Runs are real, sandboxed, and never share events, data or connections."""

from __future__ import annotations

import gc
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.helpers import kinds
from visualizer.capture.collector import garbage_collector
from visualizer.contract.events import Event
from visualizer.contract.trace import Trace
from visualizer.execution.client_process import batches
from visualizer.execution.runner import run_scenario
from visualizer.execution.scenarios import Registry, ScenarioError, read_scenario


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


def test_requests_are_batched_only_where_the_scenario_groups_them(tmp_path: Path) -> None:
    path = tmp_path / "grouped.py"
    path.write_text(
        "SCENARIO = {'title': 't', 'summary': 's', 'key_moments': [], 'requests': ["
        "{'method': 'GET', 'path': '/a'},"
        "{'concurrent': [{'method': 'GET', 'path': '/b'}, {'method': 'GET', 'path': '/c'}]},"
        "{'method': 'GET', 'path': '/d'}, {'method': 'GET', 'path': '/e'}]}\n"
    )
    planned = read_scenario(path).requests
    grouped = [[(n, p.path) for n, p in batch] for batch in batches(planned)]
    assert grouped == [[(1, "/a")], [(2, "/b"), (3, "/c")], [(4, "/d")], [(5, "/e")]]


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        (
            "'requests': [{'concurrent': [{'method': 'GET', 'path': '/'}]}]",
            r"requests\[0\]\.concurrent\.concurrent: .*at least 2",
        ),
        ("'requests': []", "requests: .*at least 1 item"),
        ("'requests': [{'method': 'GET', 'path': '/'}], 'gc': 'off'", "gc: .*'enabled' or"),
    ],
)
def test_a_bad_request_group_or_gc_mode_is_refused(
    tmp_path: Path, declared: str, message: str
) -> None:
    path = tmp_path / "bad.py"
    path.write_text(f"SCENARIO = {{'title': 't', 'summary': 's', 'key_moments': [], {declared}}}\n")
    with pytest.raises(ScenarioError, match=message):
        read_scenario(path)


def test_overlapping_pauses_switch_the_collector_on_only_after_the_last() -> None:
    assert gc.isenabled()
    with garbage_collector("paused") as first_mode:
        with garbage_collector("paused") as second_mode:
            assert not gc.isenabled()
        assert not gc.isenabled()  # the first run is still going
        with garbage_collector("enabled") as untouched:
            assert not gc.isenabled()
    assert gc.isenabled()
    assert (first_mode, second_mode, untouched) == ("paused", "paused", "disabled")
    with pytest.raises(RuntimeError), garbage_collector("paused"):
        raise RuntimeError("the run failed")
    assert gc.isenabled()


def test_a_leaked_async_session_is_cleaned_up_without_errors(
    registry: Registry, tmp_path: Path
) -> None:
    # async_session with its `await db.close()` removed, and the collector paused so that
    # only the run's own cleanup can free the leaked session: it must do so cleanly.
    source = registry.get("async_session").path.read_text()
    assert "        await db.close()\n" in source and '    "requests": [\n' in source
    leaky = source.replace("        await db.close()\n", "        pass  # never closed\n")
    leaky = leaky.replace('    "requests": [\n', '    "gc": "paused",\n    "requests": [\n')
    path = tmp_path / "async_leak.py"
    path.write_text(leaky)
    trace = run_scenario(read_scenario(path))
    assert [r.status for r in trace.requests] == [200, 200]
    assert "session.close" not in kinds(trace, request=None)
    assert trace.pool_after.checked_out == 1  # the GET's connection, never given back
    assert trace.hook_errors == {}  # closing it afterwards needed the async driver: it worked
