"""FastAPI's yield dependencies, observed where FastAPI enters them, as the program wrote them.

FastAPI turns each yield dependency it solves into a context manager with `contextmanager`
or `asynccontextmanager`, called by name in `fastapi.dependencies.utils`. Those two names
are wrapped once per process: inside a run, the dependency (the program's own, or its own
override, already chosen by FastAPI) runs unchanged inside a generator that reports its
yield and its resumption. Nothing goes through `app.dependency_overrides`, which would
replace the program's own overrides and make FastAPI rebuild the dependant on each request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from visualizer.capture.recorder import Call, Recorder, current_call, current_run

_MARK = "__visualizer_observed__"
SETUP = Call("setup")


def _session_of(value: Any) -> Session | None:
    if isinstance(value, AsyncSession):
        return value.sync_session
    return value if isinstance(value, Session) else None


def _name(dependency: Callable[..., Any]) -> str:
    return str(getattr(dependency, "__qualname__", None) or type(dependency).__qualname__)


def _error_name(error: BaseException) -> str:
    status = getattr(error, "status_code", None)
    return f"{type(error).__name__}({status})" if status else type(error).__name__


class _Report:
    """What one run of a dependency that yielded a session says about it."""

    def __init__(self, recorder: Recorder, session: Session, frame: Any, name: str) -> None:
        self.recorder, self.session, self.frame, self.name = recorder, session, frame, name
        try:
            tag = recorder.session_tag(session, None)
            recorder.is_the_request_db(session, tag)
        except Exception as error:  # a hook must never break the observed request
            recorder.hook_failed("session.yield", error)

    def _where(self) -> tuple[int | None, str | None]:
        frame = self.frame
        if frame is None:
            return None, None
        return frame.f_lineno, self.recorder.program.shown_name(frame.f_code)

    def yielded(self) -> None:
        line, file = self._where()
        detail = {"dependency": self.name}
        self.recorder.record(
            "session.yield", self.session, detail, line=line, file=file, walk=False
        )

    def resumed(self, error: BaseException | None) -> None:
        line, file = self._where()
        detail = {"dependency": self.name}
        if error is not None:
            detail["error"] = _error_name(error)
        self.recorder.record(
            "session.resume", self.session, detail, line=line, file=file, walk=False
        )


def _in(call: Call, step: Callable[[], Any]) -> Any:
    token = current_call.set(call)
    try:
        return step()
    finally:
        current_call.reset(token)


def traced(dependency: Callable[..., Any], recorder: Recorder) -> Callable[..., Iterator[Any]]:
    """A generator function that runs `dependency`'s generator and reports around its yield."""

    def run(*args: Any, **kwargs: Any) -> Iterator[Any]:
        inner = dependency(*args, **kwargs)
        value = _in(SETUP, lambda: next(inner))
        session = _session_of(value)
        report = session and _Report(recorder, session, inner.gi_frame, _name(dependency))
        if report:
            report.yielded()
        try:
            yield value
        except BaseException as error:
            if report:
                report.resumed(error)
            token = current_call.set(Call("teardown", frame=inner.gi_frame))
            try:
                inner.throw(error)
            except StopIteration:
                return  # the dependency swallowed the exception, and so do we
            finally:
                current_call.reset(token)
            raise RuntimeError("the dependency did not stop after the exception") from error
        if report:
            report.resumed(None)
        try:
            _in(Call("teardown", frame=inner.gi_frame), lambda: next(inner))
        except StopIteration:
            return
        raise RuntimeError("the dependency yielded more than once")

    return run


def traced_async(
    dependency: Callable[..., Any], recorder: Recorder
) -> Callable[..., AsyncIterator[Any]]:
    """The same for an async generator dependency."""

    async def run(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        inner = dependency(*args, **kwargs)
        token = current_call.set(SETUP)
        try:
            value = await inner.__anext__()
        finally:
            current_call.reset(token)
        session = _session_of(value)
        report = session and _Report(recorder, session, inner.ag_frame, _name(dependency))
        if report:
            report.yielded()
        try:
            yield value
        except BaseException as error:
            if report:
                report.resumed(error)
            token = current_call.set(Call("teardown", frame=inner.ag_frame))
            try:
                await inner.athrow(error)
            except StopAsyncIteration:
                return  # the dependency swallowed the exception, and so do we
            finally:
                current_call.reset(token)
            raise RuntimeError("the dependency did not stop after the exception") from error
        if report:
            report.resumed(None)
        token = current_call.set(Call("teardown", frame=inner.ag_frame))
        try:
            await inner.__anext__()
        except StopAsyncIteration:
            return
        finally:
            current_call.reset(token)
        raise RuntimeError("the dependency yielded more than once")

    return run


def _observing(original: Callable[..., Any], is_async: bool) -> Callable[..., Any]:
    def observed(dependency: Callable[..., Any]) -> Any:
        recorder = current_run.get()
        if recorder is None:
            return original(dependency)
        wrapper = traced_async if is_async else traced
        return original(wrapper(dependency, recorder))

    setattr(observed, _MARK, True)
    return observed


def install() -> bool:
    """Observe yield dependencies from now on; False if this FastAPI solves them otherwise."""
    from fastapi.dependencies import utils

    found = True
    for name, is_async in (("contextmanager", False), ("asynccontextmanager", True)):
        original = getattr(utils, name, None)
        if original is None:
            found = False
        elif not getattr(original, _MARK, False):
            setattr(utils, name, _observing(original, is_async))
    return found
