"""The recorder: one run's bounded buffer of raw events, and the context that ties hooks to it.

Hooks are registered once per process (see `hooks.install`). They record only where
`current_run` names a recorder: inside a run, and never in the visualizer's own code.
They append a plain tuple; `taken()` builds the events later, off the request path.
"""

from __future__ import annotations

import itertools
import threading
import time
import weakref
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from types import FrameType
from typing import Any

from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.pool import Pool
from sqlalchemy.util.queue import Queue as SQLAlchemyQueue

from visualizer.capture.lines import ProgramFiles
from visualizer.contract.events import DbState, PoolStatus, RawEvent, TransactionKind
from visualizer.contract.limits import MAX_REQUESTS

_NO_POOL = PoolStatus()
# Requests whose end a run may still wait for: a run sends at most MAX_REQUESTS; a live app
# serves forever, and nobody waits on its requests.
_FINISHED_KEPT = MAX_REQUESTS
current_run: ContextVar[Recorder | None] = ContextVar("visualizer_run", default=None)
# Which request the running code serves. Contextvars reach worker threads, tasks and
# SQLAlchemy's greenlets, so a sync dependency's setup, endpoint and teardown stay together.
current_request: ContextVar[int | None] = ContextVar("visualizer_request", default=None)


@dataclass(frozen=True, slots=True)
class Call:
    """What the program called that is running now (a commit, a close, get_db's setup...),
    and the program's line that called it: events fired deep inside take that line."""

    phase: str | None  # None: a statement, wherever the program runs it
    line: int | None = None
    file: str | None = None
    # A yield dependency's own frame, suspended where its teardown runs: what runs there can
    # be out of the program's stack (AsyncSession's `async with` closes in a task of its own).
    frame: FrameType | None = None

    def where(self, program: ProgramFiles) -> tuple[int | None, str | None]:
        """The line this call names: its own, or where its dependency's frame stands now."""
        if self.line is not None or self.frame is None:
            return self.line, self.file
        return self.frame.f_lineno, program.shown_name(self.frame.f_code)


current_call: ContextVar[Call | None] = ContextVar("visualizer_call", default=None)


# Each session, transaction and pool carries its tag in this attribute: a lookup on the object
# itself is a dict read, where a weak-keyed dictionary builds a weak reference per lookup.
TAG = "_visualizer_tag"


@dataclass(slots=True)
class SessionTag:
    owner: weakref.ref[Recorder]  # the run whose tag it is: a session may outlive a run
    number: int
    request: int | None
    closed: bool = False
    pool: PoolTag | None = None  # the pool of the session's bind, for the gauge


@dataclass(frozen=True, slots=True)
class TransactionTag:
    owner: weakref.ref[Recorder]
    number: int
    kind: TransactionKind


@dataclass(slots=True)
class PoolTag:
    owner: weakref.ref[Recorder]
    number: int
    gauge: tuple[int, int, int] | None  # checked out, size, overflow: as last read
    read: Callable[[], tuple[int, int, int]] | None  # None for pools that count nothing

    def reread(self, returning: bool = False) -> None:
        """Read the gauge; `returning`: as it will be once the connection being checked in
        is back (SQLAlchemy fires checkin just before it puts the connection back)."""
        if self.read is None:
            return
        checked_out, size, overflow = self.read()
        if returning and checked_out > 0:
            # QueuePool keeps a returned connection unless its queue is full, which is when
            # the overflow (counted up from minus the size) equals the connections out.
            if overflow == checked_out:
                overflow -= 1
            checked_out -= 1
        self.gauge = (checked_out, size, max(0, overflow))


@dataclass(slots=True)
class ConnectionTag:
    """Kept in a pooled connection's own `info` dict: whose it is in which run."""

    recorder: weakref.ref[Recorder]
    number: int
    pool: PoolTag
    request: int | None = None
    session: weakref.ref[Session] | None = None
    session_number: int | None = None
    checkout: list[Any] | None = None  # its checkout event, given its session once known


def _gauge_reader(pool: Pool) -> Callable[[], tuple[int, int, int]] | None:
    # QueuePool counts checked-out connections, its size and its overflow; NullPool and
    # StaticPool count nothing, and their events show no gauge.
    queue = getattr(pool, "_pool", None)
    if type(queue) is SQLAlchemyQueue and hasattr(pool, "_overflow"):
        # What checkedout(), size() and overflow() compute, read without taking the queue's
        # lock three times on every pool event.
        waiting, capacity = queue.queue, queue.maxsize

        def read() -> tuple[int, int, int]:
            extra: int = pool._overflow
            return capacity - len(waiting) + extra, capacity, extra if capacity else 0

        return read
    counts = [getattr(pool, name, None) for name in ("checkedout", "size", "overflow")]
    if not all(callable(count) for count in counts):
        return None
    checked_out, size, overflow = counts
    assert callable(checked_out) and callable(size) and callable(overflow)
    return lambda: (checked_out(), size(), overflow())


class Recorder:
    """Collects one run's events. `record` never raises into the observed program."""

    def __init__(
        self, program: ProgramFiles, capacity: int = 20_000, show_params: bool = False
    ) -> None:
        self.program = program
        self.capacity = capacity
        self.show_params = show_params  # SQL parameters can hold personal data: off by default
        self.loop_thread: int | None = None  # the server's event loop, once a request shows it
        # Hooks append, the publisher pops: a deque needs no lock for that.
        self.events: deque[list[Any]] = deque()
        self.dropped = 0
        self.hook_errors: Counter[str] = Counter()
        self.recording = True
        self._me = weakref.ref(self)
        self.sessions: weakref.WeakSet[Session] = weakref.WeakSet()  # for the run's cleanup
        # Every pool this run used, for what it left and for the run's cleanup.
        self.pools: weakref.WeakKeyDictionary[Pool, PoolTag] = weakref.WeakKeyDictionary()
        self.databases: dict[int, str] = {}  # pool number -> "sqlite app.db"
        self._primary: dict[int, tuple[weakref.ref[Session], SessionTag]] = {}
        self._numbers = {
            kind: itertools.count(1) for kind in ("session", "transaction", "pool", "connection")
        }
        self._finished: OrderedDict[int, threading.Event | None] = OrderedDict()
        self.finished: deque[int] = deque()  # requests whose app call returned, for a feed
        self._lock = threading.Lock()

    def next_number(self, kind: str) -> int:
        return next(self._numbers[kind])

    # -- identity ---------------------------------------------------------------------------

    def session_tag(self, session: Session, request: int | None) -> SessionTag:
        """The session's tag in this run, made on first sight (a session from before the run
        gets its number when it is first used)."""
        tag: SessionTag | None = session.__dict__.get(TAG)
        if tag is None or tag.owner() is not self:
            tag = SessionTag(self._me, self.next_number("session"), request)
            bind = session.bind
            pool = getattr(bind, "pool", None) or getattr(
                getattr(bind, "sync_engine", None), "pool", None
            )
            if isinstance(pool, Pool):
                tag.pool = self.pool_tag(pool)
            session.__dict__[TAG] = tag
            self.sessions.add(session)
            if request is not None and request not in self._primary:
                self._primary[request] = (weakref.ref(session), tag)
        return tag

    def is_the_request_db(self, session: Session, tag: SessionTag) -> None:
        """This session is what the request's yield dependency handed out: its `db`."""
        if tag.request is not None:
            self._primary[tag.request] = (weakref.ref(session), tag)

    def pool_tag(self, pool: Pool) -> PoolTag:
        tag: PoolTag | None = pool.__dict__.get(TAG)
        if tag is None or tag.owner() is not self:
            tag = PoolTag(self._me, self.next_number("pool"), None, _gauge_reader(pool))
            tag.reread()
            pool.__dict__[TAG] = tag
            self.pools[pool] = tag
        return tag

    def transaction_tag(self, transaction: SessionTransaction) -> TransactionTag | None:
        tag: TransactionTag | None = transaction.__dict__.get(TAG)
        return tag if tag is not None and tag.owner() is self else None

    def tag_transaction(self, transaction: SessionTransaction, kind: TransactionKind) -> None:
        tag = TransactionTag(self._me, self.next_number("transaction"), kind)
        transaction.__dict__[TAG] = tag

    def name_database(self, pool: PoolTag, name: str) -> None:
        self.databases.setdefault(pool.number, name)

    # -- recording ----------------------------------------------------------------------------

    def record(
        self,
        kind: str,
        session: Session | None = None,
        detail: dict[str, Any] | None = None,
        *,
        request: int | None = -1,  # -1: the current request
        connection: ConnectionTag | None = None,
        transaction: SessionTransaction | None = None,
        pool: PoolTag | None = None,
        line: int | None = None,
        file: str | None = None,
        walk: bool = True,
        t_ns: int | None = None,
    ) -> list[Any] | None:
        """Append one event; the event as kept, or None when it was not. Never raises."""
        if not self.recording:
            return None
        try:
            if len(self.events) >= self.capacity:
                self.dropped += 1
                return None
            if request == -1:
                request = current_request.get()
            tag = self.session_tag(session, request) if session is not None else None
            call = current_call.get()
            if line is None and call is not None and call.line is not None:
                line, file = call.line, call.file
            elif line is None and walk:
                found = self.program.running_line(1)
                if found is not None:
                    line, file, _ = found
            if line is None and call is not None and call.frame is not None:
                line, file = call.where(self.program)
            if pool is None:
                pool = connection.pool if connection else tag.pool if tag else None
            if pool is None and tag is None and request is not None:
                primary = self._primary.get(request)  # e.g. a response: the request's `db`
                pool = primary[1].pool if primary else None
            numbered = transaction.__dict__.get(TAG) if transaction is not None else None
            if numbered is not None and numbered.owner() is not self:
                numbered = None
            kept = [
                t_ns or time.perf_counter_ns(),
                kind,
                request,
                line,
                file,
                threading.get_ident(),
                self._db(session, tag, request),
                (pool.number, *pool.gauge) if pool and pool.gauge else None,
                call.phase if call else None,
                detail or {},
                tag.number if tag else connection.session_number if connection else None,
                numbered.number if numbered else None,
                numbered.kind if numbered else None,
                connection.number if connection else None,
            ]
            self.events.append(kept)
            return kept
        except Exception as error:  # a hook must never break the observed request
            self.hook_failed(kind, error)
            return None

    def give_session(self, checkout: list[Any] | None, session: Session) -> None:
        """That checkout was for this session, as its after_begin now shows."""
        if checkout is not None:
            tag = self.session_tag(session, None)
            checkout[6] = DbState.TRANSACTION  # taking a connection: in a transaction, none yet
            checkout[10] = tag.number if tag else None

    def named_threads(self) -> dict[int, str]:
        return {self.loop_thread: "event loop"} if self.loop_thread is not None else {}

    def running_line(self, kind: str, skip: int) -> tuple[int, str, str] | None:
        """(line, file, function) of the program's code running now; never raises."""
        try:
            return self.program.running_line(skip + 1)
        except Exception as error:  # a hook must never break the observed request
            self.hook_failed(kind, error)
            return None

    def hook_failed(self, kind: str, error: BaseException) -> None:
        self.hook_errors[f"{kind}: {type(error).__name__}: {error}"] += 1

    def _db(self, session: Session | None, tag: SessionTag | None, request: int | None) -> DbState:
        if session is not None and tag is not None:
            return session_state(session, tag)
        primary = self._primary.get(request) if request is not None else None
        if primary is None:
            return DbState.NONE
        alive = primary[0]()
        if alive is not None:
            return session_state(alive, primary[1])
        # A closed session is freed at once (nothing refers to it any more): it still
        # reads as closed. One freed without a close (by the garbage collector) is gone.
        return DbState.CLOSED if primary[1].closed else DbState.NONE

    def drain_records(self) -> list[list[Any]]:
        """The records kept since the last drain, as the hooks appended them."""
        taken = []
        while self.events:
            taken.append(self.events.popleft())
        return taken

    def drain(self) -> list[RawEvent]:
        """The events recorded since the last drain, built here, off the request path."""
        return raw_events(self.drain_records(), self.databases)

    def pools_left(self) -> list[PoolStatus]:
        """Every pool's gauge now, read afresh: what the run left checked out."""
        left = []
        for tag in list(self.pools.values()):
            tag.reread()
            if tag.gauge is not None:
                left.append(_pool_status((tag.number, *tag.gauge), self.databases))
        return sorted(left, key=lambda pool: pool.number or 0)

    # -- request bookkeeping -------------------------------------------------------------------

    def request_finished(self, request: int) -> None:
        self._primary.pop(request, None)  # later events (a collector's checkin) name theirs
        self.finished.append(request)
        with self._lock:
            waiting = self._finished.get(request)
            self._finished[request] = None  # None: finished, and nobody waits for it
            while len(self._finished) > _FINISHED_KEPT:  # a live app's requests: nobody waits
                self._finished.popitem(last=False)
        if waiting is not None:
            waiting.set()

    def wait_finished(self, request: int, timeout: float) -> bool:
        """Wait until the app has returned for this request, teardown included."""
        with self._lock:
            if request in self._finished and self._finished[request] is None:
                return True
            # Made only for a request someone waits for: an Event per request would cost
            # every request of a live app a lock and a condition.
            done = self._finished.setdefault(request, threading.Event())
        assert done is not None
        return done.wait(timeout)


def session_state(session: Session, tag: SessionTag) -> DbState:
    """The `db` variable's state as a learner would name it."""
    if tag.closed:
        return DbState.CLOSED
    transaction = session.get_transaction()
    if transaction is None:
        return DbState.IDLE
    if transaction._connections:
        return DbState.CONNECTION
    return DbState.TRANSACTION


def _pool_status(gauge: tuple[int, int, int, int], databases: dict[int, str]) -> PoolStatus:
    number, checked_out, size, overflow = gauge
    return PoolStatus(
        checked_out=checked_out,
        size=size,
        overflow=overflow,
        number=number,
        database=databases.get(number),
    )


def raw_events(records: list[list[Any]], databases: dict[int, str]) -> list[RawEvent]:
    """Records as the hooks appended them, built into raw events; `databases` names pools."""
    out = []
    pools: dict[tuple[int, int, int, int], PoolStatus] = {}  # most events share a gauge
    for (
        t_ns,
        kind,
        request,
        line,
        file,
        thread,
        db,
        gauge,
        phase,
        detail,
        session,
        transaction,
        transaction_kind,
        connection,
    ) in records:
        pool = _NO_POOL
        if kind == "sql" and "sql" in detail:
            detail["sql"] = " ".join(detail["sql"].split())  # folded here, off the request path
        if gauge is not None:
            pool = pools.get(gauge) or pools.setdefault(gauge, _pool_status(gauge, databases))
        out.append(
            RawEvent(
                t_ns,
                kind,
                request,
                line,
                thread,
                db,
                pool,
                phase,
                detail,
                session,
                transaction,
                transaction_kind,
                connection,
                file,
            )
        )
    return out
