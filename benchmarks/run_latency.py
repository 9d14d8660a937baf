"""How long a run takes as a user runs it: `run create_item --json` and `run --all`, wall time.

Each figure is a fresh process, `python -m visualizer ...` from this checkout, as a user types
it: interpreter start, imports, the run and its output. Beside it, in the same sitting and
alternating with it round by round, its baselines:

- the floor: `python -c "import fastapi, sqlalchemy, uvicorn"`, what any run pays before
  it does anything;
- with `--baseline DIR`, the previous implementation: the same commands run from another
  checkout, made read-only beside this one, e.g. `git worktree add --detach /tmp/baseline
  HEAD` (and `git worktree remove /tmp/baseline` after). Both use this interpreter and its
  packages; each checkout's own `visualizer` is imported, from the folder the command runs in.

Each round runs every command once, in an order that alternates, and samples the machine's
load; each command's output is checked, so that a broken run is never timed as a fast one.

    python benchmarks/run_latency.py [--rounds 5] [--baseline /tmp/baseline]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from measuring import load, load_now, spread

CHECKOUT = Path(__file__).resolve().parent.parent
MIN_ROUNDS = 5
FLOOR = ("-c", "import fastapi, sqlalchemy, uvicorn")


def _one_trace(out: str) -> bool:
    return bool(json.loads(out).get("scenario") == "create_item")


def _every_scenario(out: str) -> bool:
    return out.startswith("scenario") and "FAILED" not in out


def _silent(out: str) -> bool:
    return out == ""


@dataclass(frozen=True)
class Command:
    """One command line, run from one folder, and how to tell that it worked."""

    label: str
    arguments: tuple[str, ...]
    folder: Path
    worked: Callable[[str], bool]

    def time(self) -> float:
        """Wall seconds, from starting the process to its end."""
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, *self.arguments],
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=120,
        )
        spent = time.perf_counter() - started
        if done.returncode != 0 or not self.worked(done.stdout):
            raise SystemExit(f"{self.label} failed ({done.returncode}):\n{done.stderr[-2000:]}")
        return spent


def commands(baseline: Path | None) -> dict[str, list[Command]]:
    """Each figure's commands: this checkout's first, then its baselines."""
    figures = {
        "run create_item --json": (("run", "create_item", "--json"), _one_trace),
        "run --all": (("run", "--all"), _every_scenario),
    }
    out: dict[str, list[Command]] = {}
    for figure, (arguments, worked) in figures.items():
        command = ("-m", "visualizer", *arguments)
        out[figure] = [Command("this checkout", command, CHECKOUT, worked)]
        if baseline is not None:
            out[figure].append(Command("baseline", command, baseline, worked))
    out["the floor"] = [Command("import fastapi, sqlalchemy, uvicorn", FLOOR, CHECKOUT, _silent)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=MIN_ROUNDS, help=f"at least {MIN_ROUNDS}")
    parser.add_argument(
        "--baseline", type=Path, help="a checkout of the previous implementation to compare"
    )
    args = parser.parse_args()
    if args.rounds < MIN_ROUNDS:
        parser.error(f"--rounds: at least {MIN_ROUNDS}")
    if args.baseline is not None and not (args.baseline / "visualizer" / "cli").is_dir():
        parser.error(f"--baseline: {args.baseline} is no checkout of the visualizer")
    figures = commands(args.baseline)
    every = [command for group in figures.values() for command in group]
    for command in every:  # warm up: .pyc files, the page cache
        command.time()
    print(f"before: {load()}")
    times: dict[Command, list[float]] = {command: [] for command in every}
    loads: list[float] = []
    for round_ in range(args.rounds):
        loads.append(load_now())
        for command in every if round_ % 2 == 0 else every[::-1]:
            times[command].append(command.time())
    print(f"after:  {load()}")
    print(f"one-minute load while it ran: {min(loads):.2f}-{max(loads):.2f}")
    print(f"{args.rounds} rounds, every command once a round, the order alternating")
    for figure, group in figures.items():
        print(f"\n{figure} (wall seconds)")
        for command in group:
            print(f"  {command.label:<36} {spread(times[command])}")
        if len(group) == 2:
            ratios = [a / b for a, b in zip(times[group[0]], times[group[1]], strict=True)]
            print(f"  {'this / baseline, per round':<36} {spread(ratios)}")


if __name__ == "__main__":
    main()
