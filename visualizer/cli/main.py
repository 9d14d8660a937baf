"""The command line: serve the page, list scenarios, run one in the terminal or as JSON."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from visualizer.cli import trace as trace_command
from visualizer.cli.serve import quiet_scenario_servers, serve
from visualizer.cli.terminal import (
    MIN_WIDTH,
    SUMMARY_HEADER,
    WIDTH,
    render_list,
    render_summary_line,
    render_trace,
)
from visualizer.execution.runner import ProgramError, run_scenario
from visualizer.execution.scenarios import (
    Registry,
    Scenario,
    ScenarioError,
    parse_request,
    read_program,
)
from visualizer.lesson.document import document_json
from visualizer.web.settings import Settings, SettingsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="session-visualizer",
        description="Watch a real FastAPI request open, use and close its SQLAlchemy session. "
        "With no command, serve the page and open it in the browser.",
    )
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8000)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    commands = parser.add_subparsers(dest="command")
    listing = commands.add_parser("list", help="list the scenarios")
    trace_command.add_parser(commands)
    run = commands.add_parser(
        "run", help="run a scenario, or any program file, and show what really happened"
    )
    run.add_argument(
        "name", nargs="?", help="a scenario name (see `list`), or a program file: PATH.py"
    )
    run.add_argument("--json", action="store_true", help="print the trace as one JSON object")
    run.add_argument("--all", action="store_true", help="run every scenario, one line each")
    run.add_argument(
        "--request",
        action="append",
        default=[],
        metavar='"METHOD /path"',
        help='a request to send, e.g. "POST /items/?name=apple" (repeat it for more); '
        "replaces the program's own SCENARIO requests",
    )
    run.add_argument("--app", help="the program's app, by name, if it defines several")
    for command in (listing, run):
        command.add_argument(
            "--width",
            type=_width,
            help=f"characters per line (default: the terminal's width, COLUMNS, or {WIDTH})",
        )
    return parser


def _width(text: str) -> int:
    value = int(text)
    if value < MIN_WIDTH:
        raise argparse.ArgumentTypeError(f"at least {MIN_WIDTH} characters")
    return value


def _terminal_width(asked: int | None) -> int:
    """--width, else COLUMNS or the terminal's own width, else a default for pipes."""
    return asked or max(shutil.get_terminal_size((WIDTH, 24)).columns, MIN_WIDTH)


def run_all(registry: Registry) -> int:
    """Every scenario, one line each, with progress on stderr while they run."""
    total, failed = len(registry), 0
    print(SUMMARY_HEADER, flush=True)
    for number, scenario in enumerate(registry, start=1):
        print(f"[{number}/{total}] running {scenario.name}...", file=sys.stderr, flush=True)
        try:
            print(render_summary_line(run_scenario(scenario)), flush=True)
        except Exception as error:  # one broken scenario must not hide the others
            failed += 1
            print(f"{scenario.name:<28} FAILED: {type(error).__name__}: {error}", flush=True)
    print(f"{total - failed} of {total} scenarios ran.", file=sys.stderr)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # `session-visualizer list | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        try:
            settings = Settings.from_env(host=args.host, port=args.port)
        except SettingsError as error:
            print(f"session-visualizer: {error}", file=sys.stderr)
            return 2
        return serve(settings, open_browser=not args.no_browser)
    if args.command == "trace":
        try:
            settings = Settings.from_env(
                host=args.page_host or args.host,
                port=args.page_port or args.port or trace_command.DEFAULT_PAGE_PORT,
            )
        except SettingsError as error:
            print(f"session-visualizer: {error}", file=sys.stderr)
            return 2
        open_browser = not (args.no_browser or args.trace_no_browser)
        return trace_command.trace(args, settings, open_browser)
    registry = Registry()
    if args.command == "list":
        print(render_list(registry, _terminal_width(args.width)))
        return 0
    quiet_scenario_servers(silent=True)
    if args.all:
        return run_all(registry)
    if args.name is None:
        print("session-visualizer: name a scenario, or use --all", file=sys.stderr)
        return 2
    try:
        scenario = _chosen(registry, args.name, args.request, args.app)
        trace = run_scenario(scenario)
    except (ScenarioError, ProgramError) as error:
        print(f"session-visualizer: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(document_json(trace)))
    else:
        print(render_trace(trace, _terminal_width(args.width)))
    return 0


def _chosen(registry: Registry, name: str, requests: list[str], app: str | None) -> Scenario:
    """A scenario by name, or a program file (a path, or a name ending in .py)."""
    if name.endswith(".py") or Path(name).is_file():
        return read_program(Path(name), requests, app)
    scenario = registry.get(name)
    if requests or app:
        planned = tuple(parse_request(spec) for spec in requests) or scenario.requests
        scenario = replace(scenario, requests=planned, app=app or scenario.app)
    return scenario


if __name__ == "__main__":
    sys.exit(main())
