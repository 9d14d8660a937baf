"""A classroom under stress and under attack: the presenter keeps the seat, votes stay honest.

Bursts of answers or joins never close the presenter; nobody answers as another student; one
browser is one vote however many sockets it opens; a typing class behind one NAT is not
locked out of its own room by a few typos.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from websockets.asyncio.client import connect

from tests.helpers import run_async
from tests.room_support import (
    HeldSocket,
    Member,
    import_run,
    joined,
    open_room,
    refused,
    serve,
    settle,
    ws_url,
)
from visualizer.classroom.hub import Hub
from visualizer.classroom.routes import MEMBER_COOKIE
from visualizer.classroom.seat import Seat
from visualizer.classroom.store import Room, RoomStore


async def _drain(member: Member, seconds: float = 0.5) -> list[dict[str, Any]]:
    """Everything the member is sent until it has been quiet for `seconds`."""
    seen = []
    while True:
        try:
            seen.append(json.loads(await asyncio.wait_for(member.ws.recv(), seconds)))
        except TimeoutError:
            return seen


def test_a_burst_of_answers_never_closes_the_presenter(site: str, room_run: str) -> None:
    room = open_room(site, room_run)
    code, token = room["code"], room["presenter_token"]

    async def scenario() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        async with (
            joined(site, code, token=token) as (presenter, _, _),
            joined(site, code) as (student, _, _),
        ):
            await presenter.send({"type": "open_question", "question": 0})
            await student.until("cursor")
            # 300 answers in one burst: the server reads them all before anything is sent.
            for n in range(300):
                await student.send({"type": "answer", "choice": n % 2})
            seen = await _drain(presenter)
            pong = await presenter.reply({"type": "ping"})
            return seen, pong

    seen, pong = run_async(scenario())
    assert pong == {"type": "pong"}  # still connected, still answered
    tallies = [m for m in seen if m["type"] == "tally"]
    assert tallies[-1]["counts"] == [0, 1] and tallies[-1]["answered"] == 1


def test_a_presenter_who_reads_nothing_holds_one_tally_and_one_count(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'rooms.db'}")
    held = HeldSocket(held=True)

    async def scenario() -> tuple[Seat, Seat]:
        hub = Hub(RoomStore(engine, 3))
        room = Room("ABCDEF", "run", "token")
        presenter = Seat(held, room, True, "p")
        student = Seat(HeldSocket(), room, False, "s")
        hub._seats[room.code] = {presenter, student}
        hub.broadcast(room, {"type": "cursor", "cursor": 3})  # in flight: the client is held
        for n in range(10_000):  # answers, joins and steps, with nobody reading
            hub.to_presenters(room, {"type": "tally", "answered": n})
            hub.to_presenters(room, {"type": "members", "count": n})
            hub.broadcast(room, {"type": "cursor", "cursor": n})
        hub.broadcast(room, {"type": "question_closed", "question": 0})
        hub.to_presenters(room, {"type": "tally", "answered": 10_000})
        assert presenter.waiting == 4  # one of each kind, and the ordered one
        held.release()
        await settle()
        return presenter, student

    presenter, student = run_async(scenario())
    engine.dispose()
    assert not presenter.gone and not student.gone
    assert held.messages() == [
        {"type": "cursor", "cursor": 3},
        {"type": "members", "count": 9_999},
        {"type": "cursor", "cursor": 9_999},
        {"type": "question_closed", "question": 0},  # never overtaken by one put after it
        {"type": "tally", "answered": 10_000},  # and the tally before it is out of date
    ]


def test_two_hundred_students_joining_at_once_never_close_the_presenter(
    site: str, room_run: str
) -> None:
    room = open_room(site, room_run)
    code, token = room["code"], room["presenter_token"]

    async def scenario() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        async with joined(site, code, token=token) as (presenter, _, _):
            await presenter.send({"type": "open_question", "question": 0})
            await presenter.until("tally")
            sockets = await asyncio.gather(*(connect(ws_url(site, code)) for _ in range(200)))
            try:
                seen = await _drain(presenter, 1.0)
                pong = await presenter.reply({"type": "ping"})
            finally:
                await asyncio.gather(*(ws.close() for ws in sockets))
            return seen, pong

    seen, pong = run_async(scenario())
    assert pong == {"type": "pong"}
    counts = [m["count"] for m in seen if m["type"] == "members"]
    assert counts[-1] == 200 and len(counts) < 200
    assert [m for m in seen if m["type"] == "tally"][-1]["members"] == 200


def test_nobody_answers_as_another_student(site: str, room_run: str) -> None:
    room = open_room(site, room_run)
    code, token = room["code"], room["presenter_token"]

    async def scenario() -> dict[str, Any]:
        async with (
            joined(site, code, token=token) as (presenter, _, _),
            joined(site, code, member="phone-3") as (ann, ann_welcome, _),
        ):
            await presenter.send({"type": "open_question", "question": 0})
            await ann.until("cursor")
            await ann.reply({"type": "answer", "choice": 0})
            ann_id = ann_welcome["member"].partition(".")[0]
            forged = f"{ann_id}.{'A' * 22}"
            for guess in ("phone-3", ann_id, forged):  # a chosen id, Ann's id, a forged secret
                async with joined(site, code, member=guess) as (mallory, welcome, _):
                    assert welcome["member"] != ann_welcome["member"]
                    await mallory.reply({"type": "answer", "choice": 1})
            return await presenter.until("tally", answered=4)

    tally = run_async(scenario())
    assert tally["counts"] == [1, 3]  # Ann's answer stands; each guess was a new student


def test_one_browser_with_fifty_sockets_is_one_vote(site: str, room_run: str) -> None:
    room = open_room(site, room_run)
    code, token = room["code"], room["presenter_token"]

    async def scenario() -> tuple[dict[str, Any], set[str]]:
        async with joined(site, code, token=token) as (presenter, _, _):
            await presenter.send({"type": "open_question", "question": 0})
            await presenter.until("tally")
            first = await connect(ws_url(site, code))
            cookie = first.response.headers["set-cookie"].split(";")[0]  # type: ignore[union-attr]
            assert cookie.startswith(f"{MEMBER_COOKIE}{code}=")
            # A browser sends its cookie with every socket it opens to this room.
            others = [
                await connect(ws_url(site, code), additional_headers={"cookie": cookie})
                for _ in range(49)
            ]
            members = set()
            for ws in [first, *others]:
                member = Member(ws)
                welcome = await member.until("welcome")
                members.add(welcome["member"])
                assert welcome["question"]["question"] == 0
                await member.send({"type": "answer", "choice": len(members) % 2})
                await member.until("answered")
            tally = await presenter.until("tally", answered=1)
            await asyncio.gather(*(ws.close() for ws in [first, *others]))
            return tally, members

    tally, members = run_async(scenario())
    assert len(members) == 1 and tally["members"] == 1


def test_typos_behind_one_address_do_not_lock_a_class_out_of_its_room(
    tmp_path: Path, room_lesson: dict[str, Any]
) -> None:
    with serve(tmp_path) as (site, _):
        run = import_run(site, room_lesson)
        ours, other = open_room(site, run)["code"], open_room(site, run)["code"]

        async def scenario() -> tuple[list[int | None], str, int | None]:
            async with joined(site, ours):  # a classmate is in: this address knows the room
                typos = [(await refused(ws_url(site, f"TYP{n:03d}")))[1] for n in range(20)]
                async with joined(site, ours.lower()) as (_, welcome, _):
                    late = welcome["role"]
                guessed = (await refused(ws_url(site, other)))[1]
            return typos, late, guessed

        typos, late, guessed = run_async(scenario())
    assert typos == [4404] * 20
    assert late == "student"  # the right code still works from here
    assert guessed == 4429  # a code nobody here joined stays locked: no guessing
