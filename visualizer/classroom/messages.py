"""What room messages say: each one's data, and the markup (`content`) rendered for its receiver.

The presenter and the students see different things, and each student sees their own answer,
so a message that shows something can be `Personal`: written for each receiver by the hub.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from visualizer.classroom.store import Room
from visualizer.classroom.views import STATUS, RoomViews
from visualizer.contract.trace import Question, Trace
from visualizer.lesson.questions import judge, stop_cursor

Message = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent a message, or receives one: the presenter, or a student with their member id."""

    presenter: bool
    member: str


# A message written for each receiver (the presenter's tally, a student's own verdict).
Personal = Callable[[Sender], Message]
Outgoing = Message | Personal


@dataclass(frozen=True, slots=True)
class Material:
    """What a room teaches: a finished run's trace and its questions, and how to show them."""

    trace: Trace
    views: RoomViews

    @property
    def questions(self) -> list[Question]:
        return self.trace.questions

    def stop(self, question: Question) -> int | None:
        return stop_cursor(question, self.trace)


def question_view(room: Room, material: Material, receiver: Sender) -> str:
    answer = None if receiver.presenter else room.answers.get(receiver.member)
    return material.views.question(room, material.trace, receiver.presenter, answer)


def personal(room: Room, material: Material, data: Message) -> Personal:
    """`data` with the open question drawn for each receiver; one drawing per distinct view."""
    drawn: dict[tuple[bool, int | None], Message] = {}

    def message(receiver: Sender) -> Message:
        key = (
            receiver.presenter,
            None if receiver.presenter else room.answers.get(receiver.member),
        )
        if key not in drawn:
            drawn[key] = {**data, "content": question_view(room, material, receiver)}
        return drawn[key]

    return message


def tally(room: Room, material: Material) -> Message:
    question = material.questions[room.question] if room.question is not None else None
    return {
        "type": "tally",
        "question": room.question,
        "counts": room.counts(len(question.choices)) if question else [],
        "answered": len(room.answers),
        "members": len(room.members),
        "content": question_view(room, material, Sender(True, "")),
    }


def members(room: Room, material: Material) -> Message:
    """Who is connected, for presenters: a count and the names given."""
    count, names = len(room.members), room.names()
    return {
        "type": "members",
        "count": count,
        "names": names,
        "content": material.views.members(count, names),
    }


def revealed(room: Room, material: Material, index: int) -> Message:
    """What the recorded events prove, with how the class answered."""
    question = material.questions[index]
    right = judge(question, material.trace, -1).right  # the events decide, not the author
    return {
        "question": index,
        "right": right,
        "explain": question.explain,
        "counts": room.counts(len(question.choices)),
        "answered": len(room.answers),
        "correct": sum(1 for choice in room.answers.values() if choice == right),
    }


def public_question(room: Room, material: Material) -> Message | None:
    """The open question as every member may see it: never the answer before the reveal."""
    if room.question is None:
        return None
    question = material.questions[room.question]
    shown: Message = {
        "question": room.question,
        "ask": question.ask,
        "choices": [choice.text for choice in question.choices],
        "revealed": room.revealed,
    }
    if room.revealed:
        shown.update(revealed(room, material, room.question))
    return shown


def welcome(room: Room, material: Material, receiver: Sender, name: str) -> Message:
    """The first message to a member: the room, its open question, and the member's own id."""
    question = public_question(room, material)
    if question is not None and not receiver.presenter:
        question["answer"] = room.answers.get(receiver.member)
    role = "presenter" if receiver.presenter else "student"
    views = material.views
    content = views.role(role, room.code, name) + question_view(room, material, receiver)
    content += views.text(STATUS, "" if receiver.presenter else "Following the presenter.")
    return {
        "type": "welcome",
        "role": role,
        "run": room.run_id,
        "code": room.code,
        "members": len(room.members),
        "question": question,
        # A student's id is handed back signed by the room: only its holder can rejoin as it.
        "member": "" if receiver.presenter else room.member_secret(receiver.member),
        "name": name,
        "events": len(material.trace.events),
        "questions": len(material.questions),
        "content": content,
    }


def error(material: Material, text: str) -> Message:
    return {"type": "error", "message": text, "content": material.views.text(STATUS, text)}
