"""A step-by-step visualizer of the database session lifecycle in FastAPI with SQLAlchemy.

`from visualizer import watch` mounts its live page in an app started its own way; nothing
is imported before it is asked for.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "watch":
        from visualizer.mount import watch

        globals()["watch"] = watch  # a module named `watch` would shadow it: see mount.py
        return watch
    raise AttributeError(f"module 'visualizer' has no attribute {name!r}")
