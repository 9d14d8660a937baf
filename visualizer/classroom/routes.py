"""Classroom mode over HTTP and WebSocket: create a room, its QR code, its state, its socket."""

from __future__ import annotations

import contextlib
import io
from typing import Annotated, Any
from urllib.parse import urlsplit

import segno
from fastapi import APIRouter, Depends, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.requests import HTTPConnection

from visualizer.classroom.hub import Hub, Refused
from visualizer.classroom.messages import Material, public_question
from visualizer.classroom.store import Room, clean_name
from visualizer.classroom.views import RoomViews
from visualizer.web.services import Services, ServicesDep, get_services
from visualizer.web.store import DONE

router = APIRouter(tags=["classroom"])


class RoomRequest(BaseModel):
    run: str


class RoomCreated(BaseModel):
    code: str
    join_url: str
    presenter_token: str


class RoomState(BaseModel):
    code: str
    run: str
    cursor: int
    members: int
    question: dict[str, Any] | None


def _join_url(request: Request, room: Room) -> str:
    return f"{str(request.base_url).rstrip('/')}/rooms/{room.code}"


def get_hub(connection: HTTPConnection) -> Hub:
    hub: Hub = connection.app.state.hub
    return hub


HubDep = Annotated[Hub, Depends(get_hub)]


def _material(svc: Services, room: Room) -> Material | None:
    trace = svc.runs.trace(room.run_id)
    return Material(trace, RoomViews(svc.templates.env)) if trace is not None else None


def _address(connection: HTTPConnection) -> str:
    return connection.client.host if connection.client else "unknown"


def _found(svc: Services, hub: Hub, request: Request, code: str) -> tuple[Room, Material]:
    """The room and its material; looking codes up counts against guessing, as joining does."""
    try:
        room = hub.find(_address(request), code)
    except Refused as refused:
        raise HTTPException(429 if refused.code == 4429 else 404, refused.message) from None
    material = _material(svc, room)
    if material is None:
        raise HTTPException(404, f"the run of room {room.code!r} is gone")
    return room, material


@router.post("/api/rooms", status_code=201)
async def create_room(
    body: RoomRequest, request: Request, svc: ServicesDep, hub: HubDep
) -> RoomCreated:
    """Open a classroom room on a finished run; keep the presenter token secret."""
    status = svc.runs.status(body.run)
    if status is None:
        raise HTTPException(404, f"no run {body.run!r}")
    if status != DONE or svc.runs.trace(body.run) is None:
        raise HTTPException(409, f"run {body.run!r} is {status}; a room needs a finished run")
    room = hub.store.create(body.run)
    return RoomCreated(
        code=room.code, join_url=_join_url(request, room), presenter_token=room.presenter_token
    )


@router.get("/api/rooms/{code}")
async def get_room(code: str, request: Request, svc: ServicesDep, hub: HubDep) -> RoomState:
    """A room's run, cursor, student count and open question (never its token or answer)."""
    room, material = _found(svc, hub, request, code)
    return RoomState(
        code=room.code,
        run=room.run_id,
        cursor=room.cursor,
        members=len(room.members),
        question=public_question(room, material),
    )


@router.get("/rooms/{code}/qr.svg", response_class=Response)
async def room_qr(code: str, request: Request, svc: ServicesDep, hub: HubDep) -> Response:
    """The room's join URL as an SVG QR code, for the projector."""
    room, _ = _found(svc, hub, request, code)
    svg = io.BytesIO()
    segno.make(_join_url(request, room), error="m").save(
        svg, kind="svg", scale=8, border=2, xmldecl=False, title=f"Join room {room.code}"
    )
    return Response(svg.getvalue(), media_type="image/svg+xml")


def _host_port(netloc: str, secure: bool) -> tuple[str, int] | None:
    """host and port of "host[:port]", the scheme's default port filled in."""
    try:
        parts = urlsplit(f"//{netloc}")
        return (parts.hostname or "").lower(), parts.port or (443 if secure else 80)
    except ValueError:
        return None


def _same_origin(websocket: WebSocket) -> bool:
    """No Origin (not a browser) or one naming this very host and port: a page of ours."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    scheme = urlsplit(origin).scheme
    if scheme not in {"http", "https"}:
        return False  # "null" and friends: an opaque origin
    mine = _host_port(websocket.headers.get("host", ""), websocket.url.scheme == "wss")
    theirs = _host_port(urlsplit(origin).netloc, scheme == "https")
    return mine is not None and mine == theirs


@router.websocket("/ws/rooms/{code}")
async def room_socket(websocket: WebSocket, code: str) -> None:
    """One member of a room: the presenter adds ?token=, anyone may add &name=."""
    svc, hub = get_services(websocket), get_hub(websocket)
    await websocket.accept()
    params = websocket.query_params
    address = _address(websocket)
    try:
        if not _same_origin(websocket):
            raise Refused(4403, "cross-origin connections are refused")
        room, presenter = hub.admit(address, code, params.get("token", ""))
        material = _material(svc, room)
        if material is None:
            raise Refused(4404, f"the run of room {room.code!r} is gone")
    except Refused as refused:
        with contextlib.suppress(WebSocketDisconnect):  # it may have left already
            await websocket.send_json({"type": "error", "message": refused.message})
            await websocket.close(refused.code)
        return
    name = clean_name(params.get("name", ""))
    await hub.serve(websocket, room, presenter, material, name, params.get("member", ""))
