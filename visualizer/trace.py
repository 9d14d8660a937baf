"""A run's trace: its events in the contract's form, built from raw events, to and from JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from visualizer.deviations import Deviation, find_deviations, steps_observed
from visualizer.events import KINDS, Event, PoolStatus, RawEvent
from visualizer.questions import QuestionError, read_questions
from visualizer.textbook import narrate, step_for


class TraceError(ValueError):
    """A JSON document that is not a valid trace; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class TraceRequest:
    id: int
    method: str
    path: str
    status: int | None
    body: str = ""


@dataclass(slots=True)
class Trace:
    scenario: str
    title: str
    summary: str
    code: str
    versions: dict[str, str]
    requests: list[TraceRequest]
    events: list[Event]
    key_moments: list[dict[str, Any]]
    questions: list[dict[str, Any]] = field(default_factory=list)
    pool_after: PoolStatus = field(default_factory=PoolStatus)
    hook_errors: dict[str, int] = field(default_factory=dict)
    dropped_events: int = 0
    gc: str = "enabled"  # "paused" when the scenario held Python's cyclic collector off

    @property
    def deviations(self) -> list[Deviation]:
        return find_deviations(self.events)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "title": self.title,
            "summary": self.summary,
            "code": self.code,
            "versions": self.versions,
            "requests": [
                {"id": r.id, "method": r.method, "path": r.path, "status": r.status, "body": r.body}
                for r in self.requests
            ],
            "events": [e.to_json() for e in self.events],
            "steps_observed": steps_observed(self.events),
            "deviations": [d.to_json() for d in self.deviations],
            "key_moments": self.key_moments,
            "questions": self.questions,
            "pool_after": _pool_json(self.pool_after),
            "hook_errors": self.hook_errors,
            "dropped_events": self.dropped_events,
            **({"gc": self.gc} if self.gc != "enabled" else {}),
        }


def _pool_json(pool: PoolStatus) -> dict[str, int | None]:
    return {"checked_out": pool.checked_out, "size": pool.size, "overflow": pool.overflow}


class EventDescriber:
    """Turns raw events into contract events, one at a time, as they arrive."""

    def __init__(self, named_threads: dict[int, str]) -> None:
        self.started_ns: int | None = None  # t = 0 at the first event
        self.threads = dict(named_threads)
        self._workers = 0
        self.count = 0
        # The client's events are recorded after the fact, from another process: they show
        # the session and pool as last observed on the server for that request.
        self._last_seen: dict[int | None, tuple[str, PoolStatus]] = {}

    def _thread(self, ident: int) -> str:
        if ident not in self.threads:
            self._workers += 1
            self.threads[ident] = f"worker thread {self._workers}"
        return self.threads[ident]

    def describe(self, raw: RawEvent) -> Event:
        if self.started_ns is None:
            self.started_ns = raw.t_ns
        self.count += 1
        db, pool = raw.db.value, raw.pool
        if raw.kind.startswith("client."):
            db, pool = self._last_seen.get(raw.request, (db, PoolStatus()))
        else:
            self._last_seen[raw.request] = (db, pool)
        return Event(
            seq=self.count,
            t_ms=round((raw.t_ns - self.started_ns) / 1e6, 3),
            request=raw.request,
            kind=raw.kind,
            step=step_for(raw),
            line=raw.line,
            thread=self._thread(raw.thread),
            db=db,
            pool=pool,
            detail=raw.detail,
            text=narrate(raw),
        )


# -- reading a trace back (import) ------------------------------------------------------------


def _need(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in obj:
        raise TraceError(f"{where}: missing {key!r}")
    value = obj[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise TraceError(f"{where}: {key!r} has the wrong type ({type(value).__name__})")
    return value


def _optional_int(obj: dict[str, Any], key: str, where: str) -> int | None:
    value = obj.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise TraceError(f"{where}: {key!r} must be a whole number or null")
    return value


def _event_from_json(obj: Any, index: int, previous_seq: int) -> Event:
    where = f"events[{index}]"
    if not isinstance(obj, dict):
        raise TraceError(f"{where}: not an object")
    seq = _need(obj, "seq", int, where)
    if seq <= previous_seq:
        raise TraceError(f"{where}: seq {seq} is not after {previous_seq}")
    kind = _need(obj, "kind", str, where)
    if kind not in KINDS:
        raise TraceError(f"{where}: unknown kind {kind!r}")
    step = _optional_int(obj, "step", where)
    if step is not None and not 1 <= step <= 7:
        raise TraceError(f"{where}: step {step} is not between 1 and 7")
    pool = _need(obj, "pool", dict, where)
    detail = _need(obj, "detail", dict, where)
    return Event(
        seq=seq,
        t_ms=float(_need(obj, "t_ms", (int, float), where)),
        request=_optional_int(obj, "request", where),
        kind=kind,
        step=step,
        line=_optional_int(obj, "line", where),
        thread=_need(obj, "thread", str, where),
        db=_need(obj, "db", str, where),
        pool=PoolStatus(
            _optional_int(pool, "checked_out", where + ".pool"),
            _optional_int(pool, "size", where + ".pool"),
            _optional_int(pool, "overflow", where + ".pool"),
        ),
        detail=detail,
        text=_need(obj, "text", str, where),
    )


def trace_from_json(data: Any) -> Trace:
    """Validate a trace document and rebuild it; raises TraceError saying what is wrong."""
    if not isinstance(data, dict):
        raise TraceError("a trace is a JSON object")
    raw_events = _need(data, "events", list, "trace")
    if not raw_events:
        raise TraceError("trace: 'events' is empty")
    events: list[Event] = []
    for index, obj in enumerate(raw_events):
        events.append(_event_from_json(obj, index, events[-1].seq if events else 0))
    requests = []
    for index, obj in enumerate(_need(data, "requests", list, "trace")):
        where = f"requests[{index}]"
        if not isinstance(obj, dict):
            raise TraceError(f"{where}: not an object")
        requests.append(
            TraceRequest(
                id=_need(obj, "id", int, where),
                method=_need(obj, "method", str, where),
                path=_need(obj, "path", str, where),
                status=_optional_int(obj, "status", where),
                body=str(obj.get("body", "")),
            )
        )
    moments = data.get("key_moments", [])
    if not isinstance(moments, list) or not all(
        isinstance(m, dict) and isinstance(m.get("text"), str) for m in moments
    ):
        raise TraceError("trace: 'key_moments' must be a list of objects with a 'text'")
    questions = data.get("questions", [])
    try:
        read_questions(questions if isinstance(questions, list) else [None])
    except QuestionError as error:
        raise TraceError(f"trace: 'questions': {error}") from None
    gc = data.get("gc", "enabled")
    if gc not in ("enabled", "paused"):
        raise TraceError(f"trace: 'gc' must be 'enabled' or 'paused', not {gc!r}")
    pool_after = data.get("pool_after") or {}
    return Trace(
        scenario=_need(data, "scenario", str, "trace"),
        title=str(data.get("title", data["scenario"])),
        summary=str(data.get("summary", "")),
        code=str(data.get("code", "")),
        versions={str(k): str(v) for k, v in _need(data, "versions", dict, "trace").items()},
        requests=requests,
        events=events,
        key_moments=moments,
        questions=questions,
        pool_after=PoolStatus(
            pool_after.get("checked_out"), pool_after.get("size"), pool_after.get("overflow")
        ),
        hook_errors=dict(data.get("hook_errors") or {}),
        dropped_events=int(data.get("dropped_events") or 0),
        gc=gc,
    )
