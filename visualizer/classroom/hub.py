"""The live side of rooms: who is connected, and fan-out of the protocol's replies to them."""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from starlette.websockets import WebSocket

from visualizer.classroom.joins import FailedJoins
from visualizer.classroom.messages import (
    Material,
    Message,
    Outgoing,
    Sender,
    members,
    tally,
    welcome,
)
from visualizer.classroom.protocol import Reply, Summary, handle, is_ping
from visualizer.classroom.relay import InProcess, Op, Relay, Shared
from visualizer.classroom.saving import Saves
from visualizer.classroom.seat import Seat
from visualizer.classroom.store import Room, RoomStore, normal_code

if TYPE_CHECKING:
    from visualizer.bus.redis_bus import Bus

TOUCH_EVERY_S = 60.0  # a followed room is stored this often, so no other worker expires it
# Each of these says everything about its kind: the newest one waiting replaces an older one.
LATEST = frozenset({"cursor", "tally", "members"})
SUMMARIES: dict[Summary, Callable[[Room, Material], Message]] = {
    "tally": tally,
    "members": members,
}


def texts(message: Outgoing) -> Callable[[Sender], tuple[str, str]]:
    """A message's type and text for each receiver: serialized once, or, for a personal
    message, once per distinct message it gives (a reveal has one per answer, not per student)."""
    if isinstance(message, dict):
        shared = (str(message["type"]), json.dumps(message))
        return lambda receiver: shared
    made: dict[int, tuple[dict[str, object], tuple[str, str]]] = {}  # kept: ids stay unique

    def text(receiver: Sender) -> tuple[str, str]:
        personal = message(receiver)
        if id(personal) not in made:
            made[id(personal)] = (personal, (str(personal["type"]), json.dumps(personal)))
        return made[id(personal)][1]

    return text


class Refused(Exception):
    """A join that is turned away: the close code and the message the client is sent first."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class Hub:
    """Every room's live connections on this worker; all methods run on its event loop.

    Every change to a room (a join, a leave, a member's message) goes through the relay and
    comes back to `apply`: at once in one process; with several workers (`bus`), in the one
    order Redis gives it, on every worker that has members in the room.
    """

    def __init__(
        self, store: RoomStore, failed_joins: FailedJoins | None = None, bus: Bus | None = None
    ) -> None:
        self.store = store
        self.failed_joins = failed_joins or FailedJoins()
        self.relay: Relay = InProcess(self.apply) if bus is None else Shared(bus, store, self.apply)
        self.saves = Saves(store, kept=self.relay.kept)
        self._seats: dict[str, set[Seat]] = {}  # seated: welcomed, following the room
        self._arriving: dict[int, Seat] = {}  # joined, welcomed once its join is applied
        self._numbered: dict[int, Seat] = {}  # every seat here, by number: replies find it
        self._numbers = itertools.count(1)
        self._materials: dict[str, Material] = {}  # per connected room: its members share it
        self._stale: dict[str, tuple[Room, Material, dict[Summary, None]]] = {}
        self._refreshing: asyncio.Handle | None = None
        self._touched = time.monotonic()
        self._unfollowing: set[asyncio.Task[None]] = set()
        if bus is not None:
            bus.every_beat(self._check_workers)

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

    def material(self, room: Room, make: Callable[[], Material | None]) -> Material | None:
        """What the room teaches: made once while anyone is connected, shared by every member."""
        material = self._materials.get(room.code)
        if material is None and (material := make()) is not None and room.code in self._seats:
            self._materials[room.code] = material
        return material

    async def join(
        self,
        websocket: WebSocket,
        room: Room,
        presenter: bool,
        material: Material,
        name: str,
        member: str,
    ) -> Seat:
        """Seat an accepted connection: it is welcomed, and follows the room from now on."""
        room = self.store.hold(room)  # the one this worker's seats share
        self._materials.setdefault(room.code, material)
        room.connections += 1
        try:
            await self.relay.follow(room)
        except BaseException:
            self._left_here(room)
            raise
        seat = Seat(websocket, room, presenter, member, material, next(self._numbers))
        self._arriving[seat.number] = self._numbered[seat.number] = seat
        self.store.touch(room)
        try:
            await self.relay.send(room, self._op("join", seat, name=name))
        except BaseException:  # half seated (a welcome that failed to render): unseat it
            await self.leave(seat)
            raise
        return seat

    async def receive(self, seat: Seat, text: str | None) -> None:
        """One message from a member: applied to its room, and the replies sent."""
        assert seat.material is not None
        self.store.touch(seat.room)
        if is_ping(text):  # changes nothing: answered here
            self._deliver(seat.room, seat, handle(seat.room, seat.sender, seat.material, text))
            return
        await self.relay.send(seat.room, self._op("say", seat, text=text))

    async def leave(self, seat: Seat) -> None:
        """The connection is over: nothing more is sent to it, and the room is told."""
        seat.stop()
        self._arriving.pop(seat.number, None)
        self._numbered.pop(seat.number, None)
        room = seat.room
        self._seats.get(room.code, set()).discard(seat)
        try:
            await self.relay.send(room, self._op("leave", seat))
        finally:
            self._left_here(room)

    def _op(self, kind: str, seat: Seat, **more: object) -> Op:
        return {
            "op": kind,
            "worker": self.relay.worker,
            "seat": seat.number,
            "presenter": seat.presenter,
            "member": seat.member,
            **more,
        }

    def _left_here(self, room: Room) -> None:
        room.connections -= 1
        if room.connections > 0:
            return
        self._seats.pop(room.code, None)
        self._materials.pop(room.code, None)
        self.saves.changed(room)  # its last activity, for expiry after a restart
        self.saves.flush()  # and nothing waits for a timer once nobody is here
        if isinstance(self.relay, Shared):
            unfollowing = asyncio.get_running_loop().create_task(self.relay.unfollow(room))
            self._unfollowing.add(unfollowing)
            unfollowing.add_done_callback(self._unfollowing.discard)

    # -- changes, in order ------------------------------------------------------------------

    def apply(self, room: Room, op: Op) -> None:
        """One change to the room, in the order every worker following it applies them."""
        room.seq = int(op.get("seq", room.seq + 1))
        material = self._materials.get(room.code)
        if material is None:  # nobody here any more; the room is being let go
            return
        ours = op["worker"] == self.relay.worker
        kind = op["op"]
        if kind == "say":
            seat = self._numbered.get(op["seat"]) if ours else None
            sender = Sender(bool(op["presenter"]), str(op["member"]))
            self._deliver(room, seat, handle(room, sender, material, op["text"]))
        elif kind == "join":
            self._joined(room, material, op, self._arriving.pop(op["seat"], None) if ours else None)
        elif kind == "leave":
            if not op["presenter"] and room.disconnect(op["member"], op["worker"]):
                self.refresh(room, material, "members")  # its browser's last socket
        elif kind == "gone":  # a worker stopped without saying goodbye: its members left
            room.drop_worker(op["gone"])
            self.refresh(room, material, "members")
        if isinstance(self.relay, Shared):
            self.saves.changed(room)  # every change: a late worker catches up from it

    def flush(self) -> None:
        """Store every room changed since it was last stored (the server is stopping)."""
        self.saves.flush()

    # -- fan-out ----------------------------------------------------------------------------

    def _deliver(self, room: Room, seat: Seat | None, reply: Reply) -> None:
        """What a message produced: to everyone here, the presenters here, or its sender (if
        it sits on this worker)."""
        material = self._materials[room.code]
        for audience, message in reply.out:
            if audience == "all":
                self.broadcast(room, message)
            elif audience == "presenters":
                self.to_presenters(room, message)
            elif seat is not None:
                self.send(seat, message)
        for summary in reply.stale:
            self.refresh(room, material, summary)
        if reply.changed:
            self.saves.changed(room)  # stored shortly, never on the step's path

    def broadcast(self, room: Room, message: Outgoing) -> None:
        """To every member of the room, in one pass over its sockets."""
        seats = self._seats.get(room.code)
        if not seats:
            return
        if isinstance(message, dict) and message["type"] in LATEST:
            # A step: one serialization, and each socket written to on the spot.
            kind, text = str(message["type"]), json.dumps(message)
            for seat in seats:
                seat.deliver_latest(kind, text)
            return
        self._each(seats, message)

    def to_presenters(self, room: Room, message: Outgoing) -> None:
        """To the presenters only (the tally, the member count)."""
        self._each([seat for seat in self._seats.get(room.code, ()) if seat.presenter], message)

    def send(self, seat: Seat, message: Outgoing) -> None:
        self._each([seat], message)

    def refresh(self, room: Room, material: Material, summary: Summary) -> None:
        """The presenters' `summary` is out of date: built and sent on the loop's next turn, so
        a burst of joins or answers costs one rendering and one message, not one per student
        (and nothing while no presenter is connected)."""
        stale = self._stale.setdefault(room.code, (room, material, {}))
        stale[2][summary] = None
        if self._refreshing is None:
            self._refreshing = asyncio.get_running_loop().call_soon(self._refresh)

    def _refresh(self) -> None:
        self._refreshing = None
        stale, self._stale = self._stale, {}
        for code, (room, material, summaries) in stale.items():
            presenters = [seat for seat in self._seats.get(code, ()) if seat.presenter]
            for summary in summaries if presenters else ():
                self._each(presenters, SUMMARIES[summary](room, material))

    def _each(self, seats: Iterable[Seat], message: Outgoing) -> None:
        text = texts(message)
        behind = []
        for seat in seats:
            kind, each = text(seat.sender)
            if kind in LATEST:
                seat.deliver_latest(kind, each)
            elif not seat.deliver(each):
                behind.append(seat)
        for seat in behind:
            # Too far behind: let it go rather than slow anyone else; it reconnects and lands
            # on the current cursor.
            self._seats.get(seat.room.code, set()).discard(seat)
            seat.let_go()

    # -- membership -------------------------------------------------------------------------

    def _joined(self, room: Room, material: Material, op: Op, seat: Seat | None) -> None:
        if not op["presenter"]:
            room.members[op["member"]] = op["name"]
            room.connect(op["member"], op["worker"])
        if seat is not None and not seat.gone:
            # No await from here to the end: the welcome and the broadcasts cannot interleave.
            self._seats.setdefault(room.code, set()).add(seat)
            self.send(seat, welcome(room, material, seat.sender, op["name"]))
            self.send(seat, {"type": "cursor", "cursor": room.cursor})
            if seat.presenter:
                self.send(seat, members(room, material))
                if room.question is not None:
                    self.send(seat, tally(room, material))
        if not op["presenter"]:
            self.refresh(room, material, "members")
            if room.question is not None:
                self.refresh(room, material, "tally")  # it counts the students too

    # -- workers that went away -------------------------------------------------------------

    async def _check_workers(self) -> None:
        """Each heartbeat: a worker that stopped beating had members; they are gone."""
        assert isinstance(self.relay, Shared)
        rooms = self.relay.rooms()
        others = {w for room in rooms for by in room.sockets.values() for w in by}
        others.discard(self.relay.worker)
        alive = await self.relay.bus.alive(others)
        for room in rooms:
            dead = {w for by in room.sockets.values() for w in by} & (others - alive)
            for worker in sorted(dead):
                gone = {"op": "gone", "gone": worker, "worker": self.relay.worker}
                await self.relay.send(room, gone)
        if time.monotonic() - self._touched > TOUCH_EVERY_S:  # so nobody expires them
            self._touched = time.monotonic()
            for room in rooms:
                self.saves.changed(room)
