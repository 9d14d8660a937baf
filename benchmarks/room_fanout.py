"""Classroom fan-out beside a plain FastAPI broadcast: delay, CPU and memory per follower count.

Each run starts a server in a process of its own: either the baseline (fanout_support.py's
plain broadcast: one process, deflate off, the same cursor messages) or the project
(`python -m visualizer` on a temporary data folder, a finished run, a room), then a client
process on uvloop that connects the presenter and the followers (as the room page does: the
room's URL, a name, this server's Origin), sends `goto 1..N` every `--interval` seconds and
notes when each follower shows each step (a newer cursor counts for the ones it replaced).
Rounds alternate the two. Delays are perf_counter differences in the client process; the
server's CPU is its utime+stime over the steps (/proc/PID/stat), its memory the RSS growth
while the followers connected, divided by them.

    .venv/bin/python benchmarks/room_fanout.py [--clients 300,1000,2000] [--rounds 5]
        [--steps 50] [--interval 0.2] [--scenario concurrent_requests]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fanout_support import free_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIGURES = [  # key, label, unit
    ("p50_ms", "p50 delay", "ms"),
    ("p95_ms", "p95 delay", "ms"),
    ("max_ms", "max delay", "ms"),
    ("cpu_ms_per_step", "server CPU per step", "ms"),
    ("kb_per_follower", "memory per follower", "KB"),
    ("client_cpu_ms_per_step", "client CPU per step", "ms"),
    ("connect_s", "all connected in", "s"),
]


def _wait_ready(port: int, process: subprocess.Popen[bytes], path: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"a server exited with {process.returncode}")
        try:
            httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("a server did not start in time")


@contextmanager
def _process(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "ab") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def _plain(folder: Path) -> Iterator[dict[str, Any]]:
    port = free_port()
    argv = [sys.executable, str(HERE / "fanout_support.py"), "plain", str(port)]
    with _process(argv, dict(os.environ), folder / "plain.log") as process:
        _wait_ready(port, process, "/")
        yield {"port": port, "pid": process.pid, "plain": True, "presenter_path": "/ws"}


@contextmanager
def _project(folder: Path, scenario: str, steps: int) -> Iterator[dict[str, Any]]:
    port = free_port()
    data = tempfile.mkdtemp(dir=folder)
    env = {**os.environ, "SESSION_VISUALIZER_DATA": data}
    argv = [sys.executable, "-m", "visualizer", "--no-browser", "--port", str(port)]
    with _process(argv, env, folder / "project.log") as process:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(port, process, "/api/scenarios")
        run = httpx.post(f"{base}/api/runs", json={"scenario": scenario}).json()["id"]
        while (body := httpx.get(f"{base}/api/runs/{run}").json())["status"] == "running":
            time.sleep(0.1)
        if body["status"] != "done":
            raise SystemExit(f"the run of {scenario} did not finish: {body.get('error')}")
        if len(body["events"]) < steps:  # both sides must step as often
            raise SystemExit(f"--steps: {scenario} has {len(body['events'])} events to step to")
        room = httpx.post(f"{base}/api/rooms", json={"run": run}).json()
        code, token = room["code"], room["presenter_token"]
        yield {
            "port": port,
            "pid": process.pid,
            "plain": False,
            "presenter_path": f"/ws/rooms/{code}?token={token}",
            "follower_path": f"/ws/rooms/{code}?name=student%20{{n}}",
        }


def _measure(server: dict[str, Any], args: argparse.Namespace, followers: int) -> dict[str, Any]:
    settings = {
        "follower_path": "/ws",
        **server,
        "followers": followers,
        "steps": args.steps,
        "interval": args.interval,
    }
    clients = subprocess.run(
        [sys.executable, str(HERE / "fanout_support.py"), "clients", json.dumps(settings)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if clients.returncode != 0:
        raise SystemExit(f"the clients failed:\n{clients.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(clients.stdout.strip().splitlines()[-1])
    return result


def _figure(values: list[float], unit: str) -> str:
    if not values:
        return "n/a"
    return f"{statistics.median(values):8.1f} {unit:2} ({min(values):.1f}-{max(values):.1f})"


def _table(results: dict[tuple[int, str], list[dict[str, Any]]]) -> None:
    """Project beside plain, per follower count: medians, spread, and their ratio."""
    print("\n| followers | figure | project | plain | project / plain |")
    print("|---|---|---|---|---|")
    for followers in sorted({n for n, _ in results}):
        project, plain = results.get((followers, "project")), results.get((followers, "plain"))
        if not project or not plain:
            continue
        for key, label, unit in FIGURES[1:5]:
            ours = [r[key] for r in project]
            theirs = [r[key] for r in plain]
            ratio = statistics.median(ours) / statistics.median(theirs)
            print(
                f"| {followers:,} | {label} | {_figure(ours, unit).strip()} "
                f"| {_figure(theirs, unit).strip()} | {ratio:.2f}x |"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--clients", default="300,1000,2000", help="follower counts (300,1000,2000)"
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each, alternating (5)")
    parser.add_argument("--steps", type=int, default=50, help="steps per round (50)")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between steps (0.2)")
    parser.add_argument("--scenario", default="concurrent_requests", help="the run stepped through")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the children inherit it

    load_before = os.getloadavg()
    results: dict[tuple[int, str], list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        servers = {
            "plain": lambda: _plain(Path(folder)),
            "project": lambda: _project(Path(folder), args.scenario, args.steps),
        }
        for followers in (int(n) for n in args.clients.split(",")):
            for number in range(args.rounds):
                order = ["project", "plain"] if number % 2 == 0 else ["plain", "project"]
                for name in order:
                    with servers[name]() as server:
                        result = _measure(server, args, followers)
                    result["load"] = os.getloadavg()[0]
                    results.setdefault((followers, name), []).append(result)
                    print(
                        f"{followers} {name} round {number + 1}: {json.dumps(result)}",
                        file=sys.stderr,
                        flush=True,
                    )
    load_after = os.getloadavg()

    print(
        f"{args.steps} steps {args.interval * 1000:.0f} ms apart, {args.rounds} rounds each, "
        "alternating; median (min-max) across rounds"
    )
    for (followers, name), rounds in results.items():
        print(f"\n{followers} followers, {name}:")
        for key, label, unit in FIGURES:
            print(f"  {label:22} {_figure([r[key] for r in rounds], unit)}")
        complete = sum(r["complete"] for r in rounds)
        skipped = sum(r["skipped"] for r in rounds)
        closed = sum(r["closed"] for r in rounds)
        print(
            f"  followers with the last step: {complete} of {followers * len(rounds)}; "
            f"cursors skipped (a newer one won): {skipped}; closed by the server: {closed}"
        )
    _table(results)
    loads = [r["load"] for rounds in results.values() for r in rounds]
    print(f"load average (1 min) after each run: {min(loads):.2f}-{max(loads):.2f}")
    print(
        f"load average (1 min, 5 min) before {load_before[0]:.2f} {load_before[1]:.2f}, "
        f"after {load_after[0]:.2f} {load_after[1]:.2f}, on {os.cpu_count()} cores"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
