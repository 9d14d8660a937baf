"""`session-visualizer trace MODULE:APP`: your own app, served and watched, on the live page."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from visualizer.web.settings import Settings

DEFAULT_PAGE_PORT = 8001  # the app keeps uvicorn's own 8000


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    trace = commands.add_parser(
        "trace",
        help="serve your own app, as uvicorn would, and watch its sessions on the live page",
        description="Serve MODULE:APP exactly as `uvicorn MODULE:APP` would (its lifespan, "
        "middleware, overrides, its own database), observed, and show every request it "
        "serves on the visualizer's live page.",
    )
    trace.add_argument("app", metavar="MODULE:APP", help="e.g. myapp.main:app, as uvicorn takes it")
    trace.add_argument("--app-host", default="127.0.0.1", help="address the app listens on")
    trace.add_argument("--app-port", type=int, default=8000, help="port the app listens on")
    trace.add_argument(
        "--app-dir", default=".", help="folder to import the app from, as uvicorn's --app-dir"
    )
    trace.add_argument(
        "--host", dest="page_host", help="address of the live page (default 127.0.0.1)"
    )
    trace.add_argument(
        "--port",
        dest="page_port",
        type=int,
        help=f"port of the live page (default {DEFAULT_PAGE_PORT})",
    )
    trace.add_argument(
        "--no-browser",
        dest="trace_no_browser",
        action="store_true",
        help="do not open the live page in a browser",
    )
    trace.add_argument(
        "--reload",
        action="store_true",
        help="restart the app when a .py file under --app-dir changes, as uvicorn --reload; "
        "the live list keeps the requests served before",
    )
    trace.add_argument(
        "--show-params",
        action="store_true",
        help="record the SQL parameters too (they can hold personal data: off by default)",
    )


def trace(args: argparse.Namespace, settings: Settings, open_browser: bool) -> int:
    from visualizer.app import create_app  # the web stack is only needed to serve
    from visualizer.cli.serve import serve
    from visualizer.live.feed import LiveFeed
    from visualizer.live.process import AppProcess, reload_on_change

    app_dir = Path(args.app_dir)
    if not app_dir.is_dir():
        print(f"session-visualizer trace: no folder {app_dir}", file=sys.stderr)
        return 2
    feed = LiveFeed(settings.live_requests, root=app_dir)
    watched = f"{args.app} on http://{args.app_host}:{args.app_port}/"
    app = create_app(settings, live=feed, watched=watched)
    process = AppProcess(
        args.app,
        feed,
        host=args.app_host,
        port=args.app_port,
        app_dir=app_dir,
        show_params=args.show_params,
    )
    print(f"Your app: {watched}", flush=True)
    # Without --reload, an app that stops ends `trace`; with it, as with `uvicorn --reload`,
    # an app that failed to import waits for the next change.
    done = threading.Event()
    if args.reload:
        reload_on_change(process, app_dir.resolve(), done)
    try:
        code = serve(
            settings,
            open_browser,
            app=app,
            page="/live",
            until=None if args.reload else process.exited,
        )
    finally:
        done.set()
        process.stop()
    if process.returncode not in (None, 0, -15) and process.exited.is_set():
        print(f"session-visualizer trace: the app stopped ({process.returncode})", file=sys.stderr)
        return 1
    return code
