"""Rooms stored off the step's path: a changed room is written shortly after, batched.

A step only marks its room changed; one write within `SAVE_DELAY_S` stores every room
changed meanwhile, however fast the presenter steps or the class answers. `flush` writes at
once: when a room's last member leaves, and when the server stops, so a clean stop loses
nothing (a crash at most the last `SAVE_DELAY_S`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from visualizer.classroom.store import Room, RoomStore

SAVE_DELAY_S = 1.0


class Saves:
    """The rooms changed since they were last stored, and the timer that stores them."""

    def __init__(
        self,
        store: RoomStore,
        delay_s: float = SAVE_DELAY_S,
        kept: Callable[[list[Room]], None] = lambda rooms: None,
    ) -> None:
        self.store = store
        self.kept = kept  # told what was stored (several workers keep it in Redis too)
        self.delay_s = delay_s
        self._changed: dict[str, Room] = {}
        self._timer: asyncio.TimerHandle | None = None

    def changed(self, room: Room) -> None:
        """Store this room within `delay_s` (with every other room changed meanwhile)."""
        self._changed[room.code] = room
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.delay_s, self.flush)

    def flush(self) -> None:
        """Store every changed room now, in one transaction."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        rooms = list(self._changed.values())
        self._changed.clear()
        # A room forgotten meanwhile (expired) is not written back.
        stored = [room for room in rooms if self.store.get(room.code) is room]
        self.store.save(*stored)
        self.kept(stored)

    @property
    def pending(self) -> list[str]:
        """The codes of the rooms waiting to be stored."""
        return list(self._changed)
