"""Classroom rooms against a real server with real websocket clients: roles, fan-out, refusals."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import segno
from sqlalchemy import create_engine
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import finished_run
from tests.helpers import run_async
from visualizer.app import create_app
from visualizer.classroom import QUEUE_SIZE, Classroom, Seat
from visualizer.loopback import LoopbackServer
from visualizer.rooms import CODE_ALPHABET, Room, RoomManager, clean_name
from visualizer.settings import Settings

ORDER = ["response.start", "session.close"]
QUESTIONS = [
    {
        "before": "session.close",
        "request": 1,
        "ask": "Which comes first?",
        "choices": [
            {"text": "the client gets its response", "claim": {"order": ORDER}},
            {"text": "the session closes", "claim": {"order": ORDER[::-1]}},
        ],
        "answer": 1,  # the textbook's answer; the events decide
        "explain": "FastAPI sends the response before get_db's finally runs.",
    },
    {
        "before": "response.start",
        "request": 1,
        "ask": "Which status code does the client get?",
        "choices": [
            {"text": "201", "claim": {"status": 201}},
            {"text": "200", "claim": {"status": 200}},
        ],
        "answer": 0,
        "explain": "The endpoint declares no status_code.",
    },
]


@pytest.fixture(scope="module")
def lesson(site: str) -> dict[str, Any]:
    """A real create_item trace with two predict questions added."""
    return {**finished_run(site, "create_item"), "questions": QUESTIONS}


@pytest.fixture(scope="module")
def run_id(site: str, lesson: dict[str, Any]) -> str:
    return _import(site, lesson)


def _import(site: str, lesson: dict[str, Any]) -> str:
    response = httpx.post(f"{site}/api/runs/import", json=lesson)
    assert response.status_code == 201, response.text
    run: str = response.json()["id"]
    return run


def _room(site: str, run: str) -> dict[str, Any]:
    response = httpx.post(f"{site}/api/rooms", json={"run": run})
    assert response.status_code == 201, response.text
    room: dict[str, Any] = response.json()
    return room


def _state(site: str, code: str) -> dict[str, Any]:
    state: dict[str, Any] = httpx.get(f"{site}/api/rooms/{code}").json()
    return state


def _first(lesson: dict[str, Any], kind: str) -> int:
    """The position of the first event of this kind in request 1 (the stop cursor)."""
    return next(
        i for i, e in enumerate(lesson["events"]) if e["kind"] == kind and e["request"] == 1
    )


@contextmanager
def _server(data_dir: Path) -> Iterator[tuple[str, Any]]:
    app = create_app(Settings(data_dir=data_dir))
    with LoopbackServer(app) as server:
        yield server.url, app


class Member:
    """A real websocket client in a room, reading messages in order."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def next(self) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
        return message

    async def until(self, kind: str, **fields: Any) -> dict[str, Any]:
        """The next message of this type (with these fields), skipping others."""
        while True:
            message = await self.next()
            if message["type"] == kind and all(message.get(k) == v for k, v in fields.items()):
                return message

    async def send(self, message: Any) -> None:
        await self.ws.send(message if isinstance(message, str | bytes) else json.dumps(message))

    async def reply(self, message: Any) -> dict[str, Any]:
        await self.send(message)
        return await self.next()


def _url(site: str, code: str, **params: str) -> str:
    query = f"?{urlencode(params)}" if params else ""
    return site.replace("http://", "ws://") + f"/ws/rooms/{code}{query}"


@asynccontextmanager
async def _joined(
    site: str, code: str, origin: str | None = None, **params: str
) -> AsyncIterator[tuple[Member, dict[str, Any], int]]:
    """Connected and welcomed: the member, its welcome and the cursor it landed on."""
    async with connect(_url(site, code, **params), origin=origin) as ws:  # type: ignore[arg-type]
        member = Member(ws)
        welcome = await member.next()
        assert welcome["type"] == "welcome", welcome
        cursor = await member.next()
        assert cursor["type"] == "cursor"
        yield member, welcome, cursor["cursor"]


async def _refused(url: str, origin: str | None = None) -> tuple[dict[str, Any], int | None]:
    """The error message a refused client gets, and the close code that follows it."""
    async with connect(url, origin=origin) as ws:  # type: ignore[arg-type]
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    return message, closed.value.rcvd.code if closed.value.rcvd else None


def test_a_room_is_created_on_a_run_and_shows_no_secret(site: str, run_id: str) -> None:
    room = _room(site, run_id)
    code = room["code"]
    assert len(code) == 6 and set(code) <= set(CODE_ALPHABET)
    assert room["join_url"] == f"{site}/rooms/{code}"
    assert len(room["presenter_token"]) >= 32
    state = _state(site, code.lower())  # typed on a phone
    assert state == {"code": code, "run": run_id, "cursor": 0, "members": 0, "question": None}
    missing = httpx.post(f"{site}/api/rooms", json={"run": "nope"})
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
    assert httpx.get(f"{site}/api/rooms/ZZZZZZ").status_code == 404


def test_the_presenter_moves_every_student_and_a_late_joiner_lands_there(
    site: str, run_id: str
) -> None:
    room = _room(site, run_id)
    code, token = room["code"], room["presenter_token"]

    async def scenario() -> tuple[list[dict[str, Any]], int, dict[str, Any]]:
        async with (
            _joined(site, code, token=token) as (presenter, welcome, _),
            _joined(site, code, name="Ann") as (ann, _, _),
            _joined(site, code, name="Bob") as (bob, _, _),
            _joined(site, code) as (cem, _, _),
        ):
            assert welcome["role"] == "presenter" and welcome["run"] == run_id
            members = await presenter.until("members", count=3)
            await presenter.send({"type": "goto", "cursor": 7})
            seen = [await student.next() for student in (ann, bob, cem)]
            async with _joined(site, code) as (_, late_welcome, late_cursor):
                return seen, late_cursor, {"late": late_welcome, "members": members}

    seen, late_cursor, extra = run_async(scenario())
    assert seen == [{"type": "cursor", "cursor": 7}] * 3
    assert late_cursor == 7 and extra["late"]["role"] == "student"
    assert extra["members"] == {"type": "members", "count": 3, "names": ["Ann", "Bob"]}
    assert _state(site, code)["cursor"] == 7


def test_a_student_cannot_drive_and_nothing_changes(
    site: str, run_id: str, lesson: dict[str, Any]
) -> None:
    room = _room(site, run_id)
    code, token = room["code"], room["presenter_token"]

    async def scenario() -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
        async with (
            _joined(site, code, token=token) as (presenter, _, _),
            _joined(site, code) as (mallory, _, _),
            _joined(site, code) as (other, _, _),
        ):
            await presenter.send({"type": "open_question", "question": 1})
            await mallory.until("cursor")
            await other.until("cursor")
            before = _state(site, code)
            replies = [
                await mallory.reply(message)
                for message in [
                    {"type": "goto", "cursor": 3},
                    {"type": "open_question", "question": 0},
                    {"type": "reveal"},
                    {"type": "close_question"},
                ]
            ]
            # Any broadcast would be queued before this pong: there is none.
            pong = await other.reply({"type": "ping"})
            return replies, {"before": before, "after": _state(site, code)}, pong

    replies, states, pong = run_async(scenario())
    assert [r["type"] for r in replies] == ["error"] * 4
    assert [r["message"] for r in replies] == [
        "only the presenter can move the cursor",
        "only the presenter can open a question",
        "only the presenter can reveal the answer",
        "only the presenter can close the question",
    ]
    assert pong == {"type": "pong"}
    after = states["after"]
    assert after == states["before"] and after["question"]["question"] == 1
    assert after["question"]["revealed"] is False
    assert after["cursor"] == _first(lesson, "response.start")  # question 1 stops there


def test_refusals_wrong_token_unknown_code_and_other_origins(site: str, run_id: str) -> None:
    room = _room(site, run_id)
    code = room["code"]

    async def scenario() -> list[tuple[dict[str, Any], int | None]]:
        return [
            await _refused(_url(site, code, token="not-the-token")),
            await _refused(_url(site, "NOROOM")),
            await _refused(_url(site, code), origin="http://evil.example"),
            await _refused(_url(site, code), origin=site.replace("127.0.0.1", "localhost")),
        ]

    wrong, unknown, evil, other_host = run_async(scenario())
    assert wrong == ({"type": "error", "message": "wrong presenter token"}, 4401)
    assert unknown == ({"type": "error", "message": "no room 'NOROOM'"}, 4404)
    assert evil[1] == 4403 and evil[0]["type"] == "error"
    assert other_host[1] == 4403

    async def same_origin() -> str:
        async with _joined(site, code, origin=site) as (_, welcome, _):
            return str(welcome["role"])

    assert run_async(same_origin()) == "student"  # the page's own origin is welcome


def test_failed_joins_from_one_address_are_rate_limited(tmp_path: Path, lesson: Any) -> None:
    with _server(tmp_path) as (site, _):
        code = _room(site, _import(site, lesson))["code"]

        async def scenario() -> list[int | None]:
            codes = [(await _refused(_url(site, f"BAD{n:03d}")))[1] for n in range(20)]
            # Now even the right code is refused: guessing gets 20 tries a minute.
            return [*codes, (await _refused(_url(site, code)))[1]]

        closes = run_async(scenario())
        looked_up = httpx.get(f"{site}/api/rooms/{code}")
    assert closes == [4404] * 20 + [4429]
    assert looked_up.status_code == 429  # codes cannot be tried over HTTP instead


def test_answers_reach_the_tally_and_the_reveal_is_what_the_events_prove(
    site: str, run_id: str, lesson: dict[str, Any]
) -> None:
    room = _room(site, run_id)
    code, token = room["code"], room["presenter_token"]
    stop = _first(lesson, "session.close")
    sent_first = _first(lesson, "response.start") < stop
    right = 0 if sent_first else 1

    async def scenario() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        async with (
            _joined(site, code, token=token) as (presenter, _, _),
            _joined(site, code) as (s1, _, _),
            _joined(site, code) as (s2, _, _),
            _joined(site, code, member="phone-3") as (s3, _, _),
        ):
            await presenter.send({"type": "open_question", "question": 0})
            seen["question"] = [await s.next() for s in (s1, s2, s3)]
            seen["cursor"] = [await s.next() for s in (s1, s2, s3)]
            seen["answered"] = [
                await s.reply({"type": "answer", "choice": c})
                for s, c in ((s1, 0), (s2, 1), (s3, 0), (s3, 1))  # s3 changes its mind
            ]
            tallies = [await presenter.until("tally") for _ in range(5)]  # open, then 4 answers
            seen["tally"] = tallies[-1]
            await presenter.send({"type": "reveal"})
            seen["reveal"] = [await s.next() for s in (s1, s2, s3)]
            seen["after"] = [await s.next() for s in (s1, s2, s3)]
            seen["late"] = await s1.reply({"type": "answer", "choice": 0})
            async with _joined(site, code, member="phone-3") as (_, welcome, _):
                seen["rejoined"] = welcome["question"]
            await presenter.send({"type": "close_question"})
            seen["closed"] = await s2.next()
        return seen

    seen = run_async(scenario())
    ask = {
        "type": "question",
        "question": 0,
        "ask": "Which comes first?",
        "choices": ["the client gets its response", "the session closes"],
    }
    assert seen["question"] == [ask] * 3  # never the answer, never the claims
    assert seen["cursor"] == [{"type": "cursor", "cursor": stop}] * 3
    assert [a["choice"] for a in seen["answered"]] == [0, 1, 0, 1]
    assert seen["tally"] == {
        "type": "tally",
        "question": 0,
        "counts": [1, 2],
        "answered": 3,
        "members": 3,
    }
    reveal = seen["reveal"][0]
    assert seen["reveal"] == [reveal] * 3
    assert reveal["right"] == right and reveal["counts"] == [1, 2]
    assert reveal["explain"] == QUESTIONS[0]["explain"]
    assert seen["after"] == [{"type": "cursor", "cursor": stop + 1}] * 3
    assert lesson["events"][stop]["kind"] == "session.close"  # the event now shown
    assert seen["late"]["type"] == "error" and "revealed" in seen["late"]["message"]
    assert seen["rejoined"]["answer"] == 1 and seen["rejoined"]["right"] == right
    assert seen["closed"] == {"type": "question_closed", "question": 0}
    assert _state(site, code)["question"] is None


def test_malformed_messages_get_errors_and_the_connection_stays_usable(
    site: str, run_id: str, lesson: dict[str, Any]
) -> None:
    room = _room(site, run_id)
    code, token = room["code"], room["presenter_token"]
    last = len(lesson["events"])

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
        async with (
            _joined(site, code, token=token) as (presenter, _, _),
            _joined(site, code) as (student, _, _),
        ):
            await presenter.until("members", count=1)
            bad = [
                "not json",
                "[1, 2]",
                '{"type": 3}',
                '{"type": "dance"}',
                b"\x00binary",
                "x" * 5000,
                {"type": "answer", "choice": 0},  # no question is open
                {"type": "ping"},
            ]
            student_replies = [await student.reply(m) for m in bad]
            presenter_bad = [
                {"type": "goto"},
                {"type": "goto", "cursor": "3"},
                {"type": "goto", "cursor": True},
                {"type": "goto", "cursor": -1},
                {"type": "goto", "cursor": last + 1},
                {"type": "open_question", "question": 2},
                {"type": "reveal"},
                {"type": "close_question"},
                {"type": "answer", "choice": 0},
            ]
            presenter_replies = [await presenter.reply(m) for m in presenter_bad]
            unchanged = _state(site, code)
            await presenter.send({"type": "goto", "cursor": last})
            moved = await student.next()
            return student_replies, presenter_replies, {"unchanged": unchanged, "moved": moved}

    student_replies, presenter_replies, rest = run_async(scenario())
    assert [r["type"] for r in student_replies] == ["error"] * 7 + ["pong"]
    assert "JSON" in student_replies[0]["message"] and "dance" in student_replies[3]["message"]
    assert [r["type"] for r in presenter_replies] == ["error"] * 9
    assert f"between 0 and {last}" in presenter_replies[3]["message"]
    assert rest["unchanged"]["cursor"] == 0 and rest["unchanged"]["question"] is None
    assert rest["moved"] == {"type": "cursor", "cursor": last}


def test_names_lose_control_characters_and_are_cut_to_40() -> None:
    assert clean_name("  Ann\x00\x1b[31m\u202e  Lee\n") == "Ann[31m Lee"
    assert clean_name("x" * 60) == "x" * 40
    assert clean_name("<b>Bo</b>") == "<b>Bo</b>"  # kept as given; the page escapes it


def test_idle_rooms_expire_by_the_injected_clock(tmp_path: Path) -> None:
    now = [1000.0]
    engine = create_engine(f"sqlite:///{tmp_path / 'rooms.db'}")
    manager = RoomManager(engine, idle_hours=3, clock=lambda: now[0])
    idle, busy = manager.create("run-a"), manager.create("run-b")
    busy.connections = 1  # someone is connected: never idle
    now[0] += 3 * 3600
    assert manager.get(idle.code) is idle
    now[0] += 1
    assert manager.get(idle.code) is None
    assert manager.get(busy.code) is busy
    assert RoomManager(engine, 3, clock=lambda: now[0]).get(idle.code) is None  # gone on disk
    fresh = RoomManager(engine, 3, clock=lambda: now[0] + 4 * 3600)
    assert fresh.expire() == [busy.code]  # its stored activity is old, and nobody is here
    engine.dispose()


def test_an_idle_room_is_gone_from_the_api(tmp_path: Path, lesson: dict[str, Any]) -> None:
    with _server(tmp_path) as (site, app):
        code = _room(site, _import(site, lesson))["code"]
        manager = app.state.services.rooms.manager
        started = manager.clock()
        manager.clock = lambda: started + 3 * 3600 + 1
        assert httpx.get(f"{site}/api/rooms/{code}").status_code == 404
        assert httpx.get(f"{site}/rooms/{code}/qr.svg").status_code == 404


def test_a_room_survives_a_restart_on_the_same_data_dir(
    tmp_path: Path, lesson: dict[str, Any]
) -> None:
    with _server(tmp_path) as (site, _):
        room = _room(site, _import(site, lesson))
        code, token = room["code"], room["presenter_token"]

        async def before() -> None:
            async with (
                _joined(site, code, token=token) as (presenter, _, _),
                _joined(site, code, member="phone-1") as (student, _, _),
            ):
                await presenter.send({"type": "open_question", "question": 1})
                await student.until("cursor")
                await student.reply({"type": "answer", "choice": 1})
                await presenter.until("tally")
                await presenter.send({"type": "goto", "cursor": 5})
                await student.until("cursor")

        run_async(before())
        saved = _state(site, code)

    with _server(tmp_path) as (site, _):
        assert _state(site, code) == saved
        assert saved["cursor"] == 5 and saved["question"]["question"] == 1

        async def after() -> tuple[dict[str, Any], dict[str, Any], int]:
            async with (
                _joined(site, code, token=token) as (presenter, welcome, _),
                _joined(site, code, member="phone-1") as (_, student_welcome, cursor),
            ):
                assert welcome["role"] == "presenter"
                tally = await presenter.until("tally", members=1)
                return tally, student_welcome, cursor

        tally, student_welcome, cursor = run_async(after())
    assert cursor == 5 and student_welcome["question"]["answer"] == 1
    assert tally["counts"] == [0, 1] and tally["answered"] == 1


def test_the_qr_code_is_an_svg_of_the_join_url(site: str, run_id: str) -> None:
    room = _room(site, run_id)
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

    async def scenario() -> tuple[Seat, Seat, Classroom]:
        classroom = Classroom(RoomManager(engine, 3))
        room = Room("ABCDEF", "run", "token")
        slow, fast = Seat(None, room, False, "slow"), Seat(None, room, False, "fast")  # type: ignore[arg-type]
        classroom._seats[room.code] = {slow, fast}
        for cursor in range(QUEUE_SIZE + 1):
            classroom.broadcast(room, {"type": "cursor", "cursor": cursor})
            fast.queue.get_nowait()  # this one keeps up
        return slow, fast, classroom

    slow, fast, classroom = run_async(scenario())
    engine.dispose()
    assert slow.gone and slow.queue.get_nowait() is None  # its writer closes it: reconnect
    assert not fast.gone and classroom._seats["ABCDEF"] == {fast}
