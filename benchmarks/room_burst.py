"""Classroom bursts: 2,000 students join at once, then send 10,000 answers in one burst.

Does the presenter keep its seat, and how long until its tally shows every answer? Starts the
visualizer in its own process (`python -m visualizer`) on a temporary data folder, opens a
room on a finished run, connects the presenter, opens a question, then connects the students
from this one asyncio process (many handshakes in flight at once) and has every student
answer several times as fast as it can. Timings are perf_counter differences on one machine.

With `--baseline REF` the same rounds run, alternating, against that git revision of the
project (exported with `git archive`), so the figures sit beside a baseline of the same sitting.

    .venv/bin/python benchmarks/room_burst.py [--students 2000] [--answers 10000]
        [--rounds 3] [--baseline REF]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):  # the peak resident size so far
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def _server(source: Path) -> Iterator[tuple[str, int]]:
    """The visualizer from `source`, serving on a free port; yields its URL and pid."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as data, open(Path(data) / "server.log", "wb") as log:
        env = {**os.environ, "SESSION_VISUALIZER_DATA": data, "PYTHONPATH": str(source)}
        server = subprocess.Popen(
            [sys.executable, "-m", "visualizer", "--no-browser", "--port", str(port)],
            cwd=source,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"{base}/api/scenarios", timeout=1)
                    break
                except httpx.TransportError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.1)
            yield base, server.pid
        finally:
            server.terminate()
            server.wait(timeout=10)


def _room(base: str) -> dict[str, Any]:
    run_id = httpx.post(f"{base}/api/runs", json={"scenario": "create_item"}).json()["id"]
    while httpx.get(f"{base}/api/runs/{run_id}").json()["status"] == "running":
        time.sleep(0.1)
    room: dict[str, Any] = httpx.post(f"{base}/api/rooms", json={"run": run_id}).json()
    return room


class Presenter:
    """Reads everything it is sent and notes the members and tallies, and how it ended."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.messages = 0
        self.members = 0
        self.answered = 0
        self.closed: int | None = None  # the close code, if the server let it go
        self.changed = asyncio.Event()

    async def read(self) -> None:
        try:
            async for text in self.ws:
                message = json.loads(text)
                self.messages += 1
                if message["type"] == "members":
                    self.members = message["count"]
                elif message["type"] == "tally":
                    self.answered, self.members = message["answered"], message["members"]
                self.changed.set()
        except ConnectionClosed as closed:
            self.closed = closed.rcvd.code if closed.rcvd else 1006
        self.closed = self.closed or (self.ws.close_code or 1000)
        self.changed.set()

    async def until(self, done: Any, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not done() and self.closed is None:
            self.changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except TimeoutError:
                return False
        return bool(done())


async def _drain(ws: ClientConnection) -> None:
    try:
        async for _ in ws:
            pass
    except ConnectionClosed:
        pass


async def _round(base: str, pid: int, args: argparse.Namespace) -> dict[str, Any]:
    room = _room(base)
    ws_base = base.replace("http://", "ws://") + f"/ws/rooms/{room['code']}"
    token = room["presenter_token"]
    async with connect(f"{ws_base}?token={token}", compression=None) as ws:
        presenter = Presenter(ws)
        reading = asyncio.create_task(presenter.read())
        await ws.send(json.dumps({"type": "open_question", "question": 0}))
        handshakes = asyncio.Semaphore(args.in_flight)

        async def join(n: int) -> ClientConnection:
            async with handshakes:
                return await connect(
                    f"{ws_base}?name=s{n}", compression=None, open_timeout=120, max_queue=None
                )

        started = time.perf_counter()
        students = await asyncio.gather(*(join(n) for n in range(args.students)))
        drains = [asyncio.create_task(_drain(s)) for s in students]
        all_in = await presenter.until(lambda: presenter.members >= args.students, 60)
        join_s = time.perf_counter() - started
        after_joins = presenter.messages

        per_student = max(1, args.answers // args.students)
        started = time.perf_counter()
        await asyncio.gather(
            *(
                student.send(json.dumps({"type": "answer", "choice": k % 2}))
                for k in range(per_student)
                for student in students
            )
        )
        tallied = await presenter.until(lambda: presenter.answered >= args.students, 60)
        burst_s = time.perf_counter() - started
        survived = presenter.closed is None
        ping_ms = float("nan")
        if survived:
            sent = time.perf_counter()
            pongs = presenter.messages
            await ws.send(json.dumps({"type": "ping"}))
            if await presenter.until(lambda: presenter.messages > pongs, 10):
                ping_ms = (time.perf_counter() - sent) * 1000
        await asyncio.gather(*(s.close() for s in students), return_exceptions=True)
        await asyncio.gather(*drains, return_exceptions=True)
        reading.cancel()
    return {
        "survived": survived and all_in and tallied,
        "closed": presenter.closed,
        "join_s": join_s if all_in else float("nan"),
        "burst_s": burst_s if tallied else float("nan"),
        "messages_joins": after_joins,
        "messages_answers": presenter.messages - after_joins,
        "ping_ms": ping_ms,
        "peak_mb": _rss_mb(pid),
        "answers": per_student * args.students,
    }


@contextmanager
def _baseline(ref: str) -> Iterator[Path]:
    """The project at git revision `ref`, exported to a temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", ref], cwd=ROOT, capture_output=True, check=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
        yield Path(folder)


def _summary(name: str, rounds: list[dict[str, Any]]) -> None:
    def spread(key: str, unit: str) -> str:
        values = [r[key] for r in rounds if r[key] == r[key]]  # NaN left out
        if not values:
            return "n/a"
        return (
            f"median {statistics.median(values):.2f}{unit} "
            f"(min {min(values):.2f}, max {max(values):.2f})"
        )

    kept = sum(1 for r in rounds if r["survived"])
    closes = sorted({r["closed"] for r in rounds if r["closed"] is not None})
    print(f"{name}: presenter kept its seat in {kept} of {len(rounds)} rounds", end="")
    print(f"; closed with {closes}" if closes else "")
    print(f"  {rounds[0]['answers']} answers per round")
    print(f"  join burst until the presenter counts everyone: {spread('join_s', ' s')}")
    print(f"  answer burst until the tally shows everyone:    {spread('burst_s', ' s')}")
    print(f"  presenter messages during the joins:   {spread('messages_joins', '')}")
    print(f"  presenter messages during the answers: {spread('messages_answers', '')}")
    print(f"  presenter ping after the bursts:       {spread('ping_ms', ' ms')}")
    print(f"  server peak RSS:                       {spread('peak_mb', ' MB')}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--answers", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--in-flight", type=int, default=500, help="handshakes at once (500)")
    parser.add_argument("--baseline", help="a git revision to measure beside this checkout")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server inherits it too

    load_before = os.getloadavg()
    results: dict[str, list[dict[str, Any]]] = {"this checkout": []}
    with _baseline(args.baseline) if args.baseline else _nothing() as old:
        variants = [("this checkout", ROOT)]
        if old is not None:
            results[f"baseline {args.baseline}"] = []
            variants.append((f"baseline {args.baseline}", old))
        for number in range(args.rounds):
            for name, source in variants if number % 2 == 0 else variants[::-1]:
                with _server(source) as (base, pid):
                    results[name].append(asyncio.run(_round(base, pid, args)))
                print(f"round {number + 1} {name}: {results[name][-1]}", file=sys.stderr)
    load_after = os.getloadavg()
    print(f"{args.students} students joining at once, {args.answers} answers in one burst")
    for name, rounds in results.items():
        _summary(name, rounds)
    print(f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    return 0 if all(r["survived"] for r in results["this checkout"]) else 1


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    sys.exit(main())
