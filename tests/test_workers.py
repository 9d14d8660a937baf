"""Several workers: rooms and runs shared through the machine's real Redis and PostgreSQL.

Each worker is its own server process (as on two machines); each test makes its own database
and Redis key prefix, and drops them after.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import run_async
from tests.live_support import REDIS_URL, free_port, postgres_database, redis_prefix, served
from tests.room_support import Member, import_run, joined, open_room, room_state

ROOT = Path(__file__).parent.parent


@pytest.fixture
def shared() -> Iterator[dict[str, str]]:
    """The settings several workers share: a database and a key prefix of this test's own."""
    with redis_prefix() as prefix, postgres_database() as database:
        yield {
            "SESSION_VISUALIZER_DATABASE_URL": database,
            "SESSION_VISUALIZER_REDIS_URL": REDIS_URL,
            "SESSION_VISUALIZER_REDIS_PREFIX": prefix,
        }


@contextmanager
def worker(shared: dict[str, str], data: Path, *more: str) -> Iterator[tuple[str, Any]]:
    """One visualizer process with the shared settings: its address and its process."""
    port = free_port()
    command = [sys.executable, "-m", "visualizer", "--port", str(port), "--no-browser", *more]
    env = {**shared, "SESSION_VISUALIZER_DATA": str(data)}
    with served(command, env, [port], cwd=ROOT) as process:
        yield f"http://127.0.0.1:{port}", process


async def _settle(members: list[Member], kind: str, **fields: Any) -> list[dict[str, Any]]:
    return await asyncio.gather(*(member.until(kind, **fields) for member in members))


def test_a_presenter_on_one_worker_and_students_on_another_follow_every_step(
    shared: dict[str, str], tmp_path: Path, room_lesson: dict[str, Any]
) -> None:
    with (
        worker(shared, tmp_path / "one") as (one, _),
        worker(shared, tmp_path / "two") as (two, _),
    ):
        room = open_room(one, import_run(one, room_lesson))
        code, token, last = room["code"], room["presenter_token"], len(room_lesson["events"])

        async def teach(presenter: Member, students: list[Member]) -> None:
            ada, grace = students
            members = await presenter.until("members", count=2)
            assert sorted(members["names"]) == ["Ada", "Grace"]
            for cursor in range(1, last + 1):
                await presenter.send({"type": "goto", "cursor": cursor})
                moves = await _settle(students, "cursor")
                assert [move["cursor"] for move in moves] == [cursor, cursor]
            await presenter.send({"type": "open_question", "question": 0})
            asked = await _settle(students, "question")
            assert {message["question"] for message in asked} == {0}
            await ada.send({"type": "answer", "choice": 0})
            await grace.send({"type": "answer", "choice": 1})
            assert (await ada.until("answered"))["choice"] == 0
            tally = await presenter.until("tally", answered=2)
            assert tally["counts"] == [1, 1]
            # A late student on the first worker lands where the class is.
            async with joined(one, code, name="Linus") as (_, welcome, cursor):
                assert welcome["question"]["question"] == 0
                assert cursor == room_state(one, code)["cursor"]
                await presenter.until("members", count=3)
            await presenter.send({"type": "reveal"})
            reveals = await _settle(students, "reveal")
            assert [(reveal["counts"], reveal["answered"]) for reveal in reveals] == [
                ([1, 1], 2),
                ([1, 1], 2),
            ]

        async def lesson() -> None:
            async with (
                joined(two, code, name="Ada") as (ada, _, _),
                joined(two, code, name="Grace") as (grace, _, _),
            ):
                # Worker one has nobody in the room yet: it tells the room as Redis keeps it.
                deadline = time.monotonic() + 5
                while room_state(one, code)["members"] < 2 and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                assert room_state(one, code)["members"] == 2
                async with joined(one, code, token=token) as (presenter, _, _):
                    await teach(presenter, [ada, grace])

        run_async(lesson())
        # Neither worker holds the room now, and both tell the same state.
        assert room_state(one, code)["cursor"] == room_state(two, code)["cursor"]


def test_a_worker_killed_mid_lesson_loses_no_run_or_room(
    shared: dict[str, str], tmp_path: Path, room_lesson: dict[str, Any]
) -> None:
    with worker(shared, tmp_path / "two") as (two, _):
        with worker(shared, tmp_path / "one") as (one, doomed):
            run = import_run(one, room_lesson)
            room = open_room(one, run)
            code, token = room["code"], room["presenter_token"]

            async def until_the_kill() -> str:
                async with (
                    joined(two, code, token=token) as (presenter, _, _),
                    joined(one, code, name="Ada") as (ada, welcome, _),
                ):
                    await presenter.until("members", count=1)
                    await presenter.send({"type": "goto", "cursor": 5})
                    await ada.until("cursor", cursor=5)
                    await presenter.send({"type": "open_question", "question": 1})
                    await ada.until("question")
                    await ada.send({"type": "answer", "choice": 1})
                    await presenter.until("tally", answered=1)
                    os.killpg(doomed.pid, signal.SIGKILL)  # no goodbye, no last save
                    # The class goes on on the other worker; the presenter sees Ada leave
                    # once her worker stops beating.
                    await presenter.until("members", count=0)
                    await presenter.send({"type": "goto", "cursor": 7})
                    await presenter.until("cursor", cursor=7)
                    secret: str = welcome["member"]
                    return secret

            secret = run_async(until_the_kill())
        # Worker one is dead. Its run and its room are where every worker finds them.
        stored = httpx.get(f"{two}/api/runs/{run}").json()
        assert stored["status"] == "done" and len(stored["events"]) == len(room_lesson["events"])
        assert room_state(two, code)["cursor"] == 7

        async def reconnect() -> None:
            async with joined(two, code, member=secret) as (_, welcome, cursor):
                assert cursor == 7
                assert welcome["question"]["question"] == 1
                assert welcome["question"]["answer"] == 1  # her answer was kept

        run_async(reconnect())


def test_a_run_started_on_one_worker_streams_to_another(
    shared: dict[str, str], tmp_path: Path
) -> None:
    one_only = {**shared, "SESSION_VISUALIZER_MAX_PARALLEL_RUNS": "1"}
    with (
        worker(one_only, tmp_path / "one") as (one, _),
        worker(shared, tmp_path / "two") as (two, _),
    ):
        # One run at a time on the first worker: the last one waits, still running, while
        # the second worker's subscriber connects.
        started = [
            httpx.post(f"{one}/api/runs", json={"scenario": "create_item"}).json()["id"]
            for _ in range(3)
        ]
        last = started[-1]
        assert httpx.get(f"{two}/api/runs/{last}").json()["status"] == "running"

        async def follow() -> list[dict[str, Any]]:
            from websockets.asyncio.client import connect

            messages = []
            url = two.replace("http://", "ws://") + f"/ws/runs/{last}"
            async with connect(url) as ws:
                async for text in ws:
                    message = httpx.Response(200, content=text).json()
                    messages.append(message)
                    if message["type"] == "end":
                        break
            return messages

        messages = run_async(asyncio.wait_for(follow(), 60))
        stored = httpx.get(f"{one}/api/runs/{last}").json()
        assert messages[-1] == {"type": "end", "status": "done", "events": len(stored["events"])}
        streamed = [message["event"] for message in messages[:-1]]
        assert streamed == stored["events"]


def test_the_runs_of_a_killed_worker_end_as_interrupted_everywhere(
    shared: dict[str, str], tmp_path: Path
) -> None:
    one_only = {**shared, "SESSION_VISUALIZER_MAX_PARALLEL_RUNS": "1"}
    with worker(shared, tmp_path / "two") as (two, _):
        with worker(one_only, tmp_path / "one") as (one, doomed):
            started = [
                httpx.post(f"{one}/api/runs", json={"scenario": "create_item"}).json()["id"]
                for _ in range(3)
            ]

            async def follow_until_the_end() -> dict[str, Any]:
                from websockets.asyncio.client import connect

                url = two.replace("http://", "ws://") + f"/ws/runs/{started[-1]}"
                async with connect(url) as ws:
                    os.killpg(doomed.pid, signal.SIGKILL)  # with the last run still queued
                    async for text in ws:
                        message: dict[str, Any] = json.loads(text)
                        if message["type"] == "end":
                            return message
                raise AssertionError("the stream closed without an end")

            end = run_async(asyncio.wait_for(follow_until_the_end(), 30))
        assert end["status"] == "failed" and "interrupted" in end["error"]
        stored = httpx.get(f"{two}/api/runs/{started[-1]}").json()
        assert stored["status"] == "failed" and "interrupted" in stored["error"]


def test_several_workers_serve_one_classroom(
    shared: dict[str, str], tmp_path: Path, room_lesson: dict[str, Any]
) -> None:
    import redis

    prefix = shared["SESSION_VISUALIZER_REDIS_PREFIX"]
    with worker(shared, tmp_path / "data", "--workers", "2") as (site, _):
        client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
        deadline = time.monotonic() + 20
        alive: list[str] = []
        while time.monotonic() < deadline and len(alive) < 2:
            alive = list(client.scan_iter(f"{prefix}:worker:*"))
            time.sleep(0.2)
        assert len(alive) == 2, alive
        room = open_room(site, import_run(site, room_lesson))
        code, token = room["code"], room["presenter_token"]

        def kept_sockets() -> dict[str, dict[str, int]]:
            """Where the students sit (member -> worker -> sockets), as Redis keeps the room."""
            kept = client.hget(f"{prefix}:room:{code}:state", "state")
            return json.loads(kept)["sockets"] if kept else {}

        async def lesson() -> set[str]:
            async with (
                joined(site, code, token=token) as (presenter, _, _),
                AsyncExitStack() as stack,
            ):
                students: list[Member] = []
                workers: set[str] = set()
                # Classes join a dozen at once until both workers took some (the kernel, not
                # us, says which worker accepts a connection).
                while len(workers) < 2 and len(students) < 120:
                    batch = range(len(students), len(students) + 12)
                    seated = await asyncio.gather(
                        *(
                            stack.enter_async_context(joined(site, code, name=f"s{n}"))
                            for n in batch
                        )
                    )
                    students += [student for student, _, _ in seated]
                    await presenter.until("members", count=len(students))
                    while len(sockets := kept_sockets()) < len(students):
                        await asyncio.sleep(0.1)
                    workers = {w for by_worker in sockets.values() for w in by_worker}
                for cursor in (3, 6, 9):
                    await presenter.send({"type": "goto", "cursor": cursor})
                    moves = await _settle(students, "cursor", cursor=cursor)
                    assert len(moves) == len(students)
                return workers

        workers = run_async(lesson())
        assert workers == {key.rsplit(":", 1)[1] for key in alive}  # both took students


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"SESSION_VISUALIZER_REDIS_URL": REDIS_URL},
        {"SESSION_VISUALIZER_DATABASE_URL": "postgresql://postgres@127.0.0.1/postgres"},
        {
            "SESSION_VISUALIZER_REDIS_URL": REDIS_URL,
            "SESSION_VISUALIZER_DATABASE_URL": "sqlite:////tmp/runs.db",
        },
    ],
)
def test_several_workers_are_refused_without_a_shared_store_and_bus(
    env: dict[str, str], tmp_path: Path
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SESSION_VISUALIZER_")}
    done = subprocess.run(
        [sys.executable, "-m", "visualizer", "--workers", "2", "--no-browser"],
        env={**clean, **env, "SESSION_VISUALIZER_DATA": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "SESSION_VISUALIZER_REDIS_URL" in done.stderr
    assert "SESSION_VISUALIZER_DATABASE_URL" in done.stderr


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"SESSION_VISUALIZER_REDIS_URL": "redis://127.0.0.1:1/0"}, "cannot reach"),
        (
            {"SESSION_VISUALIZER_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"},
            "cannot reach",
        ),
    ],
)
def test_a_store_or_bus_that_cannot_be_reached_is_said_before_serving(
    env: dict[str, str], said: str, tmp_path: Path
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SESSION_VISUALIZER_")}
    done = subprocess.run(
        [sys.executable, "-m", "visualizer", "--no-browser", "--port", str(free_port())],
        env={**clean, **env, "SESSION_VISUALIZER_DATA": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert said in done.stderr and next(iter(env)) in done.stderr
    assert "Traceback" not in done.stderr
