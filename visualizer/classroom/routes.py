"""Classroom mode over HTTP and WebSocket: create a room, its QR code, its state, its socket."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from typing import Annotated, Any

import segno
from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    HTTPException,
    Request,
    WebSocket,
    WebSocketDisconnect,
)
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.requests import HTTPConnection

from visualizer.classroom.hub import Hub, Refused
from visualizer.classroom.messages import Material, public_question
from visualizer.classroom.store import Room, clean_name
from visualizer.classroom.views import RoomViews
from visualizer.web.services import Services, ServicesDep, get_services
from visualizer.web.store import DONE


@contextlib.asynccontextmanager
async def _store_rooms_on_stop(app: FastAPI) -> AsyncIterator[None]:
    """A clean stop stores every room changed since its last write (the app's own lifespan,
    which closes the database, ends after this one)."""
    yield
    hub: Hub | None = getattr(app.state, "hub", None)
    if hub is not None:
        hub.flush()


router = APIRouter(tags=["classroom"], lifespan=_store_rooms_on_stop)
MEMBER_COOKIE = "room-member-"  # then the room's code


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
    room = await hub.relay.newest(room)
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


def member_cookie(room: Room, secret: str, max_age_s: float) -> tuple[bytes, bytes]:
    """The member secret as a cookie only this room's socket gets and no script reads: every
    socket one browser opens is then the same student, one vote, even one opened by hand."""
    value = (
        f"{MEMBER_COOKIE}{room.code}={secret}; Path=/ws/rooms/{room.code}; "
        f"Max-Age={int(max_age_s)}; HttpOnly; SameSite=Strict"
    )
    return b"set-cookie", value.encode()


@router.websocket("/ws/rooms/{code}")
async def room_socket(websocket: WebSocket, code: str) -> None:
    """One member of a room: the presenter adds ?token=, anyone may add &name= and &member=."""
    svc, hub = get_services(websocket), get_hub(websocket)
    params = websocket.query_params
    try:
        room, presenter = hub.admit(_address(websocket), code, params.get("token", ""))
        material = hub.material(room, lambda: _material(svc, room))
        if material is None:
            raise Refused(4404, f"the run of room {room.code!r} is gone")
    except Refused as refused:
        with contextlib.suppress(WebSocketDisconnect):  # it may have left already
            await websocket.accept()
            await websocket.send_json({"type": "error", "message": refused.message})
            await websocket.close(refused.code)
        return
    cookie = websocket.cookies.get(f"{MEMBER_COOKIE}{room.code}")
    member = hub.member(room) if presenter else hub.member(room, params.get("member"), cookie)
    headers = []
    if not presenter:
        max_age = svc.settings.room_idle_hours * 3600
        headers.append(member_cookie(room, room.member_secret(member), max_age))
    await websocket.accept(headers=headers)
    seat = await hub.join(
        websocket, room, presenter, material, clean_name(params.get("name", "")), member
    )
    try:
        while not seat.gone:  # let go (too far behind): its close is on the way
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            await hub.receive(seat, message.get("text"))
            # One message per turn: a burst from one client waits behind the others'
            # messages instead of holding the loop.
            await asyncio.sleep(0)
    except WebSocketDisconnect:
        pass
    finally:
        await hub.leave(seat)
