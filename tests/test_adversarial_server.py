"""The server as `session-visualizer` runs it, attacked and abused: its own uvicorn options,
its log, its leftovers after a SIGKILL, and its queue of runs."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.adversarial_support import cli_server, post_trace, wait_until
from tests.helpers import run_async
from tests.room_support import open_room, ws_url
from visualizer.app import create_app
from visualizer.execution.server import LoopbackServer
from visualizer.web.guard import MAX_FRAME_BYTES
from visualizer.web.settings import Settings


def test_x_forwarded_for_is_believed_only_from_configured_proxies(tmp_path: Path) -> None:
    def lookups(url: str) -> list[int]:
        return [
            httpx.get(
                f"{url}/api/rooms/BAD{n:03d}", headers={"x-forwarded-for": f"10.0.0.{n}"}
            ).status_code
            for n in range(22)
        ]

    with cli_server(tmp_path) as server:
        assert lookups(server.url) == [404] * 20 + [429] * 2  # one address: 127.0.0.1
    with cli_server(tmp_path, SESSION_VISUALIZER_TRUSTED_PROXIES="127.0.0.1") as server:
        assert lookups(server.url) == [404] * 22  # behind a proxy we trust: 22 addresses


def test_a_frame_over_the_limit_closes_that_socket_only(
    tmp_path: Path, room_lesson: dict[str, Any]
) -> None:
    with cli_server(tmp_path) as server:
        code = open_room(server.url, post_trace(server.url, room_lesson).json()["id"])["code"]

        async def scenario() -> tuple[dict[str, Any], int | None]:
            async with connect(ws_url(server.url, code), max_size=None) as ws:
                await ws.recv()  # welcome
                await ws.send("x" * 5000)  # too long a message, but a small frame: an answer
                await ws.recv()  # cursor
                small: dict[str, Any] = json.loads(await ws.recv())
                await ws.send("x" * (MAX_FRAME_BYTES + 1))
                try:
                    await asyncio.wait_for(ws.recv(), 10)
                except ConnectionClosed as closed:
                    return small, closed.rcvd.code if closed.rcvd else None
            raise AssertionError("the socket stayed open")

        small, close = run_async(scenario())
        assert small["type"] == "error" and "4096" in small["message"]
        assert close == 1009  # message too big, refused before it was buffered
        assert httpx.get(server.url).status_code == 200


def test_a_student_who_never_reads_stops_being_counted(
    tmp_path: Path, room_lesson: dict[str, Any]
) -> None:
    with cli_server(tmp_path, SESSION_VISUALIZER_HEARTBEAT_SECONDS="0.5") as server:
        code = open_room(server.url, post_trace(server.url, room_lesson).json()["id"])["code"]
        silent = socket.create_connection(("127.0.0.1", server.port))
        silent.sendall(
            f"GET /ws/rooms/{code} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode()
        )  # and never reads a byte, nor answers a ping
        try:
            state = f"{server.url}/api/rooms/{code}"
            wait_until(lambda: httpx.get(state).json()["members"] == 1, timeout=5)
            started = time.monotonic()
            wait_until(lambda: httpx.get(state).json()["members"] == 0, timeout=10)
            assert time.monotonic() - started < 3  # two heartbeats, not a minute
        finally:
            silent.close()


def test_the_log_shows_errors_and_requests_and_never_a_secret(tmp_path: Path) -> None:
    with cli_server(tmp_path) as server:
        httpx.get(f"{server.url}/?token=SECRET-TOKEN&member=SECRET-MEMBER")
        created = httpx.post(f"{server.url}/api/runs", json={"scenario": "item_not_found"})
        run = created.json()["id"]
        wait_until(lambda: httpx.get(f"{server.url}/api/runs/{run}").json()["status"] == "done")
        httpx.get(f"{server.url}/static/app.css?after=the-run")
        with sqlite3.connect(tmp_path / "runs.db") as database:  # a broken store: a real 500
            database.execute("DROP TABLE runs")
        assert httpx.get(server.url).status_code == 500
        log = wait_until(lambda: (text := server.output()) and "no such table" in text and text)
    assert "SECRET" not in log and "Logging error" not in log
    assert '"GET /?token=…&member=… HTTP/1.1" 200' in log
    assert "GET /static/app.css?after=the-run" in log  # the access log survives a run
    assert "Traceback" in log and "OperationalError" in log
    assert "GET /items/" not in log  # the scenario's own server stays out of it


def test_a_sandbox_left_by_a_killed_server_is_removed_by_the_next(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    with cli_server(tmp_path, TMPDIR=str(temp)) as server:
        created = httpx.post(f"{server.url}/api/runs", json={"scenario": "pool_exhaustion"})
        run = created.json()["id"]
        left = wait_until(lambda: list(temp.glob(f"session-visualizer-{server.process.pid}-*")))
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(10)
    assert all(folder.exists() for folder in left)
    with cli_server(tmp_path, TMPDIR=str(temp)) as server:
        assert not any(folder.exists() for folder in left)
        api = httpx.get(f"{server.url}/api/runs/{run}").json()
        page = httpx.get(f"{server.url}/runs/{run}")
    assert api["status"] == "failed" and "interrupted" in api["error"]
    assert "failed: interrupted" in page.text and "There is no run" not in page.text


def test_a_queued_run_holds_no_thread_and_a_full_queue_says_so(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, max_parallel_runs=1, max_queued_runs=5)
    with LoopbackServer(create_app(settings)) as server:
        site = server.url
        threads = threading.active_count()
        answers = [
            httpx.post(f"{site}/api/runs", json={"scenario": "pool_exhaustion"})  # ~1 s each
            for _ in range(12)
        ]
        queued_threads = threading.active_count() - threads
        accepted = [a.json()["id"] for a in answers if a.status_code == 201]
        refused = [a for a in answers if a.status_code != 201]
        for run in accepted:
            wait_until(
                lambda run=run: httpx.get(f"{site}/api/runs/{run}").json()["status"] == "done"
            )
    assert len(accepted) == 6  # one running, five waiting
    assert [r.status_code for r in refused] == [503] * 6
    assert refused[0].headers["retry-after"] and "waiting" in refused[0].json()["detail"]
    assert queued_threads < 8  # a run's own threads, not one per queued run
