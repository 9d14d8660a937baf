"""The one pure reducer: a trace and a cursor in, everything a learner sees at that moment out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from visualizer.deviations import Deviation
from visualizer.events import DbState, Event, PoolStatus
from visualizer.textbook import TABLE_KINDS, action_and_result
from visualizer.trace import Trace


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the execution table."""

    seq: int
    request: int | None
    step: int | None
    action: str
    state: str
    result: str
    t_ms: float
    thread: str
    line: int | None


@dataclass(slots=True)
class Lane:
    """One request: its step, its own `db` variable and that variable's history."""

    request: int
    method: str
    path: str
    step: int | None = None
    visited: list[int] = field(default_factory=list)
    db: str = DbState.NONE.value
    tracker: list[tuple[str, str]] = field(default_factory=lambda: [("start", "None")])
    status: int | None = None
    sent_ms: float | None = None  # server sent the status line
    client_ms: float | None = None  # client had the whole body
    closed_ms: float | None = None  # db.close() returned

    def apply(self, event: Event) -> None:
        if event.kind == "client.body":
            self.client_ms = event.t_ms
        if event.kind.startswith("client."):
            return  # the client's side has its own panel; the lane follows the server
        if event.step is not None and event.step != self.step:
            if self.step is not None:
                self.tracker.append((f"after step {self.step}", self.db))
            self.step = event.step
            if not self.visited or self.visited[-1] != event.step:
                self.visited.append(event.step)
        self.db = event.db
        if event.kind == "response.start":
            self.status = event.detail.get("status")
            self.sent_ms = event.t_ms
        elif event.kind == "session.close":
            self.closed_ms = event.t_ms


@dataclass(frozen=True, slots=True)
class Frame:
    """The whole stage after `cursor` events (cursor 0: before the first)."""

    cursor: int
    total: int
    event: Event | None
    lanes: tuple[Lane, ...]
    rows: tuple[Row, ...]
    sql: tuple[Event, ...]
    pool: PoolStatus
    key_moments: tuple[dict[str, Any], ...]
    deviations: tuple[Deviation, ...]

    @property
    def narration(self) -> str:
        if self.event is None:
            return "Press play: the first request is about to reach the server."
        return self.event.text

    @property
    def line(self) -> int | None:
        return self.event.line if self.event else None

    def lane(self, request: int) -> Lane | None:
        return next((lane for lane in self.lanes if lane.request == request), None)


def _row(event: Event) -> Row:
    action, result = action_and_result(event.kind, event.detail)
    return Row(
        event.seq,
        event.request,
        event.step,
        action,
        event.db,
        result,
        event.t_ms,
        event.thread,
        event.line,
    )


def frame_at(trace: Trace, cursor: int, deviations: list[Deviation] | None = None) -> Frame:
    """Fold the first `cursor` events into what the page and the terminal show."""
    cursor = max(0, min(cursor, len(trace.events)))
    shown = trace.events[:cursor]
    lanes = {r.id: Lane(r.id, r.method, r.path) for r in trace.requests}
    pool = PoolStatus()
    for event in shown:
        if event.request is not None:
            lane = lanes.setdefault(event.request, Lane(event.request, "?", "?"))
            lane.apply(event)
        if event.pool.size is not None:
            pool = event.pool
    last_seq = shown[-1].seq if shown else 0
    if deviations is None:
        deviations = trace.deviations
    return Frame(
        cursor=cursor,
        total=len(trace.events),
        event=shown[-1] if shown else None,
        lanes=tuple(lanes.values()),
        rows=tuple(_row(e) for e in shown if e.kind in TABLE_KINDS),
        sql=tuple(e for e in shown if e.kind == "sql"),
        pool=pool,
        key_moments=tuple(
            m for m in trace.key_moments if m.get("seq") is not None and m["seq"] <= last_seq
        ),
        deviations=tuple(d for d in deviations if d.seq <= last_seq),
    )


def final_tracker(lane: Lane) -> list[tuple[str, str]]:
    """The tracker once the run is over: start, after each step reached, end."""
    entries = list(lane.tracker)
    if lane.step is not None:
        entries.append((f"after step {lane.step}", lane.db))
    entries.append(("end", lane.db))
    return entries
