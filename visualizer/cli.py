"""The command line: list scenarios, run one in the terminal or as JSON."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from visualizer.runner import run_scenario
from visualizer.scenarios import Registry, ScenarioError
from visualizer.terminal import render_list, render_trace


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="session-visualizer",
        description="Watch a real FastAPI request open, use and close its SQLAlchemy session.",
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("list", help="list the scenarios")
    run = commands.add_parser("run", help="run a scenario and show what really happened")
    run.add_argument("name", help="a scenario name (see `list`)")
    run.add_argument("--json", action="store_true", help="print the trace as one JSON object")
    return parser


def _quiet_server_log() -> None:
    # A scenario's 500 makes uvicorn log the traceback; the trace already tells the story.
    logging.getLogger("uvicorn.error").addHandler(logging.NullHandler())
    logging.getLogger("uvicorn.error").propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    registry = Registry()
    if args.command == "list":
        print(render_list(registry))
        return 0
    if args.command == "run":
        try:
            scenario = registry.get(args.name)
        except ScenarioError as error:
            print(f"session-visualizer: {error}", file=sys.stderr)
            return 2
        _quiet_server_log()
        trace = run_scenario(scenario)
        if args.json:
            print(json.dumps(trace.to_json()))
        else:
            print(render_trace(trace))
        return 0
    _parser().print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
