"""The event vocabulary: every kind of thing observed during a request, and the event model."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from visualizer.contract.limits import (
    MAX_CHECKED_OUT,
    MAX_LINE,
    MAX_POOL,
    Count,
    Detail,
    Line,
    Millis,
    Name,
    Prose,
    RequestNumber,
    Seq,
)


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
DB_STATES = frozenset(state.value for state in DbState)

# The run's client numbers its requests with this header, so the server's side can tell
# which planned request an ASGI call is.
REQUEST_HEADER = "x-visualizer-request"


def _known_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    return kind


def _known_db_state(state: str) -> str:
    if state not in DB_STATES:
        raise ValueError(f"unknown db state {state!r}")
    return state


EventKind = Annotated[str, AfterValidator(_known_kind)]
DbStateName = Annotated[str, AfterValidator(_known_db_state)]
Step = Annotated[int, Field(ge=1, le=7)]


class PoolStatus(BaseModel):
    """A pool's gauge: how many connections were checked out, its size and its overflow."""

    model_config = ConfigDict(frozen=True)

    checked_out: int | None = Field(default=None, ge=0, le=MAX_CHECKED_OUT)
    size: int | None = Field(default=None, ge=0, le=MAX_POOL)
    overflow: int | None = Field(default=None, ge=0, le=MAX_POOL)
    number: int | None = Field(
        default=None, ge=1, le=MAX_POOL, description="the pool's number in the run"
    )
    database: Name | None = Field(default=None, description='e.g. "sqlite app.db"')


TransactionKind = Literal["root", "savepoint", "inner"]


@dataclass(frozen=True, slots=True)
class RawEvent:
    """What a hook recorded on the request path: cheap to build, described later."""

    t_ns: int
    kind: str
    request: int | None
    line: int | None
    thread: int
    db: DbState
    pool: PoolStatus
    phase: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    session: int | None = None
    transaction: int | None = None
    transaction_kind: TransactionKind | None = None
    connection: int | None = None
    file: str | None = None


class Event(BaseModel):
    """One observed event, as the trace shows it."""

    model_config = ConfigDict(frozen=True)

    seq: Seq = Field(description="1, 2, 3 ... in the order the events happened")
    t_ms: Millis = Field(description="milliseconds since the run's first event")
    request: RequestNumber | None = Field(description="the request it belongs to; None outside any")
    kind: EventKind
    step: Step | None = Field(description="the textbook step (1 to 7) it belongs to, if any")
    line: int | None = Field(
        ge=1, le=MAX_LINE, description="the line of the program's code that was running"
    )
    thread: Name = Field(description='"event loop", "worker thread N" or "client"')
    db: DbStateName = Field(description="the state of the `db` variable at this event")
    pool: PoolStatus
    detail: Detail = Field(description="what the kind records: SQL, status, error...")
    text: Prose = Field(description="one sentence saying what happened")
    session: Count | None = Field(default=None, description="the session's number in the run")
    transaction: Count | None = Field(
        default=None, description="the session transaction's number in the run"
    )
    transaction_kind: TransactionKind | None = Field(
        default=None,
        description='"root"; "savepoint" for begin_nested(); "inner" for SQLAlchemy\'s own '
        "subtransactions, such as the one a flush opens",
    )
    connection: Count | None = Field(
        default=None, description="the pooled connection's number in the run"
    )
    file: Line | None = Field(default=None, description="the program file `line` is in")
