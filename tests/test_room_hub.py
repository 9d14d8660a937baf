"""The hub: a step serialized once and written in one pass; summaries built once for a burst."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.templating import Jinja2Templates
from sqlalchemy import create_engine

from tests.helpers import run_async
from tests.room_support import HeldSocket, settle
from visualizer.classroom.hub import Hub
from visualizer.classroom.messages import Material
from visualizer.classroom.seat import Seat
from visualizer.classroom.store import Room, RoomStore
from visualizer.classroom.views import RoomViews
from visualizer.contract.trace import read_trace
from visualizer.locations import TEMPLATES_DIR


class CountedViews(RoomViews):
    """The room's own views, counting how often the member list is drawn."""

    drawn = 0

    def members(self, count: int, names: list[str]) -> str:
        self.drawn += 1
        return super().members(count, names)


@pytest.fixture
def material(room_lesson: dict[str, Any]) -> Material:
    views = CountedViews(Jinja2Templates(directory=TEMPLATES_DIR).env)
    return Material(read_trace(room_lesson), views)


def _hub(tmp_path: Path) -> Hub:
    return Hub(RoomStore(create_engine(f"sqlite:///{tmp_path / 'rooms.db'}"), 3))


def test_a_step_is_serialized_once_and_reaches_every_socket_before_any_await(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dumped: list[Any] = []
    real_dumps = json.dumps
    monkeypatch.setattr(
        "visualizer.classroom.hub.json.dumps", lambda v: dumped.append(v) or real_dumps(v)
    )

    async def scenario() -> list[HeldSocket]:
        hub = _hub(tmp_path)
        room = Room("ABCDEF", "run", "token")
        sockets = [HeldSocket() for _ in range(50)]
        hub._seats[room.code] = {Seat(s, room, False, f"m{n}") for n, s in enumerate(sockets)}
        hub.broadcast(room, {"type": "cursor", "cursor": 7})
        return sockets

    sockets = run_async(scenario())
    assert dumped == [{"type": "cursor", "cursor": 7}]
    assert all(s.messages() == [{"type": "cursor", "cursor": 7}] for s in sockets)


def test_a_burst_of_joins_is_one_drawing_and_one_message_for_the_presenter(
    tmp_path: Path, material: Material
) -> None:
    views = material.views
    assert isinstance(views, CountedViews)
    socket = HeldSocket()

    async def scenario() -> list[str]:
        hub = _hub(tmp_path)
        room = Room("ABCDEF", "run", "token")
        hub._seats[room.code] = {Seat(socket, room, True, "p")}
        for n in range(200):  # two hundred students joining in one turn of the loop
            room.members[f"m{n}"] = f"student {n}"
            hub.refresh(room, material, "members")
        before = list(socket.sent)
        await settle()
        return before

    before = run_async(scenario())
    assert before == [] and views.drawn == 1
    assert [(m["type"], m["count"]) for m in socket.messages()] == [("members", 200)]


def test_nothing_is_drawn_for_presenters_when_none_is_connected(
    tmp_path: Path, material: Material
) -> None:
    views = material.views
    assert isinstance(views, CountedViews)

    async def scenario() -> HeldSocket:
        hub = _hub(tmp_path)
        room = Room("ABCDEF", "run", "token")
        student = HeldSocket()
        hub._seats[room.code] = {Seat(student, room, False, "s")}
        for n in range(100):
            room.members[f"m{n}"] = ""
            hub.refresh(room, material, "members")
        await settle()
        return student

    student = run_async(scenario())
    assert views.drawn == 0 and student.sent == []
