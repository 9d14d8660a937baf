"""`watch(app)`: the live page mounted in an app served its own way, here by plain uvicorn."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import connect

from tests.helpers import run_async
from tests.live_support import SAMPLE, free_port, served
from visualizer import watch
from visualizer.mount import ENABLE, WatchRefused


def _env(tmp_path: Path, enabled: bool = True) -> dict[str, str]:
    env = {
        "SHOP_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}",
        "SESSION_VISUALIZER_DATA": str(tmp_path / "data"),
    }
    return {**env, ENABLE: "1"} if enabled else env


def test_from_visualizer_import_watch_gives_the_function() -> None:
    assert callable(watch) and watch.__name__ == "watch"


def test_it_refuses_unless_enabled_for_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENABLE, raising=False)
    app = FastAPI()
    routes = [route.path for route in app.routes]  # type: ignore[attr-defined]
    with pytest.raises(WatchRefused, match=ENABLE):
        watch(app)
    monkeypatch.setenv(ENABLE, "0")
    with pytest.raises(WatchRefused, match="development tool"):
        watch(app)
    assert [route.path for route in app.routes] == routes  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="a path of its own"):
        watch(app, "/", enabled=True)


def test_an_app_served_without_the_setting_stops_saying_why(tmp_path: Path) -> None:
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "uvicorn", "shop_watched:app", "--port", str(port)],
        cwd=SAMPLE,
        env={**_env(tmp_path, enabled=False), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"{ENABLE}=1" in result.stderr and "development tool" in result.stderr


async def _first_row(base: str) -> tuple[float, str]:
    async with (
        connect(base.replace("http://", "ws://") + "/_lifecycle/ws/live") as ws,
        httpx.AsyncClient(base_url=base) as client,
    ):
        await asyncio.wait_for(ws.recv(), 10)  # the list so far
        await client.post("/products/", params={"name": "tea", "stock": 3})
        answered = time.monotonic()
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if message.get("numbers"):
                return time.monotonic() - answered, message["content"]


def test_the_mounted_page_lists_the_apps_requests_and_not_its_own(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "shop_watched:app", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with served(command, _env(tmp_path), [port]):
        delay, row = run_async(_first_row(base))
        with httpx.Client(base_url=base, timeout=10) as client:
            assert client.get("/products/1").status_code == 200
            time.sleep(0.3)
            page = client.get("/_lifecycle/live")
            opened = client.get("/_lifecycle/live/requests/1", follow_redirects=True)
            trace = client.get("/_lifecycle/api/runs/live-1").json()
            css = client.get("/_lifecycle/static/app.css")
    assert delay < 1.0 and "POST /products/" in row
    # Two requests of the app; the visualizer's own pages and socket are never listed.
    listed = re.findall(r"<tr data-request=.*?<code>(.*?)</code>", page.text, re.S)
    assert page.status_code == 200 and listed == [
        "GET /products/1",
        "POST /products/?name=tea&amp;stock=3",
    ]
    # Its pages link inside the mount.
    assert 'href="/_lifecycle/static/app.css"' in page.text and css.status_code == 200
    assert opened.url.path == "/_lifecycle/runs/live-1" and "Keep this request" in opened.text
    assert {e["file"] for e in trace["events"] if e["file"]} == {
        "shop/dependencies.py",
        "shop/routers/products.py",
    }
