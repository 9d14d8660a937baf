"""The runner's end of the client process: sends planned requests, records what the client saw."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from visualizer.capture.recorder import Recorder
from visualizer.contract.events import REQUEST_HEADER
from visualizer.contract.trace import TraceRequest
from visualizer.execution.scenarios import PlannedRequest

_BODY_LIMIT = 2_000
Numbered = tuple[int, PlannedRequest]


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
    """The client in its own process; each batch's results come back timed on its side."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "visualizer.execution.client",
                host,
                str(port),
                str(timeout),
                REQUEST_HEADER,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def send(self, recorder: Recorder, batch: list[Numbered]) -> list[TraceRequest]:
        """Send one batch (at once if it holds several) and wait for every answer."""
        assert self._process.stdin is not None and self._process.stdout is not None
        wire = [{"id": n, "method": p.method, "path": p.path} for n, p in batch]
        self._process.stdin.write(json.dumps(wire if len(wire) > 1 else wire[0]) + "\n")
        self._process.stdin.flush()
        answers = []
        for number, planned in batch:
            line = self._process.stdout.readline()
            if not line:
                raise RuntimeError("the client process ended unexpectedly")
            result = json.loads(line)
            if result["id"] != number:
                raise RuntimeError(f"the client answered request {result['id']}, not {number}")
            answers.append(_answer(recorder, number, planned, result))
        return answers

    def close(self) -> None:
        with self._process:  # closes the pipes and waits for the process
            if self._process.stdin:
                self._process.stdin.close()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()


def _answer(
    recorder: Recorder, number: int, planned: PlannedRequest, result: dict[str, Any]
) -> TraceRequest:
    """Record when the client had the headers and the body; the request as the trace lists it."""
    status = result["status"]
    if status is not None:
        recorder.record(
            "client.headers",
            detail={"status": status},
            request=number,
            walk=False,
            t_ns=result["headers_ns"],
        )
        recorder.record(
            "client.body",
            detail={"status": status, "bytes": len(result["body"])},
            request=number,
            walk=False,
            t_ns=result["body_ns"],
        )
    body = str(result.get("body", result.get("error", "")))[:_BODY_LIMIT]
    return TraceRequest(
        id=number, method=planned.method, path=planned.path, status=status, body=body
    )
