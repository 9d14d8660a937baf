"""The live feed: the observed app's recent requests, described as they finish, kept bounded.

Batches arrive from any thread (the pipe's reader, or a watched app's drain thread); pages and
sockets read it from the server's event loop. A request is listed once its app call has
returned, teardown included; the oldest are forgotten beyond `keep`.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from pathlib import Path

from visualizer.capture.recorder import raw_events
from visualizer.contract.events import Event
from visualizer.contract.limits import MAX_EVENTS
from visualizer.contract.trace import Trace, TraceRequest
from visualizer.execution.publisher import EventDescriber
from visualizer.execution.runner import installed_versions
from visualizer.live.summary import RequestSummary, summarize
from visualizer.live.wire import Batch

POOL_HISTORY = 500  # gauge readings kept per pool, for its panel
SOURCE_LIMIT = 200_000  # characters of a file shown beside a request
SUBSCRIBER_QUEUE = 1000  # requests a live page may lag behind before it is let go


@dataclass(slots=True)
class LiveRequest:
    number: int
    events: list[Event] = field(default_factory=list)
    summary: RequestSummary | None = None  # once its app call has returned


@dataclass(frozen=True, slots=True)
class PoolReading:
    t_ms: float
    checked_out: int
    size: int


class LiveFeed:
    """Requests as the observed app serves them; thread-safe, bounded by `keep`."""

    def __init__(self, keep: int = 500, root: Path | None = None) -> None:
        self.keep = keep
        self.root = root.resolve() if root else None  # the project, for showing its files
        self.dropped = 0
        self.highest = 0  # the highest request number seen: a restarted app numbers after it
        self.hook_errors: dict[str, int] = {}
        self.databases: dict[int, str] = {}
        self.pools: dict[int, deque[PoolReading]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self._describer = EventDescriber({})
        self._requests: OrderedDict[int, LiveRequest] = OrderedDict()
        self._lock = threading.Lock()
        self._subscribers: set[asyncio.Queue[RequestSummary | None]] = set()

    # -- in -------------------------------------------------------------------------------

    def add(self, batch: Batch) -> None:
        """Describe a batch and list the requests it finished."""
        done = []
        with self._lock:
            self._describer.threads.update(batch.threads)
            self.databases.update(batch.databases)
            self.dropped, self.hook_errors = batch.dropped, dict(batch.hook_errors)
            for raw in raw_events(batch.records, self.databases):
                self._keep(self._describer.describe(raw))
            for number in batch.finished:
                request = self._requests.get(number)
                if request is not None and request.summary is None:
                    request.summary = summarize(number, request.events)
                    done.append(request.summary)
        for summary in done:
            self._announce(summary)

    def _keep(self, event: Event) -> None:
        if event.pool.number is not None and event.kind.startswith("pool."):
            readings = self.pools.setdefault(event.pool.number, deque(maxlen=POOL_HISTORY))
            readings.append(
                PoolReading(event.t_ms, event.pool.checked_out or 0, event.pool.size or 0)
            )
        if event.request is None:
            return  # the app's startup: its pools are shown, it is no request
        self.highest = max(self.highest, event.request)
        request = self._requests.get(event.request)
        if request is None:
            if self._requests and event.request < next(iter(self._requests)):
                return  # a late event (a collector's checkin) of a request already forgotten
            request = self._requests[event.request] = LiveRequest(event.request)
            while len(self._requests) > self.keep:
                forgotten, _ = self._requests.popitem(last=False)
                self._describer.forget(forgotten)
        if len(request.events) < MAX_EVENTS:
            request.events.append(event)

    # -- out to subscribers -------------------------------------------------------------------

    def subscribe(self) -> asyncio.Queue[RequestSummary | None]:
        """A queue of every request listed from now on (call it on the server's loop); None
        in it means the subscriber fell too far behind and was let go."""
        self.loop = asyncio.get_running_loop()
        queue: asyncio.Queue[RequestSummary | None] = asyncio.Queue(maxsize=SUBSCRIBER_QUEUE)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[RequestSummary | None]) -> None:
        self._subscribers.discard(queue)

    def _announce(self, summary: RequestSummary) -> None:
        loop = self.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._deliver, summary)

    def _deliver(self, summary: RequestSummary) -> None:
        for queue in list(self._subscribers):
            if queue.qsize() >= SUBSCRIBER_QUEUE - 1:
                # A page that stopped reading: let it go; it gets the whole list on reconnecting.
                self._subscribers.discard(queue)
                queue.put_nowait(None)
            else:
                queue.put_nowait(summary)

    # -- reading --------------------------------------------------------------------------

    def summaries(self, path: str = "", badge: str = "") -> list[RequestSummary]:
        """The finished requests, newest first, those whose path holds `path` and that carry
        `badge` (either may be empty)."""
        with self._lock:
            listed = [r.summary for r in reversed(self._requests.values()) if r.summary]
        return [s for s in listed if path in s.path and (not badge or badge in s.badges)]

    def pool_readings(self) -> dict[int, list[PoolReading]]:
        with self._lock:
            return {number: list(readings) for number, readings in sorted(self.pools.items())}

    def trace(self, number: int) -> Trace | None:
        """One finished request as a trace of its own: t = 0 at its start, its files' code."""
        with self._lock:
            request = self._requests.get(number)
            if request is None or request.summary is None:
                return None
            events, summary = list(request.events), request.summary
        start = events[0].t_ms
        # Sessions, transactions and connections are numbered over the app's whole life;
        # within one request they read 1, 2... in the order the request met them.
        numbers: dict[str, dict[int, int]] = {"session": {}, "transaction": {}, "connection": {}}

        def own(kind: str, number: int | None) -> int | None:
            if number is None:
                return None
            return numbers[kind].setdefault(number, len(numbers[kind]) + 1)

        numbered = [
            e.model_copy(
                update={
                    "seq": seq,
                    "t_ms": round(e.t_ms - start, 3),
                    **{kind: own(kind, getattr(e, kind)) for kind in numbers},
                }
            )
            for seq, e in enumerate(events, start=1)
        ]
        files = sorted({e.file for e in events if e.file})
        return Trace(
            scenario="live",
            title=f"{summary.method} {summary.path}",
            summary=f"A request your app served, observed live: request {number}.",
            versions=installed_versions(),
            requests=[
                TraceRequest(
                    id=number, method=summary.method, path=summary.path, status=summary.status
                )
            ],
            events=numbered,
            sources={file: text for file in files if (text := self._source(file)) is not None},
            hook_errors=dict(self.hook_errors),
            dropped_events=self.dropped,
            warnings=(
                [f"The app's recorder dropped {self.dropped} events: it was busier than the page."]
                if self.dropped
                else []
            ),
        )

    def _source(self, file: str) -> str | None:
        """A file of the project, as it is on disk now; None outside the project."""
        if self.root is None:
            return None
        path = (self.root / file).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path.read_text(encoding="utf-8", errors="replace")[:SOURCE_LIMIT]
