"""Shared fixtures: the scenario registry, and each scenario run once per test session."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page

from tests.browser_support import CHROMIUM_ARGS, require_chromium
from visualizer.app import create_app
from visualizer.contract.trace import Trace
from visualizer.execution.runner import run_scenario
from visualizer.execution.scenarios import Registry
from visualizer.execution.server import LoopbackServer
from visualizer.web.settings import Settings


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry()


@pytest.fixture(scope="session")
def traced(registry: Registry) -> Callable[[str], Trace]:
    """`traced(name)`: the trace of one real run of that scenario, run at most once."""
    cache: dict[str, Trace] = {}

    def get(name: str) -> Trace:
        if name not in cache:
            cache[name] = run_scenario(registry.get(name))
        return cache[name]

    return get


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The visualizer itself, served by real uvicorn on a free loopback port."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    with LoopbackServer(create_app(settings)) as server:
        yield server.url


def finished_run(site: str, scenario: str, timeout: float = 30.0) -> dict[str, Any]:
    """Start a run through the API and wait for its trace."""
    created = httpx.post(f"{site}/api/runs", json={"scenario": scenario})
    assert created.status_code == 201, created.text
    run_id = created.json()["id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = httpx.get(f"{site}/api/runs/{run_id}").json()
        if body["status"] != "running":
            return body
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} of {scenario} did not finish")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch arguments, pointed at Debian's Chromium (never downloaded)."""
    return {
        **browser_type_launch_args,
        "executable_path": require_chromium(),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def base_url(site: str) -> str:
    """pytest-playwright's base URL: our own server (theirs trips a pytest deprecation)."""
    return site


@pytest.fixture
def errors(page: Page) -> Iterator[list[str]]:
    """Console errors and uncaught exceptions of the page; a test ends by asserting none."""
    found: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            found.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: found.append(str(error)))
    page.set_viewport_size({"width": 1280, "height": 720})
    yield found


# -- classroom tests ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def room_lesson(site: str) -> dict[str, Any]:
    """A real create_item trace with two predict questions added."""
    from tests.room_support import QUESTIONS  # it imports this module: import it late

    return {**finished_run(site, "create_item"), "questions": QUESTIONS}


@pytest.fixture(scope="module")
def room_run(site: str, room_lesson: dict[str, Any]) -> str:
    """That trace, imported: a finished run a room can be opened on."""
    from tests.room_support import import_run

    return import_run(site, room_lesson)
