"""Settings: one validated model, defaults that need no configuration, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from visualizer.contract.validation import explain
from visualizer.locations import default_data_dir

ENV_PREFIX = "SESSION_VISUALIZER_"
WORKERS_EXTRA = "pip install 'session-visualizer[workers]'"  # Redis's client and psycopg


def needs_extra(variable: str, what: str) -> str:
    """What to install when a setting names a server whose client is missing."""
    return f"{variable} needs {what}: {WORKERS_EXTRA}"


class SettingsError(ValueError):
    """A setting whose value cannot be used; the message names its variable."""


class Settings(BaseModel):
    """Every setting, its default and its range. The environment variable is the prefix plus
    the name in capitals, except where `env` says otherwise."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(
        default="127.0.0.1",
        min_length=1,
        description="Address the server listens on; 0.0.0.0 lets a classroom's laptops reach it.",
    )
    port: int = Field(default=8000, ge=1, le=65535, description="Port the server listens on.")
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Folder of the visualizer's own SQLite database, where runs are stored.",
        json_schema_extra={"env": "SESSION_VISUALIZER_DATA"},
    )
    max_parallel_runs: int = Field(
        default=4,
        ge=1,
        le=64,
        description="How many scenario runs may execute at once; further runs wait their turn.",
    )
    live_requests: int = Field(
        default=500,
        ge=10,
        le=100_000,
        description="How many of a watched app's latest requests the live page keeps.",
    )
    room_idle_hours: float = Field(
        default=3.0,
        gt=0,
        le=24 * 30,
        description="Hours a classroom room with nobody connected is kept before it expires.",
    )
    max_queued_runs: int = Field(
        default=100,
        ge=0,
        le=10_000,
        description="How many started runs may wait for their turn; beyond it a start is "
        "refused (503) until one finishes.",
    )
    allowed_hosts: str = Field(
        default="",
        max_length=2_000,
        description="Host names or addresses served besides loopback and --host, "
        "comma-separated: the classroom's address when listening on 0.0.0.0.",
    )
    trusted_proxies: str = Field(
        default="",
        max_length=2_000,
        description="Addresses of reverse proxies whose X-Forwarded-For is believed, "
        "comma-separated; by default nobody's is.",
    )
    heartbeat_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Seconds between pings on each websocket; one unanswered as long again "
        "is closed, so a student who left stops being counted.",
    )

    database_url: str = Field(
        default="",
        max_length=2_000,
        description="The visualizer's own database, of runs and rooms, as a SQLAlchemy URL "
        "(postgresql://user@host/name for several workers); by default runs.db in the data "
        "folder.",
    )
    redis_url: str = Field(
        default="",
        max_length=2_000,
        description="Redis that several workers share rooms and runs through "
        "(redis://host:6379/0); unset, one process serves everything itself.",
    )
    redis_prefix: str = Field(
        default="session-visualizer",
        pattern=r"^[A-Za-z0-9_.:-]{1,100}$",
        description="What the visualizer's Redis keys and channels start with, so several "
        "visualizers can share one Redis.",
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, url: str) -> str:
        if not url:
            return url
        # Imported here: the terminal commands read settings without loading SQLAlchemy.
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ValueError("a database URL like postgresql://user@host/name") from None
        if parsed.get_backend_name() not in {"postgresql", "sqlite"}:
            raise ValueError("the visualizer stores its runs in PostgreSQL or SQLite")
        if parsed.drivername == "postgresql":  # the driver the visualizer installs
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed.render_as_string(hide_password=False)

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, url: str) -> str:
        if url and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("a Redis URL like redis://host:6379/0")
        return url

    @classmethod
    def env_names(cls) -> dict[str, str]:
        """Each setting's environment variable, by setting name."""
        names = {}
        for name, field in cls.model_fields.items():
            extra = field.json_schema_extra
            env = extra.get("env") if isinstance(extra, dict) else None
            names[name] = str(env) if env else ENV_PREFIX + name.upper()
        return names

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then the environment, then explicit overrides (e.g. command-line flags)."""
        environ = os.environ if environ is None else environ
        names = cls.env_names()
        values: dict[str, Any] = {
            name: environ[env] for name, env in names.items() if env in environ
        }
        from_env = set(values)
        given = {k: v for k, v in overrides.items() if v is not None}
        values.update(given)
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            name = str(error.errors()[0]["loc"][0])
            source = names[name] if name in from_env - given.keys() else name
            where = f"{source}={values[name]!r}" if name in values else "settings"
            raise SettingsError(f"{where}: {explain(error)}") from None

    @property
    def served_hosts(self) -> list[str]:
        """The configured host names, from the comma-separated setting."""
        return [name.strip() for name in self.allowed_hosts.split(",") if name.strip()]

    @property
    def store_url(self) -> str:
        """Where runs and rooms are stored: the configured database, or the data folder's."""
        return self.database_url or f"sqlite:///{self.data_dir / 'runs.db'}"
