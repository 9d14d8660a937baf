"""A seat writes on the spot while its socket keeps up, and keeps the newest while it does not."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.websockets import WebSocketDisconnect

from tests.helpers import run_async
from tests.room_support import HeldSocket, settle
from visualizer.classroom.eager import start
from visualizer.classroom.seat import BEHIND_CLOSE, Seat
from visualizer.classroom.store import Room


def _seat(socket: Any, presenter: bool = False) -> Seat:
    return Seat(socket, Room("ABCDEF", "run", "token"), presenter, "m")


def test_a_socket_that_keeps_up_is_written_on_the_spot_without_a_task() -> None:
    async def scenario() -> tuple[list[str], bool, int]:
        socket = HeldSocket()
        seat = _seat(socket)
        tasks = len(asyncio.all_tasks())
        seat.deliver_latest("cursor", "1")
        seat.deliver("2")
        # Written before any await: no loop turn, no task per member.
        return list(socket.sent), seat.busy, len(asyncio.all_tasks()) - tasks

    sent, busy, new_tasks = run_async(scenario())
    assert sent == ["1", "2"] and not busy and new_tasks == 0


def test_a_busy_socket_gets_the_newest_cursor_and_ordered_messages_in_order() -> None:
    async def scenario() -> tuple[HeldSocket, int]:
        socket = HeldSocket(held=True)
        seat = _seat(socket)
        seat.deliver_latest("cursor", '{"cursor": 1}')  # in flight: the client reads nothing
        assert seat.busy
        seat.deliver_latest("cursor", '{"cursor": 2}')
        seat.deliver('{"question": 0}')
        for cursor in range(3, 1000):
            seat.deliver_latest("cursor", f'{{"cursor": {cursor}}}')
        seat.deliver('{"reveal": 0}')
        waiting = seat.waiting
        socket.release()
        await settle()
        return socket, waiting

    socket, waiting = run_async(scenario())
    assert waiting == 3  # the question, one cursor, the reveal: never a backlog of steps
    assert socket.messages() == [
        {"cursor": 1},
        {"question": 0},
        {"cursor": 999},
        {"reveal": 0},
    ]


def test_a_seat_let_go_gets_what_was_in_flight_then_the_close() -> None:
    async def scenario() -> tuple[HeldSocket, bool]:
        socket = HeldSocket(held=True)
        seat = _seat(socket)
        seat.deliver("first")
        seat.deliver("second")
        seat.let_go()
        accepted = seat.deliver("third")  # a seat let go takes nothing more, quietly
        socket.release()
        await settle()
        return socket, accepted and seat.gone

    socket, quiet = run_async(scenario())
    assert quiet and socket.sent == ["first"] and socket.closed == BEHIND_CLOSE


def test_a_write_to_a_client_that_left_marks_the_seat_gone() -> None:
    class Left(HeldSocket):
        async def send_text(self, data: str) -> None:
            raise WebSocketDisconnect(1006)

    async def scenario() -> bool:
        seat = _seat(Left())
        seat.deliver("hello")  # raises nothing into the fan-out
        return seat.gone

    assert run_async(scenario())


def test_a_stopped_seat_cancels_its_write_in_flight() -> None:
    async def scenario() -> tuple[list[str], bool]:
        socket = HeldSocket(held=True)
        seat = _seat(socket)
        seat.deliver("in flight")
        seat.deliver_latest("cursor", "waiting")
        seat.stop()
        socket.release()
        await settle()
        return socket.sent, seat.busy

    sent, busy = run_async(scenario())
    assert sent == [] and not busy


def test_start_runs_to_the_first_wait_and_a_task_finishes_the_rest() -> None:
    async def scenario() -> list[str]:
        seen: list[str] = []
        gate = asyncio.Event()

        async def quick() -> None:
            seen.append("quick")

        async def waits() -> None:
            seen.append("before")
            await gate.wait()
            seen.append("after")

        assert start(quick()) is None and seen == ["quick"]
        rest = start(waits())
        assert rest is not None and seen == ["quick", "before"]
        gate.set()
        await rest
        return seen

    assert run_async(scenario()) == ["quick", "before", "after"]


def test_start_raises_early_errors_and_passes_a_cancel_in() -> None:
    async def scenario() -> tuple[bool, bool]:
        cleaned = asyncio.Event()

        async def fails() -> None:
            raise WebSocketDisconnect(1006)

        async def waits_forever() -> None:
            try:
                await asyncio.Event().wait()
            finally:
                cleaned.set()

        try:
            start(fails())
            raised = False
        except WebSocketDisconnect:
            raised = True
        rest = start(waits_forever())
        assert rest is not None
        rest.cancel()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return raised, cleaned.is_set() and rest.cancelled()

    assert run_async(scenario()) == (True, True)
