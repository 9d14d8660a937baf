"""Fan-out of a run's messages to its websocket subscribers, each with a bounded queue."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

Message = dict[str, Any]


class Channel:
    """One run's messages: every message so far, and the queues of those listening now.

    All methods run on the server's event loop; other threads use `loop.call_soon_threadsafe`.
    """

    def __init__(
        self, queue_size: int = 1000, relay: Callable[[Message], None] | None = None
    ) -> None:
        self.history: list[Message] = []
        self.relay = relay  # several workers: each message also goes to the others
        self.closed = False
        self._queue_size = queue_size
        self._subscribers: set[asyncio.Queue[Message | None]] = set()

    def publish(self, message: Message) -> None:
        self.history.append(message)
        if self.relay is not None:
            self.relay(message)
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                # A subscriber that cannot keep up is let go; it reconnects and gets the history.
                self._subscribers.discard(queue)
                queue.get_nowait()
                queue.put_nowait(None)

    def close(self, message: Message) -> None:
        """Publish the last message (its subscribers stop at it) and take no more."""
        self.publish(message)
        self.closed = True
        self._subscribers.clear()

    def subscribe(self) -> tuple[list[Message], asyncio.Queue[Message | None]]:
        """Everything so far, and a queue for what comes next (None: fell behind, let go)."""
        queue: asyncio.Queue[Message | None] = asyncio.Queue(self._queue_size)
        if not self.closed:
            self._subscribers.add(queue)
        return list(self.history), queue

    def unsubscribe(self, queue: asyncio.Queue[Message | None]) -> None:
        self._subscribers.discard(queue)


class Broker:
    """The channels of the runs in progress on this worker, by run id; `relay` also sends
    each run's messages to the other workers."""

    def __init__(self, relay: Callable[[str, Message], None] | None = None) -> None:
        self._channels: dict[str, Channel] = {}
        self.relay = relay

    def open(self, run_id: str) -> Channel:
        relay = self.relay
        to_others = (lambda message: relay(run_id, message)) if relay is not None else None
        channel = self._channels[run_id] = Channel(relay=to_others)
        return channel

    def get(self, run_id: str) -> Channel | None:
        return self._channels.get(run_id)

    def forget(self, run_id: str) -> None:
        self._channels.pop(run_id, None)
