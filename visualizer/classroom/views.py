"""The room's markup, rendered on the server from the page's own templates.

Each piece is an htmx partial (`<template hx type="partial">`) naming the element it replaces,
so one socket message can update several parts of a page and a page without that element
simply ignores it. Names and texts are autoescaped like every other template.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from markupsafe import escape

from visualizer.classroom.store import Room
from visualizer.contract.trace import Trace
from visualizer.lesson.questions import judge

# The elements of the room pages that the socket updates.
ROLE_LINE = "role-line"
STATUS = "room-status"
MEMBERS = "members"
STUDENT_QUESTION = "question"
PRESENTER_QUESTION = "tally"


class RoomViews:
    """Renders room fragments with the app's Jinja environment."""

    def __init__(self, env: Environment) -> None:
        self.env = env

    def partial(
        self, target: str, template: str | None, swap: str = "innerMorph", **context: Any
    ) -> str:
        """`template` rendered as a partial for the element `#target`; None empties it."""
        body = self.env.get_template(template).render(**context) if template else ""
        return _wrap(target, swap, body)

    def text(self, target: str, text: str) -> str:
        """A line of plain text for `#target`."""
        return _wrap(target, "innerHTML", str(escape(text)))

    def question(self, room: Room, trace: Trace, presenter: bool, answer: int | None) -> str:
        """The open question for a presenter (with the tally) or a student (with their answer)."""
        if room.question is None:
            return self.no_question()
        question = trace.questions[room.question]
        verdict = judge(question, trace, -1 if answer is None else answer)
        counts = room.counts(len(question.choices))
        return self.partial(
            PRESENTER_QUESTION if presenter else STUDENT_QUESTION,
            "_room_question.html",
            question=question,
            index=room.question,
            count=len(trace.questions),
            presenter=presenter,
            answer=answer,
            revealed=room.revealed,
            verdict=verdict,
            counts=counts,
            answered=len(room.answers),
            members=len(room.members),
            correct=counts[verdict.right] if verdict.right is not None else 0,
        )

    def no_question(self) -> str:
        return self.partial(STUDENT_QUESTION, None) + self.partial(PRESENTER_QUESTION, None)

    def members(self, count: int, names: list[str]) -> str:
        return self.partial(
            MEMBERS, "_room_members.html", swap="innerHTML", count=count, names=names
        )

    def role(self, role: str, code: str, name: str) -> str:
        return self.partial(
            ROLE_LINE, "_room_role.html", swap="innerHTML", role=role, code=code, name=name
        )


def _wrap(target: str, swap: str, body: str) -> str:
    return f'<template hx type="partial" hx-target="#{target}" hx-swap="{swap}">{body}</template>'
