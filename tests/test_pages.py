"""The HTML pages over a real server: compression, the room form, joining with a code, compare."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import finished_run

FIRST_LOAD = [
    "/",
    "/static/app.css",
    "/static/vendor/htmx-4.0.1.min.js",
    "/static/vendor/hx-ws-4.0.1.min.js",
    "/static/theme.js",
    "/static/keys.js",
    "/static/stage_view.js",
]


BIG = ["/", "/static/app.css", "/static/vendor/htmx-4.0.1.min.js", "/static/player.js"]


@pytest.mark.parametrize("path", [*BIG, "/static/vendor/hx-ws-4.0.1.min.js", "/static/room.js"])
def test_pages_and_static_files_are_sent_gzip_compressed(site: str, path: str) -> None:
    raw = httpx.get(f"{site}{path}", headers={"Accept-Encoding": "identity"})
    packed = httpx.get(f"{site}{path}", headers={"Accept-Encoding": "gzip"})
    assert raw.status_code == packed.status_code == 200
    assert "content-encoding" not in raw.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert len(packed.content) == len(raw.content)  # httpx unpacked it: the same bytes
    assert packed.content == raw.content


def test_the_first_load_is_less_than_half_its_size_on_the_wire(site: str) -> None:
    sizes = {"identity": 0, "gzip": 0}
    for encoding in sizes:
        for path in FIRST_LOAD:
            with httpx.stream("GET", f"{site}{path}", headers={"Accept-Encoding": encoding}) as r:
                sizes[encoding] += sum(len(chunk) for chunk in r.iter_raw())
    assert sizes["gzip"] < sizes["identity"] / 2, sizes


def _run_page_room_form(site: str, run: dict[str, Any]) -> httpx.Response:
    return httpx.get(f"{site}/runs/{run['id']}/room")


def test_a_room_is_opened_by_a_form_and_the_token_stays_in_the_fragment(site: str) -> None:
    run = finished_run(site, "read_items")
    form = _run_page_room_form(site, run)
    assert f'action="/runs/{run["id"]}/room"' in form.text and "Open a classroom room" in form.text
    opened = httpx.post(f"{site}/runs/{run['id']}/room")
    assert opened.status_code == 303
    path, _, fragment = opened.headers["location"].partition("#")
    assert path.startswith("/rooms/") and path.endswith("/present")
    assert fragment.startswith("token=") and len(fragment) > 20
    code = path.split("/")[2]
    page = httpx.get(f"{site}{path}")
    assert page.status_code == 200 and fragment.removeprefix("token=") not in page.text
    joined = httpx.get(f"{site}/join", params={"code": f" {code.lower()} "})
    assert joined.status_code == 303 and joined.headers["location"] == f"/rooms/{code}"


def test_a_room_needs_a_finished_run_and_a_known_code(site: str) -> None:
    missing = httpx.post(f"{site}/runs/nosuchrun/room")
    assert missing.status_code == 404 and "nosuchrun" in missing.text
    unknown = httpx.get(f"{site}/join", params={"code": "ZZZZZZ"})
    assert unknown.status_code == 404 and "Check the code" in unknown.text
    assert "<!doctype html>" in unknown.text.lower()  # a page, not JSON


def test_compare_without_runs_is_a_page_to_choose_them(site: str) -> None:
    run = finished_run(site, "read_items")
    page = httpx.get(f"{site}/compare")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'name="left"' in page.text and 'name="right"' in page.text
    assert f'value="{run["id"]}"' in page.text
    home = httpx.get(site)
    assert 'href="/compare"' in home.text
    assert 'action="/join"' in home.text and "Join a class" in home.text


def test_compare_shows_every_request_with_its_status(site: str) -> None:
    left, right = finished_run(site, "create_item"), finished_run(site, "concurrent_requests")
    page = httpx.get(f"{site}/compare", params={"left": left["id"], "right": right["id"]})
    assert page.status_code == 200
    assert page.text.count('class="side-by-side"') == len(right["requests"]) == 3
    assert "no request 2" in page.text  # create_item sent only one
    assert page.text.count('class="status"') == 1 + 3
    missing = httpx.get(f"{site}/compare", params={"left": left["id"], "right": "nope"})
    assert missing.status_code == 404 and "nope" in missing.text


def test_scenario_summaries_speak_only_of_what_a_user_has() -> None:
    from visualizer.execution.scenarios import Registry

    for scenario in Registry():
        for words in ("quiz", "mini project", "sample program", "the document"):
            assert words not in scenario.summary.lower(), (scenario.name, scenario.summary)
