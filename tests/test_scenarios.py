"""Every scenario file registers, runs, and explains only events that really happened."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from visualizer.contract.trace import Trace
from visualizer.execution.scenarios import Registry, ScenarioError, read_scenario
from visualizer.lesson.moments import checked_moments
from visualizer.locations import SCENARIO_DIR

NAMES = sorted(p.stem for p in SCENARIO_DIR.glob("[!_]*.py"))


def test_every_file_registers_the_textbooks_scenarios_first(registry: Registry) -> None:
    assert sorted(registry.names) == NAMES
    assert len(NAMES) >= 14
    assert registry.names[:3] == ["create_item", "read_items", "item_not_found"]


@pytest.mark.parametrize("name", NAMES)
def test_every_scenario_runs_and_its_key_moments_happen(
    name: str, traced: Callable[[str], Trace]
) -> None:
    trace = traced(name)
    assert trace.events and all(r.status is not None for r in trace.requests)
    assert trace.hook_errors == {} and trace.dropped_events == 0
    unresolved = [m.at for m in trace.key_moments if m.seq is None]
    assert unresolved == [], f"key moments that match no event: {unresolved}"
    # What each moment asserts is what this run did.
    for checked in checked_moments(trace):
        assert checked.holds, f"{name}: {checked.moment.text!r} is not so: {checked.instead}"
    assert len(checked_moments(trace)) == len(trace.key_moments)
    # Every scenario event points at a line of the code that is shown.
    shown = trace.code.count("\n")
    lines = [e.line for e in trace.events if e.line is not None]
    assert lines and all(1 <= line <= shown for line in lines)


def test_the_code_shown_is_the_code_run_without_its_declaration(registry: Registry) -> None:
    scenario = registry.get("create_item")
    assert "def get_db():" in scenario.code
    assert "SCENARIO" not in scenario.code
    assert scenario.path.read_text().startswith(scenario.code.rstrip())


def test_a_bad_scenario_file_is_refused_with_its_name(tmp_path: Path) -> None:
    bad = tmp_path / "broken.py"
    bad.write_text("app = None\n")
    with pytest.raises(ScenarioError, match=r"broken\.py: no SCENARIO"):
        read_scenario(bad)
    bad.write_text("SCENARIO = {'title': 'x'}\n")
    with pytest.raises(ScenarioError, match=r"broken\.py: SCENARIO: summary: missing"):
        read_scenario(bad)


def test_an_unknown_name_lists_the_available_ones(registry: Registry) -> None:
    with pytest.raises(ScenarioError, match=r"available: .*create_item"):
        registry.get("no_such_scenario")
