"""The live side of rooms: who is connected, and fan-out of the protocol's replies to them."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import Counter
from collections.abc import Callable, Iterable

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
from visualizer.classroom.protocol import Reply, Summary, handle
from visualizer.classroom.saving import Saves
from visualizer.classroom.seat import Seat
from visualizer.classroom.store import Room, RoomStore, normal_code

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
    """Every room's live connections; all methods run on the server's event loop."""

    def __init__(self, store: RoomStore, failed_joins: FailedJoins | None = None) -> None:
        self.store = store
        self.failed_joins = failed_joins or FailedJoins()
        self.saves = Saves(store)
        self._seats: dict[str, set[Seat]] = {}
        self._sockets: Counter[tuple[str, str]] = Counter()  # (room, student) -> sockets open
        self._materials: dict[str, Material] = {}  # per connected room: its members share it
        self._stale: dict[str, tuple[Room, Material, dict[Summary, None]]] = {}
        self._refreshing: asyncio.Handle | None = None

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

    def join(
        self,
        websocket: WebSocket,
        room: Room,
        presenter: bool,
        material: Material,
        name: str,
        member: str,
    ) -> Seat:
        """Seat an accepted connection: it is welcomed, and follows the room from now on."""
        seat = Seat(websocket, room, presenter, member, material)
        try:
            self._join(seat, name, material)
        except BaseException:  # half seated (a welcome that failed to render): unseat it
            self.leave(seat)
            raise
        return seat

    def receive(self, seat: Seat, text: str | None) -> None:
        """One message from a member: applied to its room, and the replies sent."""
        assert seat.material is not None
        self.store.touch(seat.room)
        self._deliver(seat, handle(seat.room, seat.sender, seat.material, text), seat.material)

    def leave(self, seat: Seat) -> None:
        """The connection is over: nothing more is sent to it, and the room is told."""
        assert seat.material is not None
        seat.stop()
        self._leave(seat, seat.material)

    def flush(self) -> None:
        """Store every room changed since it was last stored (the server is stopping)."""
        self.saves.flush()

    # -- fan-out ----------------------------------------------------------------------------

    def _deliver(self, seat: Seat, reply: Reply, material: Material) -> None:
        for audience, message in reply.out:
            if audience == "all":
                self.broadcast(seat.room, message)
            elif audience == "presenters":
                self.to_presenters(seat.room, message)
            else:
                self.send(seat, message)
        for summary in reply.stale:
            self.refresh(seat.room, material, summary)
        if reply.changed:
            self.saves.changed(seat.room)  # stored shortly, never on the step's path

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

    def _join(self, seat: Seat, name: str, material: Material) -> None:
        room = seat.room
        # No await from here to the end: the welcome and the broadcasts cannot interleave.
        self._seats.setdefault(room.code, set()).add(seat)
        room.connections += 1
        if not seat.presenter:
            room.members[seat.member] = name
            self._sockets[room.code, seat.member] += 1
        self.store.touch(room)
        self._materials.setdefault(room.code, material)
        self.send(seat, welcome(room, material, seat.sender, name))
        self.send(seat, {"type": "cursor", "cursor": room.cursor})
        if seat.presenter:
            self.send(seat, members(room, material))
            if room.question is not None:
                self.send(seat, tally(room, material))
        else:
            self.refresh(room, material, "members")
            if room.question is not None:
                self.refresh(room, material, "tally")  # it counts the students too

    def _leave(self, seat: Seat, material: Material) -> None:
        room = seat.room
        seats = self._seats.get(room.code, set())
        seats.discard(seat)
        room.connections -= 1
        if not seat.presenter:
            self._sockets[room.code, seat.member] -= 1
            if self._sockets[room.code, seat.member] <= 0:  # its browser's last socket
                del self._sockets[room.code, seat.member]
                room.members.pop(seat.member, None)
                self.refresh(room, material, "members")
        if not seats:
            self._seats.pop(room.code, None)
            self._materials.pop(room.code, None)
            self.saves.changed(room)  # its last activity, for expiry after a restart
            self.saves.flush()  # and nothing waits for a timer once nobody is here
