"""What reaches the app: only Host names we serve, only our own pages writing, bounded bodies.

A pure ASGI wrapper, outermost, so every route is covered the same way:
- the Host header must name a host this server was told to serve (loopback names, the address
  it listens on, and `allowed_hosts`): a DNS-rebinding page names its own domain and is refused;
- a browser request that changes something (any method but GET, HEAD, OPTIONS) and every
  websocket must come from a page of this very origin (scheme, host and port);
- a request body is read up to its route's limit and no further: 413 before the app runs.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_BODY_BYTES = 64 * 1024
MAX_IMPORT_BYTES = 5_000_000
BODY_LIMITS = {"/api/runs/import": MAX_IMPORT_BYTES}  # by path; others get MAX_BODY_BYTES
MAX_FRAME_BYTES = 32 * 1024  # a websocket message; the largest valid one is 4,096 characters
CROSS_ORIGIN_CLOSE = 4403
_WILDCARDS = frozenset({"", "0.0.0.0", "::"})


def host_name(netloc: str) -> str | None:
    """The lower-case host of "host[:port]" ("[::1]:8000" gives "::1"); None if malformed."""
    try:
        parts = urlsplit(f"//{netloc}")
        parts.port  # noqa: B018 -- raises on a port that is not a number
    except ValueError:
        return None
    return (parts.hostname or "").rstrip(".") or None


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):  # browsers keep these on loopback
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HostPolicy:
    """Which Host names this server answers: loopback, where it listens, and those configured."""

    def __init__(self, listen_host: str, allowed: Iterable[str] = ()) -> None:
        names = ({listen_host} | set(allowed)) - _WILDCARDS
        self.names = frozenset(n.strip().strip("[]").lower().rstrip(".") for n in names)

    def serves(self, host: str) -> bool:
        return _is_loopback(host) or host in self.names


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def same_origin(scope: Scope) -> bool:
    """No Origin (not a browser) or one naming this very scheme, host and port."""
    origin = _header(scope, b"origin")
    if origin is None:
        site = _header(scope, b"sec-fetch-site")  # a browser that sent no Origin still says
        return site in (None, "same-origin", "none")
    secure = scope["scheme"] in ("https", "wss")
    theirs = urlsplit(origin)
    if theirs.scheme != ("https" if secure else "http"):
        return False  # "null" (a sandboxed or file page) and other schemes included
    return _host_port(theirs.netloc, secure) == _host_port(_header(scope, b"host") or "", secure)


def _host_port(netloc: str, secure: bool) -> tuple[str, int] | None:
    try:
        parts = urlsplit(f"//{netloc}")
        return (parts.hostname or "").lower(), parts.port or (443 if secure else 80)
    except ValueError:
        return None


class Guard:
    """The ASGI wrapper; `policy` says which Host names are served."""

    def __init__(self, app: ASGIApp, policy: HostPolicy) -> None:
        self.app, self.policy = app, policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            status, message = refusal
            if scope["type"] == "websocket":
                await _refuse_websocket(receive, send, message)
            else:
                await _answer(send, status, message)
            return
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            limit = BODY_LIMITS.get(scope["path"], MAX_BODY_BYTES)
            body = await _read_body(scope, receive, limit)
            if body is None:
                await _answer(send, 413, f"a request body here is at most {limit} bytes")
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> tuple[int, str] | None:
        host = host_name(_header(scope, b"host") or "")
        if host is None or not self.policy.serves(host):
            return 400, (
                f"this server does not serve the host {host or 'in this request'!r}; "
                "list it in SESSION_VISUALIZER_ALLOWED_HOSTS to serve it"
            )
        writes = scope["type"] == "websocket" or scope["method"] not in SAFE_METHODS
        if writes and not same_origin(scope):
            return 403, "cross-origin requests are refused: use this server's own pages"
        return None


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is longer than `limit` (the rest is never read)."""
    declared = _header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client left; the app sees an empty body and the disconnect next
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # after the body: wait for the disconnect, as servers do
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


async def _answer(send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if status == 413:
        headers.append((b"connection", b"close"))  # the rest of the body is never read
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _refuse_websocket(receive: Receive, send: Send, message: str) -> None:
    """Accept, say why, close with 4403: a browser's page sees the reason, not a bare failure."""
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    text = json.dumps({"type": "error", "message": message})
    await send({"type": "websocket.send", "text": text})
    await send({"type": "websocket.close", "code": CROSS_ORIGIN_CLOSE})
