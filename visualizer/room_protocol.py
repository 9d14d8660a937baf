"""The classroom protocol: each client message checked, applied to its room, and answered."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from visualizer.questions import Question, QuestionError, judge, read_questions, stop_cursor
from visualizer.rooms import Room
from visualizer.trace import Trace

if TYPE_CHECKING:  # the classroom imports this module to handle its messages
    from visualizer.classroom import Classroom, Seat

MAX_MESSAGE_CHARS = 4096
Message = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Lesson:
    """A finished run's trace with its questions, read once per connection."""

    trace: Trace
    questions: list[Question]

    @classmethod
    def of(cls, trace: Trace) -> Lesson:
        try:
            questions = read_questions(getattr(trace, "questions", []))
        except QuestionError:  # imports are validated; a malformed list just asks nothing
            questions = []
        return cls(trace, questions)

    def stop(self, question: Question) -> int | None:
        return stop_cursor(question, self.trace)


class Rejected(Exception):
    """A message that cannot be applied; the sender is told why, and nothing changes."""


def tally(room: Room, lesson: Lesson) -> Message:
    question = lesson.questions[room.question] if room.question is not None else None
    return {
        "type": "tally",
        "question": room.question,
        "counts": room.counts(len(question.choices)) if question else [],
        "answered": len(room.answers),
        "members": len(room.members),
    }


def _revealed(room: Room, lesson: Lesson, question: Question) -> Message:
    """What the recorded events prove, with how the class answered."""
    right = judge(question, lesson.trace, -1).right  # the events decide, not the author
    return {
        "question": question.index,
        "right": right,
        "explain": question.explain,
        "counts": room.counts(len(question.choices)),
        "answered": len(room.answers),
        "correct": sum(1 for choice in room.answers.values() if choice == right),
    }


def public_question(room: Room, lesson: Lesson) -> Message | None:
    """The open question as every member may see it: never the answer before the reveal."""
    if room.question is None:
        return None
    question = lesson.questions[room.question]
    shown: Message = {
        "question": question.index,
        "ask": question.ask,
        "choices": list(question.choices),
        "revealed": room.revealed,
    }
    if room.revealed:
        shown.update(_revealed(room, lesson, question))
    return shown


def _whole(message: Message, key: str) -> int:
    value = message.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Rejected(f'"{key}" must be a whole number')
    return value


def _open(room: Room, lesson: Lesson) -> Question:
    if room.question is None:
        raise Rejected("no question is open")
    return lesson.questions[room.question]


def _goto(hub: Classroom, room: Room, lesson: Lesson, message: Message) -> None:
    cursor, last = _whole(message, "cursor"), len(lesson.trace.events)
    if not 0 <= cursor <= last:
        raise Rejected(f"the cursor must be between 0 and {last}")
    room.cursor = cursor
    hub.broadcast(room, {"type": "cursor", "cursor": cursor})


def _open_question(hub: Classroom, room: Room, lesson: Lesson, message: Message) -> None:
    index, count = _whole(message, "question"), len(lesson.questions)
    if not 0 <= index < count:
        raise Rejected(
            f"the question must be between 0 and {count - 1}"
            if count
            else "this run has no questions"
        )
    question = lesson.questions[index]
    stop = lesson.stop(question)
    # A question about an event that never happened stops where the class already is.
    room.open_question(index, room.cursor if stop is None else stop)
    public = {"ask": question.ask, "choices": list(question.choices)}
    hub.broadcast(room, {"type": "question", "question": index, **public})
    hub.broadcast(room, {"type": "cursor", "cursor": room.cursor})
    hub.to_presenters(room, tally(room, lesson))


def _reveal(hub: Classroom, room: Room, lesson: Lesson, message: Message) -> None:
    question = _open(room, lesson)
    room.revealed = True
    stop = lesson.stop(question)
    # One past the stop shows the real event; an absent event is shown by the whole run.
    room.cursor = len(lesson.trace.events) if stop is None else stop + 1
    hub.broadcast(room, {"type": "reveal", **_revealed(room, lesson, question)})
    hub.broadcast(room, {"type": "cursor", "cursor": room.cursor})


def _close_question(hub: Classroom, room: Room, lesson: Lesson, message: Message) -> None:
    question = _open(room, lesson)
    room.close_question()
    hub.broadcast(room, {"type": "question_closed", "question": question.index})


Action = Callable[["Classroom", Room, Lesson, Message], None]
PRESENTER_ONLY: dict[str, tuple[str, Action]] = {
    "goto": ("move the cursor", _goto),
    "open_question": ("open a question", _open_question),
    "reveal": ("reveal the answer", _reveal),
    "close_question": ("close the question", _close_question),
}


def _answer(hub: Classroom, seat: Seat, lesson: Lesson, message: Message) -> None:
    room = seat.room
    if seat.presenter:
        raise Rejected("students answer; the presenter reveals")
    question = _open(room, lesson)
    if room.revealed:
        raise Rejected("the answer has been revealed")
    choice = _whole(message, "choice")
    if not 0 <= choice < len(question.choices):
        raise Rejected(f"the choice must be between 0 and {len(question.choices) - 1}")
    room.answers[seat.member] = choice  # one answer per member: a new one replaces it
    hub.send(seat, {"type": "answered", "question": question.index, "choice": choice})
    hub.to_presenters(room, tally(room, lesson))
    hub.save_soon(room)


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


def handle(hub: Classroom, seat: Seat, lesson: Lesson, text: str | None) -> bool:
    """Apply one client message; True when the room changed and should be stored now."""
    try:
        message = _parse(text)
        kind = message["type"]
        if kind == "ping":
            hub.send(seat, {"type": "pong"})
            return False
        if kind == "answer":
            _answer(hub, seat, lesson, message)
            return False
        if kind not in PRESENTER_ONLY:
            raise Rejected(f"unknown message type {kind!r}")
        what, action = PRESENTER_ONLY[kind]
        if not seat.presenter:
            raise Rejected(f"only the presenter can {what}")
        action(hub, seat.room, lesson, message)
        return True
    except Rejected as error:
        hub.send(seat, {"type": "error", "message": str(error)})
        return False
