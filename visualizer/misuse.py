"""Deviations that show a bug or a failure: an error turned into another status, a commit
that failed after the response, a session used after the response or after close(), a pool
with no connection left."""

from __future__ import annotations

import re

from visualizer.difference import ORDER, OUTCOME, Deviation, first, status_of
from visualizer.events import DbState, Event

_USES = ("do_orm_execute", "after_transaction_create", "pool.checkout", "sql")


def _raised_status(error: str) -> int | None:
    """The status carried by an error name such as "HTTPException(404)"."""
    match = re.search(r"\((\d{3})\)$", error)
    return int(match.group(1)) if match else None


def _first_sentence(text: str) -> str:
    return text.split(". ", 1)[0].rstrip(".")


def _status_replaced(request: int, lane: list[Event]) -> Deviation | None:
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
        request,
        "status_replaced",
        OUTCOME,
        (error or resume).seq,
        f"7 the client gets the {raised} the endpoint raised",
        f"7 the client got {status} instead of {raised}",
        f"The endpoint raised {resume.detail['error']}; FastAPI threw it into get_db at the "
        "yield, where an `except` caught it and did not raise it again. With the exception "
        f"swallowed there is no response to send. {because}",
    )


def _commit_failed_after_response(request: int, lane: list[Event]) -> Deviation | None:
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
        request,
        "commit_failed_after_response",
        OUTCOME,
        (error or commit).seq,
        "5 the commit succeeds, or the client is told that it failed",
        f"5 the commit failed ({failure}) after 7 had already sent {status}",
        f"The client was told {status}, but its changes were rolled back and are not in the "
        "table. By default get_db's code after `yield` runs once the response is out, so a "
        "failure there can no longer change it. Commit in the endpoint, or use "
        'Depends(get_db, scope="function"), so that a failed commit still becomes an error '
        "response.",
    )


def _used_after_close(request: int, lane: list[Event]) -> Deviation | None:
    close = first(lane, "session.close")
    use = first(lane, *_USES, after=close.seq) if close else None
    if close is None or use is None:
        return None
    closed_again = first(lane, "session.close", after=use.seq)
    server = [e for e in lane if not e.kind.startswith("client.")]
    end = server[-1]
    if closed_again is None and end.db == DbState.CONNECTION.value:
        left = (
            " Nothing closes it again, so that connection stays checked out after the request "
            f"({end.pool.checked_out} of {end.pool.size} in use)."
        )
    else:
        left = ""
    response = first(lane, "response.end")
    late = response is not None and response.seq < use.seq
    return Deviation(
        request,
        "used_after_close",
        ORDER,
        use.seq,
        "6 close the session, and nothing uses it afterwards",
        "4 came back after 6: the closed session was used again"
        + (" after the response was sent" if late else ""),
        "A closed Session is not dead: using it again silently begins a new transaction, "
        "and the first SQL checks out a connection."
        + (
            " Code that runs after the response, such as a BackgroundTask, gets a session "
            'that Depends(get_db, scope="function") has already closed.'
            if late
            else ""
        )
        + left,
    )


def _query_after_response(request: int, lane: list[Event]) -> Deviation | None:
    response = first(lane, "response.end")
    close = first(lane, "session.close")
    query = first(lane, "sql", after=response.seq) if response else None
    if query is None or query.step != 4 or (close is not None and close.seq < query.seq):
        return None  # none, or part of the commit (5), or a use after close (its own deviation)
    return Deviation(
        request,
        "query_after_response",
        ORDER,
        query.seq,
        "4 queries, then 7 send the response",
        "4 came after 7: SQL ran after the response had been sent",
        "Code that runs after the response, such as a BackgroundTask, still used the "
        "request's session. With the default scope (\"request\") get_db's teardown waits "
        "until background tasks are done, so the session was still open for it.",
    )


def _pool_exhausted(request: int, lane: list[Event]) -> Deviation | None:
    error = first(lane, "request.error")
    message = str(error.detail.get("message", "")) if error else ""
    timed_out = error is not None and error.detail.get("error") == "TimeoutError"
    if error is None or not timed_out or "limit of size" not in message:
        return None  # not the pool's "QueuePool limit of size N overflow M reached"
    pool = error.pool
    return Deviation(
        request,
        "pool_exhausted",
        OUTCOME,
        error.seq,
        "4 the query gets a connection from the pool",
        f"4 found no free connection ({pool.checked_out} of {pool.size} checked out, "
        f"overflow {pool.overflow}); the client got {status_of(lane)}",
        "Every connection of the pool was still checked out by earlier sessions that were "
        "never closed. SQLAlchemy waited pool_timeout seconds for one to come back, then "
        f"raised TimeoutError: {message}",
    )


_CHECKS = (
    _status_replaced,
    _commit_failed_after_response,
    _used_after_close,
    _query_after_response,
    _pool_exhausted,
)


def misuse_deviations(request: int, lane: list[Event]) -> list[Deviation]:
    """The bugs and failures this request's events show, if any."""
    return [d for check in _CHECKS if (d := check(request, lane)) is not None]
