"""Helpers for the classroom tests: a lesson with questions, rooms, and websocket members."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from visualizer.app import create_app
from visualizer.execution.server import LoopbackServer
from visualizer.web.settings import Settings

ORDER = ["response.start", "session.close"]
QUESTIONS = [
    {
        "before": "session.close",
        "request": 1,
        "ask": "Which comes first?",
        "choices": [
            {"text": "the client gets its response", "claim": {"order": ORDER}},
            {"text": "the session closes", "claim": {"order": ORDER[::-1]}},
        ],
        "answer": 1,  # the textbook's answer; the events decide
        "explain": "FastAPI sends the response before get_db's finally runs.",
    },
    {
        "before": "response.start",
        "request": 1,
        "ask": "Which status code does the client get?",
        "choices": [
            {"text": "201", "claim": {"status": 201}},
            {"text": "200", "claim": {"status": 200}},
        ],
        "answer": 0,
        "explain": "The endpoint declares no status_code.",
    },
]


def import_run(site: str, room_lesson: dict[str, Any]) -> str:
    response = httpx.post(f"{site}/api/runs/import", json=room_lesson)
    assert response.status_code == 201, response.text
    run: str = response.json()["id"]
    return run


def open_room(site: str, run: str) -> dict[str, Any]:
    response = httpx.post(f"{site}/api/rooms", json={"run": run})
    assert response.status_code == 201, response.text
    room: dict[str, Any] = response.json()
    return room


def room_state(site: str, code: str) -> dict[str, Any]:
    state: dict[str, Any] = httpx.get(f"{site}/api/rooms/{code}").json()
    return state


def first_stop(room_lesson: dict[str, Any], kind: str) -> int:
    """The position of the first event of this kind in request 1 (the stop cursor)."""
    return next(
        i for i, e in enumerate(room_lesson["events"]) if e["kind"] == kind and e["request"] == 1
    )


@contextmanager
def serve(data_dir: Path) -> Iterator[tuple[str, Any]]:
    app = create_app(Settings(data_dir=data_dir))
    with LoopbackServer(app) as server:
        yield server.url, app


class Member:
    """A real websocket client in a room, reading messages in order."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def next(self) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
        return message

    async def until(self, kind: str, **fields: Any) -> dict[str, Any]:
        """The next message of this type (with these fields), skipping others."""
        while True:
            message = await self.next()
            if message["type"] == kind and all(message.get(k) == v for k, v in fields.items()):
                return message

    async def send(self, message: Any) -> None:
        await self.ws.send(message if isinstance(message, str | bytes) else json.dumps(message))

    async def reply(self, message: Any) -> dict[str, Any]:
        await self.send(message)
        return await self.next()


def data(message: dict[str, Any]) -> dict[str, Any]:
    """A message without its rendered `content`: the data every client can read."""
    return {k: v for k, v in message.items() if k != "content"}


def ws_url(site: str, code: str, **params: str) -> str:
    query = f"?{urlencode(params)}" if params else ""
    return site.replace("http://", "ws://") + f"/ws/rooms/{code}{query}"


@asynccontextmanager
async def joined(
    site: str, code: str, origin: str | None = None, **params: str
) -> AsyncIterator[tuple[Member, dict[str, Any], int]]:
    """Connected and welcomed: the member, its welcome and the cursor it landed on."""
    async with connect(ws_url(site, code, **params), origin=origin) as ws:  # type: ignore[arg-type]
        member = Member(ws)
        welcome = await member.next()
        assert welcome["type"] == "welcome", welcome
        cursor = await member.next()
        assert cursor["type"] == "cursor"
        yield member, welcome, cursor["cursor"]


async def refused(url: str, origin: str | None = None) -> tuple[dict[str, Any], int | None]:
    """The error message a refused client gets, and the close code that follows it."""
    async with connect(url, origin=origin) as ws:  # type: ignore[arg-type]
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    return message, closed.value.rcvd.code if closed.value.rcvd else None


class HeldSocket:
    """A seat's socket whose client reads only while it is not held: a write waits, as a real
    one waits while the client's buffer is full (uvicorn's send awaits `writable`)."""

    def __init__(self, held: bool = False) -> None:
        self.sent: list[str] = []
        self.closed: int | None = None
        self._free = asyncio.Event()
        if not held:
            self._free.set()

    def hold(self) -> None:
        self._free.clear()

    def release(self) -> None:
        self._free.set()

    async def send_text(self, data: str) -> None:
        await self._free.wait()
        self.sent.append(data)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        await self._free.wait()
        self.closed = code

    def messages(self) -> list[Any]:
        return [json.loads(text) for text in self.sent]


async def settle() -> None:
    """Let every write that was waiting and is free now finish (a few loop turns)."""
    for _ in range(10):
        await asyncio.sleep(0)
