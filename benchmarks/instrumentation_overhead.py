"""What observing costs: server CPU per request, observed against plain, paired and interleaved.

Two uvicorn processes serve the same seed program (benchmarks/seed_app.py, 20 rows): one
plain, as `uvicorn seed_app:app` serves it; one observed by the visualizer's hooks with the
full event set and source lines, a thread describing its events off the request path as a
run does. A client process sends the same requests to each in turn, the order alternating
round by round; each server's own CPU time is read from its CPU clock before and after (the
observed server's once its thread has described every event sent). That thread reports its
events and its own CPU: a round where nothing was observed (and observing would look free)
stops the benchmark, and the request path's share is printed apart from describing's. The
machine's load is sampled every round.

    python benchmarks/instrumentation_overhead.py [--rounds 20] [--requests 400]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from measuring import cpu_seconds, free_port, load, load_now, spread, start

HERE = Path(__file__).resolve().parent

PLAIN = textwrap.dedent("""
    import sys, uvicorn
    sys.path.insert(0, {here!r})
    import seed_app
    uvicorn.run(seed_app.app, host="127.0.0.1", port={port}, log_level="warning")
""")

OBSERVED = textwrap.dedent("""
    import os, sys, threading, time, uvicorn
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
            # Proof that events were observed, and what describing them cost this thread.
            with open({counted!r} + ".new", "w") as counted:
                counted.write(f"{{publisher.describer.count}} {{time.thread_time_ns()}}")
            os.replace({counted!r} + ".new", {counted!r})  # whole, never read half-written

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
MIN_ROUNDS = 20  # per-request CPU varies by a few percent round to round: the median needs them
Settle = Callable[[], object]


def load_server(
    pid: int, port: int, method: str, count: int, settle: Settle | None = None
) -> float:
    """CPU seconds the server spent on `count` requests, sent one after another, and on
    what `settle` waits for after them (the observed server describing their events)."""
    before = cpu_seconds(pid)
    command = [sys.executable, "-c", CLIENT, str(port), method, ENDPOINTS[method], str(count)]
    subprocess.run(command, check=True)
    if settle is not None:
        settle()
    return cpu_seconds(pid) - before


class Describing:
    """The observed server's describing thread, read from the figures it writes."""

    def __init__(self, counted: Path) -> None:
        self.counted = counted
        self.events, self.cpu = self._read()
        self.described: list[tuple[int, float]] = []  # what each settle() found

    def _read(self) -> tuple[int, float]:
        fields = self.counted.read_text().split() if self.counted.exists() else []
        return (int(fields[0]), int(fields[1]) / 1e9) if len(fields) == 2 else (0, 0.0)

    def settle(self) -> tuple[int, float]:
        """Wait until every event sent so far is described (the count stops moving over
        two of its 0.05 s passes); the events and its CPU seconds since the last call."""
        latest = self._read()
        while True:
            time.sleep(0.12)
            now = self._read()
            if now[0] == latest[0]:
                break
            latest = now
        events, cpu = now[0] - self.events, now[1] - self.cpu
        self.events, self.cpu = now
        self.described.append((events, cpu))
        return events, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=MIN_ROUNDS, help=f"at least {MIN_ROUNDS}")
    parser.add_argument("--requests", type=int, default=400, help="per server, per round")
    args = parser.parse_args()
    if args.rounds < MIN_ROUNDS:
        parser.error(f"--rounds: at least {MIN_ROUNDS}")
    print(f"before: {load()}")
    loads: list[float] = []
    per_request: dict[tuple[str, str], list[float]] = {}
    ratios: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        describing = Describing(Path(folder) / "events")
        servers = {}
        for name, code in (("plain", PLAIN), ("observed", OBSERVED)):
            port = free_port()
            database = f"sqlite:///{Path(folder) / name}.db"
            program = code.format(here=str(HERE), port=port, counted=str(describing.counted))
            process = start(program, {"SEED_DATABASE_URL": database}, port)
            servers[name] = (process, port)
        try:
            for process, port in servers.values():  # warm up: imports, caches, pools
                for method in ENDPOINTS:
                    load_server(process.pid, port, method, 300)
            describing.settle()
            describing.described.clear()  # the warm-up's
            for round_ in range(args.rounds):
                loads.append(load_now())
                order = ["plain", "observed"] if round_ % 2 == 0 else ["observed", "plain"]
                for method in ENDPOINTS:
                    spent = {}
                    for name in order:
                        process, port = servers[name]
                        settle = describing.settle if name == "observed" else None
                        spent[name] = load_server(process.pid, port, method, args.requests, settle)
                        per_request.setdefault((name, method), []).append(
                            1e6 * spent[name] / args.requests
                        )
                    events, describing_cpu = describing.described[-1]
                    if events < 5 * args.requests:
                        raise SystemExit(
                            f"{events} events for {args.requests} requests: not observed"
                        )
                    request_path = spent["observed"] - describing_cpu
                    ratios.setdefault(("total", method), []).append(
                        spent["observed"] / spent["plain"]
                    )
                    ratios.setdefault(("path", method), []).append(request_path / spent["plain"])
                    per_request.setdefault(("describing", method), []).append(
                        1e6 * describing_cpu / args.requests
                    )
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait(10)
    print(f"after:  {load()}")
    print(f"one-minute load while it ran: {min(loads):.2f}-{max(loads):.2f}")
    print(f"{args.rounds} rounds of {args.requests} requests per server and method, alternating")
    found = describing.described
    events_per_request = sum(e for e, _ in found) / (len(found) * args.requests)
    print(f"the observed server described {events_per_request:.1f} events per request")
    for method in ENDPOINTS:
        print(f"\n{method} {ENDPOINTS[method]}  (µs CPU per request)")
        print(f"  plain                          {spread(per_request['plain', method])}")
        print(f"  observed                       {spread(per_request['observed', method])}")
        print(f"    of which describing events   {spread(per_request['describing', method])}")
        print(f"  observed / plain, per round    {spread(ratios['total', method])}")
        print(f"  request path only / plain      {spread(ratios['path', method])}")


if __name__ == "__main__":
    main()
