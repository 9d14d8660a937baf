"""A member's outgoing messages: in order and bounded, except summaries, where the latest wins.

A summary (the tally, the member count) says everything about its kind, so a newer one makes
a pending one pointless: it takes the pending one's place instead of queueing behind it. A
burst of answers or joins is then one message for a presenter, however many students there
are, and never fills the presenter's queue. Order with the other messages is kept: a summary
put after an ordered message never overtakes it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass


@dataclass(slots=True)
class _Summary:
    kind: str
    text: str | None  # None: a newer summary of its kind replaced it further on


class Outbox:
    """Filled on the event loop by the hub, emptied by the member's writer task."""

    def __init__(self, limit: int) -> None:
        self.limit = limit  # ordered messages waiting, at most
        self._items: deque[str | _Summary] = deque()
        self._ordered = 0  # ordered messages waiting now
        self._ordered_ever = 0  # ... and ever put: tells whether one came after a summary
        self._pending: dict[str, tuple[_Summary, int]] = {}  # kind -> it, _ordered_ever then
        self._ready = asyncio.Event()
        self.closed = False

    def put(self, text: str) -> bool:
        """Queue a message in order; False (nothing queued) when `limit` are waiting already."""
        if self.closed or self._ordered >= self.limit:
            return False
        self._items.append(text)
        self._ordered += 1
        self._ordered_ever += 1
        self._ready.set()
        return True

    def put_summary(self, kind: str, text: str) -> None:
        """Queue a summary, replacing the pending one of its kind unless something came after."""
        if self.closed:
            return
        pending = self._pending.get(kind)
        if pending is not None:
            summary, ordered_then = pending
            if ordered_then == self._ordered_ever:  # nothing ordered came after it: replace
                summary.text = text
                return
            summary.text = None  # an ordered message came after it: send the new one later
        summary = _Summary(kind, text)
        self._pending[kind] = (summary, self._ordered_ever)
        self._items.append(summary)
        self._ready.set()

    def close(self) -> None:
        """Drop what waits; `get` answers None from now on."""
        self.closed = True
        self._items.clear()
        self._pending.clear()
        self._ready.set()

    def __len__(self) -> int:
        """Messages waiting to be sent (a replaced summary is not one)."""
        return self._ordered + len(self._pending)

    async def get(self) -> str | None:
        """The next message to send, waiting for one; None once closed."""
        while True:
            if self.closed:
                return None
            if not self._items:
                self._ready.clear()
                await self._ready.wait()
                continue
            item = self._items.popleft()
            if isinstance(item, str):
                self._ordered -= 1
                return item
            if self._pending.get(item.kind, (None, 0))[0] is item:
                del self._pending[item.kind]
            if item.text is not None:
                return item.text
