"""Small readers over a trace's events, shared by the tests."""

from __future__ import annotations

from visualizer.events import Event
from visualizer.trace import Trace


def kinds(trace: Trace, request: int | None = 1) -> list[str]:
    return [e.kind for e in trace.events if request is None or e.request == request]


def first(trace: Trace, kind: str, request: int = 1) -> Event:
    return next(e for e in trace.events if e.kind == kind and e.request == request)


def seq_of(trace: Trace, kind: str, request: int = 1) -> int:
    return first(trace, kind, request).seq


def steps(trace: Trace, request: int = 1) -> list[int]:
    return next(s["steps"] for s in trace.to_json()["steps_observed"] if s["request"] == request)


def deviation_kinds(trace: Trace) -> set[str]:
    return {d.kind for d in trace.deviations}
