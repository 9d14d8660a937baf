"""The visualizer's own storage: runs survive a restart; it is never instrumented."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import finished_run
from visualizer.app import create_app
from visualizer.execution.server import LoopbackServer
from visualizer.web.settings import Settings
from visualizer.web.store import FAILED, RunStore


def test_a_stored_run_replays_after_a_restart(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with LoopbackServer(create_app(settings)) as first:
        trace = finished_run(first.url, "read_items")
    with LoopbackServer(create_app(settings)) as second:
        again = httpx.get(f"{second.url}/api/runs/{trace['id']}").json()
        page = httpx.get(f"{second.url}/runs/{trace['id']}")
    assert again["events"] == trace["events"]
    assert page.status_code == 200 and "Read all items" in page.text


def test_a_run_left_running_by_a_stopped_server_is_marked_failed(tmp_path: Path) -> None:
    store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}")
    run_id = store.create("create_item", "Create an item")
    store.fail_unfinished("interrupted")
    stored = store.get(run_id)
    assert stored is not None and stored.status == FAILED and stored.error == "interrupted"
    store.close()


def test_recent_runs_are_newest_first_and_filter_by_scenario(tmp_path: Path) -> None:
    store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}")
    ids = [store.create(name, name) for name in ("a", "b", "a")]
    assert [r.id for r in store.recent(10)] == ids[::-1]
    assert [r.id for r in store.recent(10, scenario="a")] == [ids[2], ids[0]]
    assert store.get("missing") is None
    store.close()
