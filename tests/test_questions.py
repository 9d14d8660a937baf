"""Predict questions are checked against what really happened, never against what we expect."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from visualizer.events import Event, PoolStatus
from visualizer.questions import (
    QuestionError,
    holds,
    judge,
    read_questions,
    stop_cursor,
    true_choices,
)
from visualizer.scenarios import SCENARIO_DIR, Registry
from visualizer.trace import Trace, TraceRequest

NAMES = sorted(p.stem for p in SCENARIO_DIR.glob("[!_]*.py"))
Traced = Callable[[str], Trace]


@pytest.mark.parametrize("name", NAMES)
def test_every_scenario_asks_two_to_four_questions(name: str, registry: Registry) -> None:
    questions = read_questions(registry.get(name).questions)
    assert 2 <= len(questions) <= 4


@pytest.mark.parametrize("name", NAMES)
def test_each_right_answer_is_what_the_events_prove(name: str, traced: Traced) -> None:
    trace = traced(name)
    for question in read_questions(trace.questions):
        where = f"{name} question {question.index + 1} ({question.ask!r})"
        assert stop_cursor(question, trace) is not None, f"{where}: its event never happened"
        proven = true_choices(question, trace)
        assert len(proven) == 1, f"{where}: the events make choices {proven} true, not one"
        assert proven == [question.answer], f"{where}: the events prove {proven[0]}"
        assert question.explain, f"{where}: no explanation for a wrong answer"


def test_judging_an_answer_uses_the_recorded_events(traced: Traced) -> None:
    trace = traced("create_item")
    question = read_questions(trace.questions)[0]
    right = true_choices(question, trace)[0]
    assert judge(question, trace, right).correct
    wrong = (right + 1) % len(question.choices)
    verdict = judge(question, trace, wrong)
    assert not verdict.correct and verdict.right == right


def test_a_question_the_events_contradict_has_no_right_answer(traced: Traced) -> None:
    trace = traced("item_not_found")
    (question,) = read_questions(
        [
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
        ]
    )
    assert true_choices(question, trace) == []
    assert judge(question, trace, 0).right is None


def test_unknown_claims_are_refused() -> None:
    with pytest.raises(QuestionError, match="unknown claim"):
        read_questions(
            [{"before": "sql", "ask": "?", "choices": [{"text": "a", "claim": {"vibes": True}}]}]
        )


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
    assert holds({"thread": ["session.create", "worker thread"]}, trace, 1)
    assert holds({"thread": ["session.create", "worker thread 3"]}, trace, 1)
    assert not holds({"thread": ["session.create", "event loop"]}, trace, 1)
    assert holds({"thread": ["request.start", "event loop"]}, trace, 1)
    assert not holds({"thread": ["session.close", "event loop"]}, trace, 1)  # never happened


def test_the_detail_claim_reads_the_first_event_of_its_kind() -> None:
    trace = _trace(
        [
            _event(1, "request.error", "event loop", error="FastAPIError"),
            _event(2, "request.error", "event loop", error="HTTPException"),
        ]
    )
    assert holds({"detail": ["request.error", "error", "FastAPIError"]}, trace, 1)
    assert not holds({"detail": ["request.error", "error", "HTTPException"]}, trace, 1)
    assert not holds({"detail": ["request.error", "message", "FastAPIError"]}, trace, 1)
    assert not holds({"detail": ["request.error", "error", "FastAPIError"]}, trace, 2)


def test_the_body_claim_reads_the_questions_own_request() -> None:
    trace = _trace(
        [_event(1, "request.start", "event loop", 1), _event(2, "request.start", "event loop", 2)],
        [
            TraceRequest(1, "POST", "/items/", 200, '{"ok":1}'),
            TraceRequest(2, "GET", "/items/", 200, "[]"),
        ],
    )
    assert holds({"body": "[]"}, trace, 2)
    assert not holds({"body": "[]"}, trace, 1)
    assert holds({"body": "[]"}, trace, None)  # any request
    assert not holds({"body": "[1]"}, trace, None)
