"""Live mode's tests: the sample app under `trace` or plain uvicorn, and a real PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest

SAMPLE = Path(__file__).parent / "sample_app"
POSTGRES = "host=127.0.0.1 port=5432 user=postgres"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(port: int, process: subprocess.Popen[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process.poll() is not None:
            _, err = process.communicate()
            raise AssertionError(f"exited with {process.returncode}: {err[-3000:]}")
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


@dataclass(frozen=True)
class Traced:
    app: str  # the app's base URL
    page: str  # the visualizer's base URL
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)  # what it printed, once stopped


@contextmanager
def served(
    command: list[str], env: dict[str, str], ports: list[int], cwd: Path = SAMPLE
) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a group of its own, as a terminal's foreground job
    )
    try:
        for port in ports:
            wait_for(port, process)
        yield process
    finally:
        process.output = stop(process)  # type: ignore[attr-defined]


def stop(process: subprocess.Popen[str], timeout: float = 15) -> str:
    """Ctrl+C, as a terminal sends it to the whole job; a job that outlives it fails the test.
    What it printed, both streams."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    try:
        out, err = process.communicate(timeout=timeout)
        return out + err
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise AssertionError(f"still running {timeout} s after Ctrl+C") from None


@contextmanager
def traced(
    database: str,
    data: Path,
    *extra: str,
    app: str = "shop.main:app",
    cwd: Path = SAMPLE,
    env: dict[str, str] | None = None,
) -> Iterator[Traced]:
    """`session-visualizer trace` on an app, its database given by SHOP_DATABASE_URL (and
    whatever else `env` sets)."""
    app_port, page_port = free_port(), free_port()
    command = [
        sys.executable,
        "-m",
        "visualizer",
        "trace",
        app,
        "--app-port",
        str(app_port),
        "--port",
        str(page_port),
        "--no-browser",
        *extra,
    ]
    env = {"SHOP_DATABASE_URL": database, "SESSION_VISUALIZER_DATA": str(data), **(env or {})}
    shop: Traced | None = None
    try:
        with served(command, env, [page_port, app_port], cwd) as process:
            shop = Traced(f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{page_port}", process)
            yield shop
    finally:
        if shop is not None:
            shop.output.append(getattr(shop.process, "output", ""))


@contextmanager
def plain(database: str, app: str = "shop.main:app") -> Iterator[str]:
    """The same app under plain uvicorn, as its developer runs it."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--port", str(port)]
    with served(command, {"SHOP_DATABASE_URL": database}, [port]):
        yield f"http://127.0.0.1:{port}"


def missing_server(message: str) -> NoReturn:
    """A server the test needs is not running: skip, saying how to start it; in CI, fail."""
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A database of its own on the machine's PostgreSQL, dropped afterwards."""
    import psycopg

    name = f"visualizer_test_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(f"{POSTGRES} dbname=postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        missing_server(
            f"PostgreSQL is not reachable at 127.0.0.1:5432 ({error}). Start it, e.g. "
            "pg_ctlcluster --skip-systemctl-redirect 15 main start"
        )
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


REDIS_URL = "redis://127.0.0.1:6379/0"


@contextmanager
def redis_prefix() -> Iterator[str]:
    """A key prefix of its own on the machine's Redis, its keys deleted afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.ConnectionError as error:
        missing_server(
            f"Redis is not reachable at 127.0.0.1:6379 ({error}). Start it, e.g. "
            "redis-server --daemonize yes"
        )
    prefix = f"test-{secrets.token_hex(4)}"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()
