"""The traced get_db: a learner's yield dependency, run unchanged, reported around its yield."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from visualizer.capture.recorder import Recorder


def _error_name(error: BaseException) -> str:
    status = getattr(error, "status_code", None)
    return f"{type(error).__name__}({status})" if status else type(error).__name__


def traced_dependency(get_db: Callable[..., Any], recorder: Recorder) -> Callable[..., Any]:
    """Wrap a learner's yield dependency; it runs unchanged, and we report around its yield."""

    def yielded(frame: Any) -> None:
        recorder.record("session.yield", line=frame.f_lineno if frame else None, walk=False)

    def resumed(frame: Any, error: BaseException | None) -> None:
        detail = {"error": _error_name(error)} if error is not None else {}
        recorder.record("session.resume", detail, line=frame.f_lineno if frame else None)

    if inspect.isasyncgenfunction(get_db):

        @functools.wraps(get_db)
        async def traced_async(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            inner = get_db(*args, **kwargs)
            value = await inner.__anext__()
            yielded(inner.ag_frame)
            try:
                yield value
            except BaseException as error:
                resumed(inner.ag_frame, error)
                try:
                    await inner.athrow(error)
                except StopAsyncIteration:
                    return  # get_db swallowed the exception, and so do we
                raise RuntimeError("get_db did not stop after the exception") from error
            resumed(inner.ag_frame, None)
            try:
                await inner.__anext__()
            except StopAsyncIteration:
                return
            raise RuntimeError("get_db yielded more than once")  # pragma: no cover

        return traced_async

    @functools.wraps(get_db)
    def traced(*args: Any, **kwargs: Any) -> Iterator[Any]:
        inner = get_db(*args, **kwargs)
        value = next(inner)
        yielded(inner.gi_frame)
        try:
            yield value
        except BaseException as error:
            resumed(inner.gi_frame, error)
            try:
                inner.throw(error)
            except StopIteration:
                return  # get_db swallowed the exception, and so do we
            raise RuntimeError("get_db did not stop after the exception") from error
        resumed(inner.gi_frame, None)
        try:
            next(inner)
        except StopIteration:
            return
        raise RuntimeError("get_db yielded more than once")  # pragma: no cover

    return traced
