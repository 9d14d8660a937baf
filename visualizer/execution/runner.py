"""A run: one program in its own sandbox, driven by real HTTP requests against real uvicorn."""

from __future__ import annotations

import functools
import os
import platform
import sys
import tempfile
import threading
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from visualizer.capture import hooks
from visualizer.capture.asgi import RequestObserver
from visualizer.capture.collector import garbage_collector
from visualizer.capture.lines import ProgramFiles
from visualizer.capture.recorder import Recorder
from visualizer.contract.events import REQUEST_HEADER, Event, PoolStatus
from visualizer.contract.trace import KeyMoment, Trace, TraceRequest
from visualizer.execution import sandbox
from visualizer.execution.apps import find_app
from visualizer.execution.client_process import ClientProcess, batches
from visualizer.execution.publisher import EventSink, Publisher
from visualizer.execution.scenarios import PlannedRequest, Scenario
from visualizer.execution.server import LoopbackServer

RecorderFactory = Callable[[ProgramFiles], Recorder]
_BODY_LIMIT = 2_000


class ProgramError(RuntimeError):
    """The program could not be started: it failed on import, or has no app to serve."""


@functools.cache  # read from package metadata once: they cannot change under a running process
def _versions() -> tuple[tuple[str, str], ...]:
    names = ("fastapi", "sqlalchemy", "starlette", "uvicorn")
    return (("python", platform.python_version()), *((name, version(name)) for name in names))


def installed_versions() -> dict[str, str]:
    return dict(_versions())


@dataclass(slots=True)
class _Outcome:
    requests: list[TraceRequest] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    pools_after: list[PoolStatus] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def run_scenario(
    scenario: Scenario,
    *,
    sink: EventSink | None = None,
    recorder_factory: RecorderFactory = Recorder,
    timeout: float = 15.0,
    client: ClientProcess | None = None,
) -> Trace:
    """Run one scenario for real and return its trace; `sink` sees each event as it arrives.

    `client` sends the requests; a run given none starts its own and ends it after."""
    # Started first: its interpreter starts while the program loads and uvicorn starts.
    with nullcontext(client) if client is not None else ClientProcess() as sender:
        return _traced(scenario, sink, recorder_factory, timeout, sender)


def _traced(
    scenario: Scenario,
    sink: EventSink | None,
    recorder_factory: RecorderFactory,
    timeout: float,
    client: ClientProcess,
) -> Trace:
    observed = hooks.install()
    recorder = recorder_factory(ProgramFiles([str(scenario.path)]))
    # A thread of the run's own: whatever event loop the caller runs (a web server, a
    # Playwright test), none runs there, so an async scenario's module code and its cleanup
    # can call asyncio.run().
    with (
        garbage_collector(scenario.gc) as gc_mode,
        ThreadPoolExecutor(1, thread_name_prefix="visualizer-run") as own_thread,
    ):
        outcome = own_thread.submit(_run, scenario, sink, recorder, timeout, client).result()
    if not observed:
        outcome.warnings.append(
            "This FastAPI solves yield dependencies in a way the visualizer does not know: "
            "get_db's yield and resumption were not observed."
        )
    if recorder.dropped:
        outcome.warnings.append(
            f"The recorder's buffer was full: {recorder.dropped} later events were dropped."
        )
    return Trace(
        scenario=scenario.name,
        title=scenario.title,
        summary=scenario.summary,
        code=scenario.code,
        file=scenario.path.name,
        versions=installed_versions(),
        requests=outcome.requests,
        events=outcome.events,
        key_moments=resolve_key_moments(scenario, outcome.events),
        questions=list(scenario.questions),
        pool_after=_total(outcome.pools_after),
        pools_after=outcome.pools_after,
        hook_errors=dict(recorder.hook_errors),
        dropped_events=recorder.dropped,
        warnings=outcome.warnings,
        gc=gc_mode,
    )


def _total(pools: list[PoolStatus]) -> PoolStatus:
    """All pools as one: what a run left checked out, wherever."""
    if len(pools) == 1:
        return pools[0]
    if not pools:
        return PoolStatus()
    return PoolStatus(
        checked_out=sum(p.checked_out or 0 for p in pools),
        size=sum(p.size or 0 for p in pools),
        overflow=sum(p.overflow or 0 for p in pools),
    )


def _run(
    scenario: Scenario,
    sink: EventSink | None,
    recorder: Recorder,
    timeout: float,
    client: ClientProcess,
) -> _Outcome:
    module_name = f"visualizer_run_{scenario.name}_{uuid.uuid4().hex[:12]}"
    namespace: dict[str, Any] = {}
    outcome = _Outcome()
    # The pid in the name lets a later server remove it if this process is killed mid-run.
    with tempfile.TemporaryDirectory(prefix=f"{sandbox.PREFIX}{os.getpid()}-") as folder:
        database_url = f"sqlite:///{Path(folder) / 'app.db'}"
        try:
            # Importing the program defines it (and may seed its tables): nothing is recorded
            # until it runs. Its lifespan and its requests run under the ASGI wrapper, which
            # puts the recorder in charge.
            try:
                namespace = scenario.load(database_url, module_name)
                app = RequestObserver(find_app(namespace, scenario.app), recorder)
            except Exception as error:
                raise ProgramError(_failed_to_start(scenario, error)) from error
            with LoopbackServer(app, websockets=False) as server:
                _send(scenario, recorder, server, sink, timeout, client, outcome)
        finally:
            sandbox.dispose(namespace, recorder)
            sys.modules.pop(module_name, None)
    return outcome


def _failed_to_start(scenario: Scenario, error: Exception) -> str:
    """Where in the program it failed, and why, in one line."""
    where = scenario.path.name
    for frame in traceback.extract_tb(error.__traceback__)[::-1]:
        if frame.filename == str(scenario.path):
            where = f"{scenario.path.name}, line {frame.lineno}"
            break
    return f"{where}: {type(error).__name__}: {error}"


def _send(
    scenario: Scenario,
    recorder: Recorder,
    server: LoopbackServer,
    sink: EventSink | None,
    timeout: float,
    client: ClientProcess,
    outcome: _Outcome,
) -> None:
    """Send the planned requests batch by batch; each batch's events are published at once."""
    threads = {threading.get_ident(): "client", server.loop_thread or 0: "event loop"}
    publisher = Publisher(recorder, threads, sink)
    for batch in batches(scenario.requests):
        wire = [{"id": n, "method": p.method, "path": p.path} for n, p in batch]
        results = client.send(server.host, server.port, timeout, REQUEST_HEADER, wire)
        outcome.requests += [
            _answered(recorder, number, planned, result)
            for (number, planned), result in zip(batch, results, strict=True)
        ]
        for number, planned in batch:
            if not recorder.wait_finished(number, timeout):
                outcome.warnings.append(
                    f"Request {number} ({planned.method} {planned.path}) was still running "
                    f"{timeout:g} s after it was sent: what it did after that is missing."
                )
        publisher.flush()
    outcome.pools_after = recorder.pools_left()
    outcome.events = publisher.events


def _answered(
    recorder: Recorder, number: int, planned: PlannedRequest, result: dict[str, Any]
) -> TraceRequest:
    """Record when the client had the headers and the body; the request as the trace lists it."""
    status = result["status"]
    if status is not None:
        recorder.record(
            "client.headers",
            detail={"status": status},
            request=number,
            walk=False,
            t_ns=result["headers_ns"],
        )
        recorder.record(
            "client.body",
            detail={"status": status, "bytes": len(result["body"])},
            request=number,
            walk=False,
            t_ns=result["body_ns"],
        )
    body = str(result.get("body", result.get("error", "")))[:_BODY_LIMIT]
    return TraceRequest(
        id=number, method=planned.method, path=planned.path, status=status, body=body
    )


def resolve_key_moments(scenario: Scenario, events: list[Event]) -> list[KeyMoment]:
    """Each key moment with the seq of the first event it explains (None if none matched)."""
    resolved = []
    for moment in scenario.key_moments:
        match = next(
            (e for e in events if e.kind == moment.at and moment.request in (None, e.request)),
            None,
        )
        resolved.append(moment.model_copy(update={"seq": match.seq if match else None}))
    return resolved
