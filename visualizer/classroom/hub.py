"""The live side of rooms: who is connected, and fan-out of the protocol's replies to them."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.websockets import WebSocket, WebSocketDisconnect

from visualizer.classroom.joins import FailedJoins
from visualizer.classroom.messages import Material, Outgoing, Sender, members, tally, welcome
from visualizer.classroom.outbox import Outbox
from visualizer.classroom.protocol import Audience, Reply, handle
from visualizer.classroom.store import Room, RoomStore, normal_code

QUEUE_SIZE = 64  # ordered messages a member may lag behind before it is let go (it reconnects)
ANSWER_SAVE_DELAY_S = 0.5  # a burst of answers is stored in one write


@dataclass(eq=False, slots=True)
class Seat:
    """One connection: its member, its role, and its own bounded outbox."""

    websocket: WebSocket
    room: Room
    presenter: bool
    member: str
    outbox: Outbox = field(default_factory=lambda: Outbox(QUEUE_SIZE))
    gone: bool = False


def texts(message: Outgoing) -> Callable[[Sender], str]:
    """A message as text for each receiver: serialized once, or, for a personal message, once
    per distinct message it gives (a reveal has one per answer, not one per student)."""
    if isinstance(message, dict):
        shared = json.dumps(message)
        return lambda receiver: shared
    made: dict[int, tuple[dict[str, object], str]] = {}  # the message is kept: ids stay unique

    def text(receiver: Sender) -> str:
        personal = message(receiver)
        if id(personal) not in made:
            made[id(personal)] = (personal, json.dumps(personal))
        return made[id(personal)][1]

    return text


class Refused(Exception):
    """A join that is turned away: the close code and the message the client is sent first."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class Hub:
    """Every room's live connections; all methods run on the server's event loop."""

    def __init__(self, store: RoomStore, failed_joins: FailedJoins | None = None) -> None:
        self.store = store
        self.failed_joins = failed_joins or FailedJoins()
        self._seats: dict[str, set[Seat]] = {}
        self._saving: set[str] = set()

    def find(self, address: str, code: str) -> Room:
        """The room with this code; raises Refused when this address guessed too often."""
        if self.failed_joins.blocked(address, normal_code(code)):
            raise Refused(4429, "too many failed attempts; wait a minute")
        room = self.store.get(code)
        if room is None:
            self.failed_joins.record(address)
            raise Refused(4404, f"no room {code[:20]!r}")
        self.failed_joins.joined(address, room.code)
        return room

    def admit(self, address: str, code: str, token: str) -> tuple[Room, bool]:
        """The room and whether the caller presents; raises Refused (rate limit, code, token)."""
        room = self.find(address, code)
        if token and not room.is_presenter(token):
            self.failed_joins.record(address)
            raise Refused(4401, "wrong presenter token")
        return room, bool(token)

    @staticmethod
    def member(room: Room, *secrets_shown: str | None) -> str:
        """The student a member secret proves (the first valid one), or a new student."""
        for secret in secrets_shown:
            member = room.member_of(secret) if secret else None
            if member is not None:
                return member
        return secrets.token_urlsafe(9)

    async def serve(
        self,
        websocket: WebSocket,
        room: Room,
        presenter: bool,
        material: Material,
        name: str,
        member: str,
    ) -> None:
        """Run one accepted connection until it leaves: its writer task and its reader loop."""
        seat = Seat(websocket, room, presenter, member)
        writer = asyncio.create_task(self._write(seat))
        try:
            self._join(seat, name, material)
            while not seat.gone:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                self.store.touch(room)
                reply = handle(room, Sender(presenter, member), material, message.get("text"))
                await self._deliver(seat, reply)
                # Let the writers send before the next message: a burst from one socket then
                # neither holds up the others nor fills its own outbox with replies.
                await asyncio.sleep(0)
        except WebSocketDisconnect:
            pass
        finally:
            self._leave(seat, material)
            writer.cancel()

    # -- fan-out ----------------------------------------------------------------------------

    async def _deliver(self, seat: Seat, reply: Reply) -> None:
        room = seat.room
        for audience, message in reply.out:
            self._to(audience, seat, message)
        if reply.save == "now":
            await asyncio.sleep(0)  # let the writers send before we spend time storing
            self.store.save(room)
        elif reply.save == "soon":
            self.save_soon(room)

    def _to(self, audience: Audience, seat: Seat, message: Outgoing) -> None:
        if audience == "all":
            self.broadcast(seat.room, message)
        elif audience == "presenters":
            self.to_presenters(seat.room, message)
        else:
            self.send(seat, message)

    def send(self, seat: Seat, message: Outgoing) -> None:
        self._put(seat, texts(message)(Sender(seat.presenter, seat.member)))

    def broadcast(self, room: Room, message: Outgoing) -> None:
        text = texts(message)
        for seat in list(self._seats.get(room.code, ())):
            self._put(seat, text(Sender(seat.presenter, seat.member)))

    def to_presenters(self, room: Room, message: Outgoing) -> None:
        """A summary for the presenters (the tally, the member count): the latest one wins,
        so no burst of students can fill a presenter's queue."""
        text = texts(message)
        for seat in list(self._seats.get(room.code, ())):
            if seat.presenter and not seat.gone:
                receiver = Sender(True, seat.member)
                kind = (message if isinstance(message, dict) else message(receiver))["type"]
                seat.outbox.put_summary(str(kind), text(receiver))

    def _put(self, seat: Seat, text: str) -> None:
        if seat.gone or seat.outbox.put(text):
            return
        # Too far behind: let it go rather than slow anyone else; it reconnects and lands on
        # the current cursor.
        seat.gone = True
        self._seats.get(seat.room.code, set()).discard(seat)
        seat.outbox.close()

    async def _write(self, seat: Seat) -> None:
        try:
            while (text := await seat.outbox.get()) is not None:
                await seat.websocket.send_text(text)
            await seat.websocket.close(1013, "fell behind; reconnect to catch up")
        except (WebSocketDisconnect, OSError, RuntimeError):
            seat.gone = True  # the client left mid-send; its reader sees the disconnect

    # -- membership -------------------------------------------------------------------------

    def _join(self, seat: Seat, name: str, material: Material) -> None:
        room = seat.room
        # No await from here to the end: the welcome and the broadcasts cannot interleave.
        self._seats.setdefault(room.code, set()).add(seat)
        room.connections += 1
        if not seat.presenter:
            room.members[seat.member] = name
        self.store.touch(room)
        self.send(seat, welcome(room, material, Sender(seat.presenter, seat.member), name))
        self.send(seat, {"type": "cursor", "cursor": room.cursor})
        if seat.presenter:
            self.send(seat, members(room, material))
        else:
            self.to_presenters(room, members(room, material))
        if room.question is not None:
            self.to_presenters(room, tally(room, material))

    def _leave(self, seat: Seat, material: Material) -> None:
        room = seat.room
        seats = self._seats.get(room.code, set())
        seats.discard(seat)
        seat.gone = True
        room.connections -= 1
        if not seat.presenter and all(other.member != seat.member for other in seats):
            room.members.pop(seat.member, None)
            self.to_presenters(room, members(room, material))
        if not seats:
            self._seats.pop(room.code, None)
            if self.store.get(room.code) is room:
                self.store.save(room)  # its last activity, for expiry after a restart

    def save_soon(self, room: Room) -> None:
        """Store the room shortly: one write for a burst of answers."""
        if room.code in self._saving:
            return
        self._saving.add(room.code)

        def save() -> None:
            self._saving.discard(room.code)
            if self.store.get(room.code) is room:
                self.store.save(room)

        asyncio.get_running_loop().call_later(ANSWER_SAVE_DELAY_S, save)
