"""A run: one scenario in its own sandbox, driven by real HTTP requests against real uvicorn."""

from __future__ import annotations

import asyncio
import functools
import os
import platform
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session
from sqlalchemy.util import greenlet_spawn

from visualizer.capture.collector import garbage_collector
from visualizer.capture.instrument import instrument
from visualizer.capture.recorder import Recorder
from visualizer.contract.events import Event, PoolStatus
from visualizer.contract.trace import KeyMoment, Trace, TraceRequest
from visualizer.execution.client_process import ClientProcess, batches
from visualizer.execution.publisher import EventSink, Publisher
from visualizer.execution.scenarios import Scenario
from visualizer.execution.server import LoopbackServer

SANDBOX_PREFIX = "session-visualizer-"  # then the pid of the run's process


@functools.cache  # read from package metadata once: they cannot change under a running process
def _versions() -> tuple[tuple[str, str], ...]:
    names = ("fastapi", "sqlalchemy", "starlette", "uvicorn")
    return (("python", platform.python_version()), *((name, version(name)) for name in names))


def installed_versions() -> dict[str, str]:
    return dict(_versions())


def _dispose(namespace: dict[str, Any], recorder: Recorder) -> None:
    """Free everything the run made: leaked sessions first, then the engines' pools."""
    recorder.recording = False
    leaked_async: list[Session] = []
    for session in list(recorder.sessions):
        if getattr(getattr(session.bind, "dialect", None), "is_async", False):
            leaked_async.append(session)  # its rollback must await the driver
            continue
        try:
            session.close()
        except Exception as error:  # already broken: nothing more to free
            recorder.hook_failed("cleanup", error)
    for value in namespace.values():
        if isinstance(value, Engine):
            value.dispose()
    engines = [v for v in namespace.values() if isinstance(v, AsyncEngine)]
    if leaked_async or engines:
        # The server's loop has stopped; aiosqlite's connections each have a thread of their
        # own and close from a new loop: measured clean, no warning and no thread left.
        asyncio.run(_dispose_async(leaked_async, engines, recorder))


async def _dispose_async(
    sessions: list[Session], engines: list[AsyncEngine], recorder: Recorder
) -> None:
    for session in sessions:
        try:
            await greenlet_spawn(session.close)
        except Exception as error:  # already broken: nothing more to free
            recorder.hook_failed("cleanup", error)
    for engine in engines:
        await engine.dispose()


def run_scenario(
    scenario: Scenario,
    *,
    sink: EventSink | None = None,
    recorder_factory: Callable[[str], Recorder] = Recorder,
    timeout: float = 15.0,
) -> Trace:
    """Run one scenario for real and return its trace; `sink` sees each event as it arrives."""
    recorder = recorder_factory(str(scenario.path))
    # A thread of the run's own: whatever event loop the caller runs (a web server, a
    # Playwright test), none runs there, so an async scenario's module code and its cleanup
    # can call asyncio.run().
    with (
        garbage_collector(scenario.gc) as gc_mode,
        ThreadPoolExecutor(1, thread_name_prefix="visualizer-run") as own_thread,
    ):
        run = own_thread.submit(_run, scenario, sink, recorder, timeout).result()
    requests, events, pool_after = run
    return Trace(
        scenario=scenario.name,
        title=scenario.title,
        summary=scenario.summary,
        code=scenario.code,
        versions=installed_versions(),
        requests=requests,
        events=events,
        key_moments=resolve_key_moments(scenario, events),
        questions=list(scenario.questions),
        pool_after=pool_after,
        hook_errors=dict(recorder.hook_errors),
        dropped_events=recorder.dropped,
        gc=gc_mode,
    )


def _run(
    scenario: Scenario, sink: EventSink | None, recorder: Recorder, timeout: float
) -> tuple[list[TraceRequest], list[Event], PoolStatus]:
    module_name = f"visualizer_run_{scenario.name}_{uuid.uuid4().hex[:12]}"
    namespace: dict[str, Any] = {}
    # The pid in the name lets a later server remove it if this process is killed mid-run.
    with tempfile.TemporaryDirectory(prefix=f"{SANDBOX_PREFIX}{os.getpid()}-") as sandbox:
        database_url = f"sqlite:///{Path(sandbox) / 'app.db'}"
        try:
            namespace = scenario.load(database_url, module_name)
            app = instrument(namespace, recorder)
            requests: list[TraceRequest] = []
            with LoopbackServer(app) as server:
                client = ClientProcess(server.host, server.port, timeout)
                try:
                    threads = {
                        threading.get_ident(): "client",
                        server.loop_thread or 0: "event loop",
                    }
                    publisher = Publisher(recorder, threads, sink)
                    for batch in batches(scenario.requests):
                        requests += client.send(recorder, batch)
                        for number, _ in batch:
                            recorder.wait_finished(number, timeout)
                        publisher.flush()
                    pool_after = recorder.pool_status()
                finally:
                    client.close()
        finally:
            _dispose(namespace, recorder)
            sys.modules.pop(module_name, None)
    return requests, publisher.events, pool_after


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
