"""One client process serves every run, each message naming its server, and outlives a crash."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.helpers import kinds
from visualizer.contract.events import REQUEST_HEADER
from visualizer.execution.client_process import ClientProcess
from visualizer.execution.runner import run_scenario
from visualizer.execution.scenarios import Registry
from visualizer.execution.server import LoopbackServer


def _named(name: str) -> Starlette:
    async def answer(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"{name} {request.headers[REQUEST_HEADER]}")

    return Starlette(routes=[Route("/", answer)])


def _send(client: ClientProcess, server: LoopbackServer, *ids: int) -> list[str]:
    batch = [{"id": n, "method": "GET", "path": "/"} for n in ids]
    results = client.send(server.host, server.port, 10.0, REQUEST_HEADER, batch)
    assert [r["id"] for r in results] == list(ids)
    assert all(r["sent_ns"] <= r["headers_ns"] <= r["body_ns"] for r in results)
    return [r["body"] for r in results]


def _gone(pid: int) -> bool:
    """Ended: no process, or one that only waits to be reaped."""
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


def test_one_client_process_sends_to_each_server_its_message_names() -> None:
    with (
        ClientProcess() as client,
        LoopbackServer(_named("first")) as first,
        LoopbackServer(_named("second")) as second,
    ):
        pid = client.pid
        assert _send(client, first, 1) == ["first 1"]
        assert _send(client, second, 1, 2, 3) == ["second 1", "second 2", "second 3"]
        assert _send(client, first, 2) == ["first 2"]
        assert client.pid == pid
    assert client.pid is None and pid is not None and _gone(pid)


def test_a_client_that_died_is_replaced_before_the_next_batch() -> None:
    with ClientProcess() as client, LoopbackServer(_named("app")) as server:
        pid = client.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while not _gone(pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _send(client, server, 7) == ["app 7"]
        assert client.pid not in (None, pid)


def test_runs_given_one_client_all_use_it_and_leave_it_running(registry: Registry) -> None:
    with ClientProcess() as client:
        pid = client.pid
        traces = [run_scenario(registry.get(name), client=client) for name in ("create_item",) * 2]
        assert client.pid == pid and pid is not None and not _gone(pid)
    for trace in traces:  # each in its own sandbox, each timed by the client
        assert trace.requests[0].body == '{"id":1,"name":"apple"}'
        assert kinds(trace).count("client.headers") == kinds(trace).count("client.body") == 1
