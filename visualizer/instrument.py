"""Hooks on one scenario's own objects: its sessionmaker, engine, pool, get_db and app."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from visualizer.capture import Recorder, current_phase, current_request, session_state
from visualizer.client import HEADER
from visualizer.events import DbState

REQUEST_HEADER = HEADER.encode()  # the client process numbers its requests with it

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
        recorder.session_created(self)
        recorder.record("session.create", session=self)

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

    for name in (
        "after_transaction_create",
        "after_begin",
        "before_commit",
        "after_commit",
        "after_rollback",
        "after_soft_rollback",
        "after_transaction_end",
        "after_flush",
    ):
        simple(name)

    def do_orm_execute(state: Any) -> None:
        statement = "SELECT" if state.is_select else type(state.statement).__name__.upper()
        recorder.record("do_orm_execute", {"statement": statement}, session=state.session)

    event.listen(target, "do_orm_execute", do_orm_execute)


def listen_engine_events(engine: Engine, recorder: Recorder) -> None:
    """The SQL text sent on this engine, and its pool's checkouts, resets and checkins."""
    recorder.pool = engine.pool

    def before_cursor_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        recorder.record("sql", {"sql": " ".join(statement.split())})

    def checkout(*args: Any) -> None:
        recorder.record("pool.checkout")

    def checkin(*args: Any) -> None:
        recorder.record("pool.checkin")

    def reset(*args: Any) -> None:
        recorder.record("pool.reset")

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    event.listen(engine.pool, "checkout", checkout)
    event.listen(engine.pool, "checkin", checkin)
    event.listen(engine.pool, "reset", reset)


def _error_name(error: BaseException) -> str:
    status = getattr(error, "status_code", None)
    return f"{type(error).__name__}({status})" if status else type(error).__name__


def traced_dependency(get_db: Callable[..., Any], recorder: Recorder) -> Callable[..., Any]:
    """Wrap a learner's yield dependency; it runs unchanged, and we report around its yield."""

    def yielded(frame: Any) -> None:
        recorder.record("session.yield", line=frame.f_lineno if frame else None, walk=False)

    def resumed(frame: Any, error: BaseException | None) -> None:
        detail = {"error": _error_name(error)} if error is not None else {}
        recorder.record("session.resume", detail, line=frame.f_lineno if frame else None)

    if inspect.isasyncgenfunction(get_db):

        @functools.wraps(get_db)
        async def traced_async(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            inner = get_db(*args, **kwargs)
            value = await inner.__anext__()
            yielded(inner.ag_frame)
            try:
                yield value
            except BaseException as error:
                resumed(inner.ag_frame, error)
                try:
                    await inner.athrow(error)
                except StopAsyncIteration:
                    return  # get_db swallowed the exception, and so do we
                raise RuntimeError("get_db did not stop after the exception") from error
            resumed(inner.ag_frame, None)
            try:
                await inner.__anext__()
            except StopAsyncIteration:
                return
            raise RuntimeError("get_db yielded more than once")  # pragma: no cover

        return traced_async

    @functools.wraps(get_db)
    def traced(*args: Any, **kwargs: Any) -> Iterator[Any]:
        inner = get_db(*args, **kwargs)
        value = next(inner)
        yielded(inner.gi_frame)
        try:
            yield value
        except BaseException as error:
            resumed(inner.gi_frame, error)
            try:
                inner.throw(error)
            except StopIteration:
                return  # get_db swallowed the exception, and so do we
            raise RuntimeError("get_db did not stop after the exception") from error
        resumed(inner.gi_frame, None)
        try:
            next(inner)
        except StopIteration:
            return
        raise RuntimeError("get_db yielded more than once")  # pragma: no cover

    return traced


class RequestObserver:
    """A pure ASGI wrapper, outermost, so that it sees every response, 500s included."""

    def __init__(self, app: ASGIApp, recorder: Recorder) -> None:
        self.app = app
        self.recorder = recorder
        self._next_id = 1000  # requests not sent by the runner get ids from here

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = self._request_id(scope)
        token = current_request.set(request)
        recorder = self.recorder
        recorder.request_started(request)
        path = scope["path"] + (
            f"?{scope['query_string'].decode()}" if scope["query_string"] else ""
        )
        recorder.record("request.start", {"method": scope["method"], "path": path}, walk=False)

        async def observed_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.start":
                recorder.record("response.start", {"status": message["status"]}, walk=False)
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                recorder.record("response.end", walk=False)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            recorder.request_finished(request)
            current_request.reset(token)

    def _request_id(self, scope: Scope) -> int:
        for name, value in scope["headers"]:
            if name == REQUEST_HEADER and value.isdigit():
                return int(value)
        self._next_id += 1
        return self._next_id


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
