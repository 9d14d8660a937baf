"""What a class sees, measured in Debian's Chromium: a projector at 1024x768 with the presenter
and a student, a 390x844 phone, and code listings that are not cut. Element boxes are asserted;
the screenshots are for people to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser_support import screenshot_path
from tests.conftest import finished_run
from visualizer.contract.trace import read_trace
from visualizer.lesson.questions import stop_cursor

pytestmark = pytest.mark.browser

PROJECTOR = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def run(site: str) -> dict[str, Any]:
    return finished_run(site, "create_item")


def _context(browser: Browser, viewport: dict[str, int], projector: bool) -> BrowserContext:
    context = browser.new_context(viewport=viewport)
    if projector:
        context.add_init_script("localStorage.setItem('theme', 'projector')")
    return context


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    made: list[BrowserContext] = []
    yield made
    for context in made:
        context.close()


def _box(page: Page, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box


def _on_first_screen(page: Page, selector: str) -> None:
    viewport = page.viewport_size
    assert viewport is not None
    box = _box(page, selector)
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], (selector, box)
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (selector, box)


def _open_room(page: Page, site: str, run: dict[str, Any]) -> str:
    page.goto(f"{site}/runs/{run['id']}")
    page.get_by_role("button", name="Open a classroom room").click()
    expect(page).to_have_url(re.compile(r"/rooms/\w{6}/present(#step=\d+)?$"))
    expect(page.locator("#role-line")).to_contain_text("You are presenting")
    code = page.locator("#room").get_attribute("data-code")
    assert code
    return code


def test_a_projector_shows_the_stage_the_question_and_reveal_on_the_first_screen(
    browser: Browser, site: str, run: dict[str, Any], contexts: list[BrowserContext]
) -> None:
    contexts += [_context(browser, PROJECTOR, projector=True) for _ in range(2)]
    presenter, student = (context.new_page() for context in contexts)
    code = _open_room(presenter, site, run)
    student.goto(f"{site}/rooms/{code}")
    expect(presenter.locator("#members")).to_contain_text("1 student")
    presenter.screenshot(path=screenshot_path("projector_presenter_1024"))
    for page in (presenter, student):
        _on_first_screen(page, "#role-line")
        _on_first_screen(page, "#stage .narration")

    presenter.get_by_role("button", name="Ask").first.click()
    expect(student.locator("#question .ask")).to_be_visible()
    student.locator("#question .choice-button").first.click()
    expect(presenter.locator(".tally-line")).to_have_text("1 of 1 student answered.")
    for selector in ("#tally .ask", "#tally .choice-button", ".tally-line"):
        _on_first_screen(presenter, selector)
    _on_first_screen(presenter, "text=Reveal what happened")
    _on_first_screen(presenter, "#stage .narration")
    for selector in ("#question .ask", "#question .choice-button >> nth=-1", "#stage .narration"):
        _on_first_screen(student, selector)
    presenter.screenshot(path=screenshot_path("projector_presenter_question_1024"))
    student.screenshot(path=screenshot_path("projector_student_question_1024"))

    presenter.get_by_role("button", name="Reveal what happened").click()
    expect(student.locator("#question .verdict")).to_be_visible()
    _on_first_screen(presenter, "#tally .explain")
    student.screenshot(path=screenshot_path("projector_student_reveal_1024"))


def _overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"] + 0.5
        or b["x"] + b["width"] <= a["x"] + 0.5
        or a["y"] + a["height"] <= b["y"] + 0.5
        or b["y"] + b["height"] <= a["y"] + 0.5
    )


def test_a_phone_shows_a_student_everything_without_sideways_scrolling_or_overlap(
    browser: Browser, site: str, run: dict[str, Any], contexts: list[BrowserContext]
) -> None:
    contexts += [_context(browser, {"width": 1280, "height": 720}, projector=False)]
    contexts += [_context(browser, PHONE, projector=False)]
    presenter, phone = (context.new_page() for context in contexts)
    code = _open_room(presenter, site, run)
    phone.goto(f"{site}/rooms/{code}")
    expect(phone.locator("#room-status")).to_contain_text("Following")
    presenter.locator("#scrubber").fill(str(len(run["events"]) - 3))
    expect(phone.locator("#position")).to_have_text(
        f"{len(run['events']) - 3} / {len(run['events'])}"
    )
    phone.screenshot(path=screenshot_path("phone_student_390"))

    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _on_first_screen(phone, "#stage .narration")
    _on_first_screen(phone, "[data-look=follow]")
    boxes = phone.locator(
        "#room, #stage > .narration-bar, #stage > .flow, #stage .panel"
    ).evaluate_all("(els) => els.map((el) => el.getBoundingClientRect().toJSON())")
    assert len(boxes) >= 7
    for i, a in enumerate(boxes):
        assert a["x"] >= 0 and a["x"] + a["width"] <= PHONE["width"], a
        for b in boxes[i + 1 :]:
            assert not _overlaps(a, b), (a, b)
    # The execution table keeps words whole: it scrolls inside its own box if it must.
    broken = phone.locator("table.exec td").evaluate_all(
        """(cells) => cells.filter((cell) => {
            const range = document.createRange();
            range.selectNodeContents(cell);
            const words = cell.textContent.trim().split(/\\s+/);
            const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.bottom)));
            return words.length === 1 && lines.size > 1;
        }).map((cell) => cell.textContent.trim())"""
    )
    assert broken == []
    phone.screenshot(path=screenshot_path("phone_student_390_full"), full_page=True)

    presenter.get_by_role("button", name="Ask").last.click()
    expect(phone.locator("#question .ask")).to_be_visible()
    total = len(run["events"])
    trace = read_trace(run)
    stop = stop_cursor(trace.questions[-1], trace)
    assert stop is not None
    expect(phone.locator("#position")).to_have_text(f"{stop} / {total}")
    phone.keyboard.press("ArrowLeft")  # students have keys too: look back one event
    expect(phone.locator("#position")).to_have_text(f"{stop - 1} / {total}")
    phone.keyboard.press("f")  # and follow the presenter again
    expect(phone.locator("#position")).to_have_text(f"{stop} / {total}")
    _on_first_screen(phone, "#question .ask")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.screenshot(path=screenshot_path("phone_student_question_390"))


def test_code_listings_are_plain_and_whole_on_a_projector(
    browser: Browser, site: str, run: dict[str, Any], contexts: list[BrowserContext]
) -> None:
    contexts += [_context(browser, PROJECTOR, projector=True)]
    page = contexts[0].new_page()
    page.goto(f"{site}/runs/{run['id']}#step=12")
    expect(page.locator(".code .line.current")).to_have_count(1)
    style = page.locator("pre.code").evaluate(
        "(el) => { const s = getComputedStyle(el); return [s.fontWeight, s.letterSpacing]; }"
    )
    assert style == ["400", "normal"]
    cut = page.locator("pre.code .line").evaluate_all(
        "(lines) => lines.filter((line) => line.scrollWidth > line.clientWidth + 1).length"
    )
    assert cut == 0
    per_line = page.locator("pre.code").evaluate(
        """(pre) => {
            const probe = document.createElement("span");
            probe.textContent = "x".repeat(100);
            pre.querySelector(".line").append(probe);
            const width = probe.getBoundingClientRect().width / 100;
            probe.remove();
            return Math.floor((pre.clientWidth - 60) / width);
        }"""
    )
    assert per_line >= 70, per_line
    page.locator(".code-panel").screenshot(path=screenshot_path("projector_code_1024"))


def test_what_a_class_sees_at_1280_by_720(
    browser: Browser, site: str, run: dict[str, Any], contexts: list[BrowserContext]
) -> None:
    """The README's picture: the presenter has asked, three students answered."""
    contexts += [_context(browser, {"width": 1280, "height": 720}, projector=True)]
    contexts += [_context(browser, PHONE, projector=False) for _ in range(3)]
    presenter, *students = (context.new_page() for context in contexts)
    code = _open_room(presenter, site, run)
    trace = read_trace(run)
    index = next(i for i, q in enumerate(trace.questions) if q.before == "response.start")
    for number, student in enumerate(students):
        student.goto(f"{site}/rooms/{code}")
        student.get_by_label("Your name").fill(["Ada", "Grace", "Linus"][number])
        student.get_by_role("button", name="Use this name").click()
    expect(presenter.locator("#members")).to_contain_text("3 students")
    presenter.locator("details.join > summary").click()  # everyone is in: fold the join panel
    presenter.get_by_role("button", name="Ask").nth(index).click()
    question = trace.questions[index]
    for student, choice in zip(students, [1, 1, 0], strict=True):
        student.locator("#question .choice-button").nth(choice).click()
    expect(presenter.locator(".tally-line")).to_have_text("3 of 3 students answered.")
    _on_first_screen(presenter, "text=Reveal what happened")
    presenter.screenshot(path=screenshot_path("class_presenter_1280"))
    presenter.set_viewport_size({"width": 1280, "height": 900})  # the README's picture
    presenter.screenshot(path=screenshot_path("readme_class"))
    students[0].screenshot(path=screenshot_path("class_student_phone"))
    assert question.ask in presenter.locator("#tally .ask").inner_text()
