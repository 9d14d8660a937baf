"""Where the visualizer's own files are: templates, static files, scenarios, the data folder."""

from __future__ import annotations

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_DIR / "templates"
STATIC_DIR = PROJECT_DIR / "static"
SCENARIO_DIR = PROJECT_DIR / "scenarios"
DATA_DIR = PROJECT_DIR / "data"
