"""Runs started from the web: a few at a time on worker threads, the rest in a bounded queue,
streamed to the broker, stored when done."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from visualizer.contract.events import Event
from visualizer.contract.trace import Trace, TraceError, TraceRequest, read_trace
from visualizer.execution.runner import installed_versions, resolve_key_moments, run_scenario
from visualizer.execution.scenarios import Scenario
from visualizer.lesson.document import document_json
from visualizer.web import sandboxes
from visualizer.web.broker import Broker, Channel
from visualizer.web.store import DONE, FAILED, RUNNING, RunStore

if TYPE_CHECKING:
    from visualizer.bus.redis_bus import Bus

# A subscriber that comes later reads the stored trace; the channel only has to outlive the
# moment between the run's end and its subscribers reading that end.
KEEP_FINISHED_CHANNEL_S = 5.0
CACHED_TRACES = 64
INTERRUPTED = "interrupted: the server stopped during the run"


@dataclass(slots=True)
class RunInProgress:
    """A run in progress: the events so far, for the stage while it is still running."""

    scenario: Scenario
    events: list[Event] = field(default_factory=list)

    def trace(self) -> Trace:
        events = list(self.events)
        planned = enumerate(self.scenario.requests, start=1)
        return Trace(
            scenario=self.scenario.name,
            title=self.scenario.title,
            summary=self.scenario.summary,
            code=self.scenario.code,
            file=self.scenario.path.name,
            versions=installed_versions(),
            requests=[
                TraceRequest(id=n, method=r.method, path=r.path, status=None) for n, r in planned
            ],
            events=events,
            key_moments=resolve_key_moments(self.scenario, events),
            questions=list(self.scenario.questions),
            gc=self.scenario.gc,
        )


class RunsBusy(Exception):
    """Every worker is busy and the queue is full: the run is not started, nothing is stored."""


class RunManager:
    """Starts runs, and finds any run's trace: in progress, stored, or imported."""

    def __init__(
        self,
        store: RunStore,
        broker: Broker,
        max_parallel: int,
        max_queued: int = 100,
        bus: Bus | None = None,
    ) -> None:
        self.store = store
        self.broker = broker
        self.bus = bus
        self._running: dict[str, RunInProgress] = {}  # running or waiting for a worker
        self._capacity = max_parallel + max_queued
        # A queued run is an entry in the executor's queue, not a thread of its own.
        self._workers = ThreadPoolExecutor(max_parallel, thread_name_prefix="visualizer-runs")
        self._traces: OrderedDict[str, Trace] = OrderedDict()  # finished traces never change
        if bus is None:
            store.fail_unfinished(INTERRUPTED)
        else:  # the other workers' runs go on: only those of workers that are gone fail
            bus.every_beat(self._fail_orphans)
        sandboxes.sweep()  # and the sandboxes of the runs it was running
        # Traces shown as runs but not stored: a live request, until it is kept.
        self.transient: Callable[[str], Trace | None] = lambda run_id: None
        # A scenario by name: what a run in progress on another worker shows until it ends.
        self.scenarios: Callable[[str], Scenario | None] = lambda name: None

    def start(self, scenario: Scenario, loop: asyncio.AbstractEventLoop) -> str:
        """Queue a run; raises RunsBusy when as many runs as the queue holds are waiting."""
        if len(self._running) >= self._capacity:
            raise RunsBusy(
                f"{len(self._running)} runs are running or waiting; try again when one is done"
            )
        run_id = self.store.create(scenario.name, scenario.title)
        channel = self.broker.open(run_id)
        self._running[run_id] = RunInProgress(scenario)
        self._workers.submit(self._run, run_id, scenario, channel, loop)
        return run_id

    async def _fail_orphans(self) -> None:
        """Each heartbeat: the running runs of workers that stopped beating have failed; their
        followers on every worker are told."""
        assert self.bus is not None
        workers = self.store.running_workers() - {self.store.worker}
        if not workers:
            return
        alive = await self.bus.alive(workers)
        for run_id in self.store.fail_unfinished(INTERRUPTED, alive | {self.store.worker}):
            self.bus.append_run(run_id, {"type": "end", "status": FAILED, "error": INTERRUPTED})

    def close(self) -> None:
        """Stop taking runs; those still queued are marked interrupted by the next start."""
        self._workers.shutdown(wait=False, cancel_futures=True)

    def _run(
        self, run_id: str, scenario: Scenario, channel: Channel, loop: asyncio.AbstractEventLoop
    ) -> None:
        running = self._running[run_id]

        def sink(event: Event) -> None:
            running.events.append(event)
            message = {"type": "event", "event": event.model_dump(mode="json")}
            loop.call_soon_threadsafe(channel.publish, message)

        end: dict[str, Any]
        try:
            trace = run_scenario(scenario, sink=sink)
            self.store.finish(run_id, document_json(trace))
            self._remember(run_id, trace)
            end = {"type": "end", "status": DONE, "events": len(trace.events)}
        except Exception as error:  # the run failed; the page says so, the server goes on
            self.store.fail(run_id, f"{type(error).__name__}: {error}")
            end = {"type": "end", "status": FAILED, "error": f"{type(error).__name__}: {error}"}
        self._running.pop(run_id, None)
        loop.call_soon_threadsafe(self._finish, run_id, channel, end, loop)

    def _finish(
        self, run_id: str, channel: Channel, end: dict[str, Any], loop: asyncio.AbstractEventLoop
    ) -> None:
        channel.close(end)
        loop.call_later(KEEP_FINISHED_CHANNEL_S, self.broker.forget, run_id)

    def import_trace(self, trace: Trace) -> str:
        """Store a validated trace (an upload) as a finished run."""
        run_id = self.store.create(trace.scenario, trace.title, "import", document_json(trace))
        self._remember(run_id, trace)
        return run_id

    def _remember(self, run_id: str, trace: Trace) -> None:
        self._traces[run_id] = trace
        while len(self._traces) > CACHED_TRACES:
            self._traces.popitem(last=False)

    def status(self, run_id: str) -> str | None:
        if run_id in self._running:
            return RUNNING
        if self.transient(run_id) is not None:
            return DONE
        stored = self.store.get(run_id)
        return stored.status if stored else None

    def trace(self, run_id: str) -> Trace | None:
        """The run's trace so far; None for an unknown run."""
        if (transient := self.transient(run_id)) is not None:
            return transient
        if run_id in self._traces:
            self._traces.move_to_end(run_id)
            return self._traces[run_id]
        running = self._running.get(run_id)
        if running is not None:
            return running.trace()
        stored = self.store.get(run_id)
        if stored is not None and stored.status == RUNNING and stored.trace is None:
            # Running on another worker: its events stream through the bus, none are here.
            scenario = self.scenarios(stored.scenario)
            return RunInProgress(scenario).trace() if scenario is not None else None
        if stored is None or stored.trace is None:
            return None
        try:
            trace = read_trace(stored.trace)
        except TraceError:  # stored by a version that wrote what this one refuses
            return None
        self._remember(run_id, trace)
        return trace

    def why_missing(self, run_id: str) -> str:
        """Why this run has no trace to show: unknown, failed, or unreadable, said plainly."""
        stored = self.store.get(run_id)
        if stored is None:
            return f"There is no run {run_id!r}. It may have been mistyped."
        if stored.status == FAILED:
            return f"Run {run_id!r} ({stored.scenario}) failed: {stored.error or 'no reason given'}"
        try:
            read_trace(stored.trace)
        except TraceError as error:
            return f"Run {run_id!r} was stored in a form this version cannot read: {error}"
        return f"Run {run_id!r} has no events yet."
