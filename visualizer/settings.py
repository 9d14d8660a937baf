"""Settings: a declared table, defaults that need no configuration, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    env: str
    default: Any
    parse: Callable[[str], Any]
    help: str


SETTINGS = (
    Setting(
        "host",
        "SESSION_VISUALIZER_HOST",
        "127.0.0.1",
        str,
        "Address the server listens on; 0.0.0.0 lets a classroom's laptops reach it.",
    ),
    Setting("port", "SESSION_VISUALIZER_PORT", 8000, int, "Port the server listens on."),
    Setting(
        "data_dir",
        "SESSION_VISUALIZER_DATA",
        PROJECT_DIR / "data",
        Path,
        "Folder of the visualizer's own SQLite database, where runs are stored.",
    ),
    Setting(
        "max_parallel_runs",
        "SESSION_VISUALIZER_MAX_PARALLEL_RUNS",
        4,
        int,
        "How many scenario runs may execute at once; further runs wait their turn.",
    ),
    Setting(
        "room_idle_hours",
        "SESSION_VISUALIZER_ROOM_IDLE_HOURS",
        3.0,
        float,
        "Hours a classroom room with nobody connected is kept before it expires.",
    ),
)


class SettingsError(ValueError):
    """An environment variable whose value cannot be read."""


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = PROJECT_DIR / "data"
    max_parallel_runs: int = 4
    room_idle_hours: float = 3.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then the environment, then explicit overrides (e.g. command-line flags)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            raw = environ.get(setting.env)
            if raw is None:
                values[setting.name] = setting.default
                continue
            try:
                values[setting.name] = setting.parse(raw)
            except ValueError as error:
                raise SettingsError(f"{setting.env}={raw!r}: {error}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'runs.db'}"
