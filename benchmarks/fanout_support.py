"""What room_fanout.py runs in processes of its own: the plain broadcast server, and the clients.

The baseline is the broadcast FastAPI's documentation teaches: every socket in a set, and each
message sent to each socket in one loop. The clients are one light websocket protocol per
connection on uvloop (no task per socket), so the client process costs as little as it can.

    python benchmarks/fanout_support.py plain PORT
    python benchmarks/fanout_support.py clients JSON_SETTINGS   (prints a JSON result)
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import resource
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any, cast

import uvicorn
import uvloop
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

HEARTBEAT_S = 10  # the project's default, given to the baseline too
MAX_FRAME_BYTES = 32 * 1024
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process so far, from /proc/PID/stat (in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve_plain(port: int) -> None:
    """A plain FastAPI broadcast: the presenter's goto becomes a cursor sent to every socket."""
    app = FastAPI()
    sockets: set[WebSocket] = set()

    @app.websocket("/ws")
    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        sockets.add(websocket)
        try:
            while True:
                message = json.loads(await websocket.receive_text())
                if message.get("type") == "goto":
                    text = json.dumps({"type": "cursor", "cursor": message["cursor"]})
                    for each in list(sockets):
                        try:
                            await each.send_text(text)
                        except (WebSocketDisconnect, RuntimeError, OSError):
                            sockets.discard(each)
        except WebSocketDisconnect:
            pass
        finally:
            sockets.discard(websocket)

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws_per_message_deflate=False,
        ws_max_size=MAX_FRAME_BYTES,
        ws_ping_interval=HEARTBEAT_S,
        ws_ping_timeout=HEARTBEAT_S,
    )


def _frame(opcode: int, payload: bytes) -> bytes:
    """A client frame: masked, as RFC 6455 requires of clients."""
    mask = os.urandom(4)
    length = len(payload)
    head = bytes([0x80 | opcode])
    if length < 126:
        head += bytes([0x80 | length])
    else:
        head += bytes([0x80 | 126]) + length.to_bytes(2, "big")
    key = int.from_bytes((mask * (length // 4 + 1))[:length], "big")
    masked = (int.from_bytes(payload, "big") ^ key).to_bytes(length, "big")
    return head + mask + masked


class Socket(asyncio.Protocol):
    """One websocket client: the handshake, then the server's frames as they come."""

    def __init__(self, host: str, path: str, plain: bool, done: asyncio.Future[None]) -> None:
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            f"Origin: http://{host}\r\n\r\n"  # as a page of the server's own origin
        ).encode()
        self.plain = plain  # the baseline says nothing on joining: the 101 is its welcome
        self.done = done  # set once welcomed
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.cursors: dict[int, float] = {}  # cursor -> when it arrived
        self.closed: int | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass of it
        self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = self.closed or 1006
        if not self.done.done():
            self.done.set_exception(ConnectionError("closed before it was welcomed"))

    def send(self, message: dict[str, Any]) -> None:
        assert self.transport is not None
        self.transport.write(_frame(0x1, json.dumps(message).encode()))

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if b" 101 " not in self.buffer[: self.buffer.find(b"\r\n")]:
                self.done.set_exception(ConnectionError(bytes(self.buffer[:end]).decode()))
                return
            del self.buffer[: end + 4]
            self.upgraded = True
            if self.plain:
                self.done.set_result(None)
        while (frame := self._next()) is not None:
            opcode, payload = frame
            if opcode == 0x1:
                message = json.loads(payload)
                if message.get("type") == "cursor":
                    self.cursors.setdefault(message["cursor"], now)
                    if not self.done.done():
                        self.done.set_result(None)
            elif opcode == 0x9 and self.transport is not None:  # ping: the heartbeat
                self.transport.write(_frame(0xA, payload))
            elif opcode == 0x8:
                self.closed = int.from_bytes(payload[:2], "big") if payload else 1005
                if self.transport is not None:
                    self.transport.close()

    def _next(self) -> tuple[int, bytes] | None:
        buffer = self.buffer
        if len(buffer) < 2:
            return None
        length, start = buffer[1] & 0x7F, 2
        if length == 126:
            if len(buffer) < 4:
                return None
            length, start = int.from_bytes(buffer[2:4], "big"), 4
        elif length == 127:
            if len(buffer) < 10:
                return None
            length, start = int.from_bytes(buffer[2:10], "big"), 10
        if len(buffer) < start + length:
            return None
        opcode, payload = buffer[0] & 0x0F, bytes(buffer[start : start + length])
        del buffer[: start + length]
        return opcode, payload


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _open(port: int, path: str, plain: bool) -> Socket:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    host = f"127.0.0.1:{port}"
    _, socket = await loop.create_connection(
        lambda: Socket(host, path, plain, done), "127.0.0.1", port
    )
    await asyncio.wait_for(done, 60)
    return socket


def _delays(socket: Socket, sent: dict[int, float]) -> list[float]:
    """Per step, until the follower shows that step or a later one (a newer cursor wins)."""
    delays, seen = [], float("inf")
    for cursor in sorted(sent, reverse=True):
        seen = min(seen, socket.cursors.get(cursor, float("inf")))
        if seen != float("inf"):
            delays.append(seen - sent[cursor])
    return delays


async def measure(settings: dict[str, Any]) -> dict[str, Any]:
    """Connect the presenter and the followers, step, and report what they saw.

    With several servers (`ports`, `pids`: workers sharing a room), the presenter sits on the
    first and the followers are dealt round the servers; CPU and memory are their sums, and
    `bus_pid` (Redis) is measured beside them."""
    port, plain = settings["port"], settings["plain"]
    ports, pids = settings.get("ports", [port]), settings.get("pids", [settings["pid"]])
    bus_pid = settings.get("bus_pid")
    followers, steps, interval = settings["followers"], settings["steps"], settings["interval"]
    presenter = await _open(port, settings["presenter_path"], plain)
    await asyncio.sleep(0.5)
    rss_before = sum(map(rss_mb, pids))
    handshakes = asyncio.Semaphore(100)  # in flight at once: what the listen backlog takes

    async def follower(n: int) -> Socket:
        async with handshakes:
            return await _open(ports[n % len(ports)], settings["follower_path"].format(n=n), plain)

    started = time.perf_counter()
    sockets = await asyncio.gather(*(follower(n) for n in range(followers)))
    connect_s = time.perf_counter() - started
    await asyncio.sleep(1.0)  # the server settles: welcomes sent, buffers freed
    rss_connected = sum(map(rss_mb, pids))
    server_cpu, client_cpu, sent = sum(map(cpu_seconds, pids)), _cpu_self(), {}
    bus_cpu = cpu_seconds(bus_pid) if bus_pid else 0.0
    first = time.perf_counter()
    for cursor in range(1, steps + 1):
        await asyncio.sleep(max(0.0, first + (cursor - 1) * interval - time.perf_counter()))
        sent[cursor] = time.perf_counter()
        presenter.send({"type": "goto", "cursor": cursor})
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline and not all(steps in s.cursors for s in sockets):
        await asyncio.sleep(0.01)
    server_cpu = sum(map(cpu_seconds, pids)) - server_cpu
    client_cpu = _cpu_self() - client_cpu
    bus_cpu = (cpu_seconds(bus_pid) - bus_cpu) if bus_pid else 0.0
    delays = sorted(d for s in sockets for d in _delays(s, sent))
    for each in [presenter, *sockets]:
        if each.transport is not None:
            each.transport.close()
    return {
        "p50_ms": statistics.median(delays) * 1000 if delays else float("nan"),
        "p95_ms": delays[int(len(delays) * 0.95)] * 1000 if delays else float("nan"),
        "max_ms": delays[-1] * 1000 if delays else float("nan"),
        "cpu_ms_per_step": server_cpu * 1000 / steps,
        "bus_cpu_ms_per_step": bus_cpu * 1000 / steps,
        "client_cpu_ms_per_step": client_cpu * 1000 / steps,
        "kb_per_follower": (rss_connected - rss_before) * 1024 / followers,
        "connect_s": connect_s,
        "complete": sum(1 for s in sockets if steps in s.cursors),
        "skipped": sum(steps - len(s.cursors.keys() & sent.keys()) for s in sockets),
        "closed": sum(1 for s in sockets if s.closed is not None),
    }


def main() -> int:
    if sys.argv[1] == "plain":
        serve_plain(int(sys.argv[2]))
        return 0
    result = uvloop.run(measure(json.loads(sys.argv[2])))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
