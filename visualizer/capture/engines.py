"""Every engine and pool, however many: class-level listeners on the pool, and the SQL sent.

The SQL is seen where every dialect sends it, its `do_execute` methods, wrapped once per
dialect class: an Engine-level `before_cursor_execute` listener would make SQLAlchemy build
joined event dispatchers for every connection of every engine, which costs more per request
than all our other hooks.

A pooled connection carries a tag in its own `info` dict: its number, its pool, the request
that checked it out and the session it serves. So a connection the garbage collector takes
back, whichever request or thread is running then, is credited to the run and request that
took it, and the collector is recognised by the session it served being gone.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.pool import Pool

from visualizer.capture.recorder import (
    ConnectionTag,
    PoolTag,
    Recorder,
    current_request,
    current_run,
)
from visualizer.contract.events import GARBAGE_COLLECTOR

CONNECTION_TAG = "visualizer"
ORIGINAL = "__visualizer_original__"  # on a method we wrapped: the one it wraps
_PARAMS_SHOWN = 500  # characters of a statement's parameters, when they are shown


def name_database(recorder: Recorder, pool: PoolTag, url: URL) -> None:
    """Name a pool by its database, e.g. "sqlite app.db" or "postgresql shop" (no password)."""
    if pool.number not in recorder.databases:
        database = Path(url.database).name if url.database else "memory"
        recorder.name_database(pool, f"{url.get_backend_name()} {database}")


def _checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    recorder = current_run.get()
    if recorder is None:
        return
    try:
        observe_dialect(type(getattr(proxy._pool, "_dialect", None)))
        pool = recorder.pool_tag(proxy._pool)
        pool.reread()
        tag = record.info.get(CONNECTION_TAG)
        if tag is None or tag.recorder() is not recorder:
            tag = ConnectionTag(weakref.ref(recorder), recorder.next_number("connection"), pool)
            record.info[CONNECTION_TAG] = tag
        tag.request, tag.session, tag.session_number = current_request.get(), None, None
    except Exception as error:  # a hook must never break the observed request
        recorder.hook_failed("pool.checkout", error)
        return
    tag.checkout = recorder.record("pool.checkout", connection=tag)


def _returned(kind: str, record: Any, *, last: bool) -> None:
    tag: ConnectionTag | None = record.info.get(CONNECTION_TAG)
    recorder = tag.recorder() if tag is not None else None
    if tag is None or recorder is None:
        return
    try:
        tag.pool.reread(returning=last)
        session = tag.session() if tag.session is not None else None
        # The session it served is gone, yet its connection comes back now: nobody closed
        # that session, and the garbage collector is freeing it.
        freed = tag.session is not None and session is None
        if last:
            tag.session = None
    except Exception as error:  # a hook must never break the observed request
        recorder.hook_failed(kind, error)
        return
    if freed:
        detail = {"by": GARBAGE_COLLECTOR}
        recorder.record(kind, None, detail, request=tag.request, connection=tag, walk=False)
    elif current_run.get() is recorder:
        recorder.record(kind, session, connection=tag)


def _reset(dbapi_connection: Any, record: Any, reset_state: Any) -> None:
    _returned("pool.reset", record, last=False)


def _checkin(dbapi_connection: Any, record: Any) -> None:
    _returned("pool.checkin", record, last=True)


def _sql(conn: Any, statement: str, parameters: Any) -> None:
    recorder = current_run.get()
    if recorder is None:
        return
    detail = {"sql": statement}  # its whitespace is folded off the request path
    if recorder.show_params:
        detail["params"] = repr(parameters)[:_PARAMS_SHOWN]
    tag: ConnectionTag | None = None
    session = None
    try:
        tag = conn.info.get(CONNECTION_TAG)
        if tag is not None:
            if tag.pool.number not in recorder.databases:
                name_database(recorder, tag.pool, conn.engine.url)
            session = tag.session() if tag.session is not None else None
    except Exception as error:  # a hook must never break the observed request
        recorder.hook_failed("sql", error)
    recorder.record("sql", session, detail, connection=tag)


_SENDING = "_visualizer_sending"  # on a context while its statement is being sent


def _sending(original: Callable[..., Any], with_params: bool) -> Callable[..., Any]:
    """A dialect's do_execute or do_executemany (`with_params`), or its do_execute_no_params,
    reporting the statement just before the driver gets it, as before_cursor_execute would."""

    def report(context: Any, statement: str, parameters: Any) -> bool:
        if context is None or current_run.get() is None or context.__dict__.get(_SENDING):
            return False  # not in a run, or a dialect's override calling the method it wraps
        _sql(context.root_connection, statement, parameters)
        context.__dict__[_SENDING] = True
        return True

    if with_params:

        def send(
            self: Any, cursor: Any, statement: str, parameters: Any, context: Any = None
        ) -> Any:
            reported = report(context, statement, parameters)
            try:
                return original(self, cursor, statement, parameters, context)
            finally:
                if reported:
                    context.__dict__[_SENDING] = False

    else:

        def send(self: Any, cursor: Any, statement: str, context: Any = None) -> Any:  # type: ignore[misc]
            reported = report(context, statement, None)
            try:
                return original(self, cursor, statement, context)
            finally:
                if reported:
                    context.__dict__[_SENDING] = False

    setattr(send, ORIGINAL, original)
    return functools.wraps(original)(send)


_OBSERVED_DIALECTS: set[type] = set()
_SENDERS = (("do_execute", True), ("do_executemany", True), ("do_execute_no_params", False))


def observe_dialect(cls: type) -> None:
    """Report the SQL every dialect of this class sends (its own methods, or inherited)."""
    if cls in _OBSERVED_DIALECTS:
        return
    for name, with_params in _SENDERS:
        method = getattr(cls, name, None)
        if method is not None and not hasattr(method, ORIGINAL):
            setattr(cls, name, _sending(method, with_params))
    _OBSERVED_DIALECTS.add(cls)


# SQLAlchemy reads a pool listener's signature: these are the 2.x ones.
HOOKS: tuple[tuple[type, str, Any], ...] = (
    (Pool, "checkout", _checkout),
    (Pool, "reset", _reset),
    (Pool, "checkin", _checkin),
)


def install() -> None:
    """Listen on every pool and engine the process will ever have: once per process."""
    observe_dialect(DefaultDialect)
    for target, name, hook in HOOKS:
        if not event.contains(target, name, hook):
            event.listen(target, name, hook)
