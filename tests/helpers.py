"""Small readers over a trace's events, shared by the tests."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from pydantic import TypeAdapter

from visualizer.contract.claims import Claim
from visualizer.contract.events import Event
from visualizer.contract.trace import Trace
from visualizer.lesson.deviations import find_deviations
from visualizer.lesson.lanes import by_request, steps_of

T = TypeVar("T")
CLAIM: TypeAdapter[Claim] = TypeAdapter(Claim)


def kinds(trace: Trace, request: int | None = 1) -> list[str]:
    return [e.kind for e in trace.events if request is None or e.request == request]


def first(trace: Trace, kind: str, request: int = 1) -> Event:
    return next(e for e in trace.events if e.kind == kind and e.request == request)


def seq_of(trace: Trace, kind: str, request: int = 1) -> int:
    return first(trace, kind, request).seq


def steps(trace: Trace, request: int = 1) -> list[int]:
    return steps_of(by_request(trace.events)[request])


def deviation_kinds(trace: Trace) -> set[str]:
    return {d.kind for d in find_deviations(trace.events)}


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end on a worker thread.

    Playwright's sync API leaves an event loop running on the main thread, after which
    asyncio.run() there refuses to start; a fresh thread has no loop.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def claim(data: dict[str, Any]) -> Claim:
    """A claim as a scenario file writes it, read into its model."""
    return CLAIM.validate_python(data)
