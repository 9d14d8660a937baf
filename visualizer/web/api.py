"""The JSON API, documented in /docs: scenarios, runs, traces, imports."""

from __future__ import annotations

import asyncio
import re
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from visualizer.contract.document import TraceDocument
from visualizer.contract.trace import NotJsonError, TraceError, read_trace_json
from visualizer.execution.scenarios import ScenarioError
from visualizer.lesson.document import document_json
from visualizer.web.guard import MAX_IMPORT_BYTES
from visualizer.web.services import ServicesDep
from visualizer.web.store import FAILED, RUNNING

router = APIRouter(prefix="/api", tags=["api"])
_UNSAFE_IN_FILE_NAMES = re.compile(r"[^A-Za-z0-9_.-]+")


class RunRequest(BaseModel):
    scenario: str


class RunCreated(BaseModel):
    id: str
    url: str


class PlannedRequestInfo(BaseModel):
    method: str
    path: str


class ScenarioInfo(BaseModel):
    name: str
    title: str
    summary: str
    requests: list[PlannedRequestInfo]


class RunDocument(TraceDocument):
    """A run's trace document, with the run's id and status."""

    id: str
    status: Literal["running", "done"]


class FailedRun(BaseModel):
    id: str
    status: Literal["failed"]
    error: str | None


@router.get("/scenarios")
def list_scenarios(svc: ServicesDep) -> list[ScenarioInfo]:
    """Every scenario, with the requests a run sends."""
    return [
        ScenarioInfo(
            name=s.name,
            title=s.title,
            summary=s.summary,
            requests=[PlannedRequestInfo(method=r.method, path=r.path) for r in s.requests],
        )
        for s in svc.registry
    ]


@router.post(
    "/runs",
    status_code=201,
    responses={503: {"description": "As many runs as the queue holds are waiting"}},
)
async def create_run(body: RunRequest, svc: ServicesDep) -> RunCreated:
    """Start a run of a scenario; follow it on /ws/runs/{id} or open its url."""
    try:
        scenario = svc.registry.get(body.scenario)
    except ScenarioError as error:
        raise HTTPException(404, str(error)) from None
    run_id = svc.runs.start(scenario, asyncio.get_running_loop())  # RunsBusy: a 503, see app
    return RunCreated(id=run_id, url=f"/runs/{run_id}")


def attachment(scenario: str, run_id: str) -> str:
    """A Content-Disposition naming the file after the run, in characters every client takes."""
    stem = _UNSAFE_IN_FILE_NAMES.sub("_", f"{scenario}-{run_id}")[:120]
    return f'attachment; filename="{stem}.json"'


@router.get(
    "/runs/{run_id}",
    response_model=RunDocument | FailedRun,
    responses={
        404: {"description": "No run has this id"},
        409: {"description": "The run's stored trace cannot be read by this version"},
    },
)
def get_run(run_id: str, svc: ServicesDep, download: bool = False) -> JSONResponse:
    """A run's trace document, with its status; the events so far while it runs."""
    status = svc.runs.status(run_id)
    if status is None:
        raise HTTPException(404, f"no run {run_id!r}")
    if status == FAILED:
        stored = svc.runs.store.get(run_id)
        failed = FailedRun(id=run_id, status="failed", error=stored.error if stored else None)
        return JSONResponse(failed.model_dump())
    trace = svc.runs.trace(run_id)
    if trace is None:
        raise HTTPException(409, svc.runs.why_missing(run_id))
    body: dict[str, Any] = {"id": run_id, "status": status, **document_json(trace)}
    headers = {}
    if download and status != RUNNING:
        headers["Content-Disposition"] = attachment(trace.scenario, run_id)
    return JSONResponse(body, headers=headers)


@router.post(
    "/runs/import",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Trace"}}},
        }
    },
    responses={
        400: {"description": "The body is not JSON"},
        413: {"description": f"The body is larger than {MAX_IMPORT_BYTES} bytes"},
        415: {"description": "The body is not sent as application/json"},
        422: {"description": "Not a valid trace; the detail names the field"},
    },
)
async def import_run(request: Request, svc: ServicesDep) -> RunCreated:
    """Store a trace exported earlier, to replay it; a malformed one is refused, nothing stored."""
    # A form or a no-cors fetch cannot send application/json: only a script of our origin can.
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise HTTPException(415, "send the trace as application/json")
    try:
        trace = read_trace_json(await request.body())  # at most MAX_IMPORT_BYTES: see guard
    except NotJsonError as error:
        raise HTTPException(400, f"not JSON: {error}") from None
    except TraceError as error:
        raise HTTPException(422, f"not a valid trace: {error}") from None
    run_id = svc.runs.import_trace(trace)
    return RunCreated(id=run_id, url=f"/runs/{run_id}")
