"""The HTML pages: home, a scenario, a run, and the stage fragment the player swaps in."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError
from starlette.requests import HTTPConnection

from visualizer.contract.document import Deviation
from visualizer.contract.trace import Question, Trace, TraceRequest
from visualizer.execution.scenarios import Scenario, ScenarioError
from visualizer.lesson.comparison import StepComparison, compare
from visualizer.lesson.deviations import find_deviations
from visualizer.lesson.lanes import by_request, steps_of
from visualizer.lesson.questions import judge, stop_cursor
from visualizer.lesson.textbook import STEPS
from visualizer.lesson.transcript import transcript
from visualizer.web.services import Services, ServicesDep
from visualizer.web.stage import stage_context

router = APIRouter(include_in_schema=False)


def _scenario(svc: Services, name: str) -> Scenario:
    try:
        return svc.registry.get(name)
    except ScenarioError as error:
        raise HTTPException(404, str(error)) from None


def _trace(svc: Services, run_id: str) -> Trace:
    trace = svc.runs.trace(run_id)
    if trace is None:
        raise HTTPException(404, svc.runs.why_missing(run_id))
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


def root(connection: HTTPConnection) -> str:
    """Where the visualizer is mounted: "" on its own, "/_lifecycle" inside a watched app."""
    return str(connection.scope.get("root_path", ""))


@router.post("/scenarios/{name}/runs")
async def start_run(request: Request, name: str, svc: ServicesDep) -> RedirectResponse:
    run_id = svc.runs.start(_scenario(svc, name), asyncio.get_running_loop())
    return RedirectResponse(f"{root(request)}/runs/{run_id}", status_code=303)


def run_context(svc: Services, run_id: str) -> dict[str, Any]:
    """What run.html needs: the stage before the first event, and the run's status."""
    trace = _trace(svc, run_id)
    stored = svc.runs.store.get(run_id)
    context = stage_context(trace, 0)
    context.update(
        run_id=run_id,
        status=svc.runs.status(run_id),
        error=stored.error if stored else None,
        origin=stored.origin if stored else "run",
    )
    return context


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: str, svc: ServicesDep) -> HTMLResponse:
    return svc.templates.TemplateResponse(request, "run.html", run_context(svc, run_id))


@router.get("/runs/{run_id}/stage", response_class=HTMLResponse)
def stage(
    request: Request, run_id: str, svc: ServicesDep, cursor: Annotated[int, Query(ge=0)] = 0
) -> HTMLResponse:
    trace = _trace(svc, run_id)
    return svc.templates.TemplateResponse(request, "_stage.html", stage_context(trace, cursor))


def _question(trace: Trace, index: int) -> Question:
    if not 0 <= index < len(trace.questions):
        raise HTTPException(404, f"This run has no question {index + 1}.")
    return trace.questions[index]


@router.get("/runs/{run_id}/summary", response_class=HTMLResponse)
def summary(request: Request, run_id: str, svc: ServicesDep) -> HTMLResponse:
    """The whole run told at once: transcript, and textbook against reality per request."""
    trace = _trace(svc, run_id)
    deviations = find_deviations(trace.events)
    return svc.templates.TemplateResponse(
        request,
        "_summary.html",
        {
            "trace": trace,
            "run_id": run_id,
            "paragraphs": transcript(trace),
            "comparisons": [(r.id, compare(trace, r.id, deviations)) for r in trace.requests],
            "others": [
                r for r in svc.runs.store.recent(30) if r.id != run_id and r.status == "done"
            ],
        },
    )


@router.get("/runs/{run_id}/questions")
def question_stops(run_id: str, svc: ServicesDep) -> list[dict[str, int]]:
    """Where predict mode stops: each question's index and the cursor it stops at."""
    trace = _trace(svc, run_id)
    stops = []
    for index, question in enumerate(trace.questions):
        cursor = stop_cursor(question, trace)
        if cursor is not None:
            stops.append({"question": index, "cursor": cursor})
    return stops


@router.get("/runs/{run_id}/questions/{index}", response_class=HTMLResponse)
def question_page(request: Request, run_id: str, index: int, svc: ServicesDep) -> HTMLResponse:
    trace = _trace(svc, run_id)
    return svc.templates.TemplateResponse(
        request,
        "_question.html",
        {
            "run_id": run_id,
            "index": index,
            "question": _question(trace, index),
            "count": len(trace.questions),
        },
    )


class Answer(BaseModel):
    """The predict form's answer: the index of the choice."""

    choice: int


async def _answer_form(request: Request) -> Answer:
    """The posted form (`choice=N`), as htmx sends it."""
    fields = parse_qs((await request.body()).decode("utf-8", "replace"))
    try:
        return Answer.model_validate({"choice": fields.get("choice", [""])[0]})
    except ValidationError:
        raise HTTPException(422, "Choose one of the answers.") from None


@router.post("/runs/{run_id}/questions/{index}/answer", response_class=HTMLResponse)
def answer(
    request: Request,
    run_id: str,
    index: int,
    body: Annotated[Answer, Depends(_answer_form)],
    svc: ServicesDep,
) -> HTMLResponse:
    """Check an answer against the recorded events of this run."""
    trace = _trace(svc, run_id)
    question = _question(trace, index)
    if not 0 <= body.choice < len(question.choices):
        raise HTTPException(422, "That choice does not exist.")
    verdict = judge(question, trace, body.choice)
    return svc.templates.TemplateResponse(
        request,
        "_verdict.html",
        {
            "question": question,
            "verdict": verdict,
            "chosen": question.choices[body.choice].text,
            "room": False,
        },
    )


@dataclass(frozen=True, slots=True)
class Side:
    """One run in a comparison: each request's steps against the textbook, and what it told."""

    run_id: str
    trace: Trace
    rows: dict[int, list[StepComparison]]
    steps: dict[int, list[int]]
    paragraphs: list[tuple[int, str]]
    deviations: list[Deviation]

    def request(self, number: int) -> TraceRequest | None:
        return next((r for r in self.trace.requests if r.id == number), None)


def _side(svc: Services, run_id: str) -> Side:
    trace = _trace(svc, run_id)
    deviations = find_deviations(trace.events)
    lanes = by_request(trace.events)
    return Side(
        run_id=run_id,
        trace=trace,
        rows={r.id: compare(trace, r.id, deviations) for r in trace.requests},
        steps={r.id: steps_of(lanes.get(r.id, [])) for r in trace.requests},
        paragraphs=transcript(trace),
        deviations=deviations,
    )


@router.get("/compare", response_class=HTMLResponse)
def compare_runs(
    request: Request, svc: ServicesDep, left: str = "", right: str = ""
) -> HTMLResponse:
    """Two runs side by side, every request, textbook step against textbook step."""
    runs = [r for r in svc.runs.store.recent(50) if r.status == "done"]
    context: dict[str, Any] = {"runs": runs, "left": left, "right": right, "sides": []}
    if left and right:
        sides = [_side(svc, left), _side(svc, right)]
        numbers = sorted({r.id for side in sides for r in side.trace.requests})
        context.update(sides=sides, numbers=numbers, steps=STEPS)
    return svc.templates.TemplateResponse(request, "compare.html", context)
