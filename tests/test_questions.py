"""Predict questions are checked against what really happened, never against what we expect."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import ValidationError

from tests.helpers import claim
from visualizer.contract.events import Event, PoolStatus
from visualizer.contract.trace import Question, Trace, TraceRequest
from visualizer.execution.scenarios import Registry
from visualizer.lesson.claims import check, holds
from visualizer.lesson.questions import judge, stop_cursor, true_choices
from visualizer.locations import SCENARIO_DIR

NAMES = sorted(p.stem for p in SCENARIO_DIR.glob("[!_]*.py"))
Traced = Callable[[str], Trace]


@pytest.mark.parametrize("name", NAMES)
def test_every_scenario_asks_two_to_four_questions(name: str, registry: Registry) -> None:
    assert 2 <= len(registry.get(name).questions) <= 4


@pytest.mark.parametrize("name", NAMES)
def test_each_right_answer_is_what_the_events_prove(name: str, traced: Traced) -> None:
    trace = traced(name)
    for index, question in enumerate(trace.questions):
        where = f"{name} question {index + 1} ({question.ask!r})"
        if question.premise is not None:
            holds, instead = check(question.premise, trace, question.request)
            assert holds, f"{where}: its wording takes for granted what did not happen: {instead}"
        assert stop_cursor(question, trace) is not None, f"{where}: its event never happened"
        proven = true_choices(question, trace)
        assert len(proven) == 1, f"{where}: the events make choices {proven} true, not one"
        assert proven == [question.answer], f"{where}: the events prove {proven[0]}"
        assert question.explain, f"{where}: no explanation for a wrong answer"


def test_judging_an_answer_uses_the_recorded_events(traced: Traced) -> None:
    trace = traced("create_item")
    question = trace.questions[0]
    right = true_choices(question, trace)[0]
    assert judge(question, trace, right).correct
    wrong = (right + 1) % len(question.choices)
    verdict = judge(question, trace, wrong)
    assert not verdict.correct and verdict.right == right


def test_a_question_the_events_contradict_has_no_right_answer(traced: Traced) -> None:
    trace = traced("item_not_found")
    question = Question.model_validate(
        {
            "before": "response.start",
            "ask": "Which comes first?",
            "choices": [
                {
                    "text": "the response",
                    "claim": {"order": ["response.start", "session.close"]},
                },
                {"text": "nothing closes", "claim": {"absent": "session.close"}},
            ],
            "answer": 0,
            "explain": "",
        }
    )
    assert true_choices(question, trace) == []
    assert judge(question, trace, 0).right is None


def test_unknown_claims_are_refused() -> None:
    choices = [{"text": "a", "claim": {"vibes": True}}, {"text": "b", "claim": {"absent": "sql"}}]
    with pytest.raises(ValidationError, match="a claim is an object with one key"):
        Question.model_validate({"before": "sql", "ask": "?", "choices": choices})
    choices[0]["claim"] = {"count": ["sql", "many"]}
    with pytest.raises(ValidationError, match="count"):
        Question.model_validate({"before": "sql", "ask": "?", "choices": choices})


def _event(seq: int, kind: str, thread: str, request: int = 1, **detail: object) -> Event:
    return Event(
        seq=seq,
        t_ms=float(seq),
        request=request,
        kind=kind,
        step=None,
        line=None,
        thread=thread,
        db="None",
        pool=PoolStatus(),
        detail=dict(detail),
        text="",
    )


def _trace(events: list[Event], requests: list[TraceRequest] | None = None) -> Trace:
    return Trace(
        scenario="made_up",
        title="",
        summary="",
        code="",
        versions={},
        requests=requests or [],
        events=events,
        key_moments=[],
    )


def test_the_thread_claim_tells_the_event_loop_from_any_worker_thread() -> None:
    trace = _trace(
        [_event(1, "request.start", "event loop"), _event(2, "session.create", "worker thread 3")]
    )
    assert holds(claim({"thread": ["session.create", "worker thread"]}), trace, 1)
    assert holds(claim({"thread": ["session.create", "worker thread 3"]}), trace, 1)
    assert not holds(claim({"thread": ["session.create", "event loop"]}), trace, 1)
    assert holds(claim({"thread": ["request.start", "event loop"]}), trace, 1)
    assert not holds(claim({"thread": ["session.close", "event loop"]}), trace, 1)  # never happened


def test_the_detail_claim_reads_the_first_event_of_its_kind() -> None:
    trace = _trace(
        [
            _event(1, "request.error", "event loop", error="FastAPIError"),
            _event(2, "request.error", "event loop", error="HTTPException"),
        ]
    )
    assert holds(claim({"detail": ["request.error", "error", "FastAPIError"]}), trace, 1)
    assert not holds(claim({"detail": ["request.error", "error", "HTTPException"]}), trace, 1)
    assert not holds(claim({"detail": ["request.error", "message", "FastAPIError"]}), trace, 1)
    assert not holds(claim({"detail": ["request.error", "error", "FastAPIError"]}), trace, 2)


def test_the_body_claim_reads_the_questions_own_request() -> None:
    trace = _trace(
        [_event(1, "request.start", "event loop", 1), _event(2, "request.start", "event loop", 2)],
        [
            TraceRequest(id=1, method="POST", path="/items/", status=200, body='{"ok":1}'),
            TraceRequest(id=2, method="GET", path="/items/", status=200, body="[]"),
        ],
    )
    assert holds(claim({"body": "[]"}), trace, 2)
    assert not holds(claim({"body": "[]"}), trace, 1)
    assert holds(claim({"body": "[]"}), trace, None)  # any request
    assert not holds(claim({"body": "[1]"}), trace, None)
