"""What waits for a member whose socket is busy: ordered messages, bounded, and latest-wins slots.

A latest-wins message (the cursor, the tally, the member count) says everything about its
kind, so a newer one makes a waiting one pointless: it takes the waiting one's place instead
of queueing behind it. A slow follower then gets the newest cursor, never a backlog, and a
burst of answers or joins is one message for a presenter however many students there are.
Order with the ordered messages (welcome, question, reveal...) is kept: a latest-wins message
put after an ordered one never overtakes it. Pure data: the seat fills and empties it.
"""

from __future__ import annotations

from collections import deque


class _Latest:
    __slots__ = ("kind", "text")

    def __init__(self, kind: str, text: str | None) -> None:
        self.kind = kind
        self.text = text  # None: a newer one of its kind replaced it further on


class Outbox:
    """Messages waiting, in the order they are to be sent (made only for a busy socket)."""

    __slots__ = ("_items", "_latest", "_ordered", "_ordered_ever", "closed", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit  # ordered messages waiting, at most
        self._items: deque[str | _Latest] = deque()
        self._latest: dict[str, tuple[_Latest, int]] = {}  # kind -> it, _ordered_ever then
        self._ordered = 0  # ordered messages waiting now
        self._ordered_ever = 0  # ... and ever put: tells whether one came after a latest
        self.closed = False

    def put(self, text: str) -> bool:
        """Keep an ordered message; False (nothing kept) when `limit` are waiting already."""
        if self.closed or self._ordered >= self.limit:
            return False
        self._items.append(text)
        self._ordered += 1
        self._ordered_ever += 1
        return True

    def put_latest(self, kind: str, text: str) -> None:
        """Keep a latest-wins message: in the waiting one's place, unless something ordered
        came after that one (then it is dropped, and this one waits behind the ordered)."""
        if self.closed:
            return
        waiting = self._latest.get(kind)
        if waiting is not None:
            latest, ordered_then = waiting
            if ordered_then == self._ordered_ever:
                latest.text = text
                return
            latest.text = None
        latest = _Latest(kind, text)
        self._latest[kind] = (latest, self._ordered_ever)
        self._items.append(latest)

    def pop(self) -> str | None:
        """The next message to send, or None when nothing waits."""
        while self._items:
            item = self._items.popleft()
            if isinstance(item, str):
                self._ordered -= 1
                return item
            if self._latest.get(item.kind, (None, 0))[0] is item:
                del self._latest[item.kind]
            if item.text is not None:
                return item.text
        return None

    def close(self) -> None:
        """Drop what waits and keep nothing from now on."""
        self.closed = True
        self._items.clear()
        self._latest.clear()
        self._ordered = 0

    def __len__(self) -> int:
        """Messages waiting to be sent (a replaced latest-wins one is not one)."""
        return self._ordered + len(self._latest)
