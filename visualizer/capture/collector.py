"""Python's cyclic garbage collector, held off for the runs whose scenario asks for it."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

# The collector is one switch for the whole process, so the pauses of runs that overlap
# (the web app runs several at once) are counted: the last one to end switches it back on,
# and only if it was on before the first began.
_lock = threading.Lock()
_pauses = 0
_was_enabled = True


@contextmanager
def garbage_collector(mode: str) -> Iterator[Literal["enabled", "paused", "disabled"]]:
    """Run a block with the collector `"paused"` or left as it is; yields what the block got.

    A session nobody closed is freed only by the collector (Session and its transaction
    reference each other), at moments that depend on how much the whole process allocates.
    Pausing it makes a leak scenario show the same thing on every run.
    """
    global _pauses, _was_enabled
    if mode != "paused":
        yield "enabled" if gc.isenabled() else "disabled"
        return
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield "paused"
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
