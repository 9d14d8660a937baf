"""The HTML pages: home, a scenario, a run, and the stage fragment the player swaps in."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from visualizer.scenarios import Scenario, ScenarioError
from visualizer.services import Services, ServicesDep
from visualizer.stage import stage_context
from visualizer.trace import Trace

router = APIRouter(include_in_schema=False)


def _scenario(svc: Services, name: str) -> Scenario:
    try:
        return svc.registry.get(name)
    except ScenarioError as error:
        raise HTTPException(404, str(error)) from None


def _trace(svc: Services, run_id: str) -> Trace:
    trace = svc.runs.trace(run_id)
    if trace is None:
        raise HTTPException(404, f"There is no run {run_id!r}. It may have been mistyped.")
    return trace


@router.get("/", response_class=HTMLResponse)
def home(request: Request, svc: ServicesDep) -> HTMLResponse:
    return svc.templates.TemplateResponse(
        request,
        "home.html",
        {
            "scenarios": list(svc.registry),
            "runs": svc.runs.store.recent(12),
        },
    )


@router.get("/scenarios/{name}", response_class=HTMLResponse)
def scenario_page(request: Request, name: str, svc: ServicesDep) -> HTMLResponse:
    scenario = _scenario(svc, name)
    return svc.templates.TemplateResponse(
        request,
        "scenario.html",
        {
            "scenario": scenario,
            "code_lines": list(enumerate(scenario.code.splitlines(), start=1)),
            "runs": svc.runs.store.recent(8, scenario=name),
        },
    )


@router.post("/scenarios/{name}/runs")
async def start_run(name: str, svc: ServicesDep) -> RedirectResponse:
    run_id = svc.runs.start(_scenario(svc, name), asyncio.get_running_loop())
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: str, svc: ServicesDep) -> HTMLResponse:
    trace = _trace(svc, run_id)
    stored = svc.runs.store.get(run_id)
    context = stage_context(trace, 0)
    context.update(
        run_id=run_id,
        status=svc.runs.status(run_id),
        error=stored.error if stored else None,
        origin=stored.origin if stored else "run",
    )
    return svc.templates.TemplateResponse(request, "run.html", context)


@router.get("/runs/{run_id}/stage", response_class=HTMLResponse)
def stage(
    request: Request, run_id: str, svc: ServicesDep, cursor: Annotated[int, Query(ge=0)] = 0
) -> HTMLResponse:
    trace = _trace(svc, run_id)
    return svc.templates.TemplateResponse(request, "_stage.html", stage_context(trace, cursor))
