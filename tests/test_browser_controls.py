"""The player's controls in Debian's Chromium: the scrubber, keys after any click, predict mode,
and a fresh run that can open a room."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import screenshot_path
from tests.conftest import finished_run
from visualizer.contract.trace import read_trace
from visualizer.lesson.questions import stop_cursor

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def run(site: str) -> dict[str, Any]:
    return finished_run(site, "create_item")


def _open(page: Page, site: str, run: dict[str, Any], cursor: int) -> int:
    page.goto(f"{site}/runs/{run['id']}#step={cursor}")
    total = len(run["events"])
    _at(page, cursor, total)
    return total


def _at(page: Page, cursor: int, total: int) -> None:
    expect(page.locator("#position")).to_have_text(f"{cursor} / {total}")
    where = f"Event {cursor} of {total}" if cursor else "Before the first event"
    expect(page.locator("#stage .where")).to_contain_text(where)


def test_the_scrubber_moves_by_click_drag_fill_and_keys(
    page: Page, site: str, run: dict[str, Any], errors: list[str]
) -> None:
    total = _open(page, site, run, 3)
    scrubber = page.locator("#scrubber")
    box = scrubber.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2

    def x(share: float) -> float:
        return box["x"] + box["width"] * share

    page.mouse.click(x(0.5), y)
    expect(page.locator("#position")).not_to_have_text(f"3 / {total}")
    clicked = int(page.locator("#position").inner_text().split(" /")[0])
    assert abs(clicked - total / 2) <= 2, clicked

    page.mouse.move(x(0.1), y)
    page.mouse.down()
    page.mouse.move(x(0.5), y, steps=5)
    page.mouse.move(x(0.9), y, steps=5)
    page.mouse.up()
    dragged = int(page.locator("#position").inner_text().split(" /")[0])
    assert abs(dragged - total * 0.9) <= 2, dragged
    expect(page.locator("#stage .where")).to_contain_text(f"Event {dragged} of {total}")

    scrubber.fill("5")
    _at(page, 5, total)

    scrubber.blur()
    page.keyboard.press("Shift")  # the keyboard is in use: the scrubber keeps its own keys
    scrubber.focus()
    page.keyboard.press("ArrowRight")
    _at(page, 6, total)
    page.keyboard.press("End")
    _at(page, total, total)
    page.keyboard.press("Home")
    _at(page, 0, total)
    assert errors == []


CLICKS = {
    "Step forward": lambda page: page.get_by_role("button", name="Step forward").click(),
    "Step back": lambda page: page.get_by_role("button", name="Step back").click(),
    "Play, then pause": lambda page: [
        page.get_by_role("button", name="Play").click(),
        page.get_by_role("button", name="Pause").click(),
    ],
    "Restart, then pause": lambda page: [
        page.get_by_role("button", name="Restart").click(),
        page.get_by_role("button", name="Pause").click(),
    ],
    "the scrubber": lambda page: page.locator("#scrubber").click(),
    "the speed": lambda page: [
        page.locator("#speed").click(),
        page.locator("#speed").select_option("2"),
    ],
}


@pytest.mark.parametrize("control", list(CLICKS))
def test_keys_keep_working_after_clicking_a_control(
    page: Page, site: str, run: dict[str, Any], control: str, errors: list[str]
) -> None:
    total = _open(page, site, run, 8)
    CLICKS[control](page)
    page.keyboard.press("Escape")  # a select's list closes; the page has no use for Escape
    start = int(page.locator("#position").inner_text().split(" /")[0])
    speed = page.locator("#speed").input_value()
    # A clicker sends arrows or Page Up/Down: each moves one event, whatever was clicked.
    for key, move in [("ArrowRight", 1), ("ArrowRight", 1), ("ArrowLeft", -1), ("PageDown", 1)]:
        page.keyboard.press(key)
        start += move
        _at(page, start, total)
    page.keyboard.press("PageUp")
    _at(page, start - 1, total)
    assert page.locator("#speed").input_value() == speed  # the arrows did not change the speed
    page.keyboard.press("End")
    _at(page, total, total)
    assert errors == []


def test_space_after_ticking_predict_mode_plays_and_leaves_it_ticked(
    page: Page, site: str, run: dict[str, Any], errors: list[str]
) -> None:
    _open(page, site, run, 0)
    page.get_by_label("Predict mode").click()
    expect(page.get_by_label("Predict mode")).to_be_checked()
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    expect(page.get_by_label("Predict mode")).to_be_checked()
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    page.get_by_label("Predict mode").click()  # off again, for the other tests of this browser
    assert errors == []


def test_predict_mode_restart_asks_again_and_resets_the_score(
    page: Page, site: str, run: dict[str, Any], errors: list[str]
) -> None:
    trace = read_trace(run)
    question = trace.questions[0]
    stop = stop_cursor(question, trace)
    assert stop is not None and stop > 0 and question.answer is not None
    page.emulate_media(reduced_motion="reduce")
    total = _open(page, site, run, stop - 1)
    page.get_by_label("Predict mode").check()
    expect(page.locator("#score")).to_contain_text("0 right of 0")
    page.get_by_role("button", name="Step forward").click()
    page.get_by_role("button", name="Step forward").click()
    form = page.locator("#question form")
    expect(form).to_be_visible()
    radio = form.get_by_label(question.choices[question.answer].text)
    radio.click()
    page.keyboard.press("ArrowRight")  # a clicker's Right does not change the answer
    expect(radio).to_be_checked()
    _at(page, stop, total)
    form.get_by_role("button", name="Check my answer").click()
    expect(page.locator("#score")).to_contain_text("1 right of 1")
    page.keyboard.press("ArrowRight")  # the verdict is read: Right moves on
    expect(page.locator("#question")).to_be_empty()

    page.get_by_role("button", name="Restart").click()
    expect(page.locator("#score")).to_contain_text("0 right of 0")
    page.get_by_role("button", name="Pause").click()
    page.locator("#scrubber").fill(str(stop - 1))
    page.get_by_role("button", name="Step forward").click()
    page.get_by_role("button", name="Step forward").click()
    expect(page.locator("#question form .ask")).to_have_text(question.ask)  # asked again
    page.get_by_role("button", name="Skip").click()
    page.get_by_label("Predict mode").uncheck()
    assert errors == []


def test_radio_buttons_are_large_in_the_projector_theme(
    page: Page, site: str, run: dict[str, Any]
) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    trace = read_trace(run)
    stop = stop_cursor(trace.questions[0], trace)
    assert stop is not None
    page.goto(f"{site}/runs/{run['id']}#step={stop}")
    page.evaluate("localStorage.setItem('theme', 'projector')")
    page.reload()
    page.get_by_label("Predict mode").check()
    page.get_by_role("button", name="Step forward").click()
    radio = page.locator("#question input[type=radio]").first
    expect(radio).to_be_visible()
    box = radio.bounding_box()
    assert box is not None and box["width"] >= 20 and box["height"] >= 20, box
    page.screenshot(path=screenshot_path("projector_predict_1024"))
    page.get_by_role("button", name="Skip").click()
    page.get_by_label("Predict mode").uncheck()
    page.evaluate("localStorage.removeItem('theme')")


def test_a_fresh_run_offers_a_room_without_a_reload(
    page: Page, site: str, errors: list[str]
) -> None:
    page.goto(f"{site}/scenarios/read_items")
    page.get_by_role("button", name="Run it for real").click()
    expect(page).to_have_url(re.compile(r"/runs/[\w-]+"))
    loaded = page.evaluate("performance.getEntriesByType('navigation').length")
    open_room = page.get_by_role("button", name="Open a classroom room")
    expect(open_room).to_be_visible(timeout=20_000)
    assert page.evaluate("performance.getEntriesByType('navigation').length") == loaded
    expect(page.locator("#summary")).to_contain_text("Textbook against reality")
    open_room.click()
    expect(page).to_have_url(
        re.compile(r"/rooms/\w{6}/present(#step=\d+)?$")
    )  # the token left the address
    expect(page.locator("#role-line")).to_contain_text("You are presenting room")
    expect(page.locator("#presenter-link")).to_have_attribute("href", re.compile(r"#token=.+"))
    assert errors == []
