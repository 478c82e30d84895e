"""Every name the benchmark scripts take from the package exists there (QA85 F1: after api.py was split
into modules, `benchmarks/bench_real.py` called `api._preload_outputs`, which no longer was in api, and
crashed on every case; the benchmarks are run by hand, not by the suite). Read from the scripts' source:
each ``module.name`` on a module imported from ``territory_planner``, and each ``from ... import name``."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BENCHMARKS = sorted((Path(__file__).resolve().parent.parent / "benchmarks").glob("*.py"))


def _names_used(path: Path) -> list[tuple[str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: dict[str, str] = {}  # local name -> module path
    used: list[tuple[str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("territory_planner"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                try:
                    importlib.import_module(full)
                except ImportError:  # a name, not a module
                    used.append((node.module, alias.name))
                else:
                    modules[alias.asname or alias.name] = full
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("territory_planner") and alias.asname:
                    modules[alias.asname] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
            used.append((modules[node.value.id], node.attr))
    return used


@pytest.mark.parametrize("path", BENCHMARKS, ids=[p.name for p in BENCHMARKS])
def test_every_package_name_a_benchmark_uses_exists(path: Path) -> None:
    missing = [
        f"{module}.{name}"
        for module, name in _names_used(path)
        if not hasattr(importlib.import_module(module), name)
    ]
    assert not missing, f"{path.name} uses names the package no longer has: {missing}"


def test_the_check_sees_the_benchmarks_names() -> None:
    """The reader finds what bench_real.py takes from api (else the test above could not fail)."""
    used = _names_used(next(p for p in BENCHMARKS if p.name == "bench_real.py"))
    assert ("territory_planner.api", "_preload_outputs") in used
    assert ("territory_planner.api", "solve") in used
