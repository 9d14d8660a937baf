"""Scenario files: their metadata, read without running them, and a fresh module per run."""

from __future__ import annotations

import ast
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from visualizer.questions import QuestionError, read_questions

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"


class ScenarioError(Exception):
    """A scenario file that cannot be used, or a name that names no scenario."""


GC_MODES = ("enabled", "paused")


@dataclass(frozen=True, slots=True)
class PlannedRequest:
    """One request to send. Requests that share a `batch` number are sent at the same time."""

    method: str
    path: str
    batch: int | None = None  # None: sent on its own, after the previous one has finished


@dataclass(frozen=True, slots=True)
class KeyMoment:
    """A sentence that explains one event: the first event of kind `at` (in `request`, if given)."""

    at: str
    text: str
    request: int | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title: str
    summary: str
    requests: tuple[PlannedRequest, ...]
    key_moments: tuple[KeyMoment, ...]
    path: Path
    source: str
    code_lines: int  # the code shown is lines 1..code_lines; the SCENARIO block follows it
    gc: str = "enabled"  # "paused": the run holds Python's cyclic garbage collector off
    questions: tuple[dict[str, Any], ...] = ()  # predict questions, checked on reading
    order: int = 1000  # where lists show it: the textbook's scenarios first

    @property
    def code(self) -> str:
        return "\n".join(self.source.splitlines()[: self.code_lines]).rstrip() + "\n"

    def load(self, database_url: str, module_name: str) -> dict[str, Any]:
        """Run the scenario's code in a fresh module, its engine bound to `database_url`."""
        module = types.ModuleType(module_name)
        module.__file__ = str(self.path)
        module.DATABASE_URL = database_url  # type: ignore[attr-defined]
        # Pydantic and FastAPI resolve a model's annotations through sys.modules.
        sys.modules[module_name] = module
        exec(compile(self.source, str(self.path), "exec"), module.__dict__)
        return module.__dict__


def _declared(path: Path, source: str) -> tuple[dict[str, Any], int]:
    tree = ast.parse(source, filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "SCENARIO" for t in node.targets
        ):
            try:
                meta = ast.literal_eval(node.value)
            except ValueError as error:
                raise ScenarioError(f"{path.name}: SCENARIO must be a literal dict") from error
            return meta, node.lineno - 1
    raise ScenarioError(f"{path.name}: no SCENARIO = {{...}} block")


def _planned(entries: list[dict[str, Any]], name: str) -> tuple[PlannedRequest, ...]:
    """The requests in order; each `{"concurrent": [...]}` entry becomes one batch."""
    planned: list[PlannedRequest] = []
    for batch, entry in enumerate(entries):
        if "concurrent" in entry:
            group = entry["concurrent"]
            if not isinstance(group, list) or len(group) < 2:
                raise ScenarioError(f"{name}: 'concurrent' needs a list of two or more requests")
            planned += [PlannedRequest(r["method"], r["path"], batch) for r in group]
        else:
            planned.append(PlannedRequest(entry["method"], entry["path"]))
    return tuple(planned)


def read_scenario(path: Path) -> Scenario:
    """Read one scenario file's declaration; its code does not run."""
    source = path.read_text(encoding="utf-8")
    meta, code_lines = _declared(path, source)
    try:
        return Scenario(
            name=path.stem,
            title=str(meta["title"]),
            summary=str(meta["summary"]),
            requests=_planned(meta["requests"], path.name),
            key_moments=tuple(
                KeyMoment(m["at"], m["text"], m.get("request")) for m in meta["key_moments"]
            ),
            path=path,
            source=source,
            code_lines=code_lines,
            gc=_gc_mode(meta, path.name),
            questions=_questions(meta, path.name),
            order=int(meta.get("order", 1000)),
        )
    except (KeyError, TypeError) as error:
        raise ScenarioError(f"{path.name}: SCENARIO is missing {error}") from error


def _questions(meta: dict[str, Any], name: str) -> tuple[dict[str, Any], ...]:
    raw = meta.get("questions", [])
    try:
        read_questions(raw if isinstance(raw, list) else [None])
    except QuestionError as error:
        raise ScenarioError(f"{name}: {error}") from None
    return tuple(raw)


def _gc_mode(meta: dict[str, Any], name: str) -> str:
    mode = meta.get("gc", "enabled")
    if mode not in GC_MODES:
        raise ScenarioError(f"{name}: 'gc' must be one of {', '.join(GC_MODES)}, not {mode!r}")
    return str(mode)


class Registry:
    """The scenarios in one folder, by name, in a stable order."""

    def __init__(self, folder: Path = SCENARIO_DIR) -> None:
        self.folder = folder
        found = sorted(map(read_scenario, folder.glob("[!_]*.py")), key=lambda s: (s.order, s.name))
        self._scenarios = {s.name: s for s in found}

    def __iter__(self) -> Any:
        return iter(self._scenarios.values())

    def __len__(self) -> int:
        return len(self._scenarios)

    @property
    def names(self) -> list[str]:
        return list(self._scenarios)

    def get(self, name: str) -> Scenario:
        try:
            return self._scenarios[name]
        except KeyError:
            available = ", ".join(self._scenarios)
            raise ScenarioError(f"unknown scenario {name!r}; available: {available}") from None
