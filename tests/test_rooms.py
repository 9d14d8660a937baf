"""Classroom rooms: creation, names, expiry, restarts, the QR code, slow members."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import segno
from sqlalchemy import create_engine

from tests.helpers import run_async
from tests.room_support import HeldSocket, import_run, joined, open_room, room_state, serve, settle
from visualizer.classroom.hub import Hub
from visualizer.classroom.seat import BEHIND_CLOSE, QUEUE_SIZE, Seat
from visualizer.classroom.store import CODE_ALPHABET, Room, RoomStore, clean_name


def test_a_room_is_created_on_a_run_and_shows_no_secret(site: str, room_run: str) -> None:
    room = open_room(site, room_run)
    code = room["code"]
    assert len(code) == 6 and set(code) <= set(CODE_ALPHABET)
    assert room["join_url"] == f"{site}/rooms/{code}"
    assert len(room["presenter_token"]) >= 32
    state = room_state(site, code.lower())  # typed on a phone
    assert state == {"code": code, "run": room_run, "cursor": 0, "members": 0, "question": None}
    missing = httpx.post(f"{site}/api/rooms", json={"run": "nope"})
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
    assert httpx.get(f"{site}/api/rooms/ZZZZZZ").status_code == 404


def test_names_lose_control_characters_and_are_cut_to_40() -> None:
    assert clean_name("  Ann\x00\x1b[31m\u202e  Lee\n") == "Ann[31m Lee"
    assert clean_name("x" * 60) == "x" * 40
    assert clean_name("<b>Bo</b>") == "<b>Bo</b>"  # kept as given; the page escapes it


def test_idle_rooms_expire_by_the_injected_clock(tmp_path: Path) -> None:
    now = [1000.0]
    engine = create_engine(f"sqlite:///{tmp_path / 'rooms.db'}")
    manager = RoomStore(engine, idle_hours=3, clock=lambda: now[0])
    idle, busy = manager.create("run-a"), manager.create("run-b")
    busy.connections = 1  # someone is connected: never idle
    now[0] += 3 * 3600
    assert manager.get(idle.code) is idle
    now[0] += 1
    assert manager.get(idle.code) is None
    assert manager.get(busy.code) is busy
    assert RoomStore(engine, 3, clock=lambda: now[0]).get(idle.code) is None  # gone on disk
    fresh = RoomStore(engine, 3, clock=lambda: now[0] + 4 * 3600)
    assert fresh.expire() == [busy.code]  # its stored activity is old, and nobody is here
    engine.dispose()


def test_an_idle_room_is_gone_from_the_api(tmp_path: Path, room_lesson: dict[str, Any]) -> None:
    with serve(tmp_path) as (site, app):
        code = open_room(site, import_run(site, room_lesson))["code"]
        manager = app.state.hub.store
        started = manager.clock()
        manager.clock = lambda: started + 3 * 3600 + 1
        assert httpx.get(f"{site}/api/rooms/{code}").status_code == 404
        assert httpx.get(f"{site}/rooms/{code}/qr.svg").status_code == 404


def test_a_room_survives_a_restart_on_the_same_data_dir(
    tmp_path: Path, room_lesson: dict[str, Any]
) -> None:
    with serve(tmp_path) as (site, _):
        room = open_room(site, import_run(site, room_lesson))
        code, token = room["code"], room["presenter_token"]
        member: list[str] = []  # the student's secret, kept by its page to rejoin

        async def before() -> None:
            async with (
                joined(site, code, token=token) as (presenter, _, _),
                joined(site, code) as (student, student_welcome, _),
            ):
                member.append(student_welcome["member"])
                await presenter.send({"type": "open_question", "question": 1})
                await student.until("cursor")
                await student.reply({"type": "answer", "choice": 1})
                await presenter.until("tally")
                await presenter.send({"type": "goto", "cursor": 5})
                await student.until("cursor")

        run_async(before())
        saved = room_state(site, code)

    with serve(tmp_path) as (site, _):
        assert room_state(site, code) == saved
        assert saved["cursor"] == 5 and saved["question"]["question"] == 1

        async def after() -> tuple[dict[str, Any], dict[str, Any], int]:
            async with (
                joined(site, code, token=token) as (presenter, welcome, _),
                joined(site, code, member=member[0]) as (_, student_welcome, cursor),
            ):
                assert welcome["role"] == "presenter"
                tally = await presenter.until("tally", members=1)
                return tally, student_welcome, cursor

        tally, student_welcome, cursor = run_async(after())
    assert cursor == 5 and student_welcome["question"]["answer"] == 1
    assert tally["counts"] == [0, 1] and tally["answered"] == 1


def test_the_qr_code_is_an_svg_of_the_join_url(site: str, room_run: str) -> None:
    room = open_room(site, room_run)
    response = httpx.get(f"{site}/rooms/{room['code']}/qr.svg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.text.startswith("<svg") and response.text.rstrip().endswith("</svg>")
    expected = io.BytesIO()
    segno.make(room["join_url"], error="m").save(
        expected, kind="svg", scale=8, border=2, xmldecl=False, title=f"Join room {room['code']}"
    )
    assert response.content == expected.getvalue()  # the very matrix of the join URL
    assert httpx.get(f"{site}/rooms/ZZZZZZ/qr.svg").status_code == 404


def test_a_member_too_far_behind_is_let_go_without_holding_anyone_up(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'rooms.db'}")
    slow_socket, fast_socket = HeldSocket(held=True), HeldSocket()

    async def scenario() -> tuple[Seat, Seat, Hub]:
        classroom = Hub(RoomStore(engine, 3))
        room = Room("ABCDEF", "run", "token")
        slow, fast = Seat(slow_socket, room, False, "slow"), Seat(fast_socket, room, False, "fast")
        classroom._seats[room.code] = {slow, fast}
        # One write in flight, QUEUE_SIZE waiting, then one too many: ordered messages.
        for n in range(QUEUE_SIZE + 2):
            classroom.broadcast(room, {"type": "question_closed", "question": n})
            assert len(fast_socket.sent) == n + 1  # written at once, whatever the slow one does
        slow_socket.release()
        await settle()
        return slow, fast, classroom

    slow, fast, classroom = run_async(scenario())
    engine.dispose()
    assert slow.gone and not fast.gone and classroom._seats["ABCDEF"] == {fast}
    # What was in flight still arrives; nothing queued behind it; then the close: reconnect.
    assert slow_socket.messages() == [{"type": "question_closed", "question": 0}]
    assert slow_socket.closed == BEHIND_CLOSE and fast_socket.closed is None
