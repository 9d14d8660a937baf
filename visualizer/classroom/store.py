"""Classroom rooms: a presenter's run, its cursor and open question, kept in our own database."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    select,
)
from sqlalchemy.engine import Engine

from visualizer.web.store import add_missing_column

# No 0/O, 1/I/L: a code read off a projector is typed right the first time.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
NAME_LENGTH = 40
MEMBER_SECRET_LENGTH = 100
# Bidirectional overrides and isolates can make a name display as something else.
_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

_metadata = MetaData()
_rooms = Table(
    "rooms",
    _metadata,
    Column("code", String, primary_key=True),
    Column("run_id", String, nullable=False),
    Column("presenter_token", String, nullable=False),
    Column("cursor", Integer, nullable=False),
    Column("question", Integer),
    Column("revealed", Boolean, nullable=False),
    Column("answers", Text, nullable=False),  # JSON {member id: choice}
    Column("created_at", Float, nullable=False),
    Column("last_activity", Float, nullable=False, index=True),
    Column("seq", Integer, nullable=False, server_default="0"),  # the last change applied
)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normal_code(text: str) -> str:
    """Codes are typed on phones: case and surrounding spaces do not matter."""
    return text.strip().upper()


def clean_name(raw: str) -> str:
    """A display name: no control characters, trimmed, at most 40 characters (never HTML-safe)."""
    kept = "".join(
        " " if c in "\t\n\r" else c
        for c in raw
        if c in "\t\n\r"
        or (unicodedata.category(c) not in {"Cc", "Cs", "Co", "Cn"} and c not in _BIDI)
    )
    return " ".join(kept.split())[:NAME_LENGTH].strip()


@dataclass(slots=True)
class Room:
    """One classroom session; `members` are the students connected now, never stored."""

    code: str
    run_id: str
    presenter_token: str
    cursor: int = 0
    question: int | None = None  # index into the run's questions, while one is open
    revealed: bool = False
    answers: dict[str, int] = field(default_factory=dict)  # member id -> choice
    members: dict[str, str] = field(default_factory=dict)  # member id -> display name
    # The students' open websockets: member id -> worker -> how many (one browser may have
    # several tabs, on several workers).
    sockets: dict[str, dict[str, int]] = field(default_factory=dict)
    connections: int = 0  # open websockets on this worker, the presenter's included
    created_at: float = 0.0
    last_activity: float = 0.0
    seq: int = 0  # how many changes (joins, leaves, messages) have been applied, in order

    def is_presenter(self, token: str) -> bool:
        return secrets.compare_digest(token.encode(), self.presenter_token.encode())

    def member_secret(self, member: str) -> str:
        """What a student shows to rejoin as `member`: the id, signed with the room's secret.

        Only this room's server can make one, so nobody can answer as another student.
        """
        message = f"member:{self.code}:{member}".encode()
        mac = hmac.new(self.presenter_token.encode(), message, hashlib.sha256).digest()[:16]
        return f"{member}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"

    def member_of(self, secret: str) -> str | None:
        """The member a secret proves, or None for one this room did not sign."""
        member = secret.partition(".")[0]
        if not 0 < len(secret) <= MEMBER_SECRET_LENGTH:
            return None
        expected = self.member_secret(member).encode()
        return member if hmac.compare_digest(expected, secret.encode()) else None

    def open_question(self, index: int, cursor: int) -> None:
        self.question, self.revealed, self.answers = index, False, {}
        self.cursor = cursor

    def close_question(self) -> None:
        self.question, self.revealed, self.answers = None, False, {}

    def counts(self, choices: int) -> list[int]:
        counts = [0] * choices
        for choice in self.answers.values():
            if 0 <= choice < choices:
                counts[choice] += 1
        return counts

    def connect(self, member: str, worker: str) -> None:
        sockets = self.sockets.setdefault(member, {})
        sockets[worker] = sockets.get(worker, 0) + 1

    def disconnect(self, member: str, worker: str) -> bool:
        """One socket fewer; True when it was the member's last (they left the room)."""
        sockets = self.sockets.get(member, {})
        if sockets.get(worker, 0) > 1:
            sockets[worker] -= 1
        else:
            sockets.pop(worker, None)
        if sockets:
            return False
        self.sockets.pop(member, None)
        self.members.pop(member, None)
        return True

    def drop_worker(self, worker: str) -> None:
        """A worker is gone: its students' sockets are closed, and who has none left, left."""
        for member in [m for m, by_worker in self.sockets.items() if worker in by_worker]:
            del self.sockets[member][worker]
            if not self.sockets[member]:
                self.disconnect(member, worker)

    def shared_state(self) -> dict[str, object]:
        """What every worker following the room holds alike (not its own connections)."""
        return {
            "cursor": self.cursor,
            "question": self.question,
            "revealed": self.revealed,
            "answers": self.answers,
            "members": list(self.members.items()),  # in the order they joined
            "sockets": self.sockets,
        }

    def take_state(self, seq: int, state: dict[str, Any]) -> None:
        """Become the room another worker kept as of change `seq`."""
        self.seq = seq
        self.cursor, self.question = int(state["cursor"]), state["question"]
        self.revealed = bool(state["revealed"])
        self.answers = {str(k): int(v) for k, v in state["answers"].items()}
        self.members = {str(m): str(name) for m, name in state["members"]}
        self.sockets = {
            str(m): {str(w): int(n) for w, n in by_worker.items()}
            for m, by_worker in state["sockets"].items()
        }

    def names(self) -> list[str]:
        """The names students gave, in the order they joined (unnamed ones are only counted)."""
        return [name for name in self.members.values() if name]


class RoomStore:
    """Creates, finds, stores and expires rooms; every method runs on the server's event loop.

    One process keeps every room it has loaded. Several workers (`shared`) keep only the
    rooms they follow (`hold`): any other may change meanwhile on another worker, so it is
    read afresh each time.
    """

    def __init__(
        self,
        engine: Engine,
        idle_hours: float,
        clock: Callable[[], float] = time.time,
        shared: bool = False,
    ) -> None:
        self.engine = engine
        self.idle_seconds = idle_hours * 3600
        self.clock = clock  # injectable, so tests expire rooms without waiting hours
        self.shared = shared
        self._rooms: dict[str, Room] = {}
        _metadata.create_all(engine)
        add_missing_column(engine, "rooms", "seq", "INTEGER NOT NULL DEFAULT 0")

    def create(self, run_id: str) -> Room:
        self.expire()
        code = new_code()
        while self.get(code) is not None:
            code = new_code()
        now = self.clock()
        room = Room(code, run_id, secrets.token_urlsafe(24), created_at=now, last_activity=now)
        with self.engine.begin() as conn:
            conn.execute(_rooms.insert().values(**_row(room)))
        if not self.shared:
            self._rooms[code] = room
        return room

    def get(self, code: str) -> Room | None:
        """The room with this code, unless it does not exist or has expired."""
        code = normal_code(code)
        room = self._rooms.get(code)
        if room is None:
            room = self._load(code)
            if room is None:
                return None
            if not self.shared:
                self._rooms[code] = room
        if self._idle(room):
            self._forget(room.code)
            return None
        return room

    def hold(self, room: Room) -> Room:
        """Keep this room in memory while this worker follows it; the one already held wins."""
        return self._rooms.setdefault(room.code, room)

    def release(self, code: str) -> None:
        """This worker follows the room no more (several workers only)."""
        if self.shared:
            self._rooms.pop(code, None)

    def touch(self, room: Room) -> None:
        room.last_activity = self.clock()

    def save(self, *rooms: Room) -> None:
        """Store these rooms' state now (one short transaction). Every worker following a room
        stores it; a worker behind the others never writes over a newer state."""
        if not rooms:
            return
        with self.engine.begin() as conn:
            for room in rooms:
                self.touch(room)
                values = _row(room)
                del values["code"]
                conn.execute(
                    _rooms.update()
                    .where(_rooms.c.code == room.code, _rooms.c.seq <= room.seq)
                    .values(**values)
                )

    def expire(self) -> list[str]:
        """Forget rooms idle too long, in memory and on disk; a connected room is never idle."""
        gone = [code for code, room in self._rooms.items() if self._idle(room)]
        for code in gone:
            self._forget(code)
        cutoff = self.clock() - self.idle_seconds
        loaded = list(self._rooms)  # judged by their state in memory, which is newer
        with self.engine.begin() as conn:
            stale = conn.execute(
                select(_rooms.c.code).where(
                    _rooms.c.last_activity < cutoff, _rooms.c.code.not_in(loaded)
                )
            ).scalars()
            gone += list(stale)
            conn.execute(delete(_rooms).where(_rooms.c.code.in_(gone)))
        for code in gone:
            self._rooms.pop(code, None)
        return gone

    def _idle(self, room: Room) -> bool:
        return not room.connections and self.clock() - room.last_activity > self.idle_seconds

    def _forget(self, code: str) -> None:
        self._rooms.pop(code, None)
        with self.engine.begin() as conn:
            conn.execute(delete(_rooms).where(_rooms.c.code == code))

    def _load(self, code: str) -> Room | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(_rooms).where(_rooms.c.code == code)).first()
        if row is None:
            return None
        m = row._mapping
        return Room(
            code=m["code"],
            run_id=m["run_id"],
            presenter_token=m["presenter_token"],
            cursor=m["cursor"],
            question=m["question"],
            revealed=m["revealed"],
            answers={str(k): int(v) for k, v in json.loads(m["answers"]).items()},
            created_at=m["created_at"],
            last_activity=m["last_activity"],
            seq=m["seq"],
        )


def _row(room: Room) -> dict[str, object]:
    return {
        "code": room.code,
        "run_id": room.run_id,
        "presenter_token": room.presenter_token,
        "cursor": room.cursor,
        "question": room.question,
        "revealed": room.revealed,
        "answers": json.dumps(room.answers),
        "created_at": room.created_at,
        "last_activity": room.last_activity,
        "seq": room.seq,
    }
