"""Run a coroutine on the spot, and make a task of it only if it has to wait."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any


def start(coro: Coroutine[Any, Any, None]) -> asyncio.Future[None] | None:
    """Run `coro` up to its first wait: None if it finished, else the task that finishes it.

    A socket write waits only when the client's buffer is full, so nearly every write of a
    step finishes here, in one pass over the room, with no task and no trip through the
    event loop per member. (Python 3.12's eager tasks do this; this works from 3.11.)
    Whatever `coro` raises before it waits is raised here.
    """
    try:
        waiting = coro.send(None)
    except StopIteration:
        return None
    task = asyncio.ensure_future(_finish(coro, waiting))
    # Cancelled before its first step, the task never reaches `coro`: close it then, so its
    # `finally` blocks run (a finished coroutine ignores this).
    task.add_done_callback(lambda _: coro.close())
    return task


async def _finish(coro: Coroutine[Any, Any, None], waiting: Any) -> None:
    await _Resumed(coro, waiting)


class _Resumed:
    """The rest of a coroutine that stopped on `waiting`, driven as its own task would."""

    def __init__(self, coro: Coroutine[Any, Any, None], waiting: Any) -> None:
        self.coro, self.waiting = coro, waiting

    def __await__(self) -> Generator[Any, Any, None]:
        coro, waiting = self.coro, self.waiting
        while True:
            try:
                sent = yield waiting  # the future it waits on: the task wakes us when done
            except BaseException as error:  # cancelled, or what the future raised: pass it on
                try:
                    waiting = coro.throw(error)
                except StopIteration:
                    return
                continue
            try:
                waiting = coro.send(sent)
            except StopIteration:
                return
