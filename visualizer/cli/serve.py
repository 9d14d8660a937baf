"""Serving the visualizer: its listening socket, its uvicorn settings, its log."""

from __future__ import annotations

import logging
import os
import re
import socket
import sys
import threading
import webbrowser
from typing import TYPE_CHECKING

import uvicorn

from visualizer.execution.server import THREAD_NAME
from visualizer.web.guard import MAX_FRAME_BYTES
from visualizer.web.settings import Settings, needs_extra

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


def server_config(app: FastAPI | str, settings: Settings, workers: int = 1) -> uvicorn.Config:
    """How the visualizer's own server runs: bounded frames, a heartbeat, no proxy believed
    unless configured (uvicorn believes X-Forwarded-For from 127.0.0.1 by default).

    uvloop and httptools where installed (`uvicorn[standard]` brings them): "auto" picks each
    when it imports, else asyncio's loop and h11. A room's step is written to thousands of
    sockets, where uvloop's transports cost much less than asyncio's.
    """
    proxies = settings.trusted_proxies.strip()
    return uvicorn.Config(
        app,
        factory=isinstance(app, str),
        workers=workers,
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


WORKER_APP = f"{__name__}:worker_app"


def worker_app() -> FastAPI:
    """One of several workers' app: its settings come from the environment the first process
    wrote, its log hides secrets as the first process's does."""
    from visualizer.app import create_app

    quiet_scenario_servers(silent=False)
    _hide_secrets()
    return create_app(Settings.from_env())


def several_workers_refused(settings: Settings, workers: int) -> str | None:
    """Why these settings cannot serve `workers` processes, or None when they can."""
    if workers <= 1:
        return None
    missing = [
        env
        for env, given in (
            ("SESSION_VISUALIZER_DATABASE_URL", settings.database_url.startswith("postgresql")),
            ("SESSION_VISUALIZER_REDIS_URL", bool(settings.redis_url)),
        )
        if not given
    ]
    if not missing:
        return None
    return (
        f"--workers {workers} needs {' and '.join(missing)}: every worker must reach the same "
        "rooms and runs, so they are stored in PostgreSQL "
        "(SESSION_VISUALIZER_DATABASE_URL=postgresql://user@host/name) and shared through "
        "Redis (SESSION_VISUALIZER_REDIS_URL=redis://host:6379/0); one process needs neither"
    )


def unreachable(settings: Settings) -> str | None:
    """Why the configured database or Redis cannot be used now, said before serving."""
    if settings.redis_url:
        try:
            import redis
        except ImportError:
            return needs_extra("SESSION_VISUALIZER_REDIS_URL", "the Redis client")
        client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3)
        try:
            client.ping()
        except redis.RedisError as error:
            return f"cannot reach the Redis of SESSION_VISUALIZER_REDIS_URL ({error})"
        finally:
            client.close()
    if settings.database_url:
        from sqlalchemy import create_engine
        from sqlalchemy.exc import SQLAlchemyError

        try:
            engine = create_engine(settings.store_url)
        except ImportError as error:
            return needs_extra("SESSION_VISUALIZER_DATABASE_URL", f"its driver ({error.name})")
        try:
            with engine.connect():
                pass
        except SQLAlchemyError as error:
            shown = engine.url.render_as_string(hide_password=True)
            reason = getattr(error, "orig", None) or error  # the driver's own words
            return f"cannot reach SESSION_VISUALIZER_DATABASE_URL={shown} ({reason})"
        finally:
            engine.dispose()
    return None


def _for_workers(settings: Settings) -> None:
    """The workers are new processes that read their settings from the environment."""
    for name, env in Settings.env_names().items():
        os.environ[env] = str(getattr(settings, name))


def serve(
    settings: Settings,
    open_browser: bool,
    app: FastAPI | None = None,
    page: str = "/",
    until: threading.Event | None = None,
    workers: int = 1,
) -> int:
    """Serve the visualizer (`app`, or the usual one) and open `page`; `until` stops it;
    `workers` > 1 serves it from that many processes sharing the listening socket."""
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
    if workers > 1:
        _for_workers(settings)
        config = server_config(WORKER_APP, settings, workers)
        print(f"Session lifecycle visualizer: {url}  ({workers} workers; Ctrl+C stops them)")
        if open_browser:
            threading.Timer(0.8, webbrowser.open, (url,)).start()
        uvicorn.supervisors.Multiprocess(config, sockets=[sock]).run()
        return 0
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
