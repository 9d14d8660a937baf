"""The teaching layer in Debian's Chromium: predict mode, lanes, side by side, the summary."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import screenshot_path
from tests.conftest import finished_run
from visualizer.contract.trace import read_trace
from visualizer.lesson.questions import stop_cursor

pytestmark = pytest.mark.browser


def test_predict_mode_stops_asks_and_checks_against_the_run(
    page: Page, site: str, errors: list[str]
) -> None:
    data = finished_run(site, "create_item")
    trace = read_trace(data)
    question = trace.questions[0]
    stop = stop_cursor(question, trace)
    assert stop is not None and question.answer is not None
    page.goto(f"{site}/runs/{data['id']}#step={max(stop - 1, 0)}")
    page.get_by_label("Predict mode").check()
    expect(page.locator("#score")).to_contain_text("questions")
    page.get_by_role("button", name="Step forward").click()
    if stop > 0:
        page.get_by_role("button", name="Step forward").click()
    form = page.locator("#question form")
    expect(form).to_be_visible()
    expect(page.locator("#position")).to_have_text(re.compile(rf"^{stop} /"))
    expect(form.locator(".ask")).to_have_text(question.ask)
    page.keyboard.press("ArrowRight")  # the player waits for the answer
    expect(page.locator("#position")).to_have_text(re.compile(rf"^{stop} /"))
    page.screenshot(path=screenshot_path("predict_question"))
    wrong = (question.answer + 1) % len(question.choices)
    form.get_by_label(question.choices[wrong].text).check()
    form.get_by_role("button", name="Check my answer").click()
    verdict = page.locator("#question .verdict")
    expect(verdict).to_have_attribute("data-correct", "false")
    expect(verdict).to_contain_text(question.choices[question.answer].text)
    expect(page.locator("#score")).to_contain_text("0 right of 1")
    page.screenshot(path=screenshot_path("predict_verdict"))
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#question")).to_be_empty()
    expect(page.locator("#narration")).to_have_text(trace.events[stop].text)
    assert errors == []


def test_concurrent_requests_get_one_lane_each_on_one_time_axis(
    page: Page, site: str, errors: list[str]
) -> None:
    data = finished_run(site, "concurrent_requests")
    page.goto(f"{site}/runs/{data['id']}#step={len(data['events'])}")
    expect(page.locator("#stage .where")).to_contain_text(f"Event {len(data['events'])} of")
    expect(page.locator(".lanes .lane")).to_have_count(3)
    expect(page.locator(".timeline .track")).to_have_count(3)
    for track in page.locator(".timeline .track").all():
        expect(track.locator(".seg")).to_have_count(6)  # 1 2 3 4 7 6 for each request
    peak = max(e["pool"]["checked_out"] or 0 for e in data["events"])
    assert peak == 3
    page.screenshot(path=screenshot_path("concurrent_lanes"), full_page=True)
    assert errors == []


def test_function_scope_side_by_side_with_the_default_scope(
    page: Page, site: str, errors: list[str]
) -> None:
    default = finished_run(site, "commit_in_dependency")
    function = finished_run(site, "function_scope")
    page.goto(f"{site}/runs/{function['id']}")
    summary = page.locator("#summary")
    expect(summary.get_by_role("heading", name="Textbook against reality")).to_be_visible()
    summary.get_by_label("Compare side by side with").select_option(default["id"])
    summary.get_by_role("button", name="Compare").click()
    expect(page).to_have_url(re.compile(r"/compare\?"))
    first = page.locator('table.side-by-side[data-request="1"]')
    orders = first.locator("tr:last-child td").all_inner_texts()
    assert orders == ["1 → 2 → 3 → 4 → 5 → 6 → 7", "1 → 2 → 3 → 4 → 7 → 5 → 6"]
    expect(first.locator("td.differs")).to_have_count(2)  # only the default scope differs
    # Every request is there, with the status each client got: the failing commit of the
    # second request is a 500 with scope="function" and a 200 sent too early by default.
    expect(page.locator("table.side-by-side")).to_have_count(2)
    statuses = page.locator('table.side-by-side[data-request="2"] .status').all_inner_texts()
    assert statuses == [str(run["requests"][1]["status"]) for run in (function, default)]
    assert statuses[0] != statuses[1]
    page.screenshot(path=screenshot_path("side_by_side"), full_page=True)
    assert errors == []


def test_the_transcript_tells_this_run_with_its_figures(
    page: Page, site: str, errors: list[str]
) -> None:
    data = finished_run(site, "item_not_found")
    page.goto(f"{site}/runs/{data['id']}")
    transcript = page.locator("#transcript")
    transcript.locator("summary").click()
    expect(transcript).to_contain_text("GET /items/42 reached the server.")
    expect(transcript).to_contain_text(re.compile(r"The server sent status 404 at \d+\.\d ms"))
    assert errors == []
