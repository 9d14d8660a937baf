"""The wheel carries every sub-package: pyproject.toml lists them by hand, so one can be missed."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_sub_package_is_in_the_wheel() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "visualizer").rglob("__init__.py")
    }
    assert found, "no package found"
    assert found <= listed, f"missing from [tool.setuptools] packages: {sorted(found - listed)}"
