"""A request's events (its lane), their stretches on one step, and the run's time axis."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from visualizer.contract.events import Event


def by_request(events: Sequence[Event]) -> dict[int, list[Event]]:
    """Each request's events, in order; events outside any request are left out."""
    lanes: dict[int, list[Event]] = {}
    for event in events:
        if event.request is not None:
            lanes.setdefault(event.request, []).append(event)
    return lanes


def first(lane: Sequence[Event], *kinds: str, after: int = 0) -> Event | None:
    """The first event of one of `kinds` whose seq is greater than `after`."""
    return next((e for e in lane if e.kind in kinds and e.seq > after), None)


def handed_out_by(story: Sequence[Event]) -> str | None:
    """The yield dependency that handed this session to the endpoint, if one did."""
    yielded = first(story, "session.yield")
    return str(yielded.detail.get("dependency", "get_db")) if yielded else None


def made_by(story: Sequence[Event]) -> str:
    """Who made this session: the dependency that yielded it, else the code that created it."""
    created = first(story, "session.create")
    made = created.detail.get("created_in") if created else None
    return handed_out_by(story) or str(made or "the program")


def status_of(lane: Sequence[Event]) -> int | None:
    """The status the server sent for this request, if it sent one."""
    response = first(lane, "response.start")
    status = response.detail.get("status") if response else None
    return status if isinstance(status, int) else None


def is_client(event: Event) -> bool:
    """The client's own events: when its process got the answer races with the server."""
    return event.kind.startswith("client.")


# What every session of a request shares: the request itself and its answer.
HTTP_KINDS = frozenset(
    {"request.start", "response.start", "response.end", "request.error"}
    | {"client.headers", "client.body"}
)


def stories(lane: Sequence[Event]) -> list[tuple[int | None, list[Event]]]:
    """A request's events told once per session: that session's own, and the request's.

    A request with two sessions (a middleware's and get_db's, or an app's and an audit
    database's) has two stories; events of no session (a raw connection) belong to none.
    """
    sessions = list(dict.fromkeys(e.session for e in lane if e.session is not None))
    if not sessions:
        return [(None, list(lane))]
    return [
        (session, [e for e in lane if e.session == session or e.kind in HTTP_KINDS])
        for session in sessions
    ]


@dataclass(frozen=True, slots=True)
class Stretch:
    """Consecutive server events of one request on the same textbook step.

    Events that belong to no step (get_db resuming, an error) stay in the stretch before them.
    """

    step: int
    events: tuple[Event, ...]

    @property
    def start_ms(self) -> float:
        return self.events[0].t_ms

    @property
    def end_ms(self) -> float:
        return self.events[-1].t_ms

    @property
    def db(self) -> str:
        """`db` when the stretch ended."""
        return self.events[-1].db


def stretches(lane: Sequence[Event]) -> list[Stretch]:
    """A request's steps in the order the server went through them, repeats folded.

    The client's events are left out: the server's order is what the textbook describes.
    """
    found: list[tuple[int, list[Event]]] = []
    for event in lane:
        if is_client(event):
            continue
        if event.step is not None and (not found or found[-1][0] != event.step):
            found.append((event.step, [event]))
        elif found:
            found[-1][1].append(event)
    return [Stretch(step, tuple(events)) for step, events in found]


def steps_of(lane: Sequence[Event]) -> list[int]:
    return [stretch.step for stretch in stretches(lane)]


@dataclass(frozen=True, slots=True)
class TimeAxis:
    """One time axis for a whole run, from 0 to its last event."""

    span_ms: float

    @classmethod
    def of(cls, events: Sequence[Event]) -> TimeAxis:
        return cls(max((e.t_ms for e in events), default=0.0) or 1.0)

    def percent(self, t_ms: float) -> float:
        return round(100 * t_ms / self.span_ms, 2)

    def column(self, t_ms: float, width: int) -> int:
        return round(width * t_ms / self.span_ms)


def gap_ms(earlier: Event, later: Event) -> float:
    """How long after `earlier` the `later` event happened."""
    return later.t_ms - earlier.t_ms
