"""The one pure reducer: a trace and a cursor in, everything a learner sees at that moment out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from visualizer.contract.document import Deviation
from visualizer.contract.events import DbState, Event, PoolStatus
from visualizer.contract.trace import KeyMoment, Trace, TraceRequest
from visualizer.lesson.deviations import find_deviations
from visualizer.lesson.lanes import by_request, first, made_by, status_of, stories, stretches
from visualizer.lesson.narration import CODE_ACTIONS, TABLE_KINDS, action_and_result


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the execution table."""

    seq: int
    request: int | None
    session: int | None
    step: int | None
    action: str
    state: str
    result: str
    t_ms: float
    thread: str
    line: int | None


@dataclass(frozen=True, slots=True)
class Lane:
    """One session's story in one request so far (a request with no session has one lane):
    its step, its own `db` variable and that variable's history."""

    request: int
    session: int | None
    made_by: str | None  # the dependency that yielded the session, or the code that made it
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

    @property
    def key(self) -> tuple[int, int | None]:
        return self.request, self.session

    @classmethod
    def of(cls, request: TraceRequest, session: int | None, lane: Sequence[Event]) -> Lane:
        done = stretches(lane)
        # `db` is this session's own: a response shows the state of the request's main
        # session, which in a request with two sessions is not this one.
        db, after = DbState.NONE.value, []
        for stretch in done:
            for event in stretch.events:
                if session is None or event.session == session:
                    db = event.db
            after.append((f"after step {stretch.step}", db))
        sent, body = first(lane, "response.start"), first(lane, "client.body")
        close = next((e for e in reversed(lane) if e.kind == "session.close"), None)
        return cls(
            request=request.id,
            session=session,
            made_by=made_by(lane) if session is not None else None,
            method=request.method,
            path=request.path,
            step=done[-1].step if done else None,
            visited=tuple(s.step for s in done),
            db=db,
            tracker=(("start", DbState.NONE.value), *after[:-1]),
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

    pools: tuple[PoolStatus, ...] = ()  # each pool's latest gauge, by pool number

    def lane(self, request: int, session: int | None = None) -> Lane | None:
        """The lane of this session in this request; of the request's first session if the
        event belongs to none (a request's start or its response)."""
        mine = [lane for lane in self.lanes if lane.request == request]
        return next((lane for lane in mine if lane.session == session), None) or next(
            iter(mine), None
        )

    @property
    def sessions(self) -> int:
        """The most sessions any one request has: above 1, lanes are told apart by session."""
        per_request: dict[int, int] = {}
        for lane in self.lanes:
            if lane.session is not None:
                per_request[lane.request] = per_request.get(lane.request, 0) + 1
        return max(per_request.values(), default=0)


def _row(event: Event, code: dict[str | None, dict[int, str]]) -> Row:
    action, result = action_and_result(event.kind, event.detail)
    lines = code.get(event.file, {})
    if event.kind in CODE_ACTIONS and event.line in lines:
        action = lines[event.line]  # the program's own line says it best: it is what ran
    return Row(
        event.seq,
        event.request,
        event.session,
        event.step,
        action,
        event.db,
        result,
        event.t_ms,
        event.thread,
        event.line,
    )


def code_of(trace: Trace, file: str | None) -> str:
    """The code of one of the program's files: `trace.code` is its main file's."""
    if file is not None and file in trace.sources:
        return trace.sources[file]
    return trace.code if file is None or file == trace.file else ""


def program_lines(trace: Trace) -> dict[str | None, dict[int, str]]:
    """Each of the program's files, line by line; a trace without code has none."""
    files = {trace.file, *trace.sources}
    return {
        file: {n: text.strip() for n, text in enumerate(code_of(trace, file).splitlines(), 1)}
        for file in files
    }


def frame_at(trace: Trace, cursor: int, deviations: list[Deviation] | None = None) -> Frame:
    """Fold the first `cursor` events into what the page and the terminal show."""
    cursor = max(0, min(cursor, len(trace.events)))
    shown = trace.events[:cursor]
    requests = {r.id: r for r in trace.requests}
    lanes = by_request(shown)
    for number in lanes.keys() - requests.keys():  # a request nobody planned (e.g. live)
        requests[number] = TraceRequest(id=number, method="?", path="?", status=None)
    pool = next((e.pool for e in reversed(shown) if e.pool.size is not None), PoolStatus())
    code = program_lines(trace)
    last_seq = shown[-1].seq if shown else 0
    if deviations is None:
        deviations = find_deviations(trace.events)
    pools: dict[int, PoolStatus] = {}
    for event in shown:
        if event.pool.number is not None and event.pool.size is not None:
            pools[event.pool.number] = event.pool
    return Frame(
        cursor=cursor,
        total=len(trace.events),
        event=shown[-1] if shown else None,
        lanes=tuple(
            Lane.of(r, session, story)
            for number, r in requests.items()
            for session, story in stories(lanes.get(number, []))
        ),
        pools=tuple(pools[number] for number in sorted(pools)),
        rows=tuple(_row(e, code) for e in shown if e.kind in TABLE_KINDS),
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
