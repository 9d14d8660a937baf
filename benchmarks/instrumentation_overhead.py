"""What observing costs: server CPU per request, observed against plain, paired and interleaved.

Two uvicorn processes serve the same seed program (benchmarks/seed_app.py, 20 rows): one
plain, as `uvicorn seed_app:app` serves it; one observed by the visualizer's hooks with the
full event set and source lines, a thread describing its events off the request path as a
run does. A client process sends the same requests to each in turn, the order alternating
round by round; each server's own CPU time is read from /proc before and after.

    python benchmarks/instrumentation_overhead.py [--rounds 20] [--requests 400]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from measuring import cpu_seconds, free_port, load, spread, start

HERE = Path(__file__).resolve().parent

PLAIN = textwrap.dedent("""
    import sys, uvicorn
    sys.path.insert(0, {here!r})
    import seed_app
    uvicorn.run(seed_app.app, host="127.0.0.1", port={port}, log_level="warning")
""")

OBSERVED = textwrap.dedent("""
    import sys, threading, time, uvicorn
    sys.path.insert(0, {here!r})
    from visualizer.capture import hooks
    from visualizer.capture.asgi import RequestObserver
    from visualizer.capture.lines import ProgramFiles
    from visualizer.capture.recorder import Recorder
    from visualizer.execution.publisher import Publisher
    hooks.install()
    import seed_app
    recorder = Recorder(ProgramFiles([seed_app.__file__]), capacity=10**7)
    publisher = Publisher(recorder, {{}}, None)

    def describe():  # as a run does: events are described off the request path
        while True:
            time.sleep(0.05)
            publisher.flush()
            publisher.events.clear()

    threading.Thread(target=describe, daemon=True).start()
    app = RequestObserver(seed_app.app, recorder)
    uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning")
""")

CLIENT = textwrap.dedent("""
    import http.client, socket, sys
    port, method, path, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for n in range(count):
        conn.request(method, path.format(n=n))
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status
""")

ENDPOINTS = {"GET": "/items/", "POST": "/items/?name=item{n}"}


def load_server(pid: int, port: int, method: str, count: int) -> float:
    """CPU seconds the server spent on `count` requests, sent one after another."""
    before = cpu_seconds(pid)
    command = [sys.executable, "-c", CLIENT, str(port), method, ENDPOINTS[method], str(count)]
    subprocess.run(command, check=True)
    return cpu_seconds(pid) - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400, help="per server, per round")
    args = parser.parse_args()
    print(f"before: {load()}")
    with tempfile.TemporaryDirectory() as folder:
        servers = {}
        for name, code in (("plain", PLAIN), ("observed", OBSERVED)):
            port = free_port()
            database = f"sqlite:///{Path(folder) / name}.db"
            process = start(
                code.format(here=str(HERE), port=port), {"SEED_DATABASE_URL": database}, port
            )
            servers[name] = (process, port)
        try:
            for process, port in servers.values():  # warm up: imports, caches, pools
                for method in ENDPOINTS:
                    load_server(process.pid, port, method, 300)
            per_request: dict[tuple[str, str], list[float]] = {}
            ratios: dict[str, list[float]] = {method: [] for method in ENDPOINTS}
            for round_ in range(args.rounds):
                order = ["plain", "observed"] if round_ % 2 == 0 else ["observed", "plain"]
                for method in ENDPOINTS:
                    spent = {}
                    for name in order:
                        process, port = servers[name]
                        spent[name] = load_server(process.pid, port, method, args.requests)
                        per_request.setdefault((name, method), []).append(
                            1e6 * spent[name] / args.requests
                        )
                    ratios[method].append(spent["observed"] / spent["plain"])
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait(10)
    print(f"after:  {load()}")
    print(f"{args.rounds} rounds of {args.requests} requests per server and method, alternating")
    for method in ENDPOINTS:
        plain = spread(per_request["plain", method])
        observed = spread(per_request["observed", method])
        print(f"\n{method} {ENDPOINTS[method]}")
        print(f"  plain     µs CPU per request: {plain}")
        print(f"  observed  µs CPU per request: {observed}")
        print(f"  observed / plain, per round:  {spread(ratios[method])}")


if __name__ == "__main__":
    main()
