"""The room protocol: each client message checked, applied to its room, and answered.

Pure: `handle` changes the room and returns what to send to whom; the hub delivers it. What
each message says, and the markup it carries, is written in `messages`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from visualizer.classroom.messages import (
    Material,
    Message,
    Outgoing,
    Sender,
    error,
    personal,
    question_view,
    revealed,
)
from visualizer.classroom.store import Room, clean_name

MAX_MESSAGE_CHARS = 4096
Audience = Literal["all", "presenters", "sender"]
Summary = Literal["tally", "members"]  # what the presenters see of the class, rebuilt by the hub


@dataclass(slots=True)
class Reply:
    """What handling one message produced: messages by audience, the presenters' summaries it
    made out of date, and whether the room changed (then the hub stores it, off the step's
    path)."""

    out: list[tuple[Audience, Outgoing]] = field(default_factory=list)
    stale: list[Summary] = field(default_factory=list)
    changed: bool = False

    def to(self, audience: Audience, message: Outgoing) -> None:
        self.out.append((audience, message))

    def refresh(self, summary: Summary) -> None:
        """The presenters' `summary` is out of date: the hub builds it once for a burst."""
        self.stale.append(summary)


class Rejected(Exception):
    """A message that cannot be applied; the sender is told why, and nothing changes."""


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
    reply.to("all", personal(room, material, {"type": "question", "question": index, **public}))
    reply.to("all", {"type": "cursor", "cursor": room.cursor})
    reply.refresh("tally")


def _reveal(room: Room, material: Material, message: Message, reply: Reply) -> None:
    index = _open(room)
    room.revealed = True
    stop = material.stop(material.questions[index])
    # One past the stop shows the real event; an absent event is shown by the whole run.
    room.cursor = len(material.trace.events) if stop is None else stop + 1
    reply.to("all", personal(room, material, {"type": "reveal", **revealed(room, material, index)}))
    reply.to("all", {"type": "cursor", "cursor": room.cursor})


def _close_question(room: Room, material: Material, message: Message, reply: Reply) -> None:
    index = _open(room)
    room.close_question()
    content = material.views.no_question()
    reply.to("all", {"type": "question_closed", "question": index, "content": content})


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
    content = question_view(room, material, sender)
    reply.to(
        "sender", {"type": "answered", "question": index, "choice": choice, "content": content}
    )
    reply.refresh("tally")
    reply.changed = True


def _name(room: Room, sender: Sender, material: Material, message: Message, reply: Reply) -> None:
    """A student gives (or changes) the name the presenter sees."""
    if sender.presenter:
        raise Rejected("the presenter has no name in the room")
    raw = message.get("name")
    if not isinstance(raw, str):
        raise Rejected('"name" must be text')
    name = room.members[sender.member] = clean_name(raw)
    content = material.views.role("student", room.code, name)
    reply.to("sender", {"type": "named", "name": name, "content": content})
    reply.refresh("members")


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


def is_ping(text: str | None) -> bool:
    """A keep-alive: it changes nothing, so it is answered where it arrives."""
    if text is None or len(text) > 64 or "ping" not in text:
        return False
    try:
        return bool(_parse(text)["type"] == "ping")
    except Rejected:
        return False


def handle(room: Room, sender: Sender, material: Material, text: str | None) -> Reply:
    """Apply one client message to its room; what to send, and whether the room changed."""
    reply = Reply()
    try:
        message = _parse(text)
        kind = message["type"]
        if kind == "ping":
            reply.to("sender", {"type": "pong"})
        elif kind == "answer":
            _answer(room, sender, material, message, reply)
        elif kind == "name":
            _name(room, sender, material, message, reply)
        elif kind not in PRESENTER_ONLY:
            raise Rejected(f"unknown message type {kind!r}")
        else:
            what, action = PRESENTER_ONLY[kind]
            if not sender.presenter:
                raise Rejected(f"only the presenter can {what}")
            action(room, material, message, reply)
            reply.changed = True
    except Rejected as rejected:
        return Reply([("sender", error(material, str(rejected)))])
    return reply
