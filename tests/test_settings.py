"""Settings: zero-configuration defaults, the environment, ranges, and every one documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from visualizer.locations import PROJECT_DIR, default_data_dir
from visualizer.web.settings import Settings, SettingsError


def test_defaults_need_no_configuration() -> None:
    settings = Settings.from_env({})
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.data_dir == default_data_dir() == PROJECT_DIR / "data"  # a checkout


def test_the_environment_then_overrides_win() -> None:
    env = {"SESSION_VISUALIZER_PORT": "9000", "SESSION_VISUALIZER_DATA": "/tmp/x"}
    assert Settings.from_env(env).port == 9000
    assert Settings.from_env(env).data_dir == Path("/tmp/x")
    assert Settings.from_env(env, port=9100, host=None).port == 9100


def test_a_bad_value_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="SESSION_VISUALIZER_PORT='eighty'"):
        Settings.from_env({"SESSION_VISUALIZER_PORT": "eighty"})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SESSION_VISUALIZER_MAX_PARALLEL_RUNS", "0"),  # no run could ever start
        ("SESSION_VISUALIZER_PORT", "99999"),
        ("SESSION_VISUALIZER_PORT", "0"),
        ("SESSION_VISUALIZER_ROOM_IDLE_HOURS", "-1"),
        ("SESSION_VISUALIZER_HOST", ""),
    ],
)
def test_values_out_of_range_are_refused(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env({variable: value})


def test_a_bad_flag_is_named_as_the_flag_not_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"^port=70000"):
        Settings.from_env({}, port=70000)


def _readme_table() -> dict[str, tuple[str, str]]:
    """The README's settings table: variable -> (default, what it does)."""
    readme = (PROJECT_DIR / "README.md").read_text()
    rows = re.findall(r"^\| `(SESSION_VISUALIZER_\w+)` \| ([^|]+) \| ([^|]+) \|$", readme, re.M)
    return {name: (default.strip(), help.strip()) for name, default, help in rows}


def test_the_readme_table_lists_every_setting_with_its_default() -> None:
    table = _readme_table()
    names = Settings.env_names()
    assert set(table) == set(names.values())
    for name, field in Settings.model_fields.items():
        default, _ = table[names[name]]
        assert field.description, f"{name} has no help text"
        value = field.get_default(call_default_factory=True)
        if isinstance(value, Path):
            assert f"`{value.name}/`" in default, f"{names[name]}: README says {default!r}"
        elif value == "":
            assert default == "none", f"{names[name]}: README says {default!r}"
        elif isinstance(value, int | float):
            assert float(default.strip("`")) == value, f"{names[name]}: {default!r}"
        else:
            assert default == f"`{value}`", f"{names[name]}: README says {default!r}"


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("linux", {"HOME": "/home/ann"}, "/home/ann/.local/share/session-visualizer"),
        ("linux", {"HOME": "/home/ann", "XDG_DATA_HOME": "/data"}, "/data/session-visualizer"),
        (
            "darwin",
            {"HOME": "/Users/ann"},
            "/Users/ann/Library/Application Support/session-visualizer",
        ),
        (
            "win32",
            {"HOME": "C:/Users/ann", "LOCALAPPDATA": "C:/Local"},
            "C:/Local/session-visualizer",
        ),
    ],
)
def test_outside_a_checkout_runs_are_stored_in_the_users_data_folder(
    platform: str, environ: dict[str, str], expected: str
) -> None:
    assert default_data_dir(environ, platform, checkout=False) == Path(expected)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SESSION_VISUALIZER_DATABASE_URL", "not a url"),
        ("SESSION_VISUALIZER_DATABASE_URL", "mysql://root@localhost/db"),
        ("SESSION_VISUALIZER_REDIS_URL", "http://127.0.0.1:6379"),
        ("SESSION_VISUALIZER_REDIS_PREFIX", "has spaces"),
        ("SESSION_VISUALIZER_REDIS_PREFIX", ""),
    ],
)
def test_stores_and_buses_the_visualizer_cannot_use_are_refused(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env({variable: value})


def test_a_postgresql_url_gets_the_driver_the_visualizer_installs() -> None:
    settings = Settings.from_env({"SESSION_VISUALIZER_DATABASE_URL": "postgresql://u:p@db/runs"})
    assert settings.store_url == "postgresql+psycopg://u:p@db/runs"
    assert Settings.from_env({}).store_url.endswith("runs.db")
