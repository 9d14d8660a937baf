"""`watch(app)`: the live page inside an app started its own way (gunicorn, docker, tests).

(The module is not called `watch`: importing it would set `visualizer.watch` to the module,
and `from visualizer import watch` would then give the module instead of the function.)

    from visualizer import watch
    watch(app)  # with SESSION_VISUALIZER_WATCH=1 set where you develop

It observes the app's requests with the engine's hooks and mounts the visualizer under a
path of the app (default /_lifecycle), whose own requests are not observed. It shows every
request's SQL, sessions and code to whoever reaches that path, so it refuses to run unless
enabled on purpose.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from visualizer.app import create_app
from visualizer.capture import hooks
from visualizer.capture.asgi import RequestObserver
from visualizer.capture.lines import ProgramFiles
from visualizer.capture.recorder import Recorder
from visualizer.live.feed import LiveFeed
from visualizer.live.wire import Batch
from visualizer.web.settings import Settings

ENABLE = "SESSION_VISUALIZER_WATCH"
PERIOD_S = 0.05


class WatchRefused(RuntimeError):
    """watch() was not enabled for development."""


def _enabled(enabled: bool | None) -> bool:
    if enabled is not None:
        return enabled
    return os.environ.get(ENABLE, "").strip().lower() in {"1", "true", "yes", "on"}


def watch(
    app: Starlette,
    path: str = "/_lifecycle",
    *,
    enabled: bool | None = None,
    show_params: bool = False,
    project: Path | None = None,
    settings: Settings | None = None,
) -> LiveFeed:
    """Observe `app` and serve its live page at `path`; the feed, for whoever wants it.

    `enabled`: True to allow it here; None (the default) reads SESSION_VISUALIZER_WATCH.
    `project`: the folder whose files are the app's own code (default: the current one).
    """
    if not _enabled(enabled):
        raise WatchRefused(
            f"watch() shows every request's SQL, sessions and code to anyone who can reach "
            f"{path}: it is a development tool. Turn it on where you develop, on purpose: "
            f"watch(app, enabled=True), or {ENABLE}=1 in that environment."
        )
    if not path.startswith("/") or path == "/":
        raise ValueError(f"watch() needs a path of its own, like /_lifecycle, not {path!r}")
    hooks.install()
    settings = settings or Settings.from_env()
    root = (project or Path.cwd()).resolve()
    recorder = Recorder(ProgramFiles(root=str(root)), capacity=100_000, show_params=show_params)
    feed = LiveFeed(settings.live_requests, root=root)
    title = getattr(app, "title", type(app).__name__)
    app.mount(path, create_app(settings, live=feed, watched=f"{title}, in this process"))
    _observe(app, recorder, path)
    threading.Thread(
        target=_drain, args=(recorder, feed), name="visualizer-watch", daemon=True
    ).start()
    return feed


def _observe(app: Starlette, recorder: Recorder, path: str) -> None:
    """Wrap the app's middleware stack, outermost, when Starlette builds it (it does so at the
    first request): the app object the server holds stays the same."""
    build = app.build_middleware_stack

    def observed() -> Any:
        return RequestObserver(build(), recorder, numbered_by_client=False, ignore=path)

    app.build_middleware_stack = observed  # type: ignore[method-assign]
    if app.middleware_stack is not None:  # already serving: rebuild it now
        app.middleware_stack = observed()


def _drain(recorder: Recorder, feed: LiveFeed) -> None:
    while True:
        time.sleep(PERIOD_S)
        finished = []
        while recorder.finished:
            finished.append(recorder.finished.popleft())
        records = recorder.drain_records()
        if records or finished:
            feed.add(
                Batch(
                    records=records,
                    finished=finished,
                    databases=dict(recorder.databases),
                    threads=recorder.named_threads(),
                    dropped=recorder.dropped,
                    hook_errors=dict(recorder.hook_errors),
                )
            )
