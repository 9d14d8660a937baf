"""A run: one scenario in its own sandbox, driven by real HTTP requests against real uvicorn."""

from __future__ import annotations

import asyncio
import functools
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

from visualizer.capture import Recorder
from visualizer.collector import garbage_collector
from visualizer.driver import ClientProcess, batches
from visualizer.events import Event, PoolStatus
from visualizer.instrument import instrument
from visualizer.loopback import LoopbackServer
from visualizer.scenarios import Scenario
from visualizer.trace import EventDescriber, Trace, TraceRequest

EventSink = Callable[[Event], None]


@functools.cache  # read from package metadata once: they cannot change under a running process
def _versions() -> tuple[tuple[str, str], ...]:
    names = ("fastapi", "sqlalchemy", "starlette", "uvicorn")
    return (("python", platform.python_version()), *((name, version(name)) for name in names))


def installed_versions() -> dict[str, str]:
    return dict(_versions())


class _Publisher:
    """Describes the recorder's new raw events and hands them on, in the order they happened."""

    def __init__(self, recorder: Recorder, describer: EventDescriber, sink: EventSink | None):
        self.recorder = recorder
        self.describer = describer
        self.sink = sink
        self.events: list[Event] = []
        self._taken = 0

    def flush(self) -> None:
        """Publish what came since the last flush; call it when a request is over."""
        batch = self.recorder.taken(self._taken)
        self._taken += len(batch)
        # The client's times arrive after the fact, from its own process: order by clock.
        for item in sorted(batch, key=lambda r: r.t_ns):
            event = self.describer.describe(item)
            self.events.append(event)
            if self.sink is not None:
                self.sink(event)


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
    with tempfile.TemporaryDirectory(prefix="session-visualizer-") as sandbox:
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
                    publisher = _Publisher(recorder, EventDescriber(threads), sink)
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


def resolve_key_moments(scenario: Scenario, events: list[Event]) -> list[dict[str, Any]]:
    """Each key moment with the seq of the first event it explains (None if none matched)."""
    resolved = []
    for moment in scenario.key_moments:
        match = next(
            (
                e
                for e in events
                if e.kind == moment.at and (moment.request is None or e.request == moment.request)
            ),
            None,
        )
        resolved.append(
            {
                "seq": match.seq if match else None,
                "at": moment.at,
                "request": moment.request,
                "text": moment.text,
            }
        )
    return resolved
