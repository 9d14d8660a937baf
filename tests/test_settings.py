"""Settings: zero-configuration defaults, the environment, ranges, and every one documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from visualizer.locations import DATA_DIR, PROJECT_DIR
from visualizer.web.settings import Settings, SettingsError


def test_defaults_need_no_configuration() -> None:
    settings = Settings.from_env({})
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.data_dir == DATA_DIR


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
        if isinstance(field.default, Path):
            assert f"`{field.default.name}/`" in default, f"{names[name]}: README says {default!r}"
        elif field.default == "":
            assert default == "none", f"{names[name]}: README says {default!r}"
        elif isinstance(field.default, int | float):
            assert float(default.strip("`")) == field.default, f"{names[name]}: {default!r}"
        else:
            assert default == f"`{field.default}`", f"{names[name]}: README says {default!r}"
