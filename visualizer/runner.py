"""A run: one scenario in its own sandbox, driven by real HTTP requests against real uvicorn."""

from __future__ import annotations

import asyncio
import json
import platform
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from visualizer.capture import Recorder
from visualizer.events import Event
from visualizer.instrument import instrument
from visualizer.loopback import LoopbackServer
from visualizer.scenarios import PlannedRequest, Scenario
from visualizer.trace import EventDescriber, Trace, TraceRequest

EventSink = Callable[[Event], None]
_BODY_LIMIT = 2_000


def installed_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "fastapi": version("fastapi"),
        "sqlalchemy": version("sqlalchemy"),
        "starlette": version("starlette"),
        "uvicorn": version("uvicorn"),
    }


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
        raw = self.recorder.events
        batch, self._taken = raw[self._taken : len(raw)], len(raw)
        # The client's times arrive after the fact, from its own process: order by clock.
        for item in sorted(batch, key=lambda r: r.t_ns):
            event = self.describer.describe(item)
            self.events.append(event)
            if self.sink is not None:
                self.sink(event)


class _Client:
    """The client process (visualizer.client): one request at a time, timed on its side."""

    def __init__(self, server: LoopbackServer, timeout: float) -> None:
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "visualizer.client",
                server.host,
                str(server.port),
                str(timeout),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def send(self, recorder: Recorder, number: int, planned: PlannedRequest) -> TraceRequest:
        assert self._process.stdin is not None and self._process.stdout is not None
        request = {"id": number, "method": planned.method, "path": planned.path}
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the client process ended unexpectedly")
        result = json.loads(line)
        status = result["status"]
        if status is not None:
            recorder.record(
                "client.headers",
                {"status": status},
                request=number,
                walk=False,
                t_ns=result["headers_ns"],
            )
            recorder.record(
                "client.body",
                {"status": status, "bytes": len(result["body"])},
                request=number,
                walk=False,
                t_ns=result["body_ns"],
            )
        body = result.get("body", result.get("error", ""))[:_BODY_LIMIT]
        return TraceRequest(number, planned.method, planned.path, status, body)

    def close(self) -> None:
        with self._process:  # closes the pipes and waits for the process
            if self._process.stdin:
                self._process.stdin.close()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()


def _dispose(namespace: dict[str, Any], recorder: Recorder) -> None:
    """Free everything the run made: leaked sessions first, then the engines' pools."""
    recorder.recording = False
    for session in list(recorder.sessions):
        try:
            session.close()
        except Exception as error:  # already broken: nothing more to free
            recorder.hook_failed("cleanup", error)
    for value in namespace.values():
        if isinstance(value, AsyncEngine):
            asyncio.run(value.dispose())
        elif isinstance(value, Engine):
            value.dispose()


def run_scenario(
    scenario: Scenario,
    *,
    sink: EventSink | None = None,
    recorder_factory: Callable[[str], Recorder] = Recorder,
    timeout: float = 15.0,
) -> Trace:
    """Run one scenario for real and return its trace; `sink` sees each event as it arrives."""
    module_name = f"visualizer_run_{scenario.name}_{uuid.uuid4().hex[:12]}"
    recorder = recorder_factory(str(scenario.path))
    namespace: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="session-visualizer-") as sandbox:
        database_url = f"sqlite:///{Path(sandbox) / 'app.db'}"
        try:
            namespace = scenario.load(database_url, module_name)
            app = instrument(namespace, recorder)
            requests: list[TraceRequest] = []
            with LoopbackServer(app) as server:
                client = _Client(server, timeout)
                try:
                    threads = {
                        threading.get_ident(): "client",
                        server.loop_thread or 0: "event loop",
                    }
                    publisher = _Publisher(recorder, EventDescriber(threads), sink)
                    for number, planned in enumerate(scenario.requests, start=1):
                        requests.append(client.send(recorder, number, planned))
                        recorder.wait_finished(number, timeout)
                        publisher.flush()
                    pool_after = recorder.pool_status()
                finally:
                    client.close()
        finally:
            _dispose(namespace, recorder)
            sys.modules.pop(module_name, None)
    return Trace(
        scenario=scenario.name,
        title=scenario.title,
        summary=scenario.summary,
        code=scenario.code,
        versions=installed_versions(),
        requests=requests,
        events=publisher.events,
        key_moments=resolve_key_moments(scenario, publisher.events),
        pool_after=pool_after,
        hook_errors=dict(recorder.hook_errors),
        dropped_events=recorder.dropped,
    )


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
