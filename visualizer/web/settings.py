"""Settings: one validated model, defaults that need no configuration, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from visualizer.contract.validation import explain
from visualizer.locations import default_data_dir

ENV_PREFIX = "SESSION_VISUALIZER_"


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
    def database_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'runs.db'}"
