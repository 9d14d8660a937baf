"""Memory under `trace` over a long load: the live page keeps the last N requests, so the
processes' memory levels off once N have been served.

The sample app (tests/sample_app, on SQLite) is served under plain uvicorn (the baseline) and
under `session-visualizer trace`, alternating round by round; each round sends the same
requests (reads and writes, one after another) to a fresh server and reads each process's
RSS every `--every` requests. Printed: RSS at each checkpoint (median over rounds) and the
growth from the first checkpoint after the list is full to the last, with its spread.

    python benchmarks/live_memory.py [--rounds 5] [--requests 10000] [--keep 500]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from live_support import READ, WRITE, serve
from measuring import load, spread

PROCESSES = (("plain", "app"), ("traced", "app"), ("traced", "visualizer"))


def one_round(name: str, folder: Path, requests: int, every: int, keep: int) -> list[tuple]:
    """[(served, app MB, visualizer MB)] at each checkpoint of one fresh server."""
    served = serve(name, f"sqlite:///{folder / name}.db", folder / f"{name}-data", keep)
    try:
        readings = []
        for done in range(every, requests + 1, every):
            served.send(READ, every // 2)
            served.send(WRITE, every - every // 2)
            readings.append((done, *served.rss()))
        return readings
    finally:
        served.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=10_000, help="per server and round")
    parser.add_argument("--every", type=int, default=1_000, help="requests between readings")
    parser.add_argument("--keep", type=int, default=500, help="SESSION_VISUALIZER_LIVE_REQUESTS")
    args = parser.parse_args()
    print(f"before: {load()}")
    curves: dict[tuple[str, str], list[list[float]]] = {key: [] for key in PROCESSES}
    checkpoints: list[int] = []
    for round_ in range(args.rounds):
        order = ["plain", "traced"] if round_ % 2 == 0 else ["traced", "plain"]
        for name in order:
            with tempfile.TemporaryDirectory() as folder:
                readings = one_round(name, Path(folder), args.requests, args.every, args.keep)
            checkpoints = [done for done, _, _ in readings]
            curves[name, "app"].append([app for _, app, _ in readings])
            if name == "traced":
                curves[name, "visualizer"].append([page for _, _, page in readings])
        print(f"  round {round_ + 1} of {args.rounds} done; {load()}", flush=True)
    print(f"after:  {load()}")
    print(f"{args.rounds} rounds, alternating; the live page keeps {args.keep} requests")
    print("\nRSS in MB, median over rounds, after this many requests:")
    print("  requests " + " ".join(f"{n:>7}" for n in checkpoints))
    for name, process in PROCESSES:
        runs = curves[name, process]
        medians = [statistics.median(c[i] for c in runs) for i in range(len(checkpoints))]
        print(f"  {name:>6} {process:<10}" + " ".join(f"{m:7.1f}" for m in medians))
    # Growth once the list is full: from the first reading past `keep` requests to the last.
    start = next(i for i, n in enumerate(checkpoints) if n > args.keep)
    print(f"\ngrowth from {checkpoints[start]} to {checkpoints[-1]} requests, MB:")
    for name, process in PROCESSES:
        growth = [c[-1] - c[start] for c in curves[name, process]]
        print(f"  {name:>6} {process:<10} {spread(growth)}")


if __name__ == "__main__":
    main()
