"""Sessions, however the program builds them: class-level hooks on Session and its transactions.

SQLAlchemy has events for a session's transactions, but none for its creation or its close,
and its commit events fire for a savepoint's RELEASE as well as for the real COMMIT. So the
few methods that say so are wrapped once per process, on the base classes that every
sessionmaker, scoped_session, `with Session(engine)` and AsyncSession go through.
Outside a run every hook costs one context-variable read.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from visualizer.capture.engines import CONNECTION_TAG, ORIGINAL, name_database
from visualizer.capture.recorder import (
    Call,
    ConnectionTag,
    Recorder,
    current_call,
    current_request,
    current_run,
    session_state,
)
from visualizer.contract.events import SESSION_EVENTS, TransactionKind


def _wrap(cls: type, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    original = getattr(cls, name)
    if hasattr(original, ORIGINAL):
        return  # already installed
    wrapper = functools.wraps(original)(make(original))
    setattr(wrapper, ORIGINAL, original)
    setattr(cls, name, wrapper)


def _entry(recorder: Recorder, phase: str) -> Call:
    """The call the program makes now, with the program line that makes it."""
    found = recorder.running_line(phase, 2)
    if found:
        return Call(phase, *found[:2])
    enclosing = current_call.get()  # e.g. get_db's teardown, its frame where it stands
    return Call(phase, *enclosing.where(recorder.program)) if enclosing else Call(phase)


def _init(original: Callable[..., Any]) -> Callable[..., Any]:
    def __init__(self: Session, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        recorder = current_run.get()
        if recorder is not None:
            found = recorder.running_line("session.create", 1)
            line, file, function = found if found else (None, None, None)
            detail = {"created_in": function} if function else {}
            recorder.record("session.create", self, detail, line=line, file=file, walk=False)

    return __init__


def _closing(method: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """close(), reset() and invalidate(): each ends the session's transaction the same way."""

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def close(self: Session) -> None:
            recorder = current_run.get()
            if recorder is None:
                original(self)
                return
            try:
                tag = recorder.session_tag(self, current_request.get())
                before, pending = session_state(self, tag), len(self.new)
            except Exception as error:  # a hook must never break the observed request
                recorder.hook_failed("session.close", error)
                original(self)
                return
            call = _entry(recorder, "close")
            token = current_call.set(call)
            try:
                original(self)
            finally:
                current_call.reset(token)
            tag.closed = True
            detail: dict[str, Any] = {"before": before.value}
            if pending:
                detail["discarded_pending"] = pending
            if method != "close":
                detail["method"] = method
            recorder.record("session.close", self, detail, line=call.line, file=call.file)

        return close

    return make


def _commit(original: Callable[..., Any]) -> Callable[..., Any]:
    def commit(self: SessionTransaction, *args: Any, **kwargs: Any) -> None:
        recorder = current_run.get()
        # The root's commit is the COMMIT; a savepoint's is a RELEASE; SQLAlchemy's inner
        # subtransactions commit nothing.
        phase = "commit" if self.parent is None else "release" if self.nested else None
        if recorder is None or phase is None:
            original(self, *args, **kwargs)
            return
        token = current_call.set(_entry(recorder, phase))
        try:
            original(self, *args, **kwargs)
        finally:
            current_call.reset(token)

    return commit


def _statement(original: Callable[..., Any]) -> Callable[..., Any]:
    """Every ORM statement (execute, scalars, get, a lazy load, a refresh...) goes through
    Session._execute_internal: the program's line is found once there, and the events the
    statement fires (do_orm_execute, the transaction begun, the checkout, the SQL) take it,
    rather than each walking the stack down through SQLAlchemy."""

    def execute(self: Session, *args: Any, **kwargs: Any) -> Any:
        recorder = current_run.get()
        enclosing = current_call.get()
        if recorder is None or (enclosing is not None and enclosing.line is not None):
            return original(self, *args, **kwargs)  # outside a run, or its line is known
        found = recorder.running_line("do_orm_execute", 1)
        if found is None:
            return original(self, *args, **kwargs)
        phase = enclosing.phase if enclosing else None  # e.g. a query in get_db's setup
        token = current_call.set(Call(phase, found[0], found[1]))
        try:
            return original(self, *args, **kwargs)
        finally:
            current_call.reset(token)

    return execute


def _rollback(original: Callable[..., Any]) -> Callable[..., Any]:
    def rollback(self: SessionTransaction, *args: Any, **kwargs: Any) -> None:
        recorder = current_run.get()
        if recorder is None:
            original(self, *args, **kwargs)
            return
        # What is rolled back is the nearest savepoint or the root, whichever comes first.
        boundary = self
        while boundary.parent is not None and not boundary.nested:
            boundary = boundary.parent
        token = current_call.set(_entry(recorder, "rollback_to" if boundary.nested else "rollback"))
        try:
            original(self, *args, **kwargs)
        finally:
            current_call.reset(token)

    return rollback


# -- SQLAlchemy's own session events -----------------------------------------------------------


def _transaction_created(session: Session, transaction: SessionTransaction) -> None:
    recorder = current_run.get()
    if recorder is None:
        return
    try:
        kind: TransactionKind = (
            "root" if transaction.parent is None else "savepoint" if transaction.nested else "inner"
        )
        recorder.tag_transaction(transaction, kind)
        tag = recorder.session_tag(session, current_request.get())
        tag.closed = False  # a closed Session used again begins anew
    except Exception as error:  # a hook must never break the observed request
        recorder.hook_failed("after_transaction_create", error)
    recorder.record("after_transaction_create", session, transaction=transaction)


def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    recorder = current_run.get()
    if recorder is not None:
        recorder.record("after_transaction_end", session, transaction=transaction)


def _begun(session: Session, transaction: SessionTransaction, connection: Any) -> None:
    recorder = current_run.get()
    if recorder is None:
        return
    tag: ConnectionTag | None = None
    try:
        tag = connection.info.get(CONNECTION_TAG)
        if tag is not None:
            # The connection the pool handed out just before is this session's.
            tag.session, tag.session_number = (
                weakref.ref(session),
                recorder.session_tag(session, current_request.get()).number,
            )
            recorder.give_session(tag.checkout, session)
            name_database(recorder, tag.pool, connection.engine.url)
    except Exception as error:  # a hook must never break the observed request
        recorder.hook_failed("after_begin", error)
    recorder.record("after_begin", session, transaction=transaction, connection=tag)


def _soft_rollback(session: Session, previous: SessionTransaction) -> None:
    recorder = current_run.get()
    if recorder is not None:
        recorder.record("after_soft_rollback", session, transaction=previous)


def _orm_execute(state: Any) -> None:
    recorder = current_run.get()
    if recorder is not None:
        statement = "SELECT" if state.is_select else type(state.statement).__name__.upper()
        recorder.record("do_orm_execute", state.session, {"statement": statement})


def _simple(name: str) -> Callable[..., None]:
    def hook(session: Session, *args: Any) -> None:
        recorder = current_run.get()
        if recorder is not None:
            transaction = getattr(session, "_transaction", None)  # the one committing now
            recorder.record(name, session, transaction=transaction)

    return hook


_SPECIAL: dict[str, Callable[..., None]] = {
    "after_transaction_create": _transaction_created,
    "after_transaction_end": _transaction_ended,
    "after_begin": _begun,
    "after_soft_rollback": _soft_rollback,
    "do_orm_execute": _orm_execute,
}
HOOKS = {name: _SPECIAL.get(name) or _simple(name) for name in SESSION_EVENTS}


def install() -> None:
    """Wrap the session methods and listen to the session events: once per process."""
    _wrap(Session, "__init__", _init)
    for method in ("close", "reset", "invalidate"):
        _wrap(Session, method, _closing(method))
    _wrap(SessionTransaction, "commit", _commit)
    if hasattr(Session, "_execute_internal"):  # SQLAlchemy 2.x; without it, each event walks
        _wrap(Session, "_execute_internal", _statement)
    _wrap(SessionTransaction, "rollback", _rollback)
    for name, hook in HOOKS.items():
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)
