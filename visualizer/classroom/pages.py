"""The classroom pages: a student's view of a room, and the presenter's run page with its room."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from visualizer.classroom.hub import Hub, Refused
from visualizer.classroom.routes import HubDep
from visualizer.classroom.store import Room
from visualizer.web.pages import root, run_context
from visualizer.web.services import ServicesDep
from visualizer.web.stage import stage_context
from visualizer.web.store import DONE

router = APIRouter(include_in_schema=False)


def _room(hub: Hub, request: Request, code: str) -> Room:
    """The room; looking codes up counts against guessing, as joining does."""
    address = request.client.host if request.client else "unknown"
    try:
        return hub.find(address, code)
    except Refused as refused:
        status = 429 if refused.code == 4429 else 404
        raise HTTPException(status, f"There is no room {code!r}. Check the code.") from None


@router.get("/rooms/{code}", response_class=HTMLResponse)
def student_page(request: Request, code: str, svc: ServicesDep, hub: HubDep) -> HTMLResponse:
    room = _room(hub, request, code)
    trace = svc.runs.trace(room.run_id)
    if trace is None:
        raise HTTPException(404, f"The run of room {room.code} is gone.")
    context = stage_context(trace, room.cursor)
    context.update(code=room.code, run_id=room.run_id)
    return svc.templates.TemplateResponse(request, "room.html", context)


@router.get("/rooms/{code}/present", response_class=HTMLResponse)
def presenter_page(request: Request, code: str, svc: ServicesDep, hub: HubDep) -> HTMLResponse:
    room = _room(hub, request, code)
    context = run_context(svc, room.run_id)
    context.update(
        code=room.code,
        join_url=f"{str(request.base_url).rstrip('/')}/rooms/{room.code}",
        questions=list(enumerate(context["trace"].questions)),
    )
    return svc.templates.TemplateResponse(request, "present.html", context)


@router.get("/runs/{run_id}/room", response_class=HTMLResponse)
def open_room_form(request: Request, run_id: str, svc: ServicesDep) -> HTMLResponse:
    """The "Open a classroom room" form, once the run has finished (htmx asks when it ends)."""
    status = svc.runs.status(run_id)
    if status is None:
        raise HTTPException(404, f"There is no run {run_id!r}.")
    context = {"run_id": run_id, "status": status}
    return svc.templates.TemplateResponse(request, "_open_room.html", context)


@router.post("/runs/{run_id}/room")
def open_room(request: Request, run_id: str, svc: ServicesDep, hub: HubDep) -> Response:
    """Open a room and present it; the token travels in the fragment, never in a request."""
    status = svc.runs.status(run_id)
    if status is None:
        raise HTTPException(404, f"There is no run {run_id!r}.")
    if status != DONE or svc.runs.trace(run_id) is None:
        message = f"Run {run_id} is {status}: a classroom room needs a finished run."
        context = {"heading": "No room", "message": message}
        return svc.templates.TemplateResponse(request, "not_found.html", context, status_code=409)
    room = hub.store.create(run_id)
    return RedirectResponse(
        f"{root(request)}/rooms/{room.code}/present#token={room.presenter_token}", 303
    )


@router.get("/join")
def join(
    request: Request, hub: HubDep, code: Annotated[str, Query(max_length=40)] = ""
) -> Response:
    """The home page's "Join a class" box: the code typed, to the room's page."""
    room = _room(hub, request, code)
    return RedirectResponse(f"{root(request)}/rooms/{room.code}", 303)
