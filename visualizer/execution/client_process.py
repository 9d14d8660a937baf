"""The runner's end of the client process: one process, started early, that runs send through."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported for types only: the CLI starts the client before importing them
    from visualizer.execution.scenarios import PlannedRequest

    Numbered = tuple[int, PlannedRequest]

# Run as a file, with no site and no environment: it imports only the standard library, and
# the interpreter starts in half the time `-m` takes (no site-packages, no .pth files).
_PROGRAM = str(Path(__file__).with_name("client.py"))


def batches(planned: Sequence[PlannedRequest]) -> list[list[Numbered]]:
    """The requests numbered from 1, grouped: a batch is sent at once, batches one by one."""
    out: list[list[Numbered]] = []
    for number, request in enumerate(planned, start=1):
        if out and request.batch is not None and out[-1][-1][1].batch == request.batch:
            out[-1].append((number, request))
        else:
            out.append([(number, request)])
    return out


class ClientProcess:
    """The client in its own process, so that its timings share no GIL with the server.

    Start it as early as you can: its interpreter starts while this one goes on. One process
    serves any number of runs, one batch at a time; `with` ends it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # runs that share the client take turns, batch by batch
        self._process: subprocess.Popen[str] | None = None
        self._spawn()

    def _spawn(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-S", _PROGRAM],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def send(
        self, host: str, port: int, timeout: float, header: str, batch: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Send one batch of {"id", "method", "path"} to host:port (at once if it holds
        several) and return the client's result for each, in the batch's order."""
        message = {"host": host, "port": port, "timeout": timeout, "header": header}
        line = json.dumps({**message, "requests": batch}) + "\n"
        with self._lock:
            try:
                return self._exchange(line, batch)
            except BrokenPipeError:
                # It had ended before this batch: nothing was sent, so a new one sends it.
                return self._exchange(line, batch)

    @property
    def pid(self) -> int | None:
        """The client's process id; None once it has ended."""
        return self._process.pid if self._process is not None else None

    def _exchange(self, line: str, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self._process is None or self._process.poll() is not None:
            self._end()  # it ended (or was ended after a failure): a new one
            self._spawn()
        process = self._process
        assert process is not None and process.stdin and process.stdout
        try:
            process.stdin.write(line)
            process.stdin.flush()
            return [self._result(process, request["id"]) for request in batch]
        except BaseException:
            # Its answers may still be on their way: a later batch must not read them.
            self._end()
            raise

    @staticmethod
    def _result(process: subprocess.Popen[str], wanted: int) -> dict[str, Any]:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the client process ended unexpectedly")
        result: dict[str, Any] = json.loads(line)
        if result.get("id") != wanted:
            raise RuntimeError(f"the client answered request {result.get('id')}, not {wanted}")
        return result

    def _end(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        # Between batches it only waits for a line: killed, it ends at once, where a clean
        # exit would first tear its interpreter down (~10 ms the CLI would wait for). Killed
        # mid-batch, none of its answers can reach a later batch.
        # `with process` closes the pipes and waits for it; a dead one's pipe may be broken.
        with contextlib.suppress(BrokenPipeError), process:
            process.kill()

    def close(self) -> None:
        with self._lock:
            self._end()

    def __enter__(self) -> ClientProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
