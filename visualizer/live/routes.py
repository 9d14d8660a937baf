"""The live page: the observed app's requests as they happen, each one opened as a run.

A request opens on the run page as the transient run `live-N` (the stage, the player, the
summary all work as for a scenario's run); keeping it stores it as a run of its own, with
a permalink, an export, side by side and a classroom room.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, WebSocket
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocketDisconnect

from visualizer.contract.trace import Trace
from visualizer.live.feed import LiveFeed
from visualizer.live.summary import BADGES, RequestSummary
from visualizer.live.views import pool_panels
from visualizer.web.pages import root
from visualizer.web.services import ServicesDep

router = APIRouter(include_in_schema=False)
PREFIX = "live-"  # a live request's run id: live-17
COALESCE_S = 0.05  # requests finishing this close together go out in one message

PathFilter = Annotated[str, Query(max_length=200)]
BadgeFilter = Annotated[str, Query(max_length=40)]


def get_feed(connection: HTTPConnection) -> LiveFeed:
    feed: LiveFeed | None = getattr(connection.app.state, "live", None)
    if feed is None:
        raise HTTPException(404, "Nothing is watched: start it with `session-visualizer trace`.")
    return feed


FeedDep = Annotated[LiveFeed, Depends(get_feed)]


def transient(feed: LiveFeed) -> Any:
    """The run manager's lookup of `live-N` runs: the request, while the feed keeps it."""

    def lookup(run_id: str) -> Trace | None:
        number = run_id.removeprefix(PREFIX)
        return feed.trace(int(number)) if run_id.startswith(PREFIX) and number.isdigit() else None

    return lookup


def _filters(path: str, badge: str) -> dict[str, Any]:
    return {"path": path, "badge": badge if badge in BADGES else "", "badges": BADGES}


@router.get("/live", response_class=HTMLResponse)
def live_page(
    request: Request,
    svc: ServicesDep,
    feed: FeedDep,
    path: PathFilter = "",
    badge: BadgeFilter = "",
) -> HTMLResponse:
    """The observed app's requests, newest first, with a panel per pool."""
    chosen = _filters(path, badge)
    return svc.templates.TemplateResponse(
        request,
        "live.html",
        {
            **chosen,
            "requests": feed.summaries(path, chosen["badge"]),
            "pools": pool_panels(feed),
            "keep": feed.keep,
            "watched": getattr(request.app.state, "watched", ""),
            "dropped": feed.dropped,
        },
    )


@router.get("/live/requests/{number}")
def open_request(request: Request, number: int, feed: FeedDep) -> RedirectResponse:
    """A request, on the run page."""
    if feed.trace(number) is None:
        raise HTTPException(404, f"Request {number} is not in the list any more (or not yet).")
    return RedirectResponse(f"{root(request)}/runs/{PREFIX}{number}", status_code=303)


@router.post("/live/requests/{number}/keep")
def keep_request(
    request: Request, number: int, svc: ServicesDep, feed: FeedDep
) -> RedirectResponse:
    """Store a request as a run of its own: a permalink, an export, a room."""
    trace = feed.trace(number)
    if trace is None:
        raise HTTPException(404, f"Request {number} is not in the list any more.")
    run_id = svc.runs.import_trace(trace)
    return RedirectResponse(f"{root(request)}/runs/{run_id}", status_code=303)


@router.websocket("/ws/live")
async def live_socket(websocket: WebSocket, path: PathFilter = "", badge: BadgeFilter = "") -> None:
    """New requests as htmx partials (rows first in the list, the pools' panel), as they finish."""
    feed = get_feed(websocket)
    chosen = _filters(path, badge)
    await websocket.accept()
    queue = feed.subscribe()
    # The page only listens; reading is how its leaving is noticed, so that no handler waits
    # on the feed for a page that is gone (and a server stop never waits on one either).
    sending = asyncio.create_task(_send_requests(websocket, feed, queue, chosen))
    leaving = asyncio.create_task(_until_gone(websocket))
    try:
        await asyncio.wait({sending, leaving}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sending, leaving):
            task.cancel()
        await asyncio.gather(sending, leaving, return_exceptions=True)
        feed.unsubscribe(queue)
        with contextlib.suppress(RuntimeError):
            await websocket.close()


async def _until_gone(websocket: WebSocket) -> None:
    """Read until the page leaves; what it sends is ignored (it has nothing to say)."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass


async def _send_requests(
    websocket: WebSocket,
    feed: LiveFeed,
    queue: asyncio.Queue[RequestSummary | None],
    chosen: dict[str, Any],
) -> None:
    templates = websocket.app.state.services.templates
    try:
        # First the whole list: a page that was away (hx-ws closes a hidden tab's socket)
        # gets what it missed.
        everything = feed.summaries(chosen["path"], chosen["badge"])
        await websocket.send_json(
            {
                "type": "requests",
                "content": _partials(templates, websocket, feed, everything, "innerHTML"),
            }
        )
        listed = {s.number for s in everything}  # finished while subscribing: sent already
        while True:
            batch = [await queue.get()]
            await asyncio.sleep(COALESCE_S)
            while not queue.empty():
                batch.append(queue.get_nowait())
            if None in batch:
                await websocket.close(1013, "fell behind; reconnect for the whole list")
                return
            shown = [
                s
                for s in reversed(batch)  # newest first
                if s is not None and s.number not in listed and _matches(s, chosen)
            ]
            if shown:
                await websocket.send_json(
                    {
                        "type": "requests",
                        "numbers": [s.number for s in shown],
                        "content": _partials(templates, websocket, feed, shown, "afterbegin"),
                    }
                )
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass


def _matches(summary: RequestSummary, chosen: dict[str, Any]) -> bool:
    return chosen["path"] in summary.path and (
        not chosen["badge"] or chosen["badge"] in summary.badges
    )


def _partials(
    templates: Any, websocket: WebSocket, feed: LiveFeed, shown: list[RequestSummary], swap: str
) -> str:
    """Rows for the list (newest first) and the pools' panel, as htmx partials."""
    rows = templates.env.get_template("_live_rows.html").render(
        requests=shown, root=root(websocket)
    )
    pools = templates.env.get_template("_live_pools.html").render(pools=pool_panels(feed))
    return (
        f'<template hx type="partial" hx-target="#requests" hx-swap="{swap}">{rows}</template>'
        f'<template hx type="partial" hx-target="#pools" hx-swap="innerHTML">{pools}</template>'
    )
