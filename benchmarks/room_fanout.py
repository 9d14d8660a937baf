"""Classroom fan-out: a presenter steps through a run while many students follow; prints delays.

Starts the visualizer in its own process (`python -m visualizer`) on a temporary data folder,
runs a scenario, opens a room, connects the students on loopback from this one asyncio process,
then sends `goto 1..N` at a fixed interval. Delays are perf_counter differences on one machine:
from just before the presenter's send to the student's receipt, client-side parsing included.

    .venv/bin/python benchmarks/room_fanout.py [--clients 300] [--interval 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _wait_ready(base: str, server: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            if httpx.get(f"{base}/api/scenarios", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not start in time")


def _finished_run(base: str, scenario: str, timeout: float = 60) -> tuple[str, int]:
    run_id = httpx.post(f"{base}/api/runs", json={"scenario": scenario}).json()["id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = httpx.get(f"{base}/api/runs/{run_id}").json()
        if body["status"] == "done":
            return run_id, len(body["events"])
        if body["status"] == "failed":
            raise SystemExit(f"the run failed: {body.get('error')}")
        time.sleep(0.1)
    raise SystemExit("the run did not finish in time")


async def _student(
    url: str, got: dict[int, float], joined: asyncio.Event, stop: asyncio.Event
) -> None:
    async with connect(url, compression=None, open_timeout=60, max_queue=None) as ws:
        joined.set()
        reading = asyncio.create_task(_read(ws, got))
        await stop.wait()
        reading.cancel()


async def _read(ws: ClientConnection, got: dict[int, float]) -> None:
    async for text in ws:
        now = time.perf_counter()
        message = json.loads(text)
        if message["type"] == "cursor":
            got.setdefault(message["cursor"], now)


async def _bench(
    ws_base: str, code: str, token: str, args: argparse.Namespace, steps: int, server_pid: int
) -> dict[str, Any]:
    received: list[dict[int, float]] = [{} for _ in range(args.clients)]
    joined = [asyncio.Event() for _ in range(args.clients)]
    stop = asyncio.Event()
    handshakes = asyncio.Semaphore(64)  # a burst the listen backlog takes without refusals

    async def one(n: int) -> None:
        async with handshakes:
            task = asyncio.create_task(
                _student(f"{ws_base}/ws/rooms/{code}?name=s{n}", received[n], joined[n], stop)
            )
            await joined[n].wait()
        await task

    rss_before = _rss_mb(server_pid)
    started = time.perf_counter()
    students = [asyncio.create_task(one(n)) for n in range(args.clients)]
    await asyncio.gather(*(event.wait() for event in joined))
    connect_s = time.perf_counter() - started
    sent: dict[int, float] = {}
    async with connect(f"{ws_base}/ws/rooms/{code}?token={token}", compression=None) as presenter:
        while True:  # until the presenter sees every student in the room
            message = json.loads(await presenter.recv())
            if message["type"] == "members" and message["count"] >= args.clients:
                break
        rss_connected = _rss_mb(server_pid)
        for cursor in range(1, steps + 1):
            sent[cursor] = time.perf_counter()
            await presenter.send(json.dumps({"type": "goto", "cursor": cursor}))
            await asyncio.sleep(args.interval)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(steps in got for got in received):
            await asyncio.sleep(0.05)
        rss_end = _rss_mb(server_pid)
    stop.set()
    await asyncio.gather(*students, return_exceptions=True)
    delays = [got[c] - sent[c] for got in received for c in sent if c in got]
    return {
        "complete": sum(1 for got in received if all(c in got for c in sent)),
        "delays": sorted(delays),
        "connect_s": connect_s,
        "rss": (rss_before, rss_connected, rss_end),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=300, help="student connections (300)")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between steps (0.1)")
    parser.add_argument("--scenario", default="create_item", help="the run to step through")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server inherits it too

    port = _free_port()
    base, ws_base = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data, open(Path(data) / "server.log", "wb") as log:
        env = {**os.environ, "SESSION_VISUALIZER_DATA": data}
        server = subprocess.Popen(
            [sys.executable, "-m", "visualizer", "--no-browser", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(base, server)
            run_id, steps = _finished_run(base, args.scenario)
            room = httpx.post(f"{base}/api/rooms", json={"run": run_id}).json()
            result = asyncio.run(
                _bench(ws_base, room["code"], room["presenter_token"], args, steps, server.pid)
            )
        finally:
            server.terminate()
            server.wait(timeout=10)

    delays = result["delays"]
    before, connected, end = result["rss"]
    print(f"scenario {args.scenario}: {steps} steps, one every {args.interval * 1000:.0f} ms")
    print(f"students: {args.clients}, connected in {result['connect_s']:.2f} s")
    print(f"students that got every step: {result['complete']} of {args.clients}")
    print(f"receipts: {len(delays)} of {args.clients * steps}")
    if delays:
        p95 = delays[min(len(delays) - 1, int(len(delays) * 0.95))]
        print(
            f"delay send -> receipt: median {statistics.median(delays) * 1000:.1f} ms, "
            f"p95 {p95 * 1000:.1f} ms, max {delays[-1] * 1000:.1f} ms"
        )
    each_kb = (connected - before) * 1024 / max(args.clients, 1)
    print(
        f"server RSS: {before:.1f} MB before students, {connected:.1f} MB with them "
        f"({each_kb:.0f} KB each), {end:.1f} MB at the end"
    )
    return 0 if result["complete"] == args.clients else 1


if __name__ == "__main__":
    sys.exit(main())
