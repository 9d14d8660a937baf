"""Shared fixtures: the scenario registry, and each scenario run once per test session."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from visualizer.runner import run_scenario
from visualizer.scenarios import Registry
from visualizer.trace import Trace


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry()


@pytest.fixture(scope="session")
def traced(registry: Registry) -> Callable[[str], Trace]:
    """`traced(name)`: the trace of one real run of that scenario, run at most once."""
    cache: dict[str, Trace] = {}

    def get(name: str) -> Trace:
        if name not in cache:
            cache[name] = run_scenario(registry.get(name))
        return cache[name]

    return get
