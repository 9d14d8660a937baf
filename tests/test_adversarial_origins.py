"""Other origins and other Host names: nothing written, nothing read, no socket opened.

A page of another origin (another port on loopback is one) can start no run, store no trace,
open no room and follow no run's socket; a DNS-rebinding page, whose requests name its own
domain in Host, gets nothing at all.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.adversarial_support import JSON, post_trace
from tests.helpers import run_async
from tests.room_support import open_room, refused, ws_url
from visualizer.app import create_app
from visualizer.execution.server import LoopbackServer
from visualizer.web.settings import Settings

OTHER = "http://127.0.0.1:1"  # another port on the same host is another origin


def _runs_listed(site: str) -> int:
    return httpx.get(site).text.count('href="/runs/')


def test_another_origin_cannot_write(site: str, room_run: str, room_lesson: Any) -> None:
    before = _runs_listed(site)
    body = json.dumps(room_lesson)
    attempts = {
        # What a no-cors fetch or a plain form of another page can send.
        "import as text/plain": httpx.post(
            f"{site}/api/runs/import",
            content=body,
            headers={"origin": OTHER, "content-type": "text/plain"},
        ),
        "import as JSON": httpx.post(
            f"{site}/api/runs/import", content=body, headers={**JSON, "origin": OTHER}
        ),
        "form starting a run": httpx.post(
            f"{site}/scenarios/create_item/runs",
            headers={"origin": OTHER, "content-type": "application/x-www-form-urlencoded"},
        ),
        "API starting a run": httpx.post(
            f"{site}/api/runs", json={"scenario": "create_item"}, headers={"origin": OTHER}
        ),
        "opening a room": httpx.post(
            f"{site}/api/rooms", json={"run": room_run}, headers={"origin": OTHER}
        ),
        "a sandboxed page": httpx.post(
            f"{site}/api/runs", json={"scenario": "create_item"}, headers={"origin": "null"}
        ),
        "no Origin but a cross-site fetch": httpx.post(
            f"{site}/api/runs",
            json={"scenario": "create_item"},
            headers={"sec-fetch-site": "cross-site"},
        ),
        "answering a question": httpx.post(
            f"{site}/runs/{room_run}/questions/0/answer",
            json={"choice": 0},
            headers={"origin": OTHER},
        ),
    }
    for label, response in attempts.items():
        assert response.status_code == 403, (label, response.text)
        assert "cross-origin" in response.json()["detail"], label
    assert _runs_listed(site) == before
    # The server's own pages still write: their Origin is the server's.
    own = httpx.post(f"{site}/scenarios/read_items/runs", headers={"origin": site})
    assert own.status_code == 303


def test_another_origin_cannot_follow_a_run_or_join_a_room(site: str, room_run: str) -> None:
    code = open_room(site, room_run)["code"]
    run_socket = site.replace("http://", "ws://") + f"/ws/runs/{room_run}"

    async def scenario() -> list[tuple[dict[str, Any], int | None]]:
        return [
            await refused(run_socket, origin=OTHER),
            await refused(run_socket, origin="null"),
            await refused(ws_url(site, code), origin=OTHER),
        ]

    for message, close in run_async(scenario()):
        assert close == 4403 and message["type"] == "error"
        assert "cross-origin" in message["message"]

    async def own_page() -> dict[str, Any]:
        async with connect(run_socket, origin=site) as ws:  # type: ignore[arg-type]
            first: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
            return first

    assert run_async(own_page())["type"] == "event"


async def _rebound(port: int, path: str, origin: str) -> tuple[dict[str, Any], int | None]:
    """A websocket whose Host names a rebinding domain, sent to our server's address."""
    async with connect(
        f"ws://evil.example:{port}{path}",
        origin=origin,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
    ) as ws:
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        try:
            await asyncio.wait_for(ws.recv(), 10)
        except ConnectionClosed as closed:
            return message, closed.rcvd.code if closed.rcvd else None
    raise AssertionError("the socket stayed open")


def test_a_rebinding_host_gets_nothing(site: str, room_run: str) -> None:
    room = open_room(site, room_run)
    code, token = room["code"], room["presenter_token"]
    port = int(site.rsplit(":", 1)[1])
    evil = {"host": f"evil.example:{port}"}
    for path in ("/", f"/runs/{room_run}", f"/api/runs/{room_run}", f"/rooms/{code}/qr.svg"):
        response = httpx.get(f"{site}{path}", headers=evil)
        assert response.status_code == 400, path
        assert "SESSION_VISUALIZER_ALLOWED_HOSTS" in response.json()["detail"]
    created = httpx.post(f"{site}/api/rooms", json={"run": room_run}, headers=evil)
    assert created.status_code == 400  # no join URL is ever built from that name
    message, close = run_async(
        _rebound(port, f"/ws/rooms/{code}?token={token}", f"http://evil.example:{port}")
    )
    assert close == 4403 and "does not serve the host 'evil.example'" in message["message"]


def test_configured_hosts_are_served_and_make_the_join_url(
    tmp_path: Path, room_lesson: Any
) -> None:
    settings = Settings(data_dir=tmp_path, host="0.0.0.0", allowed_hosts="classroom.test, 10.1.2.3")
    with LoopbackServer(create_app(settings)) as server:
        run = post_trace(server.url, room_lesson).json()["id"]
        port = server.port
        for host in ("classroom.test", "10.1.2.3", "localhost", "127.0.0.2", "[::1]"):
            header = {"host": f"{host}:{port}"}
            assert httpx.get(server.url, headers=header).status_code == 200, host
        room = httpx.post(
            f"{server.url}/api/rooms",
            json={"run": run},
            headers={"host": f"classroom.test:{port}"},
        ).json()
        assert room["join_url"] == f"http://classroom.test:{port}/rooms/{room['code']}"
        for host in ("evil.example", "0.0.0.0", "classroom.test.evil.example", "10.1.2.4"):
            header = {"host": f"{host}:{port}"}
            assert httpx.get(server.url, headers=header).status_code == 400, host
