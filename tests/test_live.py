"""WebSocket /ws/runs/{id} with a real websockets client: events in order, end, errors."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import finished_run
from tests.helpers import run_async


async def _read_until_end(ws: ClientConnection) -> list[dict[str, Any]]:
    messages = []
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 30))
        messages.append(message)
        if message["type"] == "end":
            return messages


def _ws(site: str, run_id: str) -> str:
    return site.replace("http://", "ws://") + f"/ws/runs/{run_id}"


def test_a_live_run_streams_every_event_in_order_then_the_end(site: str) -> None:
    async def scenario() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        created = httpx.post(f"{site}/api/runs", json={"scenario": "create_item"}).json()
        async with connect(_ws(site, created["id"])) as ws:
            messages = await _read_until_end(ws)
        return messages, httpx.get(f"{site}/api/runs/{created['id']}").json()

    messages, trace = run_async(scenario())
    events = [m["event"] for m in messages if m["type"] == "event"]
    assert [m["type"] for m in messages[:-1]] == ["event"] * len(events)
    assert events == trace["events"]
    assert messages[-1] == {"type": "end", "status": "done", "events": len(events)}


def test_a_late_client_first_gets_every_event_so_far(site: str) -> None:
    trace = finished_run(site, "session_ready")

    async def scenario() -> list[dict[str, Any]]:
        async with connect(_ws(site, trace["id"])) as ws:
            return await _read_until_end(ws)

    for _ in range(2):  # a reconnect gets the same again
        messages = run_async(scenario())
        assert [m["event"] for m in messages[:-1]] == trace["events"]


def test_bad_client_messages_get_errors_and_the_connection_stays_usable(site: str) -> None:
    trace = finished_run(site, "session_ready")

    async def scenario() -> list[dict[str, Any]]:
        async with connect(_ws(site, trace["id"])) as ws:
            await _read_until_end(ws)
            replies = []
            for text in ["not json", "[1, 2]", '{"type": "dance"}', '{"type": "ping"}']:
                await ws.send(text)
                replies.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
            return replies

    replies = run_async(scenario())
    assert [r["type"] for r in replies] == ["error", "error", "error", "pong"]
    assert "JSON" in replies[0]["message"] and "dance" in replies[2]["message"]


def test_an_unknown_run_gets_an_error_and_is_closed(site: str) -> None:
    async def scenario() -> dict[str, Any]:
        async with connect(_ws(site, "nope")) as ws:
            message = json.loads(await ws.recv())
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404
            return message

    assert run_async(scenario()) == {"type": "error", "message": "no run 'nope'"}
