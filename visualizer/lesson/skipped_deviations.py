"""Deviations by omission: a textbook step that did not happen the way the textbook says."""

from __future__ import annotations

from visualizer.contract.document import Deviation, DeviationType
from visualizer.contract.events import DbState, Event
from visualizer.lesson.lanes import first, handed_out_by, made_by

SKIPPED = DeviationType.SKIPPED


def missing_close(request: int, lane: list[Event]) -> Deviation | None:
    created = first(lane, "session.create")
    if created is None or first(lane, "session.close") is not None:
        return None
    resume = first(lane, "session.resume")
    error = resume.detail.get("error") if resume else None
    dependency = handed_out_by(lane)
    if error and dependency:
        why = (
            f"{error} left {dependency} at its `yield`, and no `finally` around the yield "
            "called db.close(). The session and its connection stay open until the garbage "
            "collector frees them."
        )
    else:
        why = (
            f"{made_by(lane)} ended without calling close(): the session stays open until "
            "the garbage collector frees it."
        )
    return Deviation(
        request=request,
        kind="missing_close",
        type=SKIPPED,
        step=6,
        seq=(resume or created).seq,
        expected="6 the session is closed in finally",
        observed="6 never happened: no db.close()",
        why=why,
    )


def _closed_without_step_5(lane: list[Event]) -> Event | None:
    if first(lane, "session.create") is None or any(e.step == 5 for e in lane):
        return None
    return first(lane, "session.close")


def rollback_in_close(request: int, lane: list[Event]) -> Deviation | None:
    close = _closed_without_step_5(lane)
    if close is None or close.detail.get("before") != DbState.CONNECTION.value:
        return None
    return Deviation(
        request=request,
        kind="rollback_in_close",
        type=SKIPPED,
        step=5,
        seq=close.seq,
        expected="5 commit or roll back",
        observed="5 never happened: close() rolled the transaction back",
        why="Nothing called commit() or rollback(), so the transaction that held the "
        "connection was ended by close(), which rolls back and returns the connection "
        "(SQLAlchemy fires no after_rollback for this rollback).",
    )


def unused_session(request: int, lane: list[Event]) -> Deviation | None:
    close = _closed_without_step_5(lane)
    if close is None or close.detail.get("before") == DbState.CONNECTION.value:
        return None
    if any(e.step == 4 for e in lane):
        return None
    return Deviation(
        request=request,
        kind="unused_session",
        type=SKIPPED,
        step=4,
        seq=close.seq,
        expected="4 queries and 5 commit or rollback",
        observed="4 and 5 never happened: the endpoint did not use db",
        why="The session was created and yielded but never used: no transaction began and "
        "no connection was checked out, so close() had nothing to do. SessionLocal() "
        "itself touches no database.",
    )


RULES = (missing_close, rollback_in_close, unused_session)
