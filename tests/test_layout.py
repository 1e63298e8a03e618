"""The package's structure rules, checked from its source: no import cycle (module level or
inside functions), data flows down (ops -> engines -> backends), no private name used across
packages, and no module over 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "src"
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / "xpkern").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _package(module: str) -> str:
    is_package = MODULES[module].name == "__init__.py"
    return module if is_package else module.rpartition(".")[0]


def _base(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = _package(module).split(".")
    parts = parts[: len(parts) - node.level + 1]
    return ".".join(parts + ([node.module] if node.module else []))


def _imports(module: str) -> list[tuple[str, str | None, int]]:
    """(target module, private name taken from it or None, line) for each import."""
    tree = ast.parse(MODULES[module].read_text())
    found: list[tuple[str, str | None, int]] = []
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in MODULES:
                    found.append((alias.name, None, node.lineno))
                    aliases[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom):
            base = _base(module, node)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in MODULES:
                    found.append((full, None, node.lineno))
                    aliases[alias.asname or alias.name] = full
                elif base in MODULES:
                    private = alias.name if alias.name.startswith("_") else None
                    found.append((base, private, node.lineno))
    for node in ast.walk(tree):  # module._name, for modules imported above
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and f"{aliases[node.value.id]}.{node.attr}" not in MODULES):  # fmt: skip
            found.append((aliases[node.value.id], node.attr, node.lineno))
    return found


GRAPH = {m: {t for t, _, _ in _imports(m) if t != m} for m in MODULES}


def _cycles() -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in GRAPH:
        if v not in index:
            visit(v)
    return cycles


def test_no_import_cycle():
    assert _cycles() == []


@pytest.mark.parametrize(("lower", "upper"), [("xpkern.backends", "xpkern.engines"),
                                              ("xpkern.backends", "xpkern.ops"),
                                              ("xpkern.engines", "xpkern.ops")])  # fmt: skip
def test_data_flows_down(lower, upper):
    wrong = [(m, t) for m, targets in GRAPH.items() if m.startswith(lower)
             for t in targets if t.startswith(upper)]  # fmt: skip
    assert wrong == []


def test_no_private_name_across_packages():
    wrong = [f"{MODULES[m].relative_to(ROOT)}:{line} takes {name} from {target}"
             for m in MODULES for target, name, line in _imports(m)
             if name is not None and _package(target) != _package(m)]  # fmt: skip
    assert wrong == []


def test_no_module_over_the_limit():
    sizes = {m: len(p.read_text().splitlines()) for m, p in MODULES.items()}
    assert {m: n for m, n in sizes.items() if n > MAX_LINES} == {}


def test_the_checks_see_the_package():
    # A guard against a checker that passes because it reads nothing.
    assert len(MODULES) > 40
    assert "xpkern.engines.cuda.launch" in GRAPH["xpkern.ops.elementwise.cuda"] | {
        t for m in GRAPH["xpkern.ops.elementwise.cuda"] for t in GRAPH.get(m, ())
    }
    assert "xpkern.ops.special.core" in GRAPH["xpkern.ops.special.cuda"]
