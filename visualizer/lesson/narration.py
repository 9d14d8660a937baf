"""What each event says in plain English: its narration, and its execution-table row."""

from __future__ import annotations

from typing import Any

from visualizer.contract.events import GARBAGE_COLLECTOR, DbState, RawEvent
from visualizer.lesson.gauge import in_use


def _pool_count(event: RawEvent) -> str:
    phrase = in_use(event.pool)
    return f" ({phrase})" if phrase else ""


# What close() really did, by the state the session was in when it was called.
CLOSE_DID = {
    DbState.CONNECTION.value: "rolled back the open transaction and returned its connection "
    "to the pool",
    DbState.TRANSACTION.value: "ended a transaction that never used a connection",
    DbState.IDLE.value: "had nothing to do: no transaction, no connection",
    DbState.CLOSED.value: "had nothing to do: the session was already closed",
}


def close_did(detail: dict[str, Any]) -> str:
    return CLOSE_DID.get(str(detail.get("before")), "ran")


def _savepoint(event: RawEvent) -> bool:
    return event.phase in ("release", "rollback_to") or event.transaction_kind == "savepoint"


def _session_event(event: RawEvent) -> str | None:
    """The sentence for a session's own event; None for the others."""
    d = event.detail
    match event.kind:
        case "session.create":
            where = d.get("created_in") or "The program"
            return f"{where} creates a Session: no transaction, no connection yet."
        case "session.yield":
            return (
                f"{d.get('dependency', 'get_db')} yields the session and pauses; FastAPI "
                "passes it to the endpoint."
            )
        case "session.resume" if d.get("error"):
            return (
                f"The endpoint raised {d['error']}; FastAPI throws it into "
                f"{d.get('dependency', 'get_db')} at the yield."
            )
        case "session.resume":
            dependency = d.get("dependency", "get_db")
            return f"The endpoint has returned; {dependency} resumes after its yield."
        case "session.close":
            return f"{d.get('method', 'close')}() {close_did(d)}."
        case "after_transaction_create" if event.transaction_kind == "savepoint":
            return "begin_nested(): a savepoint starts inside the transaction."
        case "after_transaction_create" if event.transaction_kind == "inner":
            return "The session opens an inner transaction of its own for this step (a flush)."
        case "after_transaction_create":
            return "The session starts a transaction object; still no connection."
        case "after_transaction_end" if event.transaction_kind == "savepoint":
            return "The savepoint's transaction object ends."
        case "after_transaction_end" if event.transaction_kind == "inner":
            return "The inner transaction ends; the session's transaction goes on."
        case "after_transaction_end":
            return "The session's transaction object ends."
        case "after_begin" if event.transaction_kind == "savepoint":
            return "The savepoint begins on the transaction's connection."
        case "after_begin":
            return "The transaction begins on its connection."
        case "do_orm_execute":
            return f"The session runs an ORM {d.get('statement', 'statement')}."
        case "after_flush":
            return "Pending changes were flushed: the SQL ran, but nothing is permanent yet."
        case "before_commit" if _savepoint(event):
            return "The savepoint ends: pending changes are flushed first."
        case "before_commit":
            return "db.commit() starts: pending changes are flushed first."
        case "after_commit" if _savepoint(event):
            return (
                "RELEASE SAVEPOINT: the savepoint's changes join the enclosing transaction; "
                "nothing is permanent until it commits."
            )
        case "after_commit":
            return "COMMIT succeeded: the changes are now permanent."
        case "after_rollback" if _savepoint(event):
            return (
                "ROLLBACK TO SAVEPOINT: only the savepoint's changes are undone; the enclosing "
                "transaction goes on."
            )
        case "after_rollback":
            return "The transaction was rolled back: its changes are discarded."
        case "after_soft_rollback" if _savepoint(event):
            return "The savepoint's transaction object is reset after its rollback."
        case "after_soft_rollback":
            return "The session's transaction state was reset after a rollback."
    return None


def narrate(event: RawEvent) -> str:
    """One plain-English sentence saying what this event was."""
    said = _session_event(event)
    if said is not None:
        return said
    d = event.detail
    match event.kind:
        case "request.start":
            return f"The client's {d.get('method')} {d.get('path')} reaches the server."
        case "sql":
            return f"SQL sent to the database: {d.get('sql', '')}"
        case "pool.checkout":
            return "A connection is checked out of the pool" + _pool_count(event) + "."
        case "pool.reset" if d.get("by") == GARBAGE_COLLECTOR:
            return (
                "The garbage collector frees a session nobody closed: its connection is "
                "rolled back."
            )
        case "pool.reset":
            return "The connection is rolled back (reset) on its way back to the pool."
        case "pool.checkin" if d.get("by") == GARBAGE_COLLECTOR:
            return (
                "Only now, freed by the garbage collector, does the leaked connection go back "
                "to the pool" + _pool_count(event) + "."
            )
        case "pool.checkin":
            return "The connection goes back to the pool" + _pool_count(event) + "."
        case "request.error":
            message = f": {d['message']}" if d.get("message") else ""
            return (
                f"The app raised {d.get('error')}{message}. It goes on to uvicorn, which logs it."
            )
        case "response.start":
            return f"The server sends the status line {d.get('status')} and the headers."
        case "response.end":
            return "The server sends the last of the response body."
        case "client.headers":
            return f"The client receives status {d.get('status')} and the headers."
        case "client.body":
            return "The client has the whole response body."
    return event.kind


# Events whose Action is best told by the program's own line that ran, when it is known.
CODE_ACTIONS = frozenset({"session.create", "session.yield", "before_commit", "session.close"})


def action_and_result(kind: str, detail: dict[str, Any]) -> tuple[str, str]:
    """The execution table's Action and Result columns for one event."""
    dependency = detail.get("dependency", "get_db")
    match kind:
        case "request.start":
            return f"{detail.get('method')} {detail.get('path')} arrives", "Request handling starts"
        case "session.create":
            where = f" in {detail['created_in']}" if detail.get("created_in") else ""
            return f"A Session is made{where}", "Session object created; no connection yet"
        case "session.yield":
            return f"{dependency} yields the session", "The endpoint receives db"
        case "session.resume":
            if error := detail.get("error"):
                return f"{dependency} resumes with {error}", "Exception thrown in at the yield"
            return f"{dependency} resumes after yield", "Endpoint finished normally"
        case "sql":
            return str(detail.get("sql", ""))[:60], "Statement sent on the connection"
        case "pool.checkout":
            return "Connection checked out", "The session now holds a connection"
        case "pool.checkin" if detail.get("by") == GARBAGE_COLLECTOR:
            return "Garbage collector frees the session", "Leaked connection back in the pool"
        case "pool.checkin":
            return "Connection checked in", "Connection back in the pool"
        case "request.error":
            return f"{detail.get('error')} raised", str(detail.get("message", ""))[:60]
        case "before_commit":
            return "db.commit()", "Pending changes are flushed, then COMMIT"
        case "after_commit":
            return "COMMIT", "Changes saved"
        case "after_rollback":
            return "ROLLBACK", "Changes discarded"
        case "session.close":
            method = detail.get("method", "close")
            return f"{method}()", _CLOSE_RESULT.get(detail.get("before", ""), "Session closed")
        case "response.start":
            return f"Send {detail.get('status')} and headers", "The client can read the status"
        case "client.body":
            return "Client has the body", f"Response {detail.get('status')} complete"
    return kind, ""


_CLOSE_RESULT = {
    DbState.CONNECTION.value: "Rolled back; connection returned to the pool",
    DbState.TRANSACTION.value: "Ended a transaction that had no connection",
    DbState.IDLE.value: "Nothing to do: no transaction, no connection",
    DbState.CLOSED.value: "Nothing to do: already closed",
}

# The events a learner needs in the execution table; the rest stay in the full event list.
TABLE_KINDS = frozenset(
    {
        "request.start",
        "session.create",
        "session.yield",
        "sql",
        "pool.checkout",
        "before_commit",
        "after_commit",
        "after_rollback",
        "session.resume",
        "session.close",
        "pool.checkin",
        "response.start",
        "request.error",
        "client.body",
    }
)
