"""Predict questions: where the player stops, and which answer the recorded events prove.

Every choice carries a claim about the run, and the right answer is the one choice whose
claim the recorded events make true. So a question can never "know" an answer that did not
happen: when no choice, or more than one, is true, there is no right answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from visualizer.contract.trace import Question, Trace
from visualizer.lesson.claims import holds


def true_choices(question: Question, trace: Trace) -> list[int]:
    return [
        index
        for index, choice in enumerate(question.choices)
        if holds(choice.claim, trace, question.request)
    ]


def stop_cursor(question: Question, trace: Trace) -> int | None:
    """The cursor the player stops at: just before the event the question is about. None when
    the event never happened, or when the question's wording takes for granted something
    this run did not do: then it is not asked."""
    if question.premise is not None and not holds(question.premise, trace, question.request):
        return None
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
