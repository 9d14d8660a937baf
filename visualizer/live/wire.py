"""The pipe from the observed app's process to the visualizer's: batches of raw records.

Each frame is a 4-byte big-endian length and a pickled `Batch`. Pickle, because both ends
are this package in the same virtualenv, started by the same command: nothing else writes
to the pipe.
"""

from __future__ import annotations

import os
import pickle
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

_LENGTH = struct.Struct(">I")


@dataclass(slots=True)
class Batch:
    """What the app's process recorded since its last batch."""

    records: list[list[Any]] = field(default_factory=list)  # as the hooks appended them
    finished: list[int] = field(default_factory=list)  # requests whose app call returned
    databases: dict[int, str] = field(default_factory=dict)  # pool number -> its database
    threads: dict[int, str] = field(default_factory=dict)  # e.g. the event loop's thread
    dropped: int = 0  # events the full buffer dropped, so far
    hook_errors: dict[str, int] = field(default_factory=dict)


def write_batch(fd: int, batch: Batch) -> None:
    payload = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
    data = _LENGTH.pack(len(payload)) + payload
    while data:
        data = data[os.write(fd, data) :]


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, left)
        if not chunk:
            return None  # the writer is gone
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_batches(fd: int) -> Iterator[Batch]:
    """Every batch until the writer closes its end."""
    while (head := _read_exactly(fd, _LENGTH.size)) is not None:
        (length,) = _LENGTH.unpack(head)
        payload = _read_exactly(fd, length)
        if payload is None:
            return
        batch = pickle.loads(payload)
        if isinstance(batch, Batch):
            yield batch
