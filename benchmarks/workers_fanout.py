"""A classroom on two workers sharing Redis beside one worker alone: delay and CPU per step.

"one": `python -m visualizer` as it ships (SQLite, no Redis), every follower on it. "two": two
`python -m visualizer` processes on two ports (as on two machines), sharing the machine's
PostgreSQL (a database made for the run) and Redis (a key prefix of its own); the presenter
sits on the first, the followers are dealt between them. The same client process as
room_fanout.py steps `goto 1..N` and notes when each follower shows each step. Rounds
alternate the two. Server CPU is the workers' utime+stime summed; Redis's own CPU is shown
beside it (its process is read when this runs as a user who may).

    .venv/bin/python benchmarks/workers_fanout.py [--clients 2000] [--rounds 5]
        [--steps 50] [--interval 0.2] [--scenario concurrent_requests]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
from fanout_support import free_port
from room_fanout import _figure, _measure, _process, _wait_ready

POSTGRES = "host=127.0.0.1 port=5432 user=postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"
FIGURES = [  # key, label, unit
    ("p50_ms", "p50 delay", "ms"),
    ("p95_ms", "p95 delay", "ms"),
    ("max_ms", "max delay", "ms"),
    ("cpu_ms_per_step", "workers' CPU per step", "ms"),
    ("bus_cpu_ms_per_step", "Redis CPU per step", "ms"),
    ("kb_per_follower", "memory per follower", "KB"),
    ("connect_s", "all connected in", "s"),
]


@contextmanager
def _shared_servers() -> Iterator[dict[str, str]]:
    """A database and a key prefix of this benchmark's own, dropped after."""
    import psycopg
    import redis

    name, prefix = f"visualizer_bench_{secrets.token_hex(4)}", f"bench-{secrets.token_hex(4)}"
    with psycopg.connect(f"{POSTGRES} dbname=postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        client = redis.Redis.from_url(REDIS_URL)
        try:
            yield {
                "SESSION_VISUALIZER_DATABASE_URL": f"postgresql://postgres@127.0.0.1/{name}",
                "SESSION_VISUALIZER_REDIS_URL": REDIS_URL,
                "SESSION_VISUALIZER_REDIS_PREFIX": prefix,
            }
        finally:
            keys = list(client.scan_iter(f"{prefix}:*"))
            if keys:
                client.delete(*keys)
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _redis_pid() -> int | None:
    found = subprocess.run(["pgrep", "-x", "redis-server"], capture_output=True, text=True)
    pids = found.stdout.split()
    if not pids or not os.access(f"/proc/{pids[0]}/stat", os.R_OK):
        return None
    return int(pids[0])


@contextmanager
def _room(
    folder: Path, env: dict[str, str], workers: int, args: argparse.Namespace
) -> Iterator[dict[str, Any]]:
    """`workers` visualizer processes with these settings, a finished run and a room on it."""
    with ExitStack() as stack:
        ports, pids = [], []
        for number in range(workers):
            port = free_port()
            data = tempfile.mkdtemp(dir=folder)
            argv = [sys.executable, "-m", "visualizer", "--no-browser", "--port", str(port)]
            log = folder / f"worker{number}.log"
            process = stack.enter_context(
                _process(argv, {**os.environ, **env, "SESSION_VISUALIZER_DATA": data}, log)
            )
            _wait_ready(port, process, "/api/scenarios")
            ports.append(port)
            pids.append(process.pid)
        base = f"http://127.0.0.1:{ports[0]}"
        run = httpx.post(f"{base}/api/runs", json={"scenario": args.scenario}).json()["id"]
        while (body := httpx.get(f"{base}/api/runs/{run}").json())["status"] == "running":
            time.sleep(0.1)
        if len(body.get("events", ())) < args.steps:
            raise SystemExit(f"--steps: the run of {args.scenario} has too few events")
        room = httpx.post(f"{base}/api/rooms", json={"run": run}).json()
        yield {
            "port": ports[0],
            "pid": pids[0],
            "ports": ports,
            "pids": pids,
            "bus_pid": _redis_pid() if workers > 1 else None,
            "plain": False,
            "presenter_path": f"/ws/rooms/{room['code']}?token={room['presenter_token']}",
            "follower_path": f"/ws/rooms/{room['code']}?name=student%20{{n}}",
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="2000", help="follower counts (2000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each, alternating (5)")
    parser.add_argument("--steps", type=int, default=50, help="steps per round (50)")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between steps (0.2)")
    parser.add_argument("--scenario", default="concurrent_requests", help="the run stepped through")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the children inherit it

    load_before = os.getloadavg()
    results: dict[tuple[int, str], list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as folder, _shared_servers() as shared:
        setups = {"one": ({}, 1), "two": (shared, 2)}
        for followers in (int(n) for n in args.clients.split(",")):
            for number in range(args.rounds):
                for name in ["two", "one"] if number % 2 == 0 else ["one", "two"]:
                    env, workers = setups[name]
                    with _room(Path(folder), env, workers, args) as server:
                        result = _measure(server, args, followers)
                    result["load"] = os.getloadavg()[0]
                    results.setdefault((followers, name), []).append(result)
                    print(f"{followers} {name} round {number + 1}: {json.dumps(result)}",
                          file=sys.stderr, flush=True)  # fmt: skip
    load_after = os.getloadavg()

    print(
        f"{args.steps} steps {args.interval * 1000:.0f} ms apart, {args.rounds} rounds each, "
        "alternating; median (min-max) across rounds"
    )
    print("\n| followers | figure | 2 workers + Redis | 1 worker | 2 / 1 |")
    print("|---|---|---|---|---|")
    for followers in sorted({n for n, _ in results}):
        two, one = results[(followers, "two")], results[(followers, "one")]
        for key, label, unit in FIGURES:
            ours, theirs = [r[key] for r in two], [r[key] for r in one]
            base = statistics.median(theirs)
            ratio = f"{statistics.median(ours) / base:.2f}x" if base else "-"
            print(
                f"| {followers:,} | {label} | {_figure(ours, unit).strip()} "
                f"| {_figure(theirs, unit).strip()} | {ratio} |"
            )
        for name, rounds in (("2 workers", two), ("1 worker", one)):
            complete = sum(r["complete"] for r in rounds)
            print(f"{name}: followers with the last step {complete} of {followers * len(rounds)}")
    loads = [r["load"] for rounds in results.values() for r in rounds]
    print(f"load average (1 min) after each run: {min(loads):.2f}-{max(loads):.2f}")
    print(
        f"load average (1 min, 5 min) before {load_before[0]:.2f} {load_before[1]:.2f}, "
        f"after {load_after[0]:.2f} {load_after[1]:.2f}, on {os.cpu_count()} cores"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
