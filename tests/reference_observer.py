"""A second observer, for checking the engine: plain SQLAlchemy listeners and a pure ASGI
wrapper around a plain uvicorn server. It shares no code with the visualizer (it imports
none of it), so where the two agree, the engine saw what SQLAlchemy and the server did.

SQLAlchemy has no event for a session's creation or its close, so this observer sees them
only through what they do: the root transaction's end, the pool's checkin.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
import types
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool
from starlette.applications import Starlette

HEADER = "x-reference-request"
_request: ContextVar[int | None] = ContextVar("reference_request", default=None)


@dataclass
class Observation:
    """What happened, request by request (None: outside any request, e.g. the lifespan)."""

    events: dict[int | None, list[tuple[Any, ...]]] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    done: dict[int, threading.Event] = field(default_factory=dict)
    on: bool = False

    def add(self, *what: Any) -> None:
        if self.on:
            self.events.setdefault(_request.get(), []).append(what)


def _state(session: Session) -> str:
    transaction = session.get_transaction()
    if transaction is None:
        return "no transaction"
    return "connection" if transaction._connections else "transaction"


class _Listeners:
    """Class-level listeners, added for one observation and removed after it."""

    def __init__(self, seen: Observation) -> None:
        self.seen = seen
        self.hooks: list[tuple[Any, str, Any]] = [
            (Session, "after_begin", self.begin),
            (Session, "after_commit", lambda s: seen.add("commit", _state(s))),
            (Session, "after_rollback", lambda s: seen.add("rollback", _state(s))),
            (Session, "after_transaction_end", self.end),
            (Pool, "checkout", self.checkout),
            (Pool, "checkin", self.checkin),
            (Engine, "before_cursor_execute", self.sql),
        ]

    def begin(self, session: Session, transaction: Any, connection: Any) -> None:
        self.seen.add("begin", _state(session))

    def end(self, session: Session, transaction: Any) -> None:
        if transaction.parent is None:
            self.seen.add("end", _state(session))

    def checkout(self, dbapi: Any, record: Any, proxy: Any) -> None:
        record.info["reference_pool"] = proxy._pool
        pool = proxy._pool
        self.seen.add("checkout", pool.checkedout(), pool.size())

    def checkin(self, dbapi: Any, record: Any) -> None:
        pool = record.info.get("reference_pool")
        if pool is not None:  # fired before the connection goes back: one fewer after it
            self.seen.add("checkin", pool.checkedout() - 1, pool.size())

    def sql(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.seen.add("sql", " ".join(statement.split()))

    def __enter__(self) -> _Listeners:
        for target, name, hook in self.hooks:
            event.listen(target, name, hook)
        return self

    def __exit__(self, *exc: object) -> None:
        for target, name, hook in self.hooks:
            event.remove(target, name, hook)


class _Wrapper:
    """A pure ASGI wrapper: numbers each request and records the status it was sent."""

    def __init__(self, app: Any, seen: Observation) -> None:
        self.app, self.seen = app, seen

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        number = int(dict(scope["headers"])[HEADER.encode()])
        token = _request.set(number)

        async def watched(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.seen.statuses[number] = message["status"]
                self.seen.add("response", message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            _request.reset(token)
            self.seen.done.setdefault(number, threading.Event()).set()


def _load(path: Path, database_url: str) -> Any:
    module = types.ModuleType(f"reference_{path.stem}_{time.monotonic_ns()}")
    module.__file__ = str(path)
    module.DATABASE_URL = database_url  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    apps = [v for v in vars(module).values() if isinstance(v, Starlette)]
    return module, apps[0]


def observe(path: Path, requests: list[tuple[str, str]], folder: Path) -> Observation:
    """Run the program under plain uvicorn and send the requests one after the other."""
    seen = Observation()
    module, app = _load(path, f"sqlite:///{folder / 'app.db'}")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(_Wrapper(app, seen), log_config=None, lifespan="auto")
    server = uvicorn.Server(config)
    with _Listeners(seen):
        seen.on = True
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.005)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=15) as client:
            for number, (method, target) in enumerate(requests, start=1):
                seen.done.setdefault(number, threading.Event())
                client.request(method, target, headers={HEADER: str(number)})
                seen.done[number].wait(15)  # teardown included
        seen.on = False
        server.should_exit = True
        thread.join(10)
    sock.close()
    for value in vars(module).values():
        if isinstance(value, Engine):
            value.dispose()
    sys.modules.pop(module.__name__, None)
    return seen
