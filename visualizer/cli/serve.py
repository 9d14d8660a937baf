"""Serving the visualizer: its listening socket, its uvicorn settings, its log."""

from __future__ import annotations

import logging
import re
import socket
import sys
import threading
import webbrowser
from typing import TYPE_CHECKING

import uvicorn

from visualizer.execution.server import THREAD_NAME
from visualizer.web.guard import MAX_FRAME_BYTES
from visualizer.web.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

SECRET = re.compile(r"((?:token|member)=)[^&\s\"']+")


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


def quiet_scenario_servers(silent: bool) -> None:
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
    unless configured (uvicorn believes X-Forwarded-For from 127.0.0.1 by default).

    uvloop and httptools where installed (`uvicorn[standard]` brings them): "auto" picks each
    when it imports, else asyncio's loop and h11. A room's step is written to thousands of
    sockets, where uvloop's transports cost much less than asyncio's.
    """
    proxies = settings.trusted_proxies.strip()
    return uvicorn.Config(
        app,
        loop="auto",
        http="auto",
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


def serve(
    settings: Settings,
    open_browser: bool,
    app: FastAPI | None = None,
    page: str = "/",
    until: threading.Event | None = None,
) -> int:
    """Serve the visualizer (`app`, or the usual one) and open `page`; `until` stops it."""
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
    url = f"http://{settings.host}:{sock.getsockname()[1]}{page}"
    server = uvicorn.Server(server_config(app or create_app(settings), settings))
    if until is not None:

        def stop_when_done() -> None:
            until.wait()
            server.should_exit = True

        threading.Thread(target=stop_when_done, daemon=True).start()
    quiet_scenario_servers(silent=False)
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
