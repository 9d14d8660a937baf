"""The command line, run as a learner runs it: a real process."""

from __future__ import annotations

import json
import subprocess
import sys

from visualizer.scenarios import Registry


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "visualizer", *args], capture_output=True, text=True, timeout=60
    )


def test_list_names_every_scenario_with_its_title(registry: Registry) -> None:
    result = _cli("list")
    assert result.returncode == 0
    for scenario in registry:
        assert scenario.name in result.stdout and scenario.title in result.stdout


def test_run_json_prints_exactly_one_trace_object() -> None:
    result = _cli("run", "item_not_found", "--json")
    assert result.returncode == 0, result.stderr
    trace = json.loads(result.stdout)  # fails on anything but one JSON document
    assert trace["scenario"] == "item_not_found"
    assert trace["requests"][0]["status"] == 404


def test_run_prints_the_table_the_tracker_and_the_differences() -> None:
    result = _cli("run", "create_item")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Execution table" in out and "db = SessionLocal()" in out
    assert "Variable tracker: db" in out and "Closed session" in out
    assert "Key moments" in out
    assert "before 6 the session closed" in out


def test_an_unknown_scenario_exits_2_naming_the_available_ones() -> None:
    result = _cli("run", "no_such_thing")
    assert result.returncode == 2
    assert "unknown scenario 'no_such_thing'" in result.stderr
    assert "create_item" in result.stderr
    assert result.stdout == ""


def test_a_500_scenario_keeps_the_terminal_clean() -> None:
    result = _cli("run", "endpoint_error")
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
