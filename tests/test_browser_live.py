"""The live page in Debian's Chromium: a developer's own app under `trace`, clicked through."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import screenshot_path
from tests.live_support import traced

pytestmark = pytest.mark.browser


def test_requests_appear_open_on_the_stage_and_can_be_kept(
    page: Page, tmp_path: Path, errors: list[str]
) -> None:
    with traced(f"sqlite:///{tmp_path / 'shop.db'}", tmp_path / "data") as shop:
        page.goto(f"{shop.page}/live")
        expect(page.locator("#live-status")).to_have_text("live")
        with httpx.Client(base_url=shop.app, timeout=10) as client:
            client.post("/products/", params={"name": "tea", "stock": 5})
            # Rows arrive over the socket, newest first, without a reload.
            expect(page.locator("#requests tr")).to_have_count(1)
            client.get("/products/")
            client.get("/products/9")
            client.post("/orders/", params={"product_id": 1, "quantity": 2})
        rows = page.locator("#requests tr")
        expect(rows).to_have_count(4)
        expect(rows.first).to_contain_text("POST /orders/")
        expect(rows.nth(1)).to_contain_text("404")
        expect(rows.last.locator('[data-badge="query_after_commit"]')).to_be_visible()
        expect(page.locator("#pools figure")).to_contain_text("sqlite shop.db")
        page.screenshot(path=screenshot_path("live_list"))

        rows.first.get_by_role("link").click()
        expect(page).to_have_url(re.compile(r"/runs/live-4"))
        page.locator("#speed").select_option("4")
        page.keyboard.press("End")
        expect(page.locator(".db-now")).to_have_attribute("data-db", "Closed session")
        # The code shown is the file the event ran in, named relative to the project.
        expect(page.locator("#code-title code.where")).to_have_text("shop/dependencies.py:17")
        page.keyboard.press("Home")
        for _ in range(9):
            page.keyboard.press("ArrowRight")
        expect(page.locator("#code-title code.where")).to_have_text(
            re.compile(r"^shop/routers/orders\.py:\d+$")
        )
        expect(page.locator(".code-panel .current")).to_contain_text("db.")
        page.screenshot(path=screenshot_path("live_request_stage"))

        page.get_by_role("button", name="Keep this request").click()
        expect(page).to_have_url(re.compile(r"/runs/(?!live-)[\w-]+$"))
        expect(page.get_by_role("button", name="Open a classroom room")).to_be_visible()
    assert errors == []


def test_filters_keep_only_the_requests_asked_for(
    page: Page, tmp_path: Path, errors: list[str]
) -> None:
    with traced(f"sqlite:///{tmp_path / 'shop.db'}", tmp_path / "data") as shop:
        with httpx.Client(base_url=shop.app, timeout=10) as client:
            client.post("/products/", params={"name": "tea", "stock": 5})
            client.get("/products/1")
        page.goto(f"{shop.page}/live")
        expect(page.locator("#requests tr")).to_have_count(2)
        page.get_by_label("Showing").select_option("query_after_commit")
        page.get_by_role("button", name="Filter").click()
        expect(page.locator("#requests tr")).to_have_count(1)
        expect(page.locator("#requests tr")).to_contain_text("POST /products/")
        expect(page.locator("#live-status")).to_have_text("live")
        with httpx.Client(base_url=shop.app, timeout=10) as client:
            client.get("/products/")  # flagged with nothing: not listed under the filter
            client.post("/products/", params={"name": "jam", "stock": 1})
        expect(page.locator("#requests tr")).to_have_count(2)
        expect(page.locator("#requests tr").first).to_contain_text("jam")
    assert errors == []
