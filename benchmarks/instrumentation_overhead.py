"""What observing costs: server CPU per request with and without the instrumentation.

Each scenario app is served by real uvicorn in this process; the load comes from a client
process over keep-alive HTTP, so the CPU this process spends is the server's own.

    python benchmarks/instrumentation_overhead.py [--requests 2000] [--scenarios read_items ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from visualizer.capture.instrument import instrument

from visualizer.capture.recorder import Recorder
from visualizer.execution.scenarios import Registry, Scenario
from visualizer.execution.server import LoopbackServer

LOAD = textwrap.dedent("""
    import http.client, socket, sys
    host, port, method, path, count = sys.argv[1:6]
    conn = http.client.HTTPConnection(host, int(port))
    conn.connect()
    # Without it, a request sent in two segments waits ~40 ms for a delayed ACK.
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for _ in range(int(count)):
        conn.request(method, path)
        response = conn.getresponse()
        response.read()
        assert response.status < 500, response.status
""")


def measure(scenario: Scenario, requests: int, instrumented: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        namespace = scenario.load(f"sqlite:///{Path(folder) / 'app.db'}", f"bench_{scenario.name}")
        recorder = Recorder(str(scenario.path), capacity=10**8)
        app = instrument(namespace, recorder) if instrumented else namespace["app"]
        planned = scenario.requests[0]
        with LoopbackServer(app) as server:
            command = [
                sys.executable,
                "-c",
                LOAD,
                server.host,
                str(server.port),
                planned.method,
                planned.path,
            ]
            subprocess.run([*command, "50"], check=True)  # warm up
            cpu, wall = time.process_time(), time.perf_counter()
            subprocess.run([*command, str(requests)], check=True)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        namespace["engine"].dispose()
        sys.modules.pop(f"bench_{scenario.name}", None)
    return {
        "rate": requests / wall,
        "cpu_us": 1e6 * cpu / requests,
        "events": len(recorder.events) if instrumented else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--scenarios", nargs="+", default=["read_items", "create_item"])
    args = parser.parse_args()
    registry = Registry()
    print(f"{'scenario':<14} {'mode':<13} {'req/s':>8} {'CPU us/req':>11} {'events/req':>11}")
    for name in args.scenarios:
        scenario = registry.get(name)
        plain = measure(scenario, args.requests, instrumented=False)
        traced = measure(scenario, args.requests, instrumented=True)
        for mode, result in (("plain", plain), ("instrumented", traced)):
            print(
                f"{name:<14} {mode:<13} {result['rate']:>8.0f} {result['cpu_us']:>11.0f} "
                f"{result['events'] / (args.requests + 50):>11.1f}"
            )
        print(f"{name:<14} CPU per request x{traced['cpu_us'] / plain['cpu_us']:.2f} when observed")


if __name__ == "__main__":
    main()
