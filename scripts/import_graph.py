"""Count the package's own imports placed inside functions, and find import cycles.

Import-linter checks the layers, but it cannot see a cycle that is only hidden: an import
moved inside a function still ties two modules together, it merely dodges the error at
import time. This script reads every module of `deliberation` with `ast`, so it counts
those imports too, and fails (exit 1) when

- any cycle exists among the package's modules, top-level and function-level imports
  counted alike, or
- more than MAX_LOCAL imports of the package's own modules sit inside functions, outside
  the app factory (`create_app` in `deliberation/__init__.py`, whose job is the late imports).

    python scripts/import_graph.py            # summary, exit status
    python scripts/import_graph.py --list     # every function-level import, with its line
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "deliberation"
MAX_LOCAL = 5
# The app factory wires blueprints and extensions together; a late import there is the
# factory's purpose, not a hidden dependency.
FACTORY_MODULES = {"deliberation"}


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int
    local: bool


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def resolve(source: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module an ImportFrom names (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    base = source.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(path: Path, modules: set[str]) -> list[Import]:
    source = module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []

    def known(name: str) -> str | None:
        # The longest known module that `name` names or lies inside.
        while name:
            if name in modules:
                return name
            name = name.rpartition(".")[0]
        return None

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = resolve(source, path.name == "__init__.py", child)
                # `from pkg import module` imports the module; `from module import name`
                # imports the module that holds the name.
                names = [f"{base}.{alias.name}" for alias in child.names]
                names = [n for n in names if n in modules] or [base]
            else:
                visit(child, inner)
                continue
            if _type_checking_only(node, child):
                continue
            for name in names:
                target = known(name)
                if target and target != source and target.startswith(PACKAGE):
                    found.append(Import(source, target, child.lineno, in_function))

    visit(tree, False)
    # One edge per (target, line): `from a import b, c` is one import.
    unique = {(i.target, i.line): i for i in found}
    return list(unique.values())


def _type_checking_only(parent: ast.AST, node: ast.AST) -> bool:
    """Imports under `if TYPE_CHECKING:` never run; they are no dependency at run time."""
    return (
        isinstance(parent, ast.If)
        and isinstance(parent.test, ast.Name)
        and parent.test.id == "TYPE_CHECKING"
        and node in parent.body
    )


def collect() -> list[Import]:
    paths = sorted((ROOT / PACKAGE).rglob("*.py"))
    modules = {module_name(p) for p in paths}
    found: list[Import] = []
    for path in paths:
        found.extend(imports_of(path, modules))
    return found


def cycles(found: list[Import]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), sorted.

    A module that imports a submodule of its own package is not a cycle with the
    package's `__init__`: importing `a.b` runs `a/__init__` first, which is the order
    Python needs anyway, so edges from a package to its own submodules are left out.
    """
    graph: dict[str, set[str]] = {}
    for imp in found:
        if imp.target.startswith(imp.source + "."):
            continue
        graph.setdefault(imp.source, set()).add(imp.target)
        graph.setdefault(imp.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    counter = 0

    def strongconnect(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for succ in graph[node]:
            if succ not in index:
                strongconnect(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            strongconnect(node)
    return sorted(result)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="list function-level imports")
    args = parser.parse_args(argv)
    found = collect()
    # One function-level import statement counts once, whatever it names.
    local = sorted(
        {(i.source, i.line): i for i in found if i.local and i.source not in FACTORY_MODULES}
        .values(),
        key=lambda i: (i.source, i.line),
    )
    found_cycles = cycles(found)
    if args.list:
        for imp in local:
            print(f"{imp.source}:{imp.line} -> {imp.target}")
    print(f"function-level imports of the package's own modules: {len(local)} "
          f"(at most {MAX_LOCAL})")
    print(f"import cycles: {len(found_cycles)}")
    for component in found_cycles:
        print("  cycle: " + ", ".join(component))
    return 0 if len(local) <= MAX_LOCAL and not found_cycles else 1


if __name__ == "__main__":
    sys.exit(main())
