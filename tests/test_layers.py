"""The package's layers: imports flow one way, from the pure core outwards, with no cycles.

Every import counts: at module level, inside functions, and under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "visualizer"

# What each layer may import besides itself. Sub-packages are layers; so are the
# top-level modules `locations` (where our files are), `app` (the composition root), and
# `__main__`, and `mount` (`watch(app)`, which builds the app, mounted in another).
ALLOWED: dict[str, set[str]] = {
    "locations": set(),
    "contract": set(),
    "bus": set(),
    "lesson": {"contract"},
    "capture": {"contract"},
    "execution": {"contract", "capture", "lesson", "locations"},
    "web": {"contract", "lesson", "execution", "bus", "locations"},
    "classroom": {"contract", "lesson", "web", "bus"},
    "live": {"contract", "capture", "lesson", "execution", "web", "locations"},
    "app": {"contract", "execution", "web", "classroom", "live", "bus", "locations"},
    "mount": {"app", "capture", "live", "web"},
    "cli": {"contract", "lesson", "execution", "web", "live", "app", "locations"},
    "__main__": {"cli"},
    "__init__": {"mount"},  # `from visualizer import watch`, imported when it is asked for
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _layer(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def _imports(module: str, source: str, is_package: bool = False) -> set[str]:
    """Every visualizer module `source` imports, wherever the import statement sits."""
    package = module if is_package else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:  # `from pkg import mod` imports a module when there is one
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {name for name in found if name.split(".")[0] == "visualizer" and name != module}


GRAPH = {
    module: _imports(module, path.read_text(), path.name == "__init__.py")
    for module, path in MODULES.items()
}


def test_every_layer_is_known_and_says_what_it_may_import() -> None:
    for module, path in MODULES.items():
        assert _layer(module) in ALLOWED, f"{module}: a layer the check does not know"
        if path.name == "__init__.py" and module != "visualizer":
            docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
            assert "may import" in docstring, f"{module}: say what the layer may import"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_go_down_the_layers(module: str) -> None:
    mine = _layer(module)
    wrong = {
        imported
        for imported in GRAPH[module]
        if _layer(imported) != mine and _layer(imported) not in ALLOWED[mine]
    }
    assert not wrong, f"{module} ({mine}) may not import {sorted(wrong)}"


def test_no_module_imports_itself_through_others() -> None:
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycle = [*path[path.index(module) :], module]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        for imported in sorted(GRAPH.get(module, ())):
            visit(imported, [*path, module])
        done.add(module)

    for module in sorted(GRAPH):
        visit(module, [])


def test_the_check_sees_imports_in_functions_and_under_type_checking() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from visualizer.web.stage import stage_context\n"
        "def later():\n"
        "    from visualizer.classroom import hub\n"
        "    from . import narration\n"
    )
    assert _imports("visualizer.lesson.probe", source) == {
        "visualizer.web.stage",
        "visualizer.classroom.hub",
        "visualizer.lesson.narration",
    }
