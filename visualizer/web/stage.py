"""What the page's stage shows at one cursor: the reducer's frame, arranged for the templates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from visualizer.contract.document import Deviation, DeviationType
from visualizer.contract.events import DbState, Event
from visualizer.contract.trace import Trace
from visualizer.lesson import gauge
from visualizer.lesson.deviations import find_deviations
from visualizer.lesson.lanes import TimeAxis, by_request, stories, stretches
from visualizer.lesson.moments import checked_moments
from visualizer.lesson.reducer import Frame, Lane, code_of, frame_at
from visualizer.lesson.textbook import STEPS, Step

# A shape for each state of `db`, so that colour is never the only signal.
DB_SYMBOLS = {
    DbState.NONE.value: "∅",
    DbState.IDLE.value: "○",
    DbState.TRANSACTION.value: "◔",
    DbState.CONNECTION.value: "●",
    DbState.CLOSED.value: "✕",
}


# A textbook step named by its number in a deviation's prose: "7 the response was sent after
# 5 ...", "4 queries, then 7 send ...". Only a digit at the start or after these words is one.
STEP_REF = re.compile(
    r"(?:^|(?<=\bafter )|(?<=\bbefore )|(?<=\bthen )|(?<=\band ))([1-7])(?=[ :,]|$)"
)


def step_refs(text: str) -> Markup:
    """The text, escaped, with each step number shown as "step N"."""
    return Markup(STEP_REF.sub(r'<span class="step-ref">step \1</span>', str(escape(text))))


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


def _timing(lane: Lane, has_client: bool) -> Timing:
    """Told from the run's own client where it has one; a watched app's requests come from
    clients we do not see, so theirs is told from the server's side."""
    client, closed = lane.client_ms, lane.closed_ms
    if not has_client:
        sent = lane.sent_ms
        if sent is not None and closed is not None:
            gap = closed - sent
            sentence = (
                f"The server sent the response {gap:.1f} ms before the session closed."
                if gap > 0
                else f"The session closed {-gap:.1f} ms before the server sent the response."
            )
        else:
            sentence = (
                "The response has not been sent yet."
                if sent is None
                else ("The response is sent; the session has not been closed.")
            )
        return Timing(sent, None, closed, sentence)
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


def _now_percent(axis: TimeAxis, frame: Frame) -> float:
    return axis.percent(frame.event.t_ms) if frame.event else 0.0


def _focus(frame: Frame) -> Lane | None:
    """The lane of the current event's session, or the first lane before anything happened."""
    if frame.event is not None and frame.event.request is not None:
        lane = frame.lane(frame.event.request, frame.event.session)
        if lane is not None:
            return lane
    return frame.lanes[0] if frame.lanes else None


LaneKey = tuple[int, int | None]


def label(lane: Lane, frame: Frame) -> str:
    """ "Request 2", or with several sessions in the run, "Request 2 · session 3 (get_db)"."""
    said = f"Request {lane.request}"
    if frame.sessions > 1 and lane.session is not None:
        said += f" · session {lane.session}" + (f" ({lane.made_by})" if lane.made_by else "")
    return said


@dataclass(frozen=True, slots=True)
class Gauge:
    """One pool, drawn: its slots and its caption."""

    name: str
    slots: list[str]
    text: str


def _gauges(frame: Frame) -> list[Gauge]:
    pools = frame.pools or (frame.pool,)
    return [
        Gauge(
            pool.database or "Pool" if len(pools) > 1 else "Pool",
            gauge.slots(pool),
            gauge.checked_out(pool),
        )
        for pool in pools
    ]


def _out_of_order(visited: tuple[int, ...]) -> set[int]:
    """Positions in the observed sequence that break the textbook's rising 1 to 7."""
    return {i for i in range(1, len(visited)) if visited[i] < visited[i - 1]}


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of one request on one step, placed on the run's time axis (in percent)."""

    step: int
    left: float
    width: float


def _timeline(axis: TimeAxis, frame: Frame, trace: Trace) -> dict[LaneKey, list[Segment]]:
    """Each lane's steps so far on one time axis shared by all of them.

    A stretch lasts until the next one of its lane begins, or to its own last event.
    """
    lanes: dict[LaneKey, list[Segment]] = {}
    for request, events in by_request(trace.events[: frame.cursor]).items():
        for session, story in stories(events):
            lanes[request, session] = _segments(axis, story)
    return lanes


def _segments(axis: TimeAxis, story: list[Event]) -> list[Segment]:
    done = stretches(story)
    ends = [s.start_ms for s in done[1:]] + [done[-1].end_ms] if done else []
    return [
        Segment(
            s.step,
            axis.percent(s.start_ms),
            max(axis.percent(end - s.start_ms), 0.6),
        )
        for s, end in zip(done, ends, strict=True)
    ]


def _changes(trace: Trace, frame: Frame, deviations: list[Deviation] | None) -> set[str]:
    """What the current event changed, so the page can mark it for a moment."""
    if frame.event is None:
        return set()
    before = frame_at(trace, frame.cursor - 1, deviations)
    changed = set()
    focus, earlier = _focus(frame), _focus(before)
    if focus and earlier and (focus.key != earlier.key or focus.db != earlier.db):
        changed.add("db")
    if before.pool.size is not None and frame.pool.checked_out != before.pool.checked_out:
        changed.add("pool")  # a checkout or checkin, not the gauge's first appearance
    if frame.rows and frame.rows[-1].seq == frame.event.seq:
        changed.add("row")
    if focus and earlier and focus.step != earlier.step:
        changed.add("step")
    return changed


def stage_context(
    trace: Trace, cursor: int, deviations: list[Deviation] | None = None
) -> dict[str, Any]:
    """Everything `_stage.html` needs; pure, so it is tested without a browser."""
    if deviations is None:
        deviations = find_deviations(trace.events)
    frame = frame_at(trace, cursor, deviations)
    axis = TimeAxis.of(trace.events)
    # The code shown is the file the current event ran in (a live app has many); before the
    # first, the first file any event ran in.
    code_file = frame.event.file if frame.event and frame.event.file else None
    if code_file is None:
        code_file = trace.file or next((e.file for e in trace.events if e.file), None)
    has_client = any(e.kind.startswith("client.") for e in trace.events)
    focus = _focus(frame)
    event = frame.event
    callouts = [d for d in frame.deviations if d.type == DeviationType.ORDER]
    notes: dict[str, tuple[Deviation, list[int]]] = {}  # the same note once, with its requests
    for d in frame.deviations:
        if d.type != DeviationType.ORDER:
            notes.setdefault(d.kind, (d, []))[1].append(d.request)
    # A moment whose claim this run did not bear out is shown flagged, never as true.
    checked = {c.seq: c for c in checked_moments(trace)}
    moments = [checked[m.seq] for m in frame.key_moments if m.seq in checked]
    moments_now = [c for c in moments if event is not None and c.seq == event.seq]
    return {
        "changed": _changes(trace, frame, deviations),
        "timeline": _timeline(axis, frame, trace),
        "now_percent": _now_percent(axis, frame),
        "trace": trace,
        "frame": frame,
        "event": event,
        "focus": focus,
        "nodes": _nodes(focus) if focus else [],
        "out_of_order": _out_of_order(focus.visited) if focus else set(),
        "several": len(frame.lanes) > 1,
        "callouts": callouts,
        "notes": list(notes.values()),
        "moments": moments,
        "moments_now": moments_now,
        "code_file": code_file,
        "code_lines": list(enumerate(code_of(trace, code_file).splitlines(), start=1)),
        "db_symbols": DB_SYMBOLS,
        "timings": {lane.key: _timing(lane, has_client) for lane in frame.lanes},
        "labels": {lane.key: label(lane, frame) for lane in frame.lanes},
        "sessions": frame.sessions,
        "gauges": _gauges(frame),
    }
