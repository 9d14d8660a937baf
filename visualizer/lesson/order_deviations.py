"""Deviations of order: the steps ran, but not in the textbook's 1 to 7."""

from __future__ import annotations

from visualizer.contract.document import Deviation, DeviationType
from visualizer.contract.events import DbState, Event
from visualizer.lesson.gauge import in_use
from visualizer.lesson.lanes import first, gap_ms, handed_out_by, is_client

ORDER = DeviationType.ORDER
_USES = ("do_orm_execute", "after_transaction_create", "pool.checkout", "sql")


def response_before_close(request: int, lane: list[Event]) -> Deviation | None:
    response, close = first(lane, "response.start"), first(lane, "session.close")
    if response is None or close is None or close.seq < response.seq:
        return None
    if handed_out_by(lane) is None:
        return None  # not a yield dependency's session: FastAPI's teardown order is not why
    holding = (
        "still holding its connection"
        if close.detail.get("before") == DbState.CONNECTION.value
        else "still open"
    )
    return Deviation(
        request=request,
        kind="response_before_close",
        type=ORDER,
        step=6,
        seq=response.seq,
        expected="6 close the session, then 7 send the response",
        observed=f"7 the response ({response.detail.get('status')}) was sent "
        f"{gap_ms(response, close):.1f} ms before 6 the session closed",
        why='By default (Depends scope "request") FastAPI runs a yield dependency\'s code '
        "after `yield` only once the response has gone out, so the client can hold its "
        f"answer while the session is {holding}.",
    )


def response_before_commit(request: int, lane: list[Event]) -> Deviation | None:
    response, commit = first(lane, "response.start"), first(lane, "before_commit")
    dependency = handed_out_by(lane)
    if response is None or commit is None or commit.seq < response.seq or dependency is None:
        return None
    status = response.detail.get("status")
    outcome = (
        f"this commit failed, and the client still has its {status}."
        if first(lane, "after_commit", after=commit.seq) is None
        else f"had this commit failed, the client would still have its {status}."
    )
    return Deviation(
        request=request,
        kind="response_before_commit",
        type=ORDER,
        step=5,
        seq=commit.seq,
        expected="5 commit, then 7 send the response",
        observed=f"5 the commit started {gap_ms(response, commit):.1f} ms after 7 the "
        f"response ({status}) was sent",
        why=f"{dependency} commits after its yield, and that code runs after the response by "
        f"default: {outcome}",
    )


def query_after_commit(request: int, lane: list[Event]) -> Deviation | None:
    after_commit = first(lane, "after_commit")
    if after_commit is None:
        return None
    later_sql = next(
        (e for e in lane if e.seq > after_commit.seq and e.kind == "sql" and e.step == 4), None
    )
    if later_sql is None:
        return None
    return Deviation(
        request=request,
        kind="query_after_commit",
        type=ORDER,
        step=4,
        seq=later_sql.seq,
        expected="4 queries, then 5 commit, and no more queries",
        observed="4 came back after 5: SQL ran after the commit",
        why="Reading attributes after commit() (refresh(), or any expired attribute) makes "
        "the session begin a new transaction and check out a connection again; "
        "close() later rolls that transaction back.",
    )


def used_after_close(request: int, lane: list[Event]) -> Deviation | None:
    close = first(lane, "session.close")
    use = first(lane, *_USES, after=close.seq) if close else None
    if close is None or use is None:
        return None
    closed_again = first(lane, "session.close", after=use.seq)
    end = [e for e in lane if not is_client(e)][-1]
    left = ""
    if closed_again is None and end.db == DbState.CONNECTION.value:
        left = (
            " Nothing closes it again, so that connection stays checked out after the request "
            f"({in_use(end.pool)})."
        )
    response = first(lane, "response.end")
    late = response is not None and response.seq < use.seq
    return Deviation(
        request=request,
        kind="used_after_close",
        type=ORDER,
        step=6,
        seq=use.seq,
        expected="6 close the session, and nothing uses it afterwards",
        observed="4 came back after 6: the closed session was used again"
        + (" after the response was sent" if late else ""),
        why="A closed Session is not dead: using it again silently begins a new transaction, "
        "and the first SQL checks out a connection."
        + (
            " Code that runs after the response, such as a BackgroundTask, gets a session "
            'that Depends(get_db, scope="function") has already closed.'
            if late
            else ""
        )
        + left,
    )


def query_after_response(request: int, lane: list[Event]) -> Deviation | None:
    response = first(lane, "response.end")
    close = first(lane, "session.close")
    query = first(lane, "sql", after=response.seq) if response else None
    if query is None or query.step != 4 or (close is not None and close.seq < query.seq):
        return None  # none, or part of the commit (5), or a use after close (its own rule)
    return Deviation(
        request=request,
        kind="query_after_response",
        type=ORDER,
        step=4,
        seq=query.seq,
        expected="4 queries, then 7 send the response",
        observed="4 came after 7: SQL ran after the response had been sent",
        why="Code that runs after the response, such as a BackgroundTask, still used the "
        "request's session. With the default scope (\"request\") get_db's teardown waits "
        "until background tasks are done, so the session was still open for it.",
    )


RULES = (
    response_before_close,
    response_before_commit,
    query_after_commit,
    used_after_close,
    query_after_response,
)
