"""The room protocol: each client message checked, applied to its room, and answered.

Pure: `handle` changes the room and returns what to send to whom; the hub delivers it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from visualizer.classroom.store import Room
from visualizer.contract.trace import Question, Trace
from visualizer.lesson.questions import judge, stop_cursor

MAX_MESSAGE_CHARS = 4096
Message = dict[str, Any]
Audience = Literal["all", "presenters", "sender"]


@dataclass(frozen=True, slots=True)
class Material:
    """What a room teaches: a finished run's trace and its questions."""

    trace: Trace

    @property
    def questions(self) -> list[Question]:
        return self.trace.questions

    def stop(self, question: Question) -> int | None:
        return stop_cursor(question, self.trace)


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent a message: the presenter, or a student with their member id."""

    presenter: bool
    member: str


@dataclass(slots=True)
class Reply:
    """What handling one message produced: messages by audience, and whether to store the room."""

    out: list[tuple[Audience, Message]] = field(default_factory=list)
    save: Literal["no", "now", "soon"] = "no"

    def to(self, audience: Audience, message: Message) -> None:
        self.out.append((audience, message))


class Rejected(Exception):
    """A message that cannot be applied; the sender is told why, and nothing changes."""


def tally(room: Room, material: Material) -> Message:
    question = material.questions[room.question] if room.question is not None else None
    return {
        "type": "tally",
        "question": room.question,
        "counts": room.counts(len(question.choices)) if question else [],
        "answered": len(room.answers),
        "members": len(room.members),
    }


def _revealed(room: Room, material: Material, index: int) -> Message:
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
        shown.update(_revealed(room, material, room.question))
    return shown


def _whole(message: Message, key: str) -> int:
    value = message.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Rejected(f'"{key}" must be a whole number')
    return value


def _open(room: Room) -> int:
    if room.question is None:
        raise Rejected("no question is open")
    return room.question


def _goto(room: Room, material: Material, message: Message, reply: Reply) -> None:
    cursor, last = _whole(message, "cursor"), len(material.trace.events)
    if not 0 <= cursor <= last:
        raise Rejected(f"the cursor must be between 0 and {last}")
    room.cursor = cursor
    reply.to("all", {"type": "cursor", "cursor": cursor})


def _open_question(room: Room, material: Material, message: Message, reply: Reply) -> None:
    index, count = _whole(message, "question"), len(material.questions)
    if not 0 <= index < count:
        raise Rejected(
            f"the question must be between 0 and {count - 1}"
            if count
            else "this run has no questions"
        )
    question = material.questions[index]
    stop = material.stop(question)
    # A question about an event that never happened stops where the class already is.
    room.open_question(index, room.cursor if stop is None else stop)
    public = {"ask": question.ask, "choices": [choice.text for choice in question.choices]}
    reply.to("all", {"type": "question", "question": index, **public})
    reply.to("all", {"type": "cursor", "cursor": room.cursor})
    reply.to("presenters", tally(room, material))


def _reveal(room: Room, material: Material, message: Message, reply: Reply) -> None:
    index = _open(room)
    room.revealed = True
    stop = material.stop(material.questions[index])
    # One past the stop shows the real event; an absent event is shown by the whole run.
    room.cursor = len(material.trace.events) if stop is None else stop + 1
    reply.to("all", {"type": "reveal", **_revealed(room, material, index)})
    reply.to("all", {"type": "cursor", "cursor": room.cursor})


def _close_question(room: Room, material: Material, message: Message, reply: Reply) -> None:
    index = _open(room)
    room.close_question()
    reply.to("all", {"type": "question_closed", "question": index})


Action = Callable[[Room, Material, Message, Reply], None]
PRESENTER_ONLY: dict[str, tuple[str, Action]] = {
    "goto": ("move the cursor", _goto),
    "open_question": ("open a question", _open_question),
    "reveal": ("reveal the answer", _reveal),
    "close_question": ("close the question", _close_question),
}


def _answer(room: Room, sender: Sender, material: Material, message: Message, reply: Reply) -> None:
    if sender.presenter:
        raise Rejected("students answer; the presenter reveals")
    index = _open(room)
    if room.revealed:
        raise Rejected("the answer has been revealed")
    choice, count = _whole(message, "choice"), len(material.questions[index].choices)
    if not 0 <= choice < count:
        raise Rejected(f"the choice must be between 0 and {count - 1}")
    room.answers[sender.member] = choice  # one answer per member: a new one replaces it
    reply.to("sender", {"type": "answered", "question": index, "choice": choice})
    reply.to("presenters", tally(room, material))
    reply.save = "soon"  # a burst of answers is stored in one write


def _parse(text: str | None) -> Message:
    if text is None:
        raise Rejected("messages are JSON objects sent as text")
    if len(text) > MAX_MESSAGE_CHARS:
        raise Rejected(f"a message is at most {MAX_MESSAGE_CHARS} characters")
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        raise Rejected("messages must be JSON objects") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise Rejected('a message is a JSON object with a "type"')
    return message


def handle(room: Room, sender: Sender, material: Material, text: str | None) -> Reply:
    """Apply one client message to its room; what to send, and whether to store the room."""
    reply = Reply()
    try:
        message = _parse(text)
        kind = message["type"]
        if kind == "ping":
            reply.to("sender", {"type": "pong"})
        elif kind == "answer":
            _answer(room, sender, material, message, reply)
        elif kind not in PRESENTER_ONLY:
            raise Rejected(f"unknown message type {kind!r}")
        else:
            what, action = PRESENTER_ONLY[kind]
            if not sender.presenter:
                raise Rejected(f"only the presenter can {what}")
            action(room, material, message, reply)
            reply.save = "now"
    except Rejected as error:
        return Reply([("sender", {"type": "error", "message": str(error)})])
    return reply
