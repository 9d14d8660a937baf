"""A middleware that writes an audit row for every request, in a session of its own."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.database import AuditSession
from ledger.models import AuditEntry


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def remember(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, remember)
        finally:
            with AuditSession() as audit:
                audit.add(AuditEntry(method=scope["method"], path=scope["path"], status=status))
                audit.commit()
