"""Predict questions: where the player stops, what it asks, and which answer the events prove.

A scenario declares its questions; every choice carries a claim about the run, and the right
answer is the one choice whose claim the recorded events make true. So a question can never
"know" an answer that did not happen: a test fails when no choice, or more than one, is true.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from visualizer.difference import first
from visualizer.events import Event

if TYPE_CHECKING:  # the trace module reads questions, so it imports this one
    from visualizer.trace import Trace


class QuestionError(ValueError):
    """A question or claim that cannot be read."""


@dataclass(frozen=True, slots=True)
class Question:
    index: int
    before: str  # the player stops just before the first event of this kind ...
    request: int | None  # ... in this request (any request if None)
    ask: str
    choices: tuple[str, ...]
    claims: tuple[dict[str, Any], ...]
    answer: int | None  # what the author expects; the events decide
    explain: str

    def to_json(self) -> dict[str, Any]:
        return {
            "before": self.before,
            "request": self.request,
            "ask": self.ask,
            "choices": [
                {"text": t, "claim": c} for t, c in zip(self.choices, self.claims, strict=True)
            ],
            "answer": self.answer,
            "explain": self.explain,
        }


def read_questions(raw: Sequence[Any]) -> list[Question]:
    """Questions from a scenario's SCENARIO block or a trace's JSON."""
    questions = []
    for index, item in enumerate(raw):
        try:
            choices = item["choices"]
            questions.append(
                Question(
                    index=index,
                    before=str(item["before"]),
                    request=item.get("request"),
                    ask=str(item["ask"]),
                    choices=tuple(str(c["text"]) for c in choices),
                    claims=tuple(dict(c["claim"]) for c in choices),
                    answer=item.get("answer"),
                    explain=str(item.get("explain", "")),
                )
            )
        except (KeyError, TypeError) as error:
            raise QuestionError(f"question {index + 1}: missing or malformed {error}") from None
        for claim in questions[-1].claims:
            if len(claim) != 1 or next(iter(claim)) not in CLAIMS:
                raise QuestionError(f"question {index + 1}: unknown claim {claim!r}")
    return questions


def _lane(trace: Trace, request: int | None) -> list[Event]:
    return [e for e in trace.events if request is None or e.request == request]


def _order(events: list[Event], trace: Trace, kinds: list[str]) -> bool:
    """The first events of these kinds happened in this order (all of them happened)."""
    seqs = [getattr(first(events, kind), "seq", None) for kind in kinds]
    return None not in seqs and seqs == sorted(seqs)  # type: ignore[type-var]


def _status(events: list[Event], trace: Trace, status: int) -> bool:
    sent = first(events, "response.start")
    return sent is not None and sent.detail.get("status") == status


def _db_at(events: list[Event], trace: Trace, arg: list[str]) -> bool:
    """`db` had this state at the first event of that kind."""
    kind, state = arg
    event = first(events, kind)
    return event is not None and event.db == state


def _count(events: list[Event], trace: Trace, arg: list[Any]) -> bool:
    kind, times = arg
    return sum(1 for e in events if e.kind == kind) == int(times)


def _thread(events: list[Event], trace: Trace, arg: list[str]) -> bool:
    """The first event of that kind ran on this thread ("worker thread" means any of them)."""
    kind, thread = arg
    event = first(events, kind)
    return event is not None and (event.thread == thread or event.thread.startswith(f"{thread} "))


def _detail(events: list[Event], trace: Trace, arg: list[Any]) -> bool:
    """The first event of that kind carries this value under this key of its detail."""
    kind, key, value = arg
    event = first(events, kind)
    return event is not None and key in event.detail and event.detail[key] == value


def _body(events: list[Event], trace: Trace, body: str) -> bool:
    """The response body of the question's request (of any request if none) is exactly this."""
    lane = {e.request for e in events}
    return any(r.id in lane and r.body == body for r in trace.requests)


CLAIMS: dict[str, Callable[[list[Event], Trace, Any], bool]] = {
    "order": _order,
    "present": lambda events, trace, kind: first(events, kind) is not None,
    "absent": lambda events, trace, kind: first(events, kind) is None,
    "status": _status,
    "db_at": _db_at,
    "count": _count,
    "pool_after": lambda events, trace, n: trace.pool_after.checked_out == n,
    "thread": _thread,
    "detail": _detail,
    "body": _body,
}


def holds(claim: dict[str, Any], trace: Trace, request: int | None) -> bool:
    """Whether the recorded run makes this claim true."""
    ((name, argument),) = claim.items()
    return bool(CLAIMS[name](_lane(trace, request), trace, argument))


def true_choices(question: Question, trace: Trace) -> list[int]:
    return [i for i, claim in enumerate(question.claims) if holds(claim, trace, question.request)]


def stop_cursor(question: Question, trace: Trace) -> int | None:
    """The cursor the player stops at: just before the event the question is about."""
    for position, event in enumerate(trace.events):
        if event.kind == question.before and question.request in (None, event.request):
            return position
    return None


@dataclass(frozen=True, slots=True)
class Verdict:
    correct: bool
    right: int | None  # the choice the events prove; None if they prove none
    explain: str


def judge(question: Question, trace: Trace, chosen: int) -> Verdict:
    """Check an answer against what really happened in this run."""
    right = true_choices(question, trace)
    proven = right[0] if len(right) == 1 else None
    return Verdict(chosen == proven, proven, question.explain)
