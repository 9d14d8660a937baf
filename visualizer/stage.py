"""What the page's stage shows at one cursor: the reducer's frame, arranged for the templates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from visualizer.deviations import ORDER, Deviation
from visualizer.events import DbState
from visualizer.reducer import Frame, Lane, frame_at
from visualizer.textbook import STEPS, Step
from visualizer.trace import Trace

# A shape for each state of `db`, so that colour is never the only signal.
DB_SYMBOLS = {
    DbState.NONE.value: "∅",
    DbState.IDLE.value: "○",
    DbState.TRANSACTION.value: "◔",
    DbState.CONNECTION.value: "●",
    DbState.CLOSED.value: "✕",
}


@dataclass(frozen=True, slots=True)
class StepNode:
    step: Step
    state: str  # "current", "visited" or "pending"
    visits: int


@dataclass(frozen=True, slots=True)
class Timing:
    """When the server sent the response, the client had it, and the session closed."""

    sent_ms: float | None
    client_ms: float | None
    closed_ms: float | None
    sentence: str


def _timing(lane: Lane) -> Timing:
    client, closed = lane.client_ms, lane.closed_ms
    if client is not None and closed is not None:
        gap = closed - client
        sentence = (
            f"The client had its response {gap:.1f} ms before the session closed."
            if gap > 0
            else f"The session closed {-gap:.1f} ms before the client had its response."
        )
    elif client is not None:
        sentence = "The client has its response; the session has not been closed."
    elif closed is not None:
        sentence = "The session is closed; the client does not have its response yet."
    else:
        sentence = "The client is waiting for its response."
    return Timing(lane.sent_ms, client, closed, sentence)


def _nodes(lane: Lane) -> list[StepNode]:
    nodes = []
    for step in STEPS:
        visits = lane.visited.count(step.number)
        state = "current" if lane.step == step.number else "visited" if visits else "pending"
        nodes.append(StepNode(step, state, visits))
    return nodes


def _focus(frame: Frame) -> Lane | None:
    """The lane of the current event, or the first lane before anything happened."""
    if frame.event is not None and frame.event.request is not None:
        lane = frame.lane(frame.event.request)
        if lane is not None:
            return lane
    return frame.lanes[0] if frame.lanes else None


def _out_of_order(visited: list[int]) -> set[int]:
    """Positions in the observed sequence that break the textbook's rising 1 to 7."""
    return {i for i in range(1, len(visited)) if visited[i] < visited[i - 1]}


def stage_context(
    trace: Trace, cursor: int, deviations: list[Deviation] | None = None
) -> dict[str, Any]:
    """Everything `_stage.html` needs; pure, so it is tested without a browser."""
    frame = frame_at(trace, cursor, deviations)
    focus = _focus(frame)
    event = frame.event
    callouts = [d for d in frame.deviations if d.type == ORDER]
    notes = [d for d in frame.deviations if d.type != ORDER]
    moments_now = [m for m in frame.key_moments if event is not None and m["seq"] == event.seq]
    pool = frame.pool
    return {
        "trace": trace,
        "frame": frame,
        "event": event,
        "focus": focus,
        "nodes": _nodes(focus) if focus else [],
        "out_of_order": _out_of_order(focus.visited) if focus else set(),
        "several": len(frame.lanes) > 1,
        "callouts": callouts,
        "notes": notes,
        "moments_now": moments_now,
        "code_lines": list(enumerate(trace.code.splitlines(), start=1)),
        "db_symbols": DB_SYMBOLS,
        "timings": {lane.request: _timing(lane) for lane in frame.lanes},
        "pool_slots": (
            ["used"] * min(pool.checked_out or 0, pool.size or 0)
            + ["free"] * max(0, (pool.size or 0) - (pool.checked_out or 0))
            + ["overflow"] * (pool.overflow or 0)
        ),
    }
