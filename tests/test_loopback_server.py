"""The loopback server stops when asked, yet after the app's teardown and lifespan shutdown."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import httpx
import pytest
from fastapi import Depends, FastAPI
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from visualizer.execution.server import LoopbackServer


def _app(log: list[str], teardown_started: threading.Event) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.append("lifespan startup")
        yield
        log.append("lifespan shutdown")

    app = FastAPI(lifespan=lifespan)

    async def slow_teardown() -> AsyncIterator[str]:
        yield "db"
        teardown_started.set()
        await asyncio.sleep(0.3)  # FastAPI runs this after the response has been sent
        log.append("teardown done")

    @app.get("/")
    async def endpoint(db: str = Depends(slow_teardown)) -> str:
        return db

    return app


def test_stopping_waits_for_the_teardown_after_the_response_then_the_lifespan() -> None:
    log: list[str] = []
    teardown_started = threading.Event()
    server = LoopbackServer(_app(log, teardown_started))
    with server:
        assert httpx.get(f"{server.url}/", timeout=10).json() == "db"
        # The client has its response; the teardown is still asleep when the block ends.
        assert teardown_started.wait(10)
        assert "teardown done" not in log
    assert log == ["lifespan startup", "teardown done", "lifespan shutdown"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/", timeout=2)


def test_a_startup_that_fails_is_reported_by_start() -> None:
    @asynccontextmanager
    async def broken(app: FastAPI) -> AsyncIterator[None]:
        raise RuntimeError("no database")
        yield

    server = LoopbackServer(FastAPI(lifespan=broken), lifespan="on")
    with pytest.raises(RuntimeError, match="uvicorn did not start"):
        server.start()
    server.stop()


def test_a_stop_while_a_websocket_is_open_closes_it_as_uvicorn_does() -> None:
    app = FastAPI()
    opened = threading.Event()

    @app.websocket("/ws")
    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        opened.set()
        with suppress(WebSocketDisconnect):
            while True:
                await websocket.receive_text()

    server = LoopbackServer(app)
    server.start()
    with connect(f"ws://{server.host}:{server.port}/ws") as client:
        assert opened.wait(10)
        stopper = threading.Thread(target=server.stop)
        stopper.start()
        with pytest.raises(ConnectionClosed) as closed:
            client.recv(timeout=10)
        stopper.join(10)
    assert not stopper.is_alive()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012  # "restarting"
