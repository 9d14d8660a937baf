"""The room websocket with real clients: the presenter drives, students follow and answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.helpers import run_async
from tests.room_support import (
    QUESTIONS,
    data,
    first_stop,
    import_run,
    joined,
    open_room,
    refused,
    room_state,
    serve,
    ws_url,
)


def test_the_presenter_moves_every_student_and_a_late_joiner_lands_there(
    site: str, room_run: str
) -> None:
    room = open_room(site, room_run)
    code, token = room["code"], room["presenter_token"]

    async def scenario() -> tuple[list[dict[str, Any]], int, dict[str, Any]]:
        async with (
            joined(site, code, token=token) as (presenter, welcome, _),
            joined(site, code, name="Ann") as (ann, _, _),
            joined(site, code, name="Bob") as (bob, _, _),
            joined(site, code) as (cem, _, _),
        ):
            assert welcome["role"] == "presenter" and welcome["run"] == room_run
            members = await presenter.until("members", count=3)
            await presenter.send({"type": "goto", "cursor": 7})
            seen = [await student.next() for student in (ann, bob, cem)]
            async with joined(site, code) as (_, late_welcome, late_cursor):
                return seen, late_cursor, {"late": late_welcome, "members": members}

    seen, late_cursor, extra = run_async(scenario())
    assert seen == [{"type": "cursor", "cursor": 7}] * 3
    assert late_cursor == 7 and extra["late"]["role"] == "student"
    assert data(extra["members"]) == {"type": "members", "count": 3, "names": ["Ann", "Bob"]}
    assert '<template hx type="partial" hx-target="#members"' in extra["members"]["content"]
    assert "3 students: Ann, Bob" in extra["members"]["content"]
    assert room_state(site, code)["cursor"] == 7


def test_a_student_cannot_drive_and_nothing_changes(
    site: str, room_run: str, room_lesson: dict[str, Any]
) -> None:
    room = open_room(site, room_run)
    code, token = room["code"], room["presenter_token"]

    async def scenario() -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
        async with (
            joined(site, code, token=token) as (presenter, _, _),
            joined(site, code) as (mallory, _, _),
            joined(site, code) as (other, _, _),
        ):
            await presenter.send({"type": "open_question", "question": 1})
            await mallory.until("cursor")
            await other.until("cursor")
            before = room_state(site, code)
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
            return replies, {"before": before, "after": room_state(site, code)}, pong

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
    assert after["cursor"] == first_stop(room_lesson, "response.start")  # question 1 stops there


def test_refusals_wrong_token_unknown_code_and_other_origins(site: str, room_run: str) -> None:
    room = open_room(site, room_run)
    code = room["code"]

    async def scenario() -> list[tuple[dict[str, Any], int | None]]:
        return [
            await refused(ws_url(site, code, token="not-the-token")),
            await refused(ws_url(site, "NOROOM")),
            await refused(ws_url(site, code), origin="http://evil.example"),
            await refused(ws_url(site, code), origin=site.replace("127.0.0.1", "localhost")),
        ]

    wrong, unknown, evil, other_host = run_async(scenario())
    assert wrong == ({"type": "error", "message": "wrong presenter token"}, 4401)
    assert unknown == ({"type": "error", "message": "no room 'NOROOM'"}, 4404)
    assert evil[1] == 4403 and evil[0]["type"] == "error"
    assert other_host[1] == 4403

    async def same_origin() -> str:
        async with joined(site, code, origin=site) as (_, welcome, _):
            return str(welcome["role"])

    assert run_async(same_origin()) == "student"  # the page's own origin is welcome


def test_failed_joins_from_one_address_are_rate_limited(tmp_path: Path, room_lesson: Any) -> None:
    with serve(tmp_path) as (site, _):
        code = open_room(site, import_run(site, room_lesson))["code"]

        async def scenario() -> list[int | None]:
            codes = [(await refused(ws_url(site, f"BAD{n:03d}")))[1] for n in range(20)]
            # Now even the right code is refused: guessing gets 20 tries a minute.
            return [*codes, (await refused(ws_url(site, code)))[1]]

        closes = run_async(scenario())
        looked_up = httpx.get(f"{site}/api/rooms/{code}")
    assert closes == [4404] * 20 + [4429]
    assert looked_up.status_code == 429  # codes cannot be tried over HTTP instead


def test_answers_reach_the_tally_and_the_reveal_is_what_the_events_prove(
    site: str, room_run: str, room_lesson: dict[str, Any]
) -> None:
    room = open_room(site, room_run)
    code, token = room["code"], room["presenter_token"]
    stop = first_stop(room_lesson, "session.close")
    sent_first = first_stop(room_lesson, "response.start") < stop
    right = 0 if sent_first else 1

    async def scenario() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        async with (
            joined(site, code, token=token) as (presenter, _, _),
            joined(site, code) as (s1, _, _),
            joined(site, code) as (s2, _, _),
            joined(site, code) as (s3, s3_welcome, _),
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
            async with joined(site, code, member=s3_welcome["member"]) as (_, welcome, _):
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
    assert [data(q) for q in seen["question"]] == [ask] * 3  # never the answer, nor the claims
    assert all('hx-target="#question"' in q["content"] for q in seen["question"])
    assert all('aria-pressed="true"' not in q["content"] for q in seen["question"])
    assert seen["cursor"] == [{"type": "cursor", "cursor": stop}] * 3
    assert [a["choice"] for a in seen["answered"]] == [0, 1, 0, 1]
    tally = seen["tally"]["content"]
    assert 'hx-target="#tally"' in tally
    assert "— 2" in tally and "3 of 3 students answered." in tally
    assert data(seen["tally"]) == {
        "type": "tally",
        "question": 0,
        "counts": [1, 2],
        "answered": 3,
        "members": 3,
    }
    reveal = data(seen["reveal"][0])
    assert [data(r) for r in seen["reveal"]] == [reveal] * 3
    assert reveal["right"] == right and reveal["counts"] == [1, 2]
    # Each student's reveal is written for them: their own answer, right or not.
    verdicts = ["Right!" in r["content"] for r in seen["reveal"]]
    assert verdicts == [right == 0, right == 1, right == 1]
    assert reveal["explain"] == QUESTIONS[0]["explain"]
    assert seen["after"] == [{"type": "cursor", "cursor": stop + 1}] * 3
    assert room_lesson["events"][stop]["kind"] == "session.close"  # the event now shown
    assert seen["late"]["type"] == "error" and "revealed" in seen["late"]["message"]
    assert seen["rejoined"]["answer"] == 1 and seen["rejoined"]["right"] == right
    assert data(seen["closed"]) == {"type": "question_closed", "question": 0}
    assert 'hx-target="#question" hx-swap="innerMorph"></template>' in seen["closed"]["content"]
    assert room_state(site, code)["question"] is None


def test_malformed_messages_get_errors_and_the_connection_stays_usable(
    site: str, room_run: str, room_lesson: dict[str, Any]
) -> None:
    room = open_room(site, room_run)
    code, token = room["code"], room["presenter_token"]
    last = len(room_lesson["events"])

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
        async with (
            joined(site, code, token=token) as (presenter, _, _),
            joined(site, code) as (student, _, _),
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
            unchanged = room_state(site, code)
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


def test_a_student_names_itself_over_the_socket_and_names_are_never_markup(
    site: str, room_run: str
) -> None:
    room = open_room(site, room_run)
    code, token = room["code"], room["presenter_token"]

    async def scenario() -> dict[str, Any]:
        async with (
            joined(site, code, token=token) as (presenter, _, _),
            joined(site, code) as (student, welcome, _),
        ):
            await presenter.until("members", count=1)
            named = await student.reply({"type": "name", "name": "<b>Ann</b>\u202e\x07"})
            members = await presenter.until("members")
            refused = await presenter.reply({"type": "name", "name": "Teacher"})
            bad = await student.reply({"type": "name", "name": 7})
            return {
                "welcome": welcome,
                "named": named,
                "members": members,
                "refused": refused,
                "bad": bad,
            }

    seen = run_async(scenario())
    assert "You are a student in room" in seen["welcome"]["content"]
    assert seen["named"]["type"] == "named" and seen["named"]["name"] == "<b>Ann</b>"
    assert "as &lt;b&gt;Ann&lt;/b&gt;" in seen["named"]["content"]
    assert seen["members"]["names"] == ["<b>Ann</b>"]
    assert "&lt;b&gt;Ann&lt;/b&gt;" in seen["members"]["content"]
    assert "<b>" not in seen["members"]["content"]
    assert seen["refused"]["type"] == "error" and "presenter" in seen["refused"]["message"]
    assert seen["bad"]["type"] == "error"
    assert 'hx-target="#room-status"' in seen["bad"]["content"]
