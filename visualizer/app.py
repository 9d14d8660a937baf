"""`create_app(settings)`: the composition root. It builds the whole web app, nothing earlier."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from visualizer.classroom import pages as room_pages
from visualizer.classroom import routes as room_routes
from visualizer.classroom.hub import Hub
from visualizer.classroom.store import RoomStore
from visualizer.contract.trace import Trace
from visualizer.execution.scenarios import Registry
from visualizer.live import routes as live_routes
from visualizer.live.feed import LiveFeed
from visualizer.live.routes import transient
from visualizer.locations import STATIC_DIR, TEMPLATES_DIR
from visualizer.web import api, pages, run_socket
from visualizer.web.broker import Broker
from visualizer.web.guard import Guard, HostPolicy
from visualizer.web.pages import root
from visualizer.web.run_manager import RunManager, RunsBusy
from visualizer.web.services import Services, get_services
from visualizer.web.settings import Settings, SettingsError, needs_extra
from visualizer.web.stage import step_refs
from visualizer.web.store import RunStore

if TYPE_CHECKING:
    from visualizer.bus.redis_bus import Bus


def create_app(
    settings: Settings | None = None, live: LiveFeed | None = None, watched: str = ""
) -> FastAPI:
    """The visualizer; with `live`, also the live page of the app it watches (`watched`)."""
    settings = settings or Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    bus = _bus(settings)
    store = _run_store(settings, bus.worker if bus is not None else "")
    broker = Broker(bus.append_run if bus is not None else None)
    runs = RunManager(store, broker, settings.max_parallel_runs, settings.max_queued_runs, bus=bus)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if bus is not None:
            await bus.start()
        try:
            yield
        finally:
            runs.close()
            if bus is not None:
                await bus.close()
            store.close()

    app = FastAPI(
        title="Session lifecycle visualizer",
        summary="Real FastAPI requests, their SQLAlchemy sessions, step by step.",
        lifespan=lifespan,
    )
    templates = Jinja2Templates(directory=TEMPLATES_DIR, context_processors=[_root])
    templates.env.filters["steps"] = step_refs  # "7 the response..." reads "step 7 the response..."
    registry = Registry()
    runs.scenarios = registry.find
    app.state.services = Services(
        settings=settings,
        registry=registry,
        runs=runs,
        templates=templates,
    )
    rooms = RoomStore(store.engine, settings.room_idle_hours, shared=bus is not None)
    app.state.hub = Hub(rooms, bus=bus)
    app.state.live, app.state.watched = live, watched
    if live is not None:
        runs.transient = transient(live)
    app.add_middleware(GZipMiddleware, minimum_size=1000)  # pages and static files, compressed
    # Added last, so outermost: a request from elsewhere is refused before anything else runs.
    app.add_middleware(Guard, policy=HostPolicy(settings.host, settings.served_hosts))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in (
        pages.router,
        api.router,
        run_socket.router,
        room_routes.router,
        room_pages.router,
        live_routes.router,
    ):
        app.include_router(router)

    @app.exception_handler(StarletteHTTPException)
    async def not_found_page(request: Request, error: StarletteHTTPException) -> Response:
        """The API answers JSON; pages answer a page that says what was not found."""
        if request.url.path.startswith("/api/") or error.status_code != 404:
            return JSONResponse({"detail": error.detail}, error.status_code, error.headers)
        return get_services(request).templates.TemplateResponse(
            request, "not_found.html", {"message": error.detail}, status_code=404
        )

    @app.exception_handler(RunsBusy)
    async def runs_busy(request: Request, error: RunsBusy) -> Response:
        """Too many runs waiting: nothing was started; the client may try again shortly."""
        return JSONResponse({"detail": str(error)}, 503, {"Retry-After": "5"})

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _bus(settings: Settings) -> Bus | None:
    """The link to the other workers, when a Redis is configured."""
    if not settings.redis_url:
        return None
    try:
        from visualizer.bus.redis_bus import Bus
    except ImportError:
        raise SettingsError(
            needs_extra("SESSION_VISUALIZER_REDIS_URL", "the Redis client")
        ) from None
    return Bus(settings.redis_url, settings.redis_prefix, settings.room_idle_hours * 3600)


def _run_store(settings: Settings, worker: str) -> RunStore:
    try:
        return RunStore(settings.store_url, worker)
    except ImportError as error:  # postgresql:// without psycopg
        raise SettingsError(
            needs_extra("SESSION_VISUALIZER_DATABASE_URL", f"its driver ({error.name})")
        ) from None


def _root(request: Request) -> dict[str, str]:
    """Every page's URLs start with the path the visualizer is mounted at, if any."""
    return {"root": root(request)}


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, plus the trace that the import endpoint reads from its raw body."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        trace = Trace.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(trace.pop("$defs", {}))
        components["Trace"] = trace
        app.openapi_schema = schema
    return app.openapi_schema
