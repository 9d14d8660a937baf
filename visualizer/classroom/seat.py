"""One member's connection: writes straight to its socket, or waits in its outbox while it is busy.

A step is written to every socket in one pass: a write that does not have to wait (nearly
all of them) is done on the spot. Only a member whose socket is busy (its client reads
slower than we write) gets a task for the write in flight; what comes meanwhile waits in its
outbox (the newest cursor, the ordered messages behind it), sent as soon as the write ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Protocol

from starlette.websockets import WebSocketDisconnect

from visualizer.classroom.eager import start
from visualizer.classroom.messages import Material, Sender
from visualizer.classroom.outbox import Outbox
from visualizer.classroom.store import Room

QUEUE_SIZE = 64  # ordered messages a member may lag behind before it is let go (it reconnects)
BEHIND_CLOSE = 1013  # "try again later": the page reconnects and lands on the current cursor
_LEFT = (WebSocketDisconnect, OSError, RuntimeError)  # a write to a client that has gone


class Socket(Protocol):
    """What a seat needs of its websocket (Starlette's WebSocket is one)."""

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class Seat:
    """One connection: its member, its role, its socket, and what waits for that socket."""

    __slots__ = (
        "_closing",
        "_outbox",
        "_writing",
        "gone",
        "material",
        "number",
        "room",
        "sender",
        "websocket",
    )

    def __init__(
        self,
        websocket: Socket,
        room: Room,
        presenter: bool,
        member: str,
        material: Material | None = None,
        number: int = 0,
    ) -> None:
        self.websocket, self.room, self.material = websocket, room, material
        self.number = number  # which seat of this worker: its replies find it by this
        self.sender = Sender(presenter, member)  # made once: a step sends to every seat
        self._outbox: Outbox | None = None  # made when first needed: most seats never are
        self.gone = False
        self._writing: asyncio.Future[None] | None = None  # a write waiting for the socket
        self._closing = False  # let go: close once the write in flight ends

    @property
    def presenter(self) -> bool:
        return self.sender.presenter

    @property
    def member(self) -> str:
        return self.sender.member

    @property
    def busy(self) -> bool:
        """Whether a write is waiting for the client to read."""
        return self._writing is not None

    @property
    def waiting(self) -> int:
        """Messages waiting for the socket (a replaced latest-wins one is not one)."""
        return len(self._outbox) if self._outbox is not None else 0

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:
            self._outbox = Outbox(QUEUE_SIZE)
        return self._outbox

    def deliver(self, text: str) -> bool:
        """Send an ordered message; False when `QUEUE_SIZE` wait already: let it go."""
        if self.gone:
            return True
        if self._writing is None and not self._outbox:
            self._write(self.websocket.send_text(text))
            return True
        return self.outbox.put(text)

    def deliver_latest(self, kind: str, text: str) -> None:
        """Send a latest-wins message: while the socket is busy, it replaces one of its kind."""
        if self.gone:
            return
        if self._writing is None and not self._outbox:
            self._write(self.websocket.send_text(text))
        else:
            self.outbox.put_latest(kind, text)

    def let_go(self) -> None:
        """Too far behind: drop what waits, and close (1013) once the write in flight ends."""
        self.gone, self._closing = True, True
        self._outbox = None
        self._pump()

    def stop(self) -> None:
        """The connection is over: nothing more is sent."""
        self.gone, self._closing = True, False
        self._outbox = None
        if self._writing is not None:
            self._writing.cancel()

    def _write(self, coro: Coroutine[Any, Any, None]) -> None:
        try:
            writing = start(coro)
        except _LEFT:
            self._lost()  # the client left; its reader sees the disconnect
            return
        if writing is not None:
            self._writing = writing
            writing.add_done_callback(self._written)

    def _written(self, writing: asyncio.Future[None]) -> None:
        self._writing = None
        if writing.cancelled() or writing.exception() is not None:
            self._lost()
            return
        self._pump()

    def _pump(self) -> None:
        """Send what waits, until the socket is busy again or nothing is left."""
        while self._writing is None:
            if self._closing:
                self._closing = False
                self._write(self.websocket.close(BEHIND_CLOSE, "fell behind; reconnect"))
                return
            text = self._outbox.pop() if self._outbox is not None else None
            if text is None:
                self._outbox = None  # nothing waits: give the memory back
                return
            self._write(self.websocket.send_text(text))

    def _lost(self) -> None:
        self.gone, self._closing = True, False
        self._outbox = None
