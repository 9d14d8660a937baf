"""The pure reducer, fed hand-built events: no server, no browser."""

from __future__ import annotations

from typing import Any

from visualizer.contract.events import DbState, Event, PoolStatus
from visualizer.contract.trace import KeyMoment, Trace, TraceRequest
from visualizer.lesson.reducer import final_tracker, frame_at


def _event(seq: int, kind: str, step: int | None, db: DbState, **detail: Any) -> Event:
    out = 1 if db is DbState.CONNECTION else 0
    return Event(
        seq=seq,
        t_ms=seq * 1.0,
        request=1,
        kind=kind,
        step=step,
        line=10 + seq,
        thread="worker thread 1",
        db=db.value,
        pool=PoolStatus(checked_out=out, size=5, overflow=0),
        detail=detail,
        text=f"narration {seq}",
    )


EVENTS = [
    _event(1, "request.start", 1, DbState.NONE, method="GET", path="/items/"),
    _event(2, "session.create", 2, DbState.IDLE),
    _event(3, "session.yield", 3, DbState.IDLE),
    _event(4, "pool.checkout", 4, DbState.CONNECTION),
    _event(5, "sql", 4, DbState.CONNECTION, sql="SELECT 1"),
    _event(6, "response.start", 7, DbState.CONNECTION, status=200),
    _event(7, "session.resume", None, DbState.CONNECTION),
    _event(8, "session.close", 6, DbState.CLOSED, before=DbState.CONNECTION.value),
]


def _trace() -> Trace:
    return Trace(
        scenario="hand_made",
        title="Hand made",
        summary="",
        code="",
        versions={},
        requests=[TraceRequest(id=1, method="GET", path="/items/", status=200)],
        events=EVENTS,
        key_moments=[KeyMoment(seq=5, at="sql", text="the query")],
    )


def test_before_the_first_event_nothing_has_happened() -> None:
    frame = frame_at(_trace(), 0)
    assert frame.event is None and frame.rows == () and frame.line is None
    assert frame.lanes[0].db == "None" and frame.lanes[0].step is None
    assert "Press play" in frame.narration


def test_each_cursor_shows_the_state_after_that_many_events() -> None:
    frame = frame_at(_trace(), 5)
    lane = frame.lanes[0]
    assert lane.step == 4 and lane.visited == (1, 2, 3, 4)
    assert lane.db == DbState.CONNECTION.value
    assert frame.narration == "narration 5" and frame.line == 15
    assert [r.seq for r in frame.rows] == [1, 2, 3, 4, 5]
    assert [e.detail["sql"] for e in frame.sql] == ["SELECT 1"]
    assert frame.pool.checked_out == 1
    assert [m.text for m in frame.key_moments] == ["the query"]
    assert frame.deviations == ()


def test_the_deviation_appears_at_its_event_not_before() -> None:
    assert frame_at(_trace(), 5).deviations == ()
    shown = frame_at(_trace(), 6).deviations
    assert [d.kind for d in shown] == ["response_before_close"]
    assert "2.0 ms before 6" in shown[0].observed


def test_stepping_back_gives_exactly_the_earlier_frame() -> None:
    trace = _trace()
    assert frame_at(trace, 4) == frame_at(trace, 4)
    forward_then_back = [frame_at(trace, c) for c in (3, 4, 3)]
    assert forward_then_back[0] == forward_then_back[2]


def test_the_tracker_records_db_after_each_step_and_at_the_end() -> None:
    lane = frame_at(_trace(), len(EVENTS)).lanes[0]
    assert final_tracker(lane) == [
        ("start", "None"),
        ("after step 1", "None"),
        ("after step 2", DbState.IDLE.value),
        ("after step 3", DbState.IDLE.value),
        ("after step 4", DbState.CONNECTION.value),
        ("after step 7", DbState.CONNECTION.value),
        ("after step 6", DbState.CLOSED.value),
        ("end", DbState.CLOSED.value),
    ]
    assert lane.sent_ms == 6.0 and lane.closed_ms == 8.0 and lane.status == 200


def test_a_cursor_out_of_range_is_clamped() -> None:
    trace = _trace()
    assert frame_at(trace, -3).cursor == 0
    assert frame_at(trace, 99).cursor == len(EVENTS)


def test_the_clients_arrival_does_not_move_the_servers_lane() -> None:
    late_client = Event(
        seq=9,
        t_ms=9.0,
        request=1,
        kind="client.body",
        step=7,
        line=None,
        thread="client",
        db=DbState.CLOSED.value,
        pool=PoolStatus(checked_out=0, size=5, overflow=0),
        detail={"status": 200},
        text="The client has the body.",
    )
    trace = _trace()
    trace.events = [*EVENTS, late_client]
    lane = frame_at(trace, 9).lanes[0]
    assert lane.step == 6 and lane.visited == (1, 2, 3, 4, 7, 6)
    assert lane.client_ms == 9.0
