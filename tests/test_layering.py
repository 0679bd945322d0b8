"""The harness's layering, read from its source with ``ast``: which module may import which.

A reader should be able to tell the engine from the checks: the case engine builds and runs a
case and knows no check; each check imports the engine; ``check.py`` turns checks into
records. Layout transforms sit below the spec and the bridge, which do not import each other.
Every import counts, a function-level (lazy) one included: a cycle hidden in a function body
is still a cycle for the reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "harness"


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every ``harness`` module a file imports, anywhere in it (``from harness import x`` names x)."""
    found: set[str] = set()
    modules = {_module(p) for p in HARNESS.rglob("*.py")}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("harness"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("harness"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in modules)
    return found - {_module(path)}


GRAPH = {_module(p): _imports(p) for p in HARNESS.rglob("*.py")}


def _reaches(start: str, goal: str, *, inside: bool = True) -> bool:
    """Whether ``start`` imports ``goal`` (or, with ``inside``, a module inside it), directly or not."""
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        for nxt in GRAPH.get(node, ()):
            if nxt == goal or (inside and nxt.startswith(goal + ".")):
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def test_the_harness_has_no_import_cycle():
    cycles = sorted(m for m in GRAPH if _reaches(m, m, inside=False))
    assert not cycles, f"modules on an import cycle: {cycles}"


@pytest.mark.parametrize("low, high", [
    ("harness.layouts", "harness"),  # imports no harness module at all
    ("harness.spec", "harness.bridge"),
    ("harness.bridge", "harness.spec"),
    ("harness.engine", "harness.checks"),
    ("harness.engine", "harness.check"),
    ("harness.checks", "harness.check"),
    ("harness.compare", "harness.engine"),
    ("harness.oracle", "harness.engine"),
    ("harness.coverage", "harness.engine"),
])
def test_a_lower_layer_never_imports_a_higher_one(low, high):
    offenders = sorted(m for m in GRAPH if (m == low or m.startswith(low + ".")) and _reaches(m, high))
    assert not offenders, f"{offenders} import {high} (directly or through another module)"


def test_every_check_has_a_runner_in_the_one_dispatch_table():
    from harness.checks import RUNNERS
    from harness.spec import CHECKS

    assert set(RUNNERS) == set(CHECKS)
