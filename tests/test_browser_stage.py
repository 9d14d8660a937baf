"""The run page in Debian's Chromium: it plays, steps, replays, and tells reality from textbook."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import screenshot_path
from tests.conftest import finished_run

pytestmark = pytest.mark.browser


def _at(page: Page, site: str, run_id: str, cursor: int) -> None:
    """Open a run at a cursor and wait until the server's stage for it is in the page."""
    page.goto(f"{site}/runs/{run_id}#step={cursor}")
    expect(page.locator("#position")).to_have_text(re.compile(rf"^{cursor} / \d+$"))
    expect(page.locator("#stage .where")).to_contain_text(f"Event {cursor} of")


def _narration_is(page: Page, trace: dict[str, Any], cursor: int) -> None:
    expect(page.locator("#position")).to_have_text(f"{cursor} / {len(trace['events'])}")
    expect(page.locator("#narration")).to_have_text(trace["events"][cursor - 1]["text"])


def test_home_and_scenario_pages_load_without_console_errors(
    page: Page, site: str, errors: list[str]
) -> None:
    page.goto(site)
    expect(page.get_by_role("heading", name="Scenarios")).to_be_visible()
    expect(page.get_by_role("link", name="Create an item")).to_be_visible()
    page.screenshot(path=screenshot_path("home"), full_page=True)
    page.get_by_role("link", name="Item not found (404)").click()
    expect(page.get_by_role("heading", name="Item not found (404)")).to_be_visible()
    expect(page.locator("pre.code")).to_contain_text("def get_db():")
    assert errors == []


def test_running_create_item_reaches_every_step_and_ends_closed(
    page: Page, site: str, errors: list[str]
) -> None:
    page.goto(f"{site}/scenarios/create_item")
    page.get_by_role("button", name="Run it for real").click()
    expect(page).to_have_url(re.compile(r"/runs/[\w-]+"))
    expect(page.locator("#live-status")).to_contain_text("events recorded", timeout=20_000)
    # It plays by itself, at a human pace.
    page.locator("#speed").select_option("4")
    expect(page.locator("#position")).not_to_have_text(re.compile(r"^0 /"), timeout=5_000)
    page.screenshot(path=screenshot_path("create_item_playing"))
    page.get_by_role("button", name="Last event").click()
    for number in range(1, 8):
        step = page.locator(f'.step[data-step="{number}"]')
        expect(step).to_have_attribute("data-state", re.compile("visited|current"))
    expect(page.locator(".tracker tr.current")).to_contain_text("Closed session")
    expect(page.locator(".db-now")).to_have_attribute("data-db", "Closed session")
    expect(page.locator('.callout[data-kind="response_before_close"]')).to_be_visible()
    page.screenshot(path=screenshot_path("create_item_end"), full_page=True)
    assert errors == []


def test_step_back_and_forward_move_one_event_and_restore_the_screen(
    page: Page, site: str, errors: list[str]
) -> None:
    trace = finished_run(site, "create_item")
    _at(page, site, trace["id"], 12)
    _narration_is(page, trace, 12)
    before = page.locator("#stage").inner_html()
    page.get_by_role("button", name="Step forward").click()
    _narration_is(page, trace, 13)
    page.get_by_role("button", name="Step back").click()
    _narration_is(page, trace, 12)
    expect(page.locator(".exec tr.current")).to_have_attribute("data-seq", re.compile(r"\d+"))
    assert page.locator("#stage").inner_html() == before
    page.screenshot(path=screenshot_path("create_item_step12"))
    assert errors == []


def test_the_keyboard_drives_the_player(page: Page, site: str, errors: list[str]) -> None:
    trace = finished_run(site, "read_items")
    total = len(trace["events"])
    _at(page, site, trace["id"], 3)
    page.locator("body").press("ArrowRight")
    _narration_is(page, trace, 4)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    _narration_is(page, trace, 2)
    page.keyboard.press("End")
    _narration_is(page, trace, total)
    page.keyboard.press("Home")  # restart: back to the start, playing
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    page.keyboard.press(" ")
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    assert errors == []


def _steps_seen(page: Page, site: str, run_id: str, total: int) -> list[str]:
    """The current step's number at every cursor, stepping with the player."""
    _at(page, site, run_id, 1)
    seen = []
    for cursor in range(1, total + 1):
        expect(page.locator("#position")).to_have_text(f"{cursor} / {total}")
        expect(page.locator(".where")).to_contain_text(f"Event {cursor} of {total}")
        current = page.locator('.step[data-state="current"] .num')
        seen.append(current.first.inner_text().split()[0] if current.count() else "-")
        if cursor < total:
            page.keyboard.press("ArrowRight")
    return seen


def test_a_permalink_and_an_imported_json_replay_the_same_steps(
    page: Page, site: str, errors: list[str], tmp_path: Path
) -> None:
    trace = finished_run(site, "item_not_found")
    total = len(trace["events"])
    original = _steps_seen(page, site, trace["id"], total)
    expected = [str(e["step"]) if e["step"] else None for e in trace["events"]]
    assert [s for s, e in zip(original, expected, strict=True) if e] == [e for e in expected if e]

    exported = tmp_path / "trace.json"
    exported.write_text(json.dumps({k: v for k, v in trace.items() if k not in ("id", "status")}))
    page.goto(site)
    page.locator("#trace-file").set_input_files(exported)
    page.get_by_role("button", name="Import and replay").click()
    expect(page).to_have_url(re.compile(r"/runs/[\w-]+$"))
    imported_id = page.url.rsplit("/", 1)[1]
    assert imported_id != trace["id"]
    assert _steps_seen(page, site, imported_id, total) == original
    assert errors == []


def test_a_malformed_import_is_refused_with_what_is_wrong(
    page: Page, site: str, errors: list[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"scenario": "x", "title": "x", "versions": {}, "requests": [], "events": []}')
    page.goto(site)
    page.locator("#trace-file").set_input_files(bad)
    page.get_by_role("button", name="Import and replay").click()
    expect(page.locator("#import-message")).to_contain_text("Not imported")
    expect(page.locator("#import-message")).to_contain_text("events")
    assert page.url.rstrip("/") == site
    assert [e for e in errors if "422" not in e] == []


def test_item_not_found_closes_before_the_404_and_has_no_callout(
    page: Page, site: str, errors: list[str]
) -> None:
    trace = finished_run(site, "item_not_found")
    _at(page, site, trace["id"], len(trace["events"]))
    actions = page.locator(".exec tbody tr td:nth-child(3)").all_inner_texts()
    assert actions.index("db.close()") < actions.index("Send 404 and headers")
    chips = page.locator(".observed .chip").all_inner_texts()
    assert chips == ["1", "2", "3", "4", "6", "7"]
    expect(page.locator(".callout")).to_have_count(0)
    expect(page.locator('.note[data-kind="rollback_in_close"]')).to_be_visible()
    page.screenshot(path=screenshot_path("item_not_found_end"))
    assert errors == []


def test_an_unknown_run_shows_a_404_page(page: Page, site: str) -> None:
    response = page.goto(f"{site}/runs/does-not-exist")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
