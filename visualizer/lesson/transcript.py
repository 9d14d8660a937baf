"""A transcript: a paragraph per request narrating this very run, with its real figures."""

from __future__ import annotations

from collections.abc import Sequence

from visualizer.contract.events import Event
from visualizer.contract.trace import Trace
from visualizer.lesson.gauge import in_use
from visualizer.lesson.lanes import by_request, first, gap_ms
from visualizer.lesson.narration import close_did


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


def _line(event: Event) -> str:
    return f" (line {event.line})" if event.line else ""


def _statements(lane: Sequence[Event]) -> str:
    verbs = [str(e.detail.get("sql", "")).split(" ", 1)[0] for e in lane if e.kind == "sql"]
    if not verbs:
        return "It sent no SQL at all."
    listed = ", ".join(verbs[:-1]) + (" and " if len(verbs) > 1 else "") + verbs[-1]
    return f"It sent {len(verbs)} SQL statement{'s' if len(verbs) > 1 else ''}: {listed}."


def _on(thread: str) -> str:
    return "on the event loop" if thread == "event loop" else f"on {thread}"


def _sentence(event: Event, start: Event, first_checkout: bool) -> str | None:
    """The sentence a milestone event gets in the transcript; None for the others."""
    kind, detail = event.kind, event.detail
    if kind == "session.create":
        who = detail.get("created_in") or "the program"
        return (
            f"{_ms(gap_ms(start, event))} later {who} created session {event.session}"
            f"{_line(event)} {_on(event.thread)}, with no transaction and no connection."
        )
    if kind == "pool.checkout" and first_checkout:
        return (
            f"At {_ms(event.t_ms)} the first SQL{_line(event)} checked a connection out "
            f"of the pool, leaving {in_use(event.pool)}."
        )
    if kind == "after_commit":
        return f"A COMMIT succeeded at {_ms(event.t_ms)}{_line(event)}."
    if kind == "after_rollback":
        return f"The transaction was rolled back at {_ms(event.t_ms)}{_line(event)}."
    if kind == "session.resume" and detail.get("error"):
        return (
            f"The endpoint raised {detail['error']}, which FastAPI threw into get_db at "
            f"its yield{_line(event)}."
        )
    if kind == "response.start":
        return f"The server sent status {detail.get('status')} at {_ms(event.t_ms)}."
    if kind == "client.body":
        return f"The client had the whole response at {_ms(event.t_ms)}."
    if kind == "session.close":
        return f"db.close() finished at {_ms(event.t_ms)}: it {close_did(detail)}."
    return None


def request_transcript(trace: Trace, request: int) -> str:
    """What happened to one request, in the order it happened, as sentences."""
    lane = by_request(trace.events).get(request, [])
    start = first(lane, "request.start")
    if start is None:
        return ""
    said = [f"{start.detail.get('method')} {start.detail.get('path')} reached the server."]
    checked_out = False
    for event in lane:
        sentence = _sentence(event, start, not checked_out)
        checked_out = checked_out or event.kind == "pool.checkout"
        if sentence:
            said.append(sentence)
    said.append(_statements(lane))
    sent, close = first(lane, "response.start"), first(lane, "session.close")
    if close and sent and sent.seq < close.seq:
        said.append(
            f"So the response was sent {_ms(gap_ms(sent, close))} before the "
            "session closed, the reverse of the textbook's order."
        )
    elif close is None and first(lane, "session.create"):
        said.append("db.close() never ran for this session.")
    return " ".join(said)


def transcript(trace: Trace) -> list[tuple[int, str]]:
    """A paragraph per request, and one about what was left behind."""
    paragraphs = [(r.id, request_transcript(trace, r.id)) for r in trace.requests]
    paragraphs = [(n, text) for n, text in paragraphs if text]
    left = trace.pool_after.checked_out
    if left:
        paragraphs.append(
            (
                0,
                f"When the run ended, {left} connection{'s were' if left > 1 else ' was'} "
                "still checked out of the pool.",
            )
        )
    return paragraphs
