"""The outermost ASGI wrapper: puts the run in charge, numbers each request, sees every response."""

from __future__ import annotations

import threading
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from visualizer.capture.recorder import Recorder, current_request, current_run
from visualizer.contract.events import REQUEST_HEADER

_REQUEST_HEADER = REQUEST_HEADER.encode()
_MESSAGE_LIMIT = 300


class RequestObserver:
    """A pure ASGI wrapper, outermost, so that it sees every response, 500s included."""

    def __init__(
        self,
        app: ASGIApp,
        recorder: Recorder,
        *,
        numbered_by_client: bool = True,
        ignore: str | None = None,
        numbered_after: int = 0,
    ) -> None:
        """`numbered_by_client`: a run's own client numbers its requests with a header (an
        app watched live numbers them itself, and trusts no header); `ignore`: a path prefix
        left unobserved (the visualizer's own pages, mounted in a watched app);
        `numbered_after`: the last number an earlier process of a watched app gave."""
        self.app = app
        self.recorder = recorder
        self.numbered_by_client = numbered_by_client
        self.ignore = ignore
        # Requests not sent by the run's client are numbered from here on.
        self._next_id = 1000 if numbered_by_client else numbered_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.ignore and scope.get("path", "").startswith(self.ignore):
            await self.app(scope, receive, send)
            return
        if self.recorder.loop_thread is None:
            self.recorder.loop_thread = threading.get_ident()  # ASGI calls run on the loop
        # The lifespan and websockets run in the run's context too: their sessions are seen.
        run = current_run.set(self.recorder)
        try:
            if scope["type"] == "http":
                await self._http(scope, receive, send)
            else:
                await self.app(scope, receive, send)
        finally:
            current_run.reset(run)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = self._request_id(scope)
        token = current_request.set(request)
        recorder = self.recorder
        path = scope["path"] + (
            f"?{scope['query_string'].decode()}" if scope["query_string"] else ""
        )
        recorder.record(
            "request.start", detail={"method": scope["method"], "path": path}, walk=False
        )

        async def observed_send(message: Message) -> None:
            # Timed before the send: once sent, the client may have it before we can append.
            t_ns = time.perf_counter_ns()
            await send(message)
            if message["type"] == "http.response.start":
                status = {"status": message["status"]}
                recorder.record("response.start", detail=status, walk=False, t_ns=t_ns)
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                recorder.record("response.end", walk=False, t_ns=t_ns)

        try:
            await self.app(scope, receive, observed_send)
        except Exception as error:
            # By now the server has answered (a 500), or the answer had already gone out
            # and the failure came from teardown; the exception goes on to uvicorn as before.
            try:
                detail = _describe(error)
            except Exception as failure:  # a hook must never change what the app raised
                recorder.hook_failed("request.error", failure)
            else:
                recorder.record("request.error", detail=detail, walk=False)
            raise
        finally:
            recorder.request_finished(request)
            current_request.reset(token)

    def _request_id(self, scope: Scope) -> int:
        for name, value in scope["headers"] if self.numbered_by_client else ():
            if name == _REQUEST_HEADER and value.isdigit():
                return int(value)
        self._next_id += 1
        return self._next_id


def _describe(error: BaseException) -> dict[str, str]:
    """The exception's class and the first line of its message, shortened."""
    lines = str(error).strip().splitlines()
    message = lines[0] if lines else ""
    if len(message) > _MESSAGE_LIMIT:
        message = message[: _MESSAGE_LIMIT - 3] + "..."
    return {"error": type(error).__name__, "message": message}
