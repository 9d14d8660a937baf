"""Failed joins per client address, so room codes cannot be guessed, without locking out a class.

A class behind one NAT shares one address: twenty typos there must not keep the others out of
their room. So an address over the limit is refused every code except the rooms someone at
that address has already joined, which guessing cannot find.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_TRACKED_ADDRESSES = 10_000
KNOWN_ROOMS_PER_ADDRESS = 16


class FailedJoins:
    """Failed attempts per address in a sliding window, and the rooms each address joined."""

    def __init__(
        self, limit: int = 20, window_s: float = 60.0, clock: Callable[[], float] | None = None
    ) -> None:
        self.limit, self.window_s = limit, window_s
        self.clock = clock or time.monotonic
        self._failures: dict[str, deque[float]] = {}
        self._joined: OrderedDict[str, deque[str]] = OrderedDict()  # oldest address first

    def _recent(self, address: str) -> deque[float]:
        times = self._failures.setdefault(address, deque())
        while times and times[0] <= self.clock() - self.window_s:
            times.popleft()
        return times

    def blocked(self, address: str, code: str) -> bool:
        """Whether this address may not try this code now."""
        if code in self._joined.get(address, ()):
            return False
        blocked = len(self._recent(address)) >= self.limit
        if not self._failures[address]:
            del self._failures[address]
        return blocked

    def record(self, address: str) -> None:
        self._recent(address).append(self.clock())
        if len(self._failures) > MAX_TRACKED_ADDRESSES:  # forget the long quiet ones
            for other in list(self._failures):
                if not self._recent(other):
                    del self._failures[other]

    def joined(self, address: str, code: str) -> None:
        """Someone at this address found this room: its code is no guess from here."""
        codes = self._joined.setdefault(address, deque(maxlen=KNOWN_ROOMS_PER_ADDRESS))
        self._joined.move_to_end(address)
        if code not in codes:
            codes.append(code)
        while len(self._joined) > MAX_TRACKED_ADDRESSES:
            self._joined.popitem(last=False)
