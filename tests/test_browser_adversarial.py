"""In a real browser: a page of another origin can neither write nor read runs or rooms, and
one browser is one student however many sockets it opens."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.browser_support import screenshot_path
from tests.room_support import open_room, room_state
from visualizer.execution.server import LoopbackServer

pytestmark = pytest.mark.browser

# Everything another site's page can try without the user doing anything, results on the page.
ATTACK = """<!doctype html><meta charset="utf-8"><title>Another site</title>
<h1>Another site</h1><pre id="out">running…</pre>
<iframe name="sink" style="display:none"></iframe>
<form id="form" method="post" target="sink" action="SITE/scenarios/create_item/runs"></form>
<script>
const site = "SITE", run = "RUN", code = "CODE", results = {};
const socket = (url) => new Promise((done) => {
  const seen = [], ws = new WebSocket(url);
  ws.onmessage = (m) => seen.push(JSON.parse(m.data).type);
  ws.onclose = (e) => done({close: e.code, seen});
});
const attempt = async (name, action) => {
  try { results[name] = await action(); } catch (e) { results[name] = "blocked: " + e.name; }
};
(async () => {
  await attempt("import (no-cors)", async () => (await fetch(site + "/api/runs/import", {
    method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: TRACE,
  })).type);
  await attempt("start a run (no-cors)", async () => (await fetch(site + "/api/runs", {
    method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"},
    body: JSON.stringify({scenario: "create_item"}),
  })).type);
  await attempt("read a run", async () => (await fetch(site + "/api/runs/" + run)).status);
  await attempt("read a room", async () => (await fetch(site + "/api/rooms/" + code)).status);
  await attempt("follow a run", () => socket(site.replace("http", "ws") + "/ws/runs/" + run));
  await attempt("join a room", () => socket(site.replace("http", "ws") + "/ws/rooms/" + code));
  document.getElementById("form").submit();
  await new Promise((r) => setTimeout(r, 1000));
  results["form"] = "submitted";
  document.getElementById("out").textContent = JSON.stringify(results, null, 2);
  window.results = results;
})();
</script>"""


def _runs_listed(site: str) -> list[str]:
    return [line for line in httpx.get(site).text.splitlines() if 'href="/runs/' in line]


def test_a_page_of_another_origin_can_neither_write_nor_read(
    page: Page, site: str, room_run: str, room_lesson: dict[str, Any]
) -> None:
    code = open_room(site, room_run)["code"]
    html = (
        ATTACK.replace("SITE", site)
        .replace("RUN", room_run)
        .replace("CODE", code)
        .replace("TRACE", json.dumps(json.dumps(room_lesson)))
    )

    async def attack_page(request: Request) -> HTMLResponse:
        return HTMLResponse(html)

    before = _runs_listed(site)
    with LoopbackServer(Starlette(routes=[Route("/", attack_page)])) as other:
        assert other.url != site  # another port: another origin
        page.goto(other.url)
        page.wait_for_function("window.results !== undefined", timeout=15_000)
        results = page.evaluate("window.results")
        page.screenshot(path=screenshot_path("cross-site-attack"), full_page=True)
    assert results["import (no-cors)"] == "opaque"  # sent, never readable, and refused:
    assert results["start a run (no-cors)"] == "opaque"
    assert _runs_listed(site) == before  # nothing stored, no run started, not even the form's
    assert results["read a run"] == "blocked: TypeError"  # no CORS: the answer is not theirs
    assert results["read a room"] == "blocked: TypeError"
    assert results["follow a run"] == {"close": 4403, "seen": ["error"]}
    assert results["join a room"] == {"close": 4403, "seen": ["error"]}
    assert room_state(site, code)["members"] == 0


def test_sockets_opened_by_hand_in_a_students_browser_are_that_same_student(
    page: Page, site: str, room_run: str
) -> None:
    code = open_room(site, room_run)["code"]
    page.goto(f"{site}/rooms/{code}")
    page.wait_for_function(f"localStorage.getItem('room-member:{code}') !== null")
    opened = page.evaluate(
        """async (url) => {
            const sockets = await Promise.all([...Array(10)].map(() => new Promise((ok) => {
                const ws = new WebSocket(url);
                ws.onmessage = (m) => { if (JSON.parse(m.data).type === "welcome") ok(ws); };
            })));
            return sockets.length;
        }""",
        site.replace("http", "ws") + f"/ws/rooms/{code}",
    )
    assert opened == 10
    assert room_state(site, code)["members"] == 1  # the page and ten more sockets: one student
    page.screenshot(path=screenshot_path("one-browser-one-student"))
