"""Live mode: the sample app (a package of several files, SessionDep style) under `trace`, on
SQLite and on a real PostgreSQL, seen request by request as it serves."""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.helpers import run_async
from tests.live_support import Traced, plain, postgres_database, traced

# What a client of the shop does, in order: (method, path).
VISIT = [
    ("POST", "/products/?name=tea&stock=5"),
    ("GET", "/products/"),
    ("POST", "/orders/?product_id=1&quantity=2"),
    ("POST", "/orders/?product_id=1&quantity=9"),  # 409: not enough stock
    ("GET", "/products/9"),  # 404
    ("GET", "/products/1"),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shop.db'}"
    else:
        with postgres_database() as url:
            yield url


def _visit(base: str) -> list[tuple[int, str]]:
    with httpx.Client(base_url=base, timeout=10) as client:
        return [(r.status_code, r.text) for r in (client.request(m, p) for m, p in VISIT)]


async def _appearing(shop: Traced, requests: list[tuple[str, str]]) -> list[float]:
    """Send each request, and time from its response to its row on the live socket."""
    delays = []
    socket_url = shop.page.replace("http://", "ws://") + "/ws/live"
    async with connect(socket_url) as ws, httpx.AsyncClient(base_url=shop.app) as client:
        await asyncio.wait_for(ws.recv(), 10)  # the list so far
        for method, path in requests:
            await client.request(method, path)
            answered = time.monotonic()
            message: dict[str, Any] = {}
            while not message.get("numbers"):
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            delays.append(time.monotonic() - answered)
            assert path.split("?")[0] in message["content"]
    return delays


def test_each_request_appears_on_the_live_page_as_it_is_served(
    database: str, tmp_path: Path
) -> None:
    with traced(database, tmp_path / "data") as shop:
        delays = run_async(_appearing(shop, VISIT * 2))
        listed = httpx.get(f"{shop.page}/live").text
    print(f"from response to row: {[round(1000 * d) for d in delays]} ms")
    assert statistics.median(delays) < 0.2, delays
    assert max(delays) < 1.0, delays
    assert listed.count("<tr data-request=") == 2 * len(VISIT)


def _summary(page: str, number: int) -> str:
    return page.split(f'<tr data-request="{number}"', 1)[1].split("</tr>", 1)[0]


def test_the_list_says_what_matters_about_each_request(database: str, tmp_path: Path) -> None:
    with traced(database, tmp_path / "data") as shop:
        _visit(shop.app)
        time.sleep(0.3)
        page = httpx.get(f"{shop.page}/live").text
        flagged = httpx.get(f"{shop.page}/live", params={"badge": "query_after_commit"}).text
        orders = httpx.get(f"{shop.page}/live", params={"path": "/orders"}).text
    created = _summary(page, 1)
    assert "POST /products/?name=tea&amp;stock=5" in created and ">201<" in created
    assert 'data-badge="response_before_close"' in created
    assert 'data-badge="query_after_commit"' in created  # refresh() after the commit
    not_found = _summary(page, 5)
    assert ">404<" in not_found and "as the textbook says" in not_found
    # refresh() after the commit, and reading order.id after it (commit expired the object)
    assert re.findall(r'<tr data-request="(\d+)"', flagged) == ["3", "1"]
    assert orders.count("<tr data-request=") == 2


def test_a_request_opens_on_the_stage_and_can_be_kept(database: str, tmp_path: Path) -> None:
    with traced(database, tmp_path / "data") as shop:
        _visit(shop.app)
        time.sleep(0.3)
        opened = httpx.get(f"{shop.page}/live/requests/3", follow_redirects=True)
        trace = httpx.get(f"{shop.page}/api/runs/live-3").json()
        kept = httpx.post(f"{shop.page}/live/requests/3/keep", headers={"origin": shop.page})
        stored = httpx.get(f"{shop.page}{kept.headers['location']}")
        stored_trace = httpx.get(
            f"{shop.page}/api/runs/{kept.headers['location'].rsplit('/', 1)[1]}"
        ).json()
    assert opened.status_code == 200 and "Keep this request" in opened.text
    assert trace["requests"] == [
        {
            "id": 3,
            "method": "POST",
            "path": "/orders/?product_id=1&quantity=2",
            "status": 201,
            "body": "",
        }
    ]
    files = {e["file"] for e in trace["events"] if e["file"]}
    assert files == {"shop/dependencies.py", "shop/routers/orders.py"}
    assert set(trace["sources"]) == files
    assert "def place_order" in trace["sources"]["shop/routers/orders.py"]
    commit = next(e for e in trace["events"] if e["kind"] == "before_commit")
    code = trace["sources"][commit["file"]].splitlines()
    assert code[commit["line"] - 1].strip() == "db.commit()"
    assert trace["events"][0]["t_ms"] == 0.0 and trace["events"][0]["seq"] == 1
    assert kept.status_code == 303 and stored.status_code == 200
    assert stored_trace["events"] == trace["events"]


def test_the_app_answers_exactly_as_it_does_under_plain_uvicorn(tmp_path: Path) -> None:
    with plain(f"sqlite:///{tmp_path / 'plain.db'}") as base:
        expected = _visit(base)
    with traced(f"sqlite:///{tmp_path / 'traced.db'}", tmp_path / "data") as shop:
        observed = _visit(shop.app)
    assert [s for s, _ in expected] == [201, 200, 201, 409, 404, 200]
    assert observed == expected


def test_sql_parameters_are_shown_only_when_asked(tmp_path: Path) -> None:
    seen = {}
    for extra in ((), ("--show-params",)):
        database = f"sqlite:///{tmp_path / f'shop{len(extra)}.db'}"
        with traced(database, tmp_path / "data", *extra) as shop:
            _visit(shop.app)
            time.sleep(0.3)
            trace = httpx.get(f"{shop.page}/api/runs/live-1").json()
        insert = next(e for e in trace["events"] if e["detail"].get("sql", "").startswith("INSERT"))
        seen[bool(extra)] = insert["detail"].get("params")
    assert seen[False] is None
    assert seen[True] is not None and "'tea'" in seen[True] and "5" in seen[True]


def test_an_app_that_cannot_be_imported_stops_trace_with_its_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.live_support import SAMPLE, free_port

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "visualizer",
            "trace",
            "shop.nothing:app",
            "--no-browser",
            "--app-port",
            str(free_port()),
            "--port",
            str(free_port()),
        ],
        cwd=SAMPLE,
        capture_output=True,
        text=True,
        timeout=60,
        env={"SESSION_VISUALIZER_DATA": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert 'Could not import module "shop.nothing"' in result.stderr
    assert "the app stopped" in result.stderr


def test_two_databases_and_a_middleware_session_are_told_apart(tmp_path: Path) -> None:
    """The ledger (an app named `api`): get_db on one database, a middleware writing an audit
    row on another, each session with its own pool and gauge."""
    env = {
        "LEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
        "LEDGER_AUDIT_URL": f"sqlite:///{tmp_path / 'audit.db'}",
    }
    with traced("", tmp_path / "data", app="ledger.main:api", env=env) as ledger:
        with httpx.Client(base_url=ledger.app, timeout=10) as client:
            assert client.post("/accounts/", params={"owner": "ann"}).status_code == 201
            assert client.post("/accounts/1/deposit", params={"amount": 5}).json()["balance"] == 5
        time.sleep(0.3)
        page = httpx.get(f"{ledger.page}/live").text
        trace = httpx.get(f"{ledger.page}/api/runs/live-2").json()
        stage = httpx.get(f"{ledger.page}/runs/live-2/stage", params={"cursor": 20}).text
    deposit = _summary(page, 2)
    assert "<td>2</td>" in deposit  # sessions: get_db's and the middleware's
    # The middleware's session closes last; get_db's still closed after the response.
    assert 'data-badge="response_before_close"' in deposit
    assert "session never closed" not in deposit
    pools = page.split('id="pools"')[1]
    assert "sqlite ledger.db" in pools and "of 4 checked out" in pools
    assert "sqlite audit.db" in pools and "of 2 checked out" in pools
    created = {e["session"]: e["file"] for e in trace["events"] if e["kind"] == "session.create"}
    assert created == {1: "ledger/dependencies.py", 2: "ledger/audit.py"}
    checkouts = [e for e in trace["events"] if e["kind"] == "pool.checkout"]
    assert [(e["session"], e["pool"]["database"], e["pool"]["size"]) for e in checkouts] == [
        (1, "sqlite ledger.db", 4),
        (2, "sqlite audit.db", 2),
    ]
    assert all(e["pool"]["checked_out"] == 1 for e in checkouts)
    assert "ledger/dependencies.py" in stage


def test_reload_restarts_the_app_on_a_change_and_keeps_the_list(tmp_path: Path) -> None:
    import shutil

    from tests.live_support import SAMPLE

    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("__pycache__"))
    database = f"sqlite:///{tmp_path / 'shop.db'}"
    with traced(database, tmp_path / "data", "--reload", cwd=project) as shop:
        with httpx.Client(base_url=shop.app, timeout=10) as client:
            assert client.get("/products/").json() == []
            router = project / "shop" / "routers" / "products.py"
            router.write_text(router.read_text().replace('return [{"id"', 'return [{"ID"'))
            client.post("/products/", params={"name": "tea", "stock": 1})
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # the old app answers until the new one is up
                try:
                    if "ID" in client.get("/products/").json()[0]:
                        break
                except (httpx.TransportError, IndexError):
                    pass
                time.sleep(0.1)
            else:
                raise AssertionError("the change was never served")
        time.sleep(0.3)
        page = httpx.get(f"{shop.page}/live").text
    numbers = [int(n) for n in re.findall(r'<tr data-request="(\d+)"', page)]
    assert numbers == sorted(set(numbers), reverse=True) and numbers[-1] == 1  # none reused
    assert len(numbers) >= 3
    assert "Your app's code changed (shop/routers/products.py): restarting it." in shop.output[0]


def test_the_app_stops_when_the_visualizer_is_killed(tmp_path: Path) -> None:
    import os
    import signal
    import socket

    with traced(f"sqlite:///{tmp_path / 'shop.db'}", tmp_path / "data") as shop:
        port = int(shop.app.rsplit(":", 1)[1])
        os.kill(shop.process.pid, signal.SIGKILL)  # no finally runs: the app must notice
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) != 0:
                    break
            time.sleep(0.05)
        else:
            raise AssertionError("the app still serves after the visualizer was killed")
