"""Classroom mode in Debian's Chromium: one presenter, three students, separate browsers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser_support import screenshot_path
from tests.conftest import finished_run

pytestmark = pytest.mark.browser

QUESTION = {
    "before": "response.start",
    "ask": "The endpoint has returned. What happens next?",
    "choices": [
        {
            "text": "db.close() runs, then the response is sent",
            "claim": {"order": ["session.close", "response.start"]},
        },
        {
            "text": "The response is sent, then db.close() runs",
            "claim": {"order": ["response.start", "session.close"]},
        },
    ],
    "answer": 1,
    "explain": "FastAPI runs get_db's finally after the response by default.",
}


@pytest.fixture
def lesson(site: str) -> dict[str, Any]:
    """A finished create_item run carrying one question of ours, imported for replay."""
    trace = finished_run(site, "create_item")
    body = {k: v for k, v in trace.items() if k not in ("id", "status")}
    body["questions"] = [QUESTION]
    created = httpx.post(f"{site}/api/runs/import", json=body)
    assert created.status_code == 201, created.text
    return {**trace, "id": created.json()["id"]}


@pytest.fixture
def people(browser: Browser) -> Iterator[list[BrowserContext]]:
    """Four separate browsers: a presenter and three students."""
    contexts = [browser.new_context(viewport={"width": 1280, "height": 720}) for _ in range(4)]
    yield contexts
    for context in contexts:
        context.close()


def _position(page: Page, cursor: int, total: int) -> None:
    expect(page.locator("#position")).to_have_text(f"{cursor} / {total}")
    expect(page.locator("#stage .where")).to_contain_text(f"Event {cursor} of {total}")


def _in_its_box(page: Page, selector: str) -> bool:
    """Whether the element is visible inside the scrolling box that holds it."""
    return bool(
        page.locator(selector).evaluate(
            """(item) => {
            const box = item.closest(".scroll").getBoundingClientRect();
            const it = item.getBoundingClientRect();
            return it.top >= box.top && it.bottom <= box.bottom;
        }"""
        )
    )


def test_a_room_follows_its_presenter_and_only_the_presenter_drives(
    site: str, lesson: dict[str, Any], people: list[BrowserContext]
) -> None:
    total = len(lesson["events"])
    presenter = people[0].new_page()
    presenter.goto(f"{site}/runs/{lesson['id']}")
    presenter.get_by_role("button", name="Open a classroom room").click()
    expect(presenter).to_have_url(re.compile(r"/rooms/\w+/present"))
    code = presenter.locator("#room").get_attribute("data-code")
    assert code and len(code) == 6
    expect(presenter.locator(".qr")).to_be_visible()
    expect(presenter.locator("#role-line")).to_contain_text("You are presenting room")

    students = []
    for number, context in enumerate(people[1:3], start=1):
        student = context.new_page()
        student.goto(f"{site}/rooms/{code}")
        student.get_by_label("Your name").fill(f"<b>student {number}</b>")
        student.get_by_role("button", name="Use this name").click()
        expect(student.locator("#room-status")).to_contain_text("Following")
        expect(student.locator("#role-line")).to_contain_text(f"as <b>student {number}</b>")
        students.append(student)
    expect(presenter.locator("#members")).to_contain_text("2 students")
    expect(presenter.locator("#members")).to_contain_text("<b>student 1</b>")  # shown as text

    for _ in range(5):
        presenter.get_by_role("button", name="Step forward").click()
    _position(presenter, 5, total)
    for student in students:
        _position(student, 5, total)
        expect(student.locator(".code .line.current")).to_have_count(1)
        assert _in_its_box(student, ".code .line.current"), "the line that ran is scrolled away"

    late = people[3].new_page()
    late.goto(f"{site}/rooms/{code}")
    _position(late, 5, total)
    students.append(late)

    # A student's own socket trying to drive is refused, and nobody moves.
    refusal = students[0].evaluate(
        """async (code) => {
            const socket = new WebSocket(`ws://${location.host}/ws/rooms/${code}`);
            const replies = [];
            await new Promise((resolve) => socket.addEventListener("open", resolve));
            socket.addEventListener("message", (event) => replies.push(JSON.parse(event.data)));
            socket.send(JSON.stringify({ type: "goto", cursor: 1 }));
            await new Promise((resolve) => setTimeout(resolve, 500));
            socket.close();
            return replies.find((reply) => reply.type === "error");
        }""",
        code,
    )
    assert refusal is not None and "only the presenter" in refusal["message"]
    for page in (presenter, *students):
        _position(page, 5, total)

    # Students look back privately, then follow again.
    students[1].get_by_role("button", name="Look back one event").click()
    _position(students[1], 4, total)
    _position(students[0], 5, total)
    students[1].get_by_role("button", name="Follow the presenter").click()
    _position(students[1], 5, total)
    presenter.screenshot(path=screenshot_path("room_presenter"))
    students[0].screenshot(path=screenshot_path("room_student"))

    # The presenter asks; answers reach the tally; the reveal shows what happened.
    presenter.get_by_role("button", name="Ask").click()
    for student in students:
        expect(student.locator(".ask")).to_have_text(QUESTION["ask"])
    students[0].get_by_role("button", name=QUESTION["choices"][1]["text"]).click()
    students[1].get_by_role("button", name=QUESTION["choices"][0]["text"]).click()
    students[2].get_by_role("button", name=QUESTION["choices"][1]["text"]).click()
    expect(presenter.locator(".tally-line")).to_have_text("3 of 3 students answered.")
    expect(presenter.locator('#tally [data-choice="1"]')).to_contain_text("— 2")
    expect(presenter.locator('#tally [data-choice="0"]')).to_contain_text("— 1")
    presenter.screenshot(path=screenshot_path("room_tally"))
    presenter.get_by_role("button", name="Reveal what happened").click()
    for student in students:
        expect(student.locator(".choice-button.right")).to_contain_text("The response is sent")
        expect(student.locator(".explain")).to_contain_text("after the response")
    students[0].screenshot(path=screenshot_path("room_student_reveal"))


def test_an_unknown_room_is_a_404_page(page: Page, site: str) -> None:
    response = page.goto(f"{site}/rooms/ZZZZZZ")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()


def test_the_projector_theme_is_a_remembered_toggle(page: Page, site: str) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(site)
    page.get_by_role("button", name="Projector theme").click()
    expect(page.locator("html")).to_have_class(re.compile("projector"))
    page.reload()
    expect(page.locator("html")).to_have_class(re.compile("projector"))
    expect(page.get_by_role("button", name="Projector theme")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.screenshot(path=screenshot_path("projector_home_1024"))


def test_presenting_is_handed_to_another_device_by_the_presenter_link(
    site: str, lesson: dict[str, Any], people: list[BrowserContext]
) -> None:
    total = len(lesson["events"])
    laptop = people[0].new_page()
    laptop.goto(f"{site}/runs/{lesson['id']}")
    laptop.get_by_role("button", name="Open a classroom room").click()
    expect(laptop.locator("#role-line")).to_contain_text("You are presenting room")
    code = laptop.locator("#room").get_attribute("data-code")
    link = laptop.locator("#presenter-link").get_attribute("href")
    assert link and re.search(rf"/rooms/{code}/present#token=.+", link)

    # Another browser without the token: the presenter's address alone makes it a student.
    stranger = people[1].new_page()
    stranger.goto(f"{site}/rooms/{code}/present")
    expect(stranger.locator("#role-line")).to_contain_text("You are a student in room")
    expect(stranger.locator("#no-token")).to_be_visible()
    expect(stranger.locator("#presenter-link-box")).to_be_hidden()

    # The projector's PC opens the presenter link: it presents, and the token leaves the URL.
    projector = people[2].new_page()
    projector.goto(link)
    expect(projector.locator("#role-line")).to_contain_text("You are presenting room")
    expect(projector).not_to_have_url(re.compile("token"))
    student = people[3].new_page()
    student.goto(f"{site}/rooms/{code}")
    expect(student.locator("#role-line")).to_contain_text("You are a student")

    # Either presenter drives; the other presenter, the student and the stranger follow.
    for _ in range(3):
        laptop.get_by_role("button", name="Step forward").click()
    for page in (laptop, projector, stranger, student):
        _position(page, 3, total)
    projector.get_by_role("button", name="Step forward").click()
    projector.get_by_role("button", name="Step forward").click()
    for page in (laptop, projector, stranger, student):
        _position(page, 5, total)
    stranger.get_by_role("button", name="Step forward").click()  # moves only itself
    _position(stranger, 6, total)
    _position(student, 5, total)
    projector.screenshot(path=screenshot_path("room_presenter_handed_over"))
