"""From raw records to trace events: described off the request path, published in time order."""

from __future__ import annotations

from collections.abc import Callable

from visualizer.capture.recorder import Recorder
from visualizer.contract.events import Event, PoolStatus, RawEvent
from visualizer.lesson.narration import narrate
from visualizer.lesson.textbook import step_for

EventSink = Callable[[Event], None]


class EventDescriber:
    """Turns raw events into trace events, one at a time, as they arrive."""

    def __init__(self, named_threads: dict[int, str]) -> None:
        self.started_ns: int | None = None  # t = 0 at the first event
        self.threads = dict(named_threads)
        self._workers = 0
        self.count = 0
        # The client's events are recorded after the fact, from another process: they show
        # the session and pool as last observed on the server for that request.
        self._last_seen: dict[int | None, tuple[str, PoolStatus]] = {}

    def forget(self, request: int) -> None:
        """A request whose events will not be described any more (a live feed let it go)."""
        self._last_seen.pop(request, None)

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
        # pydantic-core validates in Rust faster than model_construct builds in Python.
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
            session=raw.session,
            transaction=raw.transaction,
            transaction_kind=raw.transaction_kind,
            connection=raw.connection,
            file=raw.file,
        )


class Publisher:
    """Describes the recorder's new raw events and hands them on, in the order they happened."""

    def __init__(
        self, recorder: Recorder, named_threads: dict[int, str], sink: EventSink | None
    ) -> None:
        self.recorder = recorder
        self.describer = EventDescriber(named_threads)
        self.sink = sink
        self.events: list[Event] = []

    def flush(self) -> None:
        """Publish what came since the last flush; call it when a request is over."""
        batch = self.recorder.drain()
        # The client's times arrive after the fact, from its own process: order by clock.
        for item in sorted(batch, key=lambda r: r.t_ns):
            event = self.describer.describe(item)
            self.events.append(event)
            if self.sink is not None:
                self.sink(event)
