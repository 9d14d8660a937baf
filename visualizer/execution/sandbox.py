"""A run's sandbox: its own temporary database folder, and freeing everything the run made."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session
from sqlalchemy.util import greenlet_spawn

from visualizer.capture.recorder import Recorder

PREFIX = "session-visualizer-"  # the run's temporary folder: its SQLite file lives there


# FastAPI memoises, for up to 4,096 callables, whether each endpoint and dependency is a
# generator or a coroutine. Each entry holds the function, hence its module's globals: the
# run's app, engine and pool would stay alive for hundreds of runs.
_FASTAPI_CACHES = (
    "_is_gen_callable_cached",
    "_is_async_gen_callable_cached",
    "_is_coroutine_callable_cached",
)


def _forget_fastapi_caches(namespace: dict[str, Any]) -> None:
    from fastapi import routing
    from fastapi.dependencies import models
    from starlette.applications import Starlette

    for name in _FASTAPI_CACHES:
        clear = getattr(getattr(models, name, None), "cache_clear", None)
        if clear is not None:
            clear()
    # FastAPI also keeps each endpoint's file and line, by id(), for good.
    contexts = getattr(routing, "_endpoint_context_cache", None)
    if isinstance(contexts, dict):
        for app in (v for v in namespace.values() if isinstance(v, Starlette)):
            for route in app.routes:
                contexts.pop(id(getattr(route, "endpoint", None)), None)


def dispose(namespace: dict[str, Any], recorder: Recorder) -> None:
    """Free what the run made: leaked sessions first, then every pool it used."""
    recorder.recording = False
    _forget_fastapi_caches(namespace)
    leaked_async: list[Session] = []
    for session in list(recorder.sessions):
        if getattr(getattr(session.bind, "dialect", None), "is_async", False):
            leaked_async.append(session)  # its rollback must await the driver
            continue
        try:
            session.close()
        except Exception as error:  # already broken: nothing more to free
            recorder.hook_failed("cleanup", error)
    engines = [v for v in namespace.values() if isinstance(v, AsyncEngine)]
    for value in namespace.values():
        if isinstance(value, Engine):
            value.dispose()
    for pool in list(recorder.pools.keys()):  # engines the program keeps elsewhere
        if not getattr(pool, "_is_asyncio", False):
            pool.dispose()
    if leaked_async or engines:
        # The server's loop has stopped; aiosqlite's connections each have a thread of their
        # own and close from a new loop: measured clean, no warning and no thread left.
        asyncio.run(_dispose_async(leaked_async, engines, recorder))


async def _dispose_async(
    sessions: list[Session], engines: list[AsyncEngine], recorder: Recorder
) -> None:
    for session in sessions:
        try:
            await greenlet_spawn(session.close)
        except Exception as error:  # already broken: nothing more to free
            recorder.hook_failed("cleanup", error)
    for engine in engines:
        await engine.dispose()
