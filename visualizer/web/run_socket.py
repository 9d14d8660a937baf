"""WebSocket /ws/runs/{id}: every event so far, then each new one, then the end."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from visualizer.web.services import Services
from visualizer.web.store import FAILED, RUNNING

router = APIRouter()


MAX_CLIENT_MESSAGE_CHARS = 1024  # a client only ever needs to send {"type": "ping"}


def _client_reply(text: str | None) -> dict[str, Any]:
    """The answer to one message from a client; only "ping" is understood."""
    if text is None:
        return {"type": "error", "message": "messages are JSON objects sent as text"}
    if len(text) > MAX_CLIENT_MESSAGE_CHARS:
        return {"type": "error", "message": f"at most {MAX_CLIENT_MESSAGE_CHARS} characters"}
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        return {"type": "error", "message": "messages must be JSON objects"}
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return {"type": "error", "message": 'a message needs a "type"'}
    if message["type"] == "ping":
        return {"type": "pong"}
    return {"type": "error", "message": f"unknown message type {message['type'][:40]!r}"}


async def _answer_client(websocket: WebSocket) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        await websocket.send_json(_client_reply(message.get("text")))


async def _send_run(websocket: WebSocket, svc: Services, run_id: str) -> None:
    channel = svc.runs.broker.get(run_id)
    bus = svc.runs.bus
    if channel is None and bus is not None and svc.runs.status(run_id) == RUNNING:
        # Running on another worker: its messages come through Redis.
        async for message in bus.follow_run(run_id):
            await websocket.send_json(message)
        return
    if channel is not None:
        history, queue = channel.subscribe()
        try:
            for message in history:
                await websocket.send_json(message)
            if channel.closed:
                return
            while (news := await queue.get()) is not None:
                await websocket.send_json(news)
                if news["type"] == "end":
                    return
            await websocket.close(1013, "fell behind; reconnect for the events so far")
        finally:
            channel.unsubscribe(queue)
        return
    trace = svc.runs.trace(run_id)
    status = svc.runs.status(run_id)
    if trace is not None:
        for event in trace.events:
            await websocket.send_json({"type": "event", "event": event.model_dump(mode="json")})
        await websocket.send_json({"type": "end", "status": status, "events": len(trace.events)})
    else:
        await websocket.send_json({"type": "end", "status": FAILED})


@router.websocket("/ws/runs/{run_id}")
async def run_events(websocket: WebSocket, run_id: str) -> None:
    svc: Services = websocket.app.state.services
    await websocket.accept()
    if svc.runs.status(run_id) is None:
        await websocket.send_json({"type": "error", "message": f"no run {run_id!r}"})
        await websocket.close(4404)
        return
    answering = asyncio.create_task(_answer_client(websocket))
    try:
        await _send_run(websocket, svc, run_id)
        await answering  # after the end, go on answering the client until it leaves
    except WebSocketDisconnect:
        pass
    finally:
        answering.cancel()
