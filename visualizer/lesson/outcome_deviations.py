"""Deviations of outcome: the steps ran, but the result is not what the code meant."""

from __future__ import annotations

import re

from visualizer.contract.document import Deviation, DeviationType
from visualizer.contract.events import Event
from visualizer.lesson.lanes import first, made_by, status_of

OUTCOME = DeviationType.OUTCOME


def _raised_status(error: str) -> int | None:
    """The status carried by an error name such as "HTTPException(404)"."""
    match = re.search(r"\((\d{3})\)$", error)
    return int(match.group(1)) if match else None


def _first_sentence(text: str) -> str:
    return text.split(". ", 1)[0].rstrip(".")


def status_replaced(request: int, lane: list[Event]) -> Deviation | None:
    resume = first(lane, "session.resume")
    raised = _raised_status(str(resume.detail.get("error", ""))) if resume else None
    status = status_of(lane)
    if resume is None or raised is None or status is None or status == raised:
        return None
    error = first(lane, "request.error")
    because = (
        f"FastAPI then raised {error.detail.get('error')} "
        f'("{_first_sentence(str(error.detail.get("message", "")))}"), and the client got '
        f"{status}."
        if error
        else f"The client got {status}."
    )
    return Deviation(
        request=request,
        kind="status_replaced",
        type=OUTCOME,
        step=7,
        seq=(error or resume).seq,
        expected=f"7 the client gets the {raised} the endpoint raised",
        observed=f"7 the client got {status} instead of {raised}",
        why=f"The endpoint raised {resume.detail['error']}; FastAPI threw it into "
        f"{made_by(lane)} at the yield, where an `except` caught it and did not raise it again. "
        "With the exception "
        f"swallowed there is no response to send. {because}",
    )


def commit_failed_after_response(request: int, lane: list[Event]) -> Deviation | None:
    response = first(lane, "response.start")
    commit = first(lane, "before_commit", after=response.seq) if response else None
    if response is None or commit is None or first(lane, "after_commit", after=commit.seq):
        return None
    error = first(lane, "request.error", after=commit.seq)
    failure = (
        f"{error.detail.get('error')}: {error.detail.get('message', '')}" if error else "an error"
    )
    status = response.detail.get("status")
    return Deviation(
        request=request,
        kind="commit_failed_after_response",
        type=OUTCOME,
        step=5,
        seq=(error or commit).seq,
        expected="5 the commit succeeds, or the client is told that it failed",
        observed=f"5 the commit failed ({failure}) after 7 had already sent {status}",
        why=f"The client was told {status}, but its changes were rolled back and are not in the "
        f"table. By default {made_by(lane)}'s code after `yield` runs once the response is out, "
        "so a "
        "failure there can no longer change it. Commit in the endpoint, or use "
        'Depends(get_db, scope="function"), so that a failed commit still becomes an error '
        "response.",
    )


def pool_exhausted(request: int, lane: list[Event]) -> Deviation | None:
    error = first(lane, "request.error")
    message = str(error.detail.get("message", "")) if error else ""
    timed_out = error is not None and error.detail.get("error") == "TimeoutError"
    if error is None or not timed_out or "limit of size" not in message:
        return None  # not the pool's "QueuePool limit of size N overflow M reached"
    pool = error.pool
    return Deviation(
        request=request,
        kind="pool_exhausted",
        type=OUTCOME,
        step=4,
        seq=error.seq,
        expected="4 the query gets a connection from the pool",
        observed=f"4 found no free connection ({pool.checked_out} of {pool.size} checked out, "
        f"overflow {pool.overflow}); the client got {status_of(lane)}",
        why="Every connection of the pool was still checked out by earlier sessions that were "
        "never closed. SQLAlchemy waited pool_timeout seconds for one to come back, then "
        f"raised TimeoutError: {message}",
    )


RULES = (status_replaced, commit_failed_after_response, pool_exhausted)
