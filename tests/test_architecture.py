"""The layers of the package, read off its source: imports go one way, no module imports
another's private name, and there is no import cycle between modules or between packages.

The layers (docs/design.md): the foundation (errors, trusted, version) <- engines <- the
exact-expectation layer and the kernel <- rules and witnesses (beside each other, never importing
each other) and the language <- the LaTeX printers <- the front-ends. Every import counts,
including those inside functions.
"""

from __future__ import annotations

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "tpcheck"

FOUNDATION = {"tpcheck.errors", "tpcheck.text", "tpcheck.trusted", "tpcheck.version"}
PRINTERS = {"tpcheck.latex", "tpcheck.latex.document", "tpcheck.latex.expressions"}

#: layer -> the layers its modules may import.
ALLOWED = {
    "foundation": {"foundation"},
    "engines": {"foundation", "engines"},
    "expectations": {"foundation", "engines", "expectations"},
    "kernel": {"foundation", "engines", "kernel"},
    "rules": {"foundation", "engines", "expectations", "kernel", "rules"},
    "witness": {"foundation", "engines", "expectations", "kernel", "witness"},
    "lang": {"foundation", "engines", "kernel", "lang"},
    "printers": {"foundation", "kernel", "lang", "printers"},
    "front-ends": {"foundation", "engines", "expectations", "kernel", "rules", "witness", "lang",
                   "printers", "front-ends"},
}

#: the one module of tpcheck.rules that rule modules may import (it registers no rule).
RULES_SUPPORT = "tpcheck.rules.common"


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> str:
    if module in FOUNDATION:
        return "foundation"
    if module in PRINTERS:
        return "printers"
    parts = module.split(".")
    if len(parts) > 2 and parts[1] in ("engines", "expectations", "kernel", "rules", "witness", "lang"):
        return parts[1]
    if module in ("tpcheck.engines", "tpcheck.expectations", "tpcheck.kernel", "tpcheck.rules",
                  "tpcheck.witness", "tpcheck.lang"):
        return parts[1]
    return "front-ends"


def imports(module: str) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every tpcheck import in the module."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names if a.name.split(".")[0] == "tpcheck"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "tpcheck":
                continue
            names = [a.name for a in node.names]
            submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
            out += [(s, [], node.lineno) for s in submodules]
            rest = [n for n in names if f"{target}.{n}" not in MODULES]
            if rest or not submodules:
                out.append((target, rest, node.lineno))
    return out


def edges() -> dict[str, set[str]]:
    return {m: {t for t, _, _ in imports(m) if t in MODULES and t != m} for m in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 or module in (
        "tpcheck.engines", "tpcheck.expectations", "tpcheck.kernel", "tpcheck.rules",
        "tpcheck.witness", "tpcheck.lang", "tpcheck.latex") else module


def test_the_scan_sees_the_package():
    assert {"tpcheck.kernel.check", "tpcheck.engines.gaussian", "tpcheck.rules.common",
            "tpcheck.api"} <= set(MODULES)
    assert layer("tpcheck.engines.gaussian") == "engines"
    assert layer("tpcheck.latex.document") == "printers"
    assert layer("tpcheck.cli") == "front-ends"
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def test_imports_go_one_way():
    wrong = []
    for m in MODULES:
        for target, _, line in imports(m):
            assert target in MODULES, f"{m}:{line} imports {target}, which the scan does not know"
            if layer(target) not in ALLOWED[layer(m)]:
                wrong.append(f"{m}:{line} ({layer(m)}) imports {target} ({layer(target)})")
    assert wrong == []


def test_no_rule_module_imports_another():
    wrong = []
    for m in MODULES:
        if layer(m) != "rules" or m in ("tpcheck.rules", RULES_SUPPORT):
            continue
        for target, _, line in imports(m):
            if layer(target) == "rules" and target != RULES_SUPPORT:
                wrong.append(f"{m}:{line} imports {target}")
    assert wrong == []
    assert not [t for t, _, _ in imports(RULES_SUPPORT) if layer(t) == "rules"]


def test_no_module_imports_a_private_name():
    wrong = [f"{m}:{line} imports {name} from {target}"
             for m in MODULES for target, names, line in imports(m)
             for name in names if name.startswith("_") and not name.startswith("__") and target != m]
    assert wrong == []


def test_no_import_cycle_between_modules():
    assert cycles(edges()) == []


def test_no_import_cycle_between_packages():
    graph: dict[str, set[str]] = {}
    for m, targets in edges().items():
        graph.setdefault(package_of(m), set()).update(
            package_of(t) for t in targets if package_of(t) != package_of(m))
    assert cycles(graph) == []
