"""Installing every hook, once per process: sessions, engines and pools, yield dependencies."""

from __future__ import annotations

import threading

from visualizer.capture import dependencies, engines, sessions

_lock = threading.Lock()
_installed: bool | None = None


def install() -> bool:
    """Install the hooks (a second call does nothing). False if FastAPI's yield dependencies
    cannot be observed on this version: sessions, SQL and the pool still are."""
    global _installed
    with _lock:
        if _installed is None:
            sessions.install()
            engines.install()
            _installed = dependencies.install()
        return _installed
