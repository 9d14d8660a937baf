"""How a room's changes reach the hub: applied at once in one process, or, with several
workers, numbered by Redis and applied by every worker following the room in that one order.

A change (`Op`) is a join, a leave, a member's message, or word that a worker is gone. The
protocol is pure, so workers that apply the same changes in the same order hold the same
room: each one then sends its own members what concerns them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from visualizer.classroom.store import Room, RoomStore

if TYPE_CHECKING:
    from visualizer.bus.redis_bus import Bus

Op = dict[str, Any]
Apply = Callable[[Room, Op], None]

log = logging.getLogger("session_visualizer.rooms")


class Relay(Protocol):
    worker: str

    async def follow(self, room: Room) -> None:
        """This worker seats a member of `room` (held in its store): returns once the room is
        current."""
        ...

    async def unfollow(self, room: Room) -> None:
        """This worker's last member of `room` left (unless another came meanwhile)."""
        ...

    async def send(self, room: Room, op: Op) -> None:
        """Apply `op` to the room wherever it is followed; returns once it is on its way."""
        ...

    def kept(self, rooms: list[Room]) -> None:
        """These rooms were just stored (their state is worth keeping for late workers)."""
        ...

    async def newest(self, room: Room) -> Room:
        """The room as it is now, for a look from outside (the state API)."""
        ...


class InProcess:
    """One process: a change is applied as it is sent."""

    worker = "here"

    def __init__(self, apply: Apply) -> None:
        self.apply = apply

    async def follow(self, room: Room) -> None:
        return None

    async def unfollow(self, room: Room) -> None:
        return None

    async def send(self, room: Room, op: Op) -> None:
        self.apply(room, op)

    def kept(self, rooms: list[Room]) -> None:
        return None

    async def newest(self, room: Room) -> Room:
        return room


@dataclass(slots=True)
class _Following:
    room: Room
    handler: Callable[[Op], None]
    waiting: list[Op] | None = field(default_factory=list)  # while catching up, what came


class Shared:
    """Several workers: changes go through the bus, and come back numbered, to everyone."""

    def __init__(self, bus: Bus, store: RoomStore, apply: Apply) -> None:
        self.bus, self.store, self.apply = bus, store, apply
        self.worker = bus.worker
        self._following: dict[str, _Following] = {}
        self._catching_up: dict[str, asyncio.Task[None]] = {}

    def rooms(self) -> list[Room]:
        return [following.room for following in self._following.values()]

    async def follow(self, room: Room) -> None:
        following = self._following.get(room.code)
        if following is None:
            following = _Following(room, lambda op: self._arrived(room.code, op))
            self._following[room.code] = following
            self._catching_up[room.code] = asyncio.create_task(self._start(following))
        catching_up = self._catching_up.get(room.code)
        if catching_up is not None:
            # Failed (Redis unreachable): the join fails; when its hub lets the room go,
            # the next member tries afresh.
            await asyncio.shield(catching_up)

    async def unfollow(self, room: Room) -> None:
        following = self._following.get(room.code)
        if following is None or room.connections > 0:  # someone joined meanwhile: stay
            return
        del self._following[room.code]
        self.store.release(room.code)
        task = self._catching_up.pop(room.code, None)
        if task is not None:
            task.cancel()
        await self.bus.unfollow_room(room.code, following.handler)

    async def send(self, room: Room, op: Op) -> None:
        await self.bus.append_room(room.code, op, room.seq)

    def kept(self, rooms: list[Room]) -> None:
        for room in rooms:
            if room.code in self._following:
                self.bus.keep_room_state(room.code, room.seq, room.shared_state())

    async def newest(self, room: Room) -> Room:
        if room.code not in self._following:  # followed elsewhere: as the workers keep it
            kept = await self.bus.room_state(room.code)
            if kept is not None and kept[0] >= room.seq:
                room.take_state(*kept)
        return room

    # -- in order ---------------------------------------------------------------------------

    def _arrived(self, code: str, op: Op) -> None:
        following = self._following.get(code)
        if following is None:
            return
        if following.waiting is not None:
            following.waiting.append(op)
        elif op["seq"] == following.room.seq + 1:
            self.apply(following.room, op)
        elif op["seq"] > following.room.seq + 1:  # one was missed (Redis reconnected): the log
            following.waiting = [op]
            self._start_catch_up(following)

    def _start_catch_up(self, following: _Following) -> None:
        code = following.room.code
        self._catching_up[code] = asyncio.create_task(self._catch_up(following))

    async def _start(self, following: _Following) -> None:
        room = following.room
        # Subscribed first: whatever is published from here on is heard.
        await self.bus.follow_room(room.code, following.handler)
        kept = await self.bus.room_state(room.code)
        if kept is not None and kept[0] >= room.seq:
            room.take_state(*kept)  # as new as the stored room, and it knows who is connected
        await self._catch_up(following)

    async def _catch_up(self, following: _Following) -> None:
        """Apply the logged changes after the room's state, then what came meanwhile."""
        room = following.room
        ops = await self.bus.room_log(room.code, room.seq)
        # No await from here on: nothing arrives between taking `waiting` and applying it.
        waiting, following.waiting = following.waiting or [], None
        for op in sorted([*ops, *waiting], key=lambda op: int(op["seq"])):
            if op["seq"] <= room.seq:
                continue  # in the log and published both, or in the state taken already
            if op["seq"] > room.seq + 1:
                log.warning("room %s lost changes %d to %d", room.code, room.seq + 1, op["seq"] - 1)
            self.apply(room, op)
        self._catching_up.pop(room.code, None)
