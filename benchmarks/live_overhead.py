"""What `trace` costs a developer's app: CPU per request and requests per second, against the
same app under plain uvicorn, paired and interleaved in one sitting.

The sample app (tests/sample_app, a package in the SessionDep style, on SQLite) is served
twice: `uvicorn shop.main:app`, and `session-visualizer trace shop.main:app`, which serves it
observed in a process of its own and describes its events in the visualizer's process. A
client in a third process sends the same requests to each, one after another on a keep-alive
connection, for a read (GET /products/1) and a write (POST /orders/...); the order of the two
servers alternates round by round. CPU is each process's own, read from /proc before and after.

    python benchmarks/live_overhead.py [--rounds 20] [--requests 400]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from live_support import READ, WRITE, Served, serve
from measuring import load, spread

REQUESTS = {"read": READ, "write": WRITE}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400, help="per server, kind and round")
    args = parser.parse_args()
    print(f"before: {load()}")
    with tempfile.TemporaryDirectory() as folder:
        servers: dict[str, Served] = {}
        try:
            for name in ("plain", "traced"):
                database = f"sqlite:///{Path(folder) / name}.db"
                servers[name] = serve(name, database, Path(folder) / f"{name}-data")
            for served in servers.values():  # warm up: imports, caches, the pool
                for request in REQUESTS.values():
                    served.send(request, 200)
            app_us: dict[tuple[str, str], list[float]] = {}
            page_us: dict[str, list[float]] = {kind: [] for kind in REQUESTS}
            rps: dict[tuple[str, str], list[float]] = {}
            ratios: dict[str, list[float]] = {kind: [] for kind in REQUESTS}
            for round_ in range(args.rounds):
                order = ["plain", "traced"] if round_ % 2 == 0 else ["traced", "plain"]
                for kind, request in REQUESTS.items():
                    spent = {}
                    for name in order:
                        served = servers[name]
                        app_before, page_before = served.cpu()
                        wall = served.send(request, args.requests)
                        app_after, page_after = served.cpu()
                        spent[name] = app_after - app_before
                        app_us.setdefault((name, kind), []).append(
                            1e6 * spent[name] / args.requests
                        )
                        rps.setdefault((name, kind), []).append(args.requests / wall)
                        if name == "traced":
                            page_us[kind].append(1e6 * (page_after - page_before) / args.requests)
                    ratios[kind].append(spent["traced"] / spent["plain"])
        finally:
            for served in servers.values():
                served.stop()
    print(f"after:  {load()}")
    print(f"{args.rounds} rounds of {args.requests} requests per server and kind, alternating")
    for kind, (method, path) in REQUESTS.items():
        print(f"\n{kind}: {method} {path}")
        print(f"  plain   app µs CPU per request:        {spread(app_us['plain', kind])}")
        print(f"  traced  app µs CPU per request:        {spread(app_us['traced', kind])}")
        print(f"  traced  app / plain app, per round:    {spread(ratios[kind])}")
        print(f"  traced  visualizer µs CPU per request: {spread(page_us[kind])}")
        print(f"  plain   requests per second:           {spread(rps['plain', kind])}")
        print(f"  traced  requests per second:           {spread(rps['traced', kind])}")


if __name__ == "__main__":
    main()
