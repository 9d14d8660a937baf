"""What the web's routes share, built once by `create_app` and reached through `app.state`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.templating import Jinja2Templates
from starlette.requests import HTTPConnection

from visualizer.execution.scenarios import Registry
from visualizer.web.run_manager import RunManager
from visualizer.web.settings import Settings


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    registry: Registry
    runs: RunManager
    templates: Jinja2Templates


def get_services(connection: HTTPConnection) -> Services:
    found: Services = connection.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(get_services)]
