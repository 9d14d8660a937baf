"""What the live-mode benchmarks share: the sample app served plain or under `trace`, a client
in a process of its own, and the processes' CPU and memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from measuring import cpu_seconds, free_port, rss_mb

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "sample_app"

# Requests one after another on one keep-alive connection, as a browser clicking through.
CLIENT = textwrap.dedent("""
    import http.client, socket, sys, time
    port, method, path, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    started = time.perf_counter()
    for n in range(count):
        conn.request(method, path.format(n=n))
        response = conn.getresponse()
        response.read()
        assert response.status < 300, (response.status, path)
    print(time.perf_counter() - started)
""")

READ = ("GET", "/products/1")
WRITE = ("POST", "/orders/?product_id=1&quantity=1")


@dataclass
class Served:
    """The sample app in its own process; under `trace`, the visualizer's process as well."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    app_pid: int
    page_pid: int | None  # the visualizer's process, under `trace`

    def cpu(self) -> tuple[float, float]:
        """CPU seconds so far: the app's process, the visualizer's (0 when plain)."""
        page = cpu_seconds(self.page_pid) if self.page_pid else 0.0
        return cpu_seconds(self.app_pid), page

    def rss(self) -> tuple[float, float]:
        page = rss_mb(self.page_pid) if self.page_pid else 0.0
        return rss_mb(self.app_pid), page

    def send(self, request: tuple[str, str], count: int) -> float:
        """Send `count` requests; the client's wall time for them."""
        method, path = request
        command = [sys.executable, "-c", CLIENT, str(self.port), method, path, str(count)]
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        return float(done.stdout)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)  # Ctrl+C, to the whole job
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    import socket

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}")
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def serve(name: str, database: str, data: Path, keep: int = 500) -> Served:
    """The shop, served `plain` (uvicorn shop.main:app) or `traced` (session-visualizer
    trace shop.main:app), on `database`, with one product of a large stock."""
    port = free_port()
    env = {
        **os.environ,
        "SHOP_DATABASE_URL": database,
        "SESSION_VISUALIZER_DATA": str(data),
        "SESSION_VISUALIZER_LIVE_REQUESTS": str(keep),
    }
    if name == "plain":
        # Both with uvicorn's own defaults, the access log included, as a developer runs it.
        command = [sys.executable, "-m", "uvicorn", "shop.main:app", "--port", str(port)]
        ports = [port]
    else:
        page = free_port()
        command = [sys.executable, "-m", "visualizer", "trace", "shop.main:app", "--no-browser"]
        command += ["--app-port", str(port), "--port", str(page)]
        ports = [page, port]
    process = subprocess.Popen(
        command,
        cwd=SAMPLE,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    for listening in ports:
        _wait_listening(listening, process)
    if name == "plain":
        served = Served(name, port, process, process.pid, None)
    else:
        (agent,) = _children(process.pid)
        served = Served(name, port, process, agent, process.pid)
    served.send(("POST", "/products/?name=tea&stock=1000000000"), 1)
    return served
