"""The command line: serve the page, list scenarios, run one in the terminal or as JSON."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import socket
import sys
import threading
import webbrowser
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn

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
from visualizer.execution.server import THREAD_NAME
from visualizer.lesson.document import document_json
from visualizer.web.guard import MAX_FRAME_BYTES
from visualizer.web.settings import Settings, SettingsError

if TYPE_CHECKING:
    from fastapi import FastAPI

SECRET = re.compile(r"((?:token|member)=)[^&\s\"']+")


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


class _NotScenarioServers(logging.Filter):
    """A scenario's 500 makes its server log a traceback; the trace already tells that story."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != THREAD_NAME


class _HideSecrets(logging.Filter):
    """A presenter joins with ?token=..., a student with ?member=...: the server's log, often
    on a projector, shows neither. The arguments keep their shape: uvicorn's access formatter
    reads them one by one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                SECRET.sub(r"\1…", arg) if isinstance(arg, str) else arg for arg in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = SECRET.sub(r"\1…", record.msg)
        return True


def _hide_secrets() -> None:
    for name in ("uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).addFilter(_HideSecrets())


def _quiet_scenario_servers(silent: bool) -> None:
    """Keep the scenario servers' own log lines out; `silent` (the terminal commands, where
    nothing else logs) also drops everything else uvicorn says instead of printing it."""
    for name in ("uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).addFilter(_NotScenarioServers())
    logger = logging.getLogger("uvicorn.error")
    if silent and not logger.handlers:
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


def server_config(app: FastAPI, settings: Settings) -> uvicorn.Config:
    """How the visualizer's own server runs: bounded frames, a heartbeat, no proxy believed
    unless configured (uvicorn believes X-Forwarded-For from 127.0.0.1 by default)."""
    proxies = settings.trusted_proxies.strip()
    return uvicorn.Config(
        app,
        log_level="info",
        ws_per_message_deflate=False,
        ws_max_size=MAX_FRAME_BYTES,
        ws_ping_interval=settings.heartbeat_seconds,
        ws_ping_timeout=settings.heartbeat_seconds,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
    )


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # see execution/server.py
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)  # from here on, a browser's connection waits for the server to start
    except OSError:
        sock.close()
        raise
    return sock


def serve(settings: Settings, open_browser: bool) -> int:
    from visualizer.app import create_app  # the web stack is only needed to serve

    try:
        sock = _listen(settings.host, settings.port)
    except OSError as error:
        print(
            f"session-visualizer: cannot listen on {settings.host}:{settings.port} "
            f"({error.strerror}). Is it already running? Try another port: --port "
            f"{settings.port + 1}",
            file=sys.stderr,
        )
        return 2
    url = f"http://{settings.host}:{sock.getsockname()[1]}/"
    server = uvicorn.Server(server_config(create_app(settings), settings))
    _quiet_scenario_servers(silent=False)
    _hide_secrets()
    print(f"Session lifecycle visualizer: {url}  (Ctrl+C stops it)", flush=True)
    if settings.host in ("0.0.0.0", "::") and not settings.served_hosts:
        print(
            "Students reach it at this machine's network address: name that address in "
            "SESSION_VISUALIZER_ALLOWED_HOSTS (e.g. 192.168.1.20), or it is refused.",
            flush=True,
        )
    if open_browser:
        threading.Timer(0.8, webbrowser.open, (url,)).start()
    server.run(sockets=[sock])
    return 0


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
    registry = Registry()
    if args.command == "list":
        print(render_list(registry, _terminal_width(args.width)))
        return 0
    _quiet_scenario_servers(silent=True)
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
