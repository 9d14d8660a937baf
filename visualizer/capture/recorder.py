"""The recorder: a bounded buffer hooks append to, and the context tying events to requests."""

from __future__ import annotations

import itertools
import sys
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from types import FrameType
from typing import Any

from greenlet import getcurrent  # type: ignore[import-untyped]  # greenlet ships no types
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from visualizer.contract.events import DbState, PoolStatus, RawEvent

# Which request the running code serves. Contextvars reach worker threads and greenlets,
# so a sync dependency's setup, endpoint and teardown stay tied to their request.
current_request: ContextVar[int | None] = ContextVar("visualizer_request", default=None)
# What the session is doing right now (commit, rollback, close), so that the pool and SQL
# events fired inside that call can be placed on the right step.
current_phase: ContextVar[str | None] = ContextVar("visualizer_phase", default=None)

_MAX_FRAMES = 80


def session_state(session: Session | None) -> DbState:
    """The `db` variable's state as a learner would name it."""
    if session is None:
        return DbState.NONE
    if getattr(session, "_visualizer_closed", False):
        return DbState.CLOSED
    transaction = session.get_transaction()
    if transaction is None:
        return DbState.IDLE
    if getattr(transaction, "_connections", None):
        return DbState.CONNECTION
    return DbState.TRANSACTION


def _pool(gauge: tuple[int, ...]) -> PoolStatus:
    if not gauge:
        return PoolStatus()
    checked_out, size, overflow = gauge
    # QueuePool counts its overflow from minus its size: below zero means none in use.
    return PoolStatus(checked_out=checked_out, size=size, overflow=max(0, overflow))


class Recorder:
    """Collects one run's events. Hooks call `record`; it never raises into the app."""

    def __init__(self, scenario_file: str, capacity: int = 20_000) -> None:
        self.scenario_file = scenario_file
        self.capacity = capacity
        # Hooks append plain tuples (cheap on the request path); `taken` builds RawEvents later.
        self.events: list[tuple[Any, ...]] = []
        self.dropped = 0
        self.hook_errors: Counter[str] = Counter()
        self._pool: Pool | None = None
        self._gauge: tuple[Callable[[], int], ...] = ()  # the pool's bound counting methods
        self.recording = True
        self.sessions: weakref.WeakSet[Session] = weakref.WeakSet()
        self._request_sessions: dict[int, weakref.ref[Session]] = {}
        self._closed_requests: set[int] = set()  # their session's last state was "closed"
        # Numbers that tell a run's sessions and pooled connections apart in the events.
        self.session_numbers = itertools.count(1)
        self.connection_numbers = itertools.count(1)
        self._finished: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    # -- called from hooks --------------------------------------------------------------

    def record(
        self,
        kind: str,
        detail: dict[str, Any] | None = None,
        *,
        session: Session | None = None,
        line: int | None = None,
        walk: bool = True,
        request: int | None = None,
        t_ns: int | None = None,
    ) -> None:
        """Append one event; any failure is counted, never raised."""
        if not self.recording:
            return
        try:
            self._append(kind, detail, session, line, walk, request, t_ns)
        except Exception as error:  # a hook must never break the observed request
            self.hook_failed(kind, error)

    def hook_failed(self, kind: str, error: BaseException) -> None:
        self.hook_errors[f"{kind}: {type(error).__name__}: {error}"] += 1

    def _append(
        self,
        kind: str,
        detail: dict[str, Any] | None,
        session: Session | None,
        line: int | None,
        walk: bool,
        request: int | None,
        t_ns: int | None,
    ) -> None:
        if len(self.events) >= self.capacity:
            self.dropped += 1
            return
        if request is None:
            request = current_request.get()
        db = self._db_state(session, request)
        if request is not None:
            if db is DbState.CLOSED:
                self._closed_requests.add(request)
            else:
                self._closed_requests.discard(request)
        if line is None and walk:
            line = self._scenario_line()
        self.events.append(
            (
                t_ns if t_ns is not None else time.perf_counter_ns(),
                kind,
                request,
                line,
                threading.get_ident(),
                db,
                tuple(count() for count in self._gauge),
                current_phase.get(),
                detail or {},
            )
        )

    def taken(self, start: int = 0) -> list[RawEvent]:
        """The events recorded since `start`, as RawEvents: built here, off the request path."""
        return [
            RawEvent(t_ns, kind, request, line, thread, db, _pool(gauge), phase, detail)
            for t_ns, kind, request, line, thread, db, gauge, phase, detail in self.events[start:]
        ]

    def _db_state(self, session: Session | None, request: int | None) -> DbState:
        if session is not None or request is None:
            return session_state(session)
        ref = self._request_sessions.get(request)
        if ref is None:
            return DbState.NONE
        alive = ref()
        if alive is not None:
            return session_state(alive)
        # A closed session is freed at once (nothing references it any more): it still
        # reads as closed. One freed without a close (by the garbage collector) is gone.
        return DbState.CLOSED if request in self._closed_requests else DbState.NONE

    def _scenario_line(self) -> int | None:
        """The line of scenario code running now: the nearest scenario frame on the stack."""
        line = self._line_from(sys._getframe(3))
        if line is None:
            # Async SQLAlchemy runs the sync Session inside a greenlet whose stack ends at
            # the greenlet; the scenario's `await` waits in the parent greenlet's stack.
            parent = getcurrent().parent
            if parent is not None:
                line = self._line_from(parent.gr_frame)
        return line

    def _line_from(self, frame: FrameType | None) -> int | None:
        for _ in range(_MAX_FRAMES):
            if frame is None:
                return None
            if frame.f_code.co_filename == self.scenario_file:
                return frame.f_lineno
            frame = frame.f_back
        return None

    @property
    def pool(self) -> Pool | None:
        return self._pool

    @pool.setter
    def pool(self, pool: Pool | None) -> None:
        self._pool = pool
        # QueuePool counts checked-out connections, its size and its overflow; other pools
        # (NullPool, StaticPool) count nothing, and their events show no gauge.
        names = ("checkedout", "size", "overflow")
        methods = [getattr(pool, name, None) for name in names]
        self._gauge = tuple(m for m in methods if callable(m)) if all(methods) else ()

    def pool_status(self) -> PoolStatus:
        return _pool(tuple(count() for count in self._gauge))

    # -- request bookkeeping -----------------------------------------------------------

    def session_created(self, session: Session) -> int | None:
        """Remember a new session for its request; its number in this run."""
        try:
            self.sessions.add(session)
            request = current_request.get()
            if request is not None:
                self._request_sessions[request] = weakref.ref(session)
            return next(self.session_numbers)
        except Exception as error:  # a hook must never break the observed request
            self.hook_failed("session.create", error)
            return None

    def request_started(self, request: int) -> None:
        with self._lock:
            self._finished.setdefault(request, threading.Event())

    def request_finished(self, request: int) -> None:
        with self._lock:
            self._finished.setdefault(request, threading.Event()).set()

    def wait_finished(self, request: int, timeout: float) -> bool:
        """Wait until the app has returned for this request, teardown included."""
        with self._lock:
            done = self._finished.setdefault(request, threading.Event())
        return done.wait(timeout)
