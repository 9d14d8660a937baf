"""The command line: serve the page, list scenarios, run one in the terminal or as JSON."""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

# Only what every command needs is imported here: each command imports its own stack when
# it runs (`list` needs no server, `run` no web page), so that none waits for the others'.
from visualizer.cli import trace as trace_command
from visualizer.cli.terminal import (
    MIN_WIDTH,
    SUMMARY_HEADER,
    WIDTH,
    render_list,
    render_summary_line,
    render_trace,
)

if TYPE_CHECKING:
    from visualizer.execution.client_process import ClientProcess
    from visualizer.execution.scenarios import Registry, Scenario


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="session-visualizer",
        description="Watch a real FastAPI request open, use and close its SQLAlchemy session. "
        "With no command, serve the page and open it in the browser.",
    )
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8000)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="serve from this many processes (default 1); more than one needs "
        "SESSION_VISUALIZER_DATABASE_URL (PostgreSQL) and SESSION_VISUALIZER_REDIS_URL",
    )
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


def _workers(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("between 1 and 64")
    return value


def _terminal_width(asked: int | None) -> int:
    """--width, else COLUMNS or the terminal's own width, else a default for pipes."""
    return asked or max(shutil.get_terminal_size((WIDTH, 24)).columns, MIN_WIDTH)


def run_all(registry: Registry, client: ClientProcess) -> int:
    """Every scenario, one line each, with progress on stderr while they run."""
    from visualizer.execution.runner import run_scenario

    total, failed = len(registry), 0
    print(SUMMARY_HEADER, flush=True)
    for number, scenario in enumerate(registry, start=1):
        print(f"[{number}/{total}] running {scenario.name}...", file=sys.stderr, flush=True)
        try:
            print(render_summary_line(run_scenario(scenario, client=client)), flush=True)
        except Exception as error:  # one broken scenario must not hide the others
            failed += 1
            print(f"{scenario.name:<28} FAILED: {type(error).__name__}: {error}", flush=True)
    print(f"{total - failed} of {total} scenarios ran.", file=sys.stderr)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; `argv` None: this process's own, and the process ends after."""
    try:
        return _main(argv)
    except BrokenPipeError:  # `session-visualizer list | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        if argv is None:
            # The interpreter's exit runs the cyclic collector over every object the imports
            # made, several times (~150 ms, a third of a run): frozen, they are left to the
            # operating system, as they would be at os._exit, while exit handlers and
            # buffered output still run. A caller that passes `argv` keeps its collector.
            gc.freeze()


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command in (None, "trace"):
        return _serve(args)
    if args.command == "list":
        from visualizer.execution.scenarios import Registry

        print(render_list(Registry(), _terminal_width(args.width)))
        return 0
    if args.name is None and not args.all:
        print("session-visualizer: name a scenario, or use --all", file=sys.stderr)
        return 2
    from visualizer.execution.client_process import ClientProcess

    # Started before the rest is imported: its interpreter starts meanwhile, on another core.
    with ClientProcess() as client:
        return _run(args, client)


def _serve(args: argparse.Namespace) -> int:
    """No command: serve the page; `trace`: serve a developer's own app and the live page."""
    from visualizer.web.settings import Settings, SettingsError

    try:
        if args.command == "trace":
            settings = Settings.from_env(
                host=args.page_host or args.host,
                port=args.page_port or args.port or trace_command.DEFAULT_PAGE_PORT,
            )
        else:
            settings = Settings.from_env(host=args.host, port=args.port)
    except SettingsError as error:
        print(f"session-visualizer: {error}", file=sys.stderr)
        return 2
    if args.command == "trace":
        if args.workers > 1:
            print("session-visualizer: trace watches one app from one process", file=sys.stderr)
            return 2
        open_browser = not (args.no_browser or args.trace_no_browser)
        return trace_command.trace(args, settings, open_browser)
    from visualizer.cli.serve import serve, several_workers_refused, unreachable

    if refused := several_workers_refused(settings, args.workers) or unreachable(settings):
        print(f"session-visualizer: {refused}", file=sys.stderr)
        return 2
    return serve(settings, open_browser=not args.no_browser, workers=args.workers)


def _run(args: argparse.Namespace, client: ClientProcess) -> int:
    """`run NAME`, `run PATH.py` and `run --all`, their requests sent by `client`."""
    import json

    from visualizer.cli.serve import quiet_scenario_servers
    from visualizer.execution.runner import ProgramError, run_scenario
    from visualizer.execution.scenarios import Registry, ScenarioError

    quiet_scenario_servers(silent=True)
    if args.all:
        return run_all(Registry(), client)
    try:
        scenario = _chosen(args.name, args.request, args.app)
        trace = run_scenario(scenario, client=client)
    except (ScenarioError, ProgramError) as error:
        print(f"session-visualizer: {error}", file=sys.stderr)
        return 2
    if args.json:
        from visualizer.lesson.document import document_json

        print(json.dumps(document_json(trace)))
    else:
        print(render_trace(trace, _terminal_width(args.width)))
    return 0


def _chosen(name: str, requests: list[str], app: str | None) -> Scenario:
    """A scenario by name, or a program file (a path, or a name ending in .py)."""
    from dataclasses import replace
    from pathlib import Path

    from visualizer.execution.scenarios import parse_request, read_program, scenario_named

    if name.endswith(".py") or Path(name).is_file():
        return read_program(Path(name), requests, app)
    scenario = scenario_named(name)
    if requests or app:
        planned = tuple(parse_request(spec) for spec in requests) or scenario.requests
        scenario = replace(scenario, requests=planned, app=app or scenario.app)
    return scenario


if __name__ == "__main__":
    sys.exit(main())
