"""The one pure reducer: a trace and a cursor in, everything a learner sees at that moment out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from visualizer.contract.document import Deviation
from visualizer.contract.events import DbState, Event, PoolStatus
from visualizer.contract.trace import KeyMoment, Trace, TraceRequest
from visualizer.lesson.deviations import find_deviations
from visualizer.lesson.lanes import by_request, first, is_client, status_of, stretches
from visualizer.lesson.narration import TABLE_KINDS, action_and_result


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


@dataclass(frozen=True, slots=True)
class Lane:
    """One request so far: its step, its own `db` variable and that variable's history."""

    request: int
    method: str
    path: str
    step: int | None
    visited: tuple[int, ...]
    db: str
    tracker: tuple[tuple[str, str], ...]  # ("start", db), then ("after step N", db) ...
    status: int | None
    sent_ms: float | None  # server sent the status line
    client_ms: float | None  # client had the whole body
    closed_ms: float | None  # db.close() returned

    @classmethod
    def of(cls, request: TraceRequest, lane: Sequence[Event]) -> Lane:
        done = stretches(lane)
        server = [e for e in lane if not is_client(e)]
        sent, body = first(lane, "response.start"), first(lane, "client.body")
        close = next((e for e in reversed(lane) if e.kind == "session.close"), None)
        return cls(
            request=request.id,
            method=request.method,
            path=request.path,
            step=done[-1].step if done else None,
            visited=tuple(s.step for s in done),
            db=server[-1].db if server else DbState.NONE.value,
            tracker=(
                ("start", DbState.NONE.value),
                *((f"after step {s.step}", s.db) for s in done[:-1]),
            ),
            status=status_of(lane),
            sent_ms=sent.t_ms if sent else None,
            client_ms=body.t_ms if body else None,
            closed_ms=close.t_ms if close else None,
        )


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
    key_moments: tuple[KeyMoment, ...]
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
    requests = {r.id: r for r in trace.requests}
    lanes = by_request(shown)
    for number in lanes.keys() - requests.keys():  # a request nobody planned (e.g. live)
        requests[number] = TraceRequest(id=number, method="?", path="?", status=None)
    pool = next((e.pool for e in reversed(shown) if e.pool.size is not None), PoolStatus())
    last_seq = shown[-1].seq if shown else 0
    if deviations is None:
        deviations = find_deviations(trace.events)
    return Frame(
        cursor=cursor,
        total=len(trace.events),
        event=shown[-1] if shown else None,
        lanes=tuple(Lane.of(r, lanes.get(number, [])) for number, r in requests.items()),
        rows=tuple(_row(e) for e in shown if e.kind in TABLE_KINDS),
        sql=tuple(e for e in shown if e.kind == "sql"),
        pool=pool,
        key_moments=tuple(m for m in trace.key_moments if m.seq is not None and m.seq <= last_seq),
        deviations=tuple(d for d in deviations if d.seq <= last_seq),
    )


def final_tracker(lane: Lane) -> list[tuple[str, str]]:
    """The tracker once the run is over: start, after each step reached, end."""
    entries = list(lane.tracker)
    if lane.step is not None:
        entries.append((f"after step {lane.step}", lane.db))
    entries.append(("end", lane.db))
    return entries
