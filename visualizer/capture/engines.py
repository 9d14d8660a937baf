"""Every engine and pool, however many: class-level listeners for the SQL sent and the pool.

A pooled connection carries a tag in its own `info` dict: its number, its pool, the request
that checked it out and the session it serves. So a connection the garbage collector takes
back, whichever request or thread is running then, is credited to the run and request that
took it, and the collector is recognised by the session it served being gone.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine
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


def _sql(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
    recorder = current_run.get()
    if recorder is None:
        return
    detail = {"sql": " ".join(statement.split())}
    if recorder.show_params:
        detail["params"] = repr(parameters)[:_PARAMS_SHOWN]
    tag: ConnectionTag | None = None
    session = None
    try:
        tag = conn.info.get(CONNECTION_TAG)
        if tag is not None:
            name_database(recorder, tag.pool, conn.engine.url)
            session = tag.session() if tag.session is not None else None
    except Exception as error:  # a hook must never break the observed request
        recorder.hook_failed("sql", error)
    recorder.record("sql", session, detail, connection=tag)


# SQLAlchemy reads a pool listener's signature: these are the 2.x ones.
HOOKS: tuple[tuple[type, str, Any], ...] = (
    (Pool, "checkout", _checkout),
    (Pool, "reset", _reset),
    (Pool, "checkin", _checkin),
    (Engine, "before_cursor_execute", _sql),
)


def install() -> None:
    """Listen on every pool and engine the process will ever have: once per process."""
    for target, name, hook in HOOKS:
        if not event.contains(target, name, hook):
            event.listen(target, name, hook)
