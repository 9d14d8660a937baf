"""Where the visualizer's own files are: templates, static files, scenarios, the data folder.

A wheel carries templates/, static/ and scenarios/ inside the package (visualizer/templates,
...); a checkout keeps them at the top of the repository. Stored runs go to data/ in a
checkout, and to the user's data folder otherwise, never into site-packages.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

APP_NAME = "session-visualizer"
PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent  # the repository, when running from a checkout


def _bundled(name: str) -> Path:
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else PROJECT_DIR / name


TEMPLATES_DIR = _bundled("templates")
STATIC_DIR = _bundled("static")
SCENARIO_DIR = _bundled("scenarios")


def in_checkout() -> bool:
    """Whether the package runs from the repository rather than from an installed wheel."""
    return (PROJECT_DIR / "pyproject.toml").is_file() and TEMPLATES_DIR == PROJECT_DIR / "templates"


def default_data_dir(
    environ: Mapping[str, str] | None = None,
    platform: str = sys.platform,
    checkout: bool | None = None,
) -> Path:
    """data/ in a checkout; otherwise the platform's folder for a user's application data."""
    if in_checkout() if checkout is None else checkout:
        return PROJECT_DIR / "data"
    environ = os.environ if environ is None else environ
    home = Path(environ.get("HOME") or Path.home())
    if platform == "win32":
        base = Path(environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / APP_NAME
