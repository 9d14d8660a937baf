"""Scenario files: their declaration, read without running them, and a fresh module per run."""

from __future__ import annotations

import ast
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)

from visualizer.contract.trace import KeyMoment, Question
from visualizer.contract.validation import explain
from visualizer.locations import SCENARIO_DIR

GcPause = Literal["enabled", "paused"]


class ScenarioError(Exception):
    """A scenario file that cannot be used, or a name that names no scenario."""


class RequestDeclaration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: str = Field(pattern=r"^[A-Z]+$")
    path: str = Field(pattern=r"^/")


class ConcurrentDeclaration(BaseModel):
    """Requests sent at the same moment, one connection each."""

    model_config = ConfigDict(extra="forbid")

    concurrent: list[RequestDeclaration] = Field(min_length=2)


def _request_kind(entry: Any) -> str:
    is_group = isinstance(entry, ConcurrentDeclaration) or (
        isinstance(entry, dict) and "concurrent" in entry
    )
    return "concurrent" if is_group else "one"


class ScenarioDeclaration(BaseModel):
    """The `SCENARIO = {...}` literal at the end of a scenario file."""

    model_config = ConfigDict(extra="forbid")

    title: str
    summary: str
    requests: list[
        Annotated[
            Annotated[RequestDeclaration, Tag("one")]
            | Annotated[ConcurrentDeclaration, Tag("concurrent")],
            Discriminator(_request_kind),
        ]
    ] = Field(min_length=1)
    key_moments: list[KeyMoment] = []
    questions: list[Question] = []
    gc: GcPause = "enabled"
    order: int = 1000  # where lists show it: the textbook's scenarios first
    app: str | None = Field(default=None, description="the app's name, if there are several")

    @model_validator(mode="after")
    def _moments_say_what_they_claim(self) -> Self:
        # A key moment asserts something about the run: it must say what, so that a run
        # where it is not so is caught instead of narrated.
        for index, moment in enumerate(self.key_moments):
            if moment.claim is None:
                raise ValueError(f"key_moments[{index}] ({moment.at}) has no claim")
        return self


@dataclass(frozen=True, slots=True)
class PlannedRequest:
    """One request to send. Requests that share a `batch` number are sent at the same time."""

    method: str
    path: str
    batch: int | None = None  # None: sent on its own, after the previous one has finished


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
    gc: GcPause = "enabled"  # "paused": the run holds Python's cyclic garbage collector off
    questions: tuple[Question, ...] = ()
    order: int = 1000
    app: str | None = None  # the name of the ASGI app to serve; None: find the one there is

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


def _declared(path: Path, source: str) -> tuple[Any, int]:
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


def _planned(declared: ScenarioDeclaration) -> tuple[PlannedRequest, ...]:
    """The requests in order; each `{"concurrent": [...]}` entry becomes one batch."""
    planned: list[PlannedRequest] = []
    for batch, entry in enumerate(declared.requests):
        if isinstance(entry, ConcurrentDeclaration):
            planned += [PlannedRequest(r.method, r.path, batch) for r in entry.concurrent]
        else:
            planned.append(PlannedRequest(entry.method, entry.path))
    return tuple(planned)


def read_scenario(path: Path) -> Scenario:
    """Read one scenario file's declaration; its code does not run."""
    source = path.read_text(encoding="utf-8")
    meta, code_lines = _declared(path, source)
    try:
        declared = ScenarioDeclaration.model_validate(meta)
    except ValidationError as error:
        raise ScenarioError(f"{path.name}: SCENARIO: {explain(error)}") from None
    return Scenario(
        name=path.stem,
        title=declared.title,
        summary=declared.summary,
        requests=_planned(declared),
        key_moments=tuple(declared.key_moments),
        path=path,
        source=source,
        code_lines=code_lines,
        gc=declared.gc,
        questions=tuple(declared.questions),
        order=declared.order,
        app=declared.app,
    )


def parse_request(spec: str) -> PlannedRequest:
    """ "POST /items/?name=apple" as a planned request."""
    method, _, path = spec.strip().partition(" ")
    path = path.strip()
    if not method.isalpha() or not path.startswith("/"):
        raise ScenarioError(f"a request is METHOD /path, e.g. 'GET /items/', not {spec!r}")
    return PlannedRequest(method.upper(), path)


def read_program(path: Path, requests: list[str], app: str | None = None) -> Scenario:
    """Any program file: a scenario (its SCENARIO literal, if any) with these requests."""
    if not path.is_file():
        raise ScenarioError(f"no such file: {path}")
    planned = tuple(parse_request(spec) for spec in requests)
    source = path.read_text(encoding="utf-8")
    if "SCENARIO" in source:
        try:
            scenario = read_scenario(path)
        except ScenarioError:
            if not planned:
                raise
        else:
            return replace(scenario, requests=planned or scenario.requests, app=app or scenario.app)
    if not planned:
        raise ScenarioError(
            f"{path.name} declares no SCENARIO: say which requests to send, "
            "e.g. --request 'GET /items/'"
        )
    return Scenario(
        name=path.stem,
        title=path.name,
        summary=f"{path.name}, run with {len(planned)} request(s) given on the command line.",
        requests=planned,
        key_moments=(),
        path=path.resolve(),
        source=source,
        code_lines=len(source.splitlines()),
        app=app,
    )


def scenario_named(name: str, folder: Path = SCENARIO_DIR) -> Scenario:
    """The scenario called `name`, reading its file alone; `Registry(folder).get(name)`
    gives the same, after reading every file."""
    path = folder / f"{name}.py"
    if name.isidentifier() and not name.startswith("_") and path.is_file():
        return read_scenario(path)
    return Registry(folder).get(name)  # no such file: the registry's error lists the others


class Registry:
    """The scenarios in one folder, by name, in a stable order."""

    def __init__(self, folder: Path = SCENARIO_DIR) -> None:
        self.folder = folder
        found = sorted(map(read_scenario, folder.glob("[!_]*.py")), key=lambda s: (s.order, s.name))
        self._scenarios = {s.name: s for s in found}

    def __iter__(self) -> Iterator[Scenario]:
        return iter(self._scenarios.values())

    def __len__(self) -> int:
        return len(self._scenarios)

    @property
    def names(self) -> list[str]:
        return list(self._scenarios)

    def find(self, name: str) -> Scenario | None:
        return self._scenarios.get(name)

    def get(self, name: str) -> Scenario:
        scenario = self.find(name)
        if scenario is None:
            available = ", ".join(self._scenarios)
            raise ScenarioError(f"unknown scenario {name!r}; available: {available}")
        return scenario
