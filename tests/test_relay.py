"""The shared relay on a real Redis: every follower applies a room's changes in one order,
a late one catches up from the kept state and the log, and a lost message is fetched again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from tests.helpers import run_async
from tests.live_support import REDIS_URL, redis_prefix
from visualizer.bus.redis_bus import Bus
from visualizer.classroom.relay import Op, Shared
from visualizer.classroom.store import Room, RoomStore


@pytest.fixture
def prefix() -> Iterator[str]:
    with redis_prefix() as made:
        yield made


class Follower:
    """One worker's relay for a room, and the changes it applied, in order."""

    def __init__(self, relay: Shared, store: RoomStore) -> None:
        self.relay, self.store, self.applied = relay, store, []

    def apply(self, room: Room, op: Op) -> None:
        room.seq = op["seq"]
        room.cursor = op["cursor"]  # a stand-in for the protocol: the newest cursor wins
        self.applied.append(op["seq"])


@asynccontextmanager
async def follower(prefix: str, database: Path, name: str) -> AsyncIterator[Follower]:
    bus = Bus(REDIS_URL, prefix, 600, worker=name)
    store = RoomStore(create_engine(f"sqlite:///{database}"), 3, shared=True)
    made = Follower(None, store)  # type: ignore[arg-type]
    made.relay = Shared(bus, store, made.apply)
    await bus.start()
    try:
        yield made
    finally:
        await bus.close()


async def _until(condition: Any, timeout: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_followers_apply_every_change_in_one_order_and_a_late_one_catches_up(
    prefix: str, tmp_path: Path
) -> None:
    database = tmp_path / "rooms.db"

    async def scenario() -> None:
        async with (
            follower(prefix, database, "a") as a,
            follower(prefix, database, "b") as b,
        ):
            room = a.store.create("run")
            rooms = {a: a.store.hold(room), b: b.store.hold(b.store.get(room.code))}
            for each, held in rooms.items():
                held.connections = 1
                await each.relay.follow(held)
            # Both send at once: Redis orders them, and both apply that order.
            await asyncio.gather(
                *(a.relay.send(rooms[a], {"cursor": n, "worker": "a"}) for n in range(20)),
                *(b.relay.send(rooms[b], {"cursor": n, "worker": "b"}) for n in range(20)),
            )
            await _until(lambda: len(a.applied) == len(b.applied) == 40)
            assert a.applied == b.applied == list(range(1, 41))
            assert rooms[a].cursor == rooms[b].cursor

            a.relay.kept([rooms[a]])  # a keeps the state as of change 40
            await asyncio.sleep(0.2)
            await a.relay.send(rooms[a], {"cursor": 99, "worker": "a"})
            await _until(lambda: len(a.applied) == 41)
            async with follower(prefix, database, "c") as c:
                late = c.store.hold(c.store.get(room.code))
                late.connections = 1
                await c.relay.follow(late)
                # The kept state (change 40), then the logged change 41 on top of it.
                assert (late.seq, late.cursor, c.applied) == (41, 99, [41])

                # A message lost on the way (as over a reconnect): the log fills the gap.
                lost = await c.relay.bus.room_log(room.code, 41)
                assert lost == []
                await a.relay.send(rooms[a], {"cursor": 7, "worker": "a"})
                await _until(lambda: 42 in c.applied)
                c.applied.clear()
                late.seq = 40  # as if change 41 and 42 had never arrived
                c.relay._arrived(room.code, {"seq": 43, "cursor": 8, "worker": "a"})
                await _until(lambda: c.applied == [41, 42, 43])

    run_async(scenario())
