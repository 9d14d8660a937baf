"""Settings: zero-configuration defaults, the environment, and every one documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from visualizer.settings import PROJECT_DIR, SETTINGS, Settings, SettingsError


def test_defaults_need_no_configuration() -> None:
    settings = Settings.from_env({})
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.data_dir == PROJECT_DIR / "data"


def test_the_environment_then_overrides_win() -> None:
    env = {"SESSION_VISUALIZER_PORT": "9000", "SESSION_VISUALIZER_DATA": "/tmp/x"}
    assert Settings.from_env(env).port == 9000
    assert Settings.from_env(env).data_dir == Path("/tmp/x")
    assert Settings.from_env(env, port=9100, host=None).port == 9100


def test_a_bad_value_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="SESSION_VISUALIZER_PORT='eighty'"):
        Settings.from_env({"SESSION_VISUALIZER_PORT": "eighty"})


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (PROJECT_DIR / "README.md").read_text()
    for setting in SETTINGS:
        assert setting.env in readme, f"{setting.env} is not in the README"
        assert setting.help
