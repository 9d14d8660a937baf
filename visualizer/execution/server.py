"""A real uvicorn server on a free loopback port, in its own thread, for as long as a block runs."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from types import TracebackType
from typing import Literal

import uvicorn
from starlette.types import ASGIApp

THREAD_NAME = "loopback-server"  # the CLI keeps this thread's error log out of the terminal
_DRAIN_POLL = 0.001  # seconds between looks at the connections and tasks still open


class _PromptServer(uvicorn.Server):
    """uvicorn's server, stopped as soon as asked instead of at its next 0.1 s tick, and shut
    down without its fixed 0.1 s pause: every step of uvicorn's own shutdown still runs, in
    its order, the app's lifespan shutdown included."""

    def __init__(self, config: uvicorn.Config, settled: threading.Event) -> None:
        super().__init__(config)
        self._settled = settled  # set once the socket accepts requests (or serving failed)
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._settled.set()
        counter = 0
        while not await self.on_tick(counter):  # the Date header, once a second, as uvicorn
            counter = (counter + 1) % 864_000
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.1):
                    await self._wake.wait()

    def wake(self) -> None:
        """Stop now: called from any thread."""
        self.should_exit = True  # set first: a loop that starts after this sees it
        loop = self._loop
        if loop is not None and not loop.is_closed():
            # RuntimeError: the loop closed in between, so it has stopped already.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._wake.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        try:
            async with asyncio.timeout(self.config.timeout_graceful_shutdown):
                await self._drain()
        except TimeoutError:
            for task in self.server_state.tasks:
                task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        # Responses are sent, and what FastAPI runs after them (a yield dependency's
        # teardown) has returned: only now does the app hear of the shutdown.
        if not self.force_exit:
            await self.lifespan.shutdown()

    async def _drain(self) -> None:
        """Wait for the open connections, then the requests' tasks, as uvicorn does, but
        looking every millisecond rather than every 0.1 s."""
        state = self.server_state
        while state.connections and not self.force_exit:
            await asyncio.sleep(_DRAIN_POLL)
        while state.tasks and not self.force_exit:
            await asyncio.wait(set(state.tasks))
        for server in self.servers:
            await server.wait_closed()


class LoopbackServer:
    """`with LoopbackServer(app) as server:` serves `app` at `server.url` until the block ends."""

    def __init__(
        self,
        app: ASGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        lifespan: Literal["auto", "on", "off"] = "auto",
        websockets: bool = True,
    ) -> None:
        """`websockets=False`: plain HTTP only, and uvicorn imports no websocket library (a
        run's client sends none)."""
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP;
        # without it a keep-alive response waits ~40 ms for a delayed ACK.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))  # port 0: the kernel picks a free port, no race
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(
            app,
            log_config=None,  # and no log_level: it would set the process's uvicorn loggers
            lifespan=lifespan,  # as `uvicorn` runs an app: its startup is part of the program
            ws="auto" if websockets else "none",
            ws_per_message_deflate=False,
        )
        self._settled = threading.Event()
        self._server = _PromptServer(config, self._settled)
        self._thread = threading.Thread(target=self._serve, name=THREAD_NAME, daemon=True)
        self.loop_thread: int | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _serve(self) -> None:
        self.loop_thread = threading.get_ident()
        try:  # as `uvicorn` itself serves: on the event loop its config picks (uvloop if present)
            self._server.run(sockets=[self._socket])
        except BaseException as error:  # reported by start(), in the caller's thread
            self._error = error
        finally:
            self._settled.set()  # a startup that failed wakes start() too

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        if not self._settled.wait(timeout):
            raise RuntimeError("uvicorn did not start in time")
        if self._error is not None or not self._server.started:
            raise RuntimeError(f"uvicorn did not start: {self._error!r}")

    def stop(self) -> None:
        self._server.wake()
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> LoopbackServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
