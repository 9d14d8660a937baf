"""The classroom pages: a student's view of a room, and the presenter's run page with its room."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from visualizer.classroom.hub import Hub, Refused
from visualizer.classroom.routes import HubDep
from visualizer.classroom.store import Room
from visualizer.web.pages import run_context
from visualizer.web.services import ServicesDep
from visualizer.web.stage import stage_context

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
