"""Hooks on one scenario's own objects: its sessionmaker, engine, pool, get_db and app."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp

from visualizer.capture.asgi import RequestObserver
from visualizer.capture.dependency import traced_dependency
from visualizer.capture.recorder import Recorder, current_phase, current_request, session_state
from visualizer.contract.events import GARBAGE_COLLECTOR, SESSION_EVENTS, DbState

# Kept in a pooled connection's own info dict: the request that checked it out last, and
# the connection's number in this run.
_OWNER = "visualizer_request"
_NUMBER = "visualizer_connection"

# What close() really did, by the state the session was in when it was called.
_CLOSE_DID = {
    DbState.CONNECTION: "rolled back the open transaction and returned its connection to the pool",
    DbState.TRANSACTION: "ended a transaction that never used a connection",
    DbState.IDLE: "had nothing to do: no transaction, no connection",
    DbState.CLOSED: "had nothing to do: the session was already closed",
}


def traced_session_class(base: type[Session], recorder: Recorder) -> type[Session]:
    """A subclass of the sessionmaker's class that reports creation, commit, rollback, close."""

    def _in_phase(phase: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def run(self: Session, *args: Any, **kwargs: Any) -> Any:
            token = current_phase.set(phase)
            try:
                return method(self, *args, **kwargs)
            finally:
                current_phase.reset(token)

        return run

    def __init__(self: Session, *args: Any, **kwargs: Any) -> None:
        base.__init__(self, *args, **kwargs)
        number = recorder.session_created(self)
        recorder.record("session.create", {"session": number}, session=self)

    def close(self: Session) -> None:
        before = session_state(self)
        pending = len(self.new)
        token = current_phase.set("close")
        try:
            base.close(self)
        finally:
            current_phase.reset(token)
        self._visualizer_closed = True  # type: ignore[attr-defined]
        detail: dict[str, Any] = {"before": before.value, "did": _CLOSE_DID[before]}
        if pending:
            detail["discarded_pending"] = pending
        recorder.record("session.close", detail, session=self)

    namespace = {
        "__init__": __init__,
        "close": close,
        "commit": _in_phase("commit", base.commit),
        "rollback": _in_phase("rollback", base.rollback),
    }
    return type(base.__name__, (base,), namespace)


def listen_session_events(target: Any, recorder: Recorder) -> None:
    """SQLAlchemy's session events, on one sessionmaker or session class only."""

    def simple(name: str) -> None:
        def hook(session: Session, *args: Any) -> None:
            if name == "after_transaction_create" and getattr(session, "_visualizer_closed", False):
                session._visualizer_closed = False  # type: ignore[attr-defined]  # used again
            recorder.record(name, session=session)

        event.listen(target, name, hook)

    for name in SESSION_EVENTS:
        if name != "do_orm_execute":  # it carries an ORM statement: its own hook, below
            simple(name)

    def do_orm_execute(state: Any) -> None:
        statement = "SELECT" if state.is_select else type(state.statement).__name__.upper()
        recorder.record("do_orm_execute", {"statement": statement}, session=state.session)

    event.listen(target, "do_orm_execute", do_orm_execute)


def _by_garbage_collector() -> bool:
    """True when the pool is taking back the connection of a session the collector freed."""
    frame: FrameType | None = sys._getframe(2)
    for _ in range(12):
        if frame is None:
            return False
        if frame.f_code.co_name == "_finalize_fairy":
            return bool(frame.f_locals.get("is_gc_cleanup"))
        frame = frame.f_back
    return False


def listen_engine_events(engine: Engine, recorder: Recorder) -> None:
    """The SQL text sent on this engine, and its pool's checkouts, resets and checkins."""
    recorder.pool = engine.pool

    def before_cursor_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        recorder.record("sql", {"sql": " ".join(statement.split())})

    # SQLAlchemy reads a pool listener's signature: these are the 2.x ones.
    def checkout(dbapi_connection: Any, connection_record: Any, connection_proxy: Any) -> None:
        detail: dict[str, Any] = {}
        try:
            info = connection_record.info
            if _NUMBER not in info:
                info[_NUMBER] = next(recorder.connection_numbers)
            info[_OWNER] = current_request.get()
            detail["connection"] = info[_NUMBER]
        except Exception as error:  # a hook must never break the observed request
            recorder.hook_failed("pool.checkout", error)
        recorder.record("pool.checkout", detail)

    def returned(kind: str, record: Any, *, last: bool) -> None:
        # The collector frees a leaked session whenever it happens to run, inside whichever
        # request is running then: the connection still belongs to the one that took it.
        detail: dict[str, Any] = {}
        try:
            owner = record.info.pop(_OWNER, None) if last else record.info.get(_OWNER)
            detail["connection"] = record.info.get(_NUMBER)
            freed = _by_garbage_collector()
        except Exception as error:  # a hook must never break the observed request
            recorder.hook_failed(kind, error)
            owner, freed = None, False
        if freed:
            detail["by"] = GARBAGE_COLLECTOR
            recorder.record(kind, detail, request=owner, walk=False)
        else:
            recorder.record(kind, detail)

    def reset(dbapi_connection: Any, connection_record: Any, reset_state: Any) -> None:
        returned("pool.reset", connection_record, last=False)

    def checkin(dbapi_connection: Any, connection_record: Any) -> None:
        returned("pool.checkin", connection_record, last=True)

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    event.listen(engine.pool, "checkout", checkout)
    event.listen(engine.pool, "checkin", checkin)
    event.listen(engine.pool, "reset", reset)


def instrument(namespace: dict[str, Any], recorder: Recorder) -> ASGIApp:
    """Hook every engine, sessionmaker and yield dependency a scenario module defines."""
    scenario_file = recorder.scenario_file
    app = namespace["app"]
    for value in list(namespace.values()):
        if isinstance(value, AsyncEngine):
            listen_engine_events(value.sync_engine, recorder)
        elif isinstance(value, Engine):
            listen_engine_events(value, recorder)
        elif isinstance(value, async_sessionmaker):
            base = value.kw.get("sync_session_class", Session)
            traced = traced_session_class(base, recorder)
            value.kw["sync_session_class"] = traced
            listen_session_events(traced, recorder)
        elif isinstance(value, sessionmaker):
            value.class_ = traced_session_class(value.class_, recorder)
            listen_session_events(value.class_, recorder)
        elif (
            inspect.isgeneratorfunction(value) or inspect.isasyncgenfunction(value)
        ) and value.__code__.co_filename == scenario_file:
            app.dependency_overrides[value] = traced_dependency(value, recorder)
    return RequestObserver(app, recorder)
