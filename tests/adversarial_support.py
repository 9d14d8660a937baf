"""Helpers for the adversarial tests: imports, every page of a run, raw HTTP, the CLI server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

JSON = {"content-type": "application/json"}


def post_trace(site: str, trace: Any) -> httpx.Response:
    body = trace if isinstance(trace, bytes) else json.dumps(trace).encode()
    return httpx.post(f"{site}/api/runs/import", content=body, headers=JSON, timeout=30)


def stored_runs(site: str) -> int:
    """How many runs the home page lists (it shows the newest twelve)."""
    return httpx.get(site).text.count('href="/runs/')


def every_page(site: str, run_id: str) -> dict[str, int]:
    """Every page, fragment and API answer about one run, and a room on it: path -> status."""
    statuses: dict[str, int] = {}

    def get(path: str) -> httpx.Response:
        response = httpx.get(f"{site}{path}", timeout=30)
        statuses[path] = response.status_code
        return response

    trace = get(f"/api/runs/{run_id}").json()
    get(f"/api/runs/{run_id}?download=1")
    get(f"/runs/{run_id}")
    for cursor in sorted({0, 1, len(trace["events"]) // 2, len(trace["events"])}):
        get(f"/runs/{run_id}/stage?cursor={cursor}")
    get(f"/runs/{run_id}/summary")
    get(f"/runs/{run_id}/questions")
    for index, question in enumerate(trace["questions"]):
        get(f"/runs/{run_id}/questions/{index}")
        for choice in range(len(question["choices"])):
            path = f"/runs/{run_id}/questions/{index}/answer#{choice}"
            answered = httpx.post(
                f"{site}/runs/{run_id}/questions/{index}/answer", data={"choice": choice}
            )
            statuses[path] = answered.status_code
    get(f"/compare?left={run_id}&right={run_id}")
    room = httpx.post(f"{site}/api/rooms", json={"run": run_id})
    statuses["/api/rooms"] = room.status_code
    if room.status_code == 201:
        code = room.json()["code"]
        for path in (f"/rooms/{code}", f"/rooms/{code}/present", f"/rooms/{code}/qr.svg"):
            get(path)
        get(f"/api/rooms/{code}")
    return statuses


def raw_http(port: int, request: bytes, timeout: float = 10.0) -> bytes:
    """Send bytes as they are and read what comes back until the server closes or pauses."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
                if b"\r\n\r\n" in received and _complete(received):
                    break
        except TimeoutError:
            pass
        return received


def _complete(response: bytes) -> bool:
    head, _, body = response.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


@dataclass
class Served:
    """The visualizer as `session-visualizer` serves it, in its own process."""

    url: str
    port: int
    process: subprocess.Popen[str]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def cli_server(data: Path, **env: str) -> Iterator[Served]:
    """The real serve command on a free port; its stdout and stderr go to one log file."""
    log = data / "server.log"
    environment = {**os.environ, "SESSION_VISUALIZER_DATA": str(data), **env}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "visualizer", "--no-browser", "--port", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            env=environment,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/static/app.css", timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the server did not start:\n{log.read_text()}") from None
                time.sleep(0.1)
        yield Served(url, port, process, log)
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=15)


def wait_until(condition: Any, timeout: float = 20.0, every: float = 0.05) -> Any:
    """Poll until `condition()` is truthy and return it; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(every)
    raise AssertionError("timed out waiting")
