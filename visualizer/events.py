"""The event vocabulary: one small typed record per thing observed during a request."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class DbState(StrEnum):
    """The `db` variable's state, named the way a learner would name it."""

    NONE = "None"
    IDLE = "Session, no transaction"
    TRANSACTION = "Session in a transaction, no connection yet"
    CONNECTION = "Session in a transaction holding a connection"
    CLOSED = "Closed session"


# SQLAlchemy's own event names are kept as they are; the rest are ours.
# A pool.reset or pool.checkin done by the garbage collector (a session nobody closed being
# freed) carries detail {"by": GARBAGE_COLLECTOR} and belongs to the request that checked
# the connection out, whichever request happened to be running when the collector ran.
GARBAGE_COLLECTOR = "garbage collector"
SESSION_EVENTS = (
    "after_transaction_create",
    "after_begin",
    "before_commit",
    "after_commit",
    "after_rollback",
    "after_soft_rollback",
    "after_transaction_end",
    "after_flush",
    "do_orm_execute",
)
POOL_EVENTS = ("pool.checkout", "pool.checkin", "pool.reset")
GET_DB_EVENTS = ("session.create", "session.yield", "session.resume", "session.close")
HTTP_EVENTS = ("request.start", "response.start", "response.end")
# An exception the app let out of the request, after the server had answered it (a 500, or
# a failure in teardown that ran after the response): uvicorn logs it, we record it.
ERROR_EVENTS = ("request.error",)
CLIENT_EVENTS = ("client.headers", "client.body")
KINDS = frozenset(
    (
        *SESSION_EVENTS,
        *POOL_EVENTS,
        *GET_DB_EVENTS,
        *HTTP_EVENTS,
        *ERROR_EVENTS,
        *CLIENT_EVENTS,
        "sql",
    )
)


@dataclass(frozen=True, slots=True)
class PoolStatus:
    """How many connections were checked out of the pool, and its size and overflow."""

    checked_out: int | None = None
    size: int | None = None
    overflow: int | None = None


@dataclass(frozen=True, slots=True)
class RawEvent:
    """What a hook appends on the request path: cheap to build, described later."""

    t_ns: int
    kind: str
    request: int | None
    line: int | None
    thread: int
    db: DbState
    pool: PoolStatus
    phase: str | None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Event:
    """One observed event as the trace contract shows it."""

    seq: int
    t_ms: float
    request: int | None
    kind: str
    step: int | None
    line: int | None
    thread: str
    db: str
    pool: PoolStatus
    detail: dict[str, Any]
    text: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "t_ms": self.t_ms,
            "request": self.request,
            "kind": self.kind,
            "step": self.step,
            "line": self.line,
            "thread": self.thread,
            "db": self.db,
            "pool": {
                "checked_out": self.pool.checked_out,
                "size": self.pool.size,
                "overflow": self.pool.overflow,
            },
            "detail": self.detail,
            "text": self.text,
        }
