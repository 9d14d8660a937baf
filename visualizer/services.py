"""What the routes share, built once by `create_app` and reached through `app.state`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from visualizer.classroom import Classroom
from visualizer.runs import RunManager
from visualizer.scenarios import Registry
from visualizer.settings import Settings


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    registry: Registry
    runs: RunManager
    templates: Jinja2Templates
    rooms: Classroom


def get_services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(get_services)]
