"""`create_app(settings)`: builds the whole web app; nothing happens at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from visualizer import api, live, pages, room_pages, room_routes
from visualizer.broker import Broker
from visualizer.classroom import Classroom
from visualizer.rooms import RoomManager
from visualizer.runs import RunManager
from visualizer.scenarios import Registry
from visualizer.services import Services, get_services
from visualizer.settings import PROJECT_DIR, Settings
from visualizer.storage import RunStore

TEMPLATES_DIR = PROJECT_DIR / "templates"
STATIC_DIR = PROJECT_DIR / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = RunStore(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(
        title="Session lifecycle visualizer",
        summary="Real FastAPI requests, their SQLAlchemy sessions, step by step.",
        lifespan=lifespan,
    )
    app.state.services = Services(
        settings=settings,
        registry=Registry(),
        runs=RunManager(store, Broker(), settings.max_parallel_runs),
        templates=Jinja2Templates(directory=TEMPLATES_DIR),
        rooms=Classroom(RoomManager(store.engine, settings.room_idle_hours)),
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(live.router)
    app.include_router(room_routes.router)
    app.include_router(room_pages.router)

    @app.exception_handler(StarletteHTTPException)
    async def not_found_page(request: Request, error: StarletteHTTPException) -> Response:
        """The API answers JSON; pages answer a page that says what was not found."""
        if request.url.path.startswith("/api/") or error.status_code != 404:
            return JSONResponse({"detail": error.detail}, error.status_code, error.headers)
        return get_services(request).templates.TemplateResponse(
            request, "not_found.html", {"message": error.detail}, status_code=404
        )

    return app
