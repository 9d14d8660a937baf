"""Finding the web app a program defines, whatever it is called."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.types import ASGIApp


class AppNotFound(LookupError):
    """A program with no app to serve, or several and no name to choose one."""


def find_app(namespace: dict[str, Any], name: str | None = None) -> ASGIApp:
    """The app called `name`; else the one Starlette/FastAPI app the program defines, or the
    one called `app` among several."""
    if name is not None:
        if name not in namespace:
            raise AppNotFound(f"the program defines no {name!r}")
        found = namespace[name]
        if not callable(found):
            raise AppNotFound(f"{name!r} is not an ASGI app")
        return found  # type: ignore[no-any-return]
    apps = {key: value for key, value in namespace.items() if isinstance(value, Starlette)}
    if len(apps) == 1:
        return next(iter(apps.values()))
    if "app" in apps:
        return apps["app"]
    if not apps:
        raise AppNotFound("the program defines no FastAPI or Starlette app")
    names = ", ".join(sorted(apps))
    raise AppNotFound(f"the program defines several apps ({names}): name one (--app NAME)")
