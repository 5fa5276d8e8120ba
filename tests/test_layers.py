"""No loop between packages, whatever the layers allow.

`lint-imports` (pyproject.toml) keeps imports pointing down the layers; this makes "no loop"
exact at package level, and covers what grimp cannot take as a root package: the top-level
modules (settings.py, starter.py, worker.py) and bench/.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PACKAGES: list[str] = CONFIG["tool"]["importlinter"]["root_packages"]
OUTSIDE = {"demo", "emulators", "bench", "tests"}
FACES = {"starter", "worker"}


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, include_external_packages=True)


def _package_edges(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {p: set() for p in PACKAGES}
    for module in graph.modules:
        top = module.split(".")[0]
        if top not in edges:
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            target = imported.split(".")[0]
            if target != top and target in edges:
                edges[top].add(target)
    return edges


def _reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(edges[start])
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(edges[node])
    return seen


def test_no_package_imports_itself_through_others() -> None:
    edges = _package_edges(_graph())
    loops = sorted(p for p in edges if p in _reachable(edges, p))
    assert loops == [], f"packages in an import loop: {loops}"


def test_product_code_never_imports_the_faces_or_bench() -> None:
    graph = _graph()
    found = sorted(
        f"{importer} -> {target}"
        for target in FACES | {"bench"}
        if target in graph.modules
        for importer in graph.find_modules_that_directly_import(target)
        if importer.split(".")[0] not in OUTSIDE
    )
    assert found == []


def test_settings_imports_no_product_package() -> None:
    tree = ast.parse((ROOT / "settings.py").read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert imported.isdisjoint(set(PACKAGES) | FACES)
