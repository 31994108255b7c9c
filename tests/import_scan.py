"""Reading imports from source with ``ast``: shared by test_layering.py and test_import_graph.py.

Every import counts wherever it is written: at the top, inside a function, under
``if TYPE_CHECKING:``, and ``importlib.import_module("x")`` / ``__import__("x")`` with a
literal name (``tests`` is on pytest's pythonpath).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: module -> {imported module: [line, ...]}
Graph = dict[str, dict[str, list[int]]]


def imports(path: Path) -> Iterator[tuple[int, str, tuple[str, ...]]]:
    """(line, module, imported names) for every import in ``path``, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = package_of(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                module = ".".join([*base, module] if module else base)
            yield node.lineno, module, tuple(a.name for a in node.names)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                yield node.lineno, node.args[0].value, ()


def package_of(path: Path) -> str:
    """The dotted package a file's relative imports start from (its folder, for ``__init__.py`` too)."""
    parts: list[str] = []
    folder = path.parent
    while (folder / "__init__.py").exists():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts)


def module_name(path: Path) -> str:
    """The dotted name of the module in ``path`` (a package's ``__init__.py`` is the package)."""
    package = package_of(path)
    return package if path.name == "__init__.py" else f"{package}.{path.stem}"


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def py_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def import_graph(package_dir: Path) -> tuple[Graph, dict[str, Path]]:
    """The import graph of the package in ``package_dir``, and each module's file.

    ``from pkg import name`` is an edge to ``pkg.name`` when that is a module, else to
    ``pkg`` (a name defined there). ``import a.b.c`` is an edge to ``a.b.c`` (or the
    nearest enclosing module of the package when that is not one). Only modules of the
    package are nodes; the parent packages Python runs on the way to a module are not
    edges of their own (every module would then import its package's ``__init__``), but
    a module that names its parent package (``from devframe.core.metadata import NS`` in
    ``devframe.core.metadata.section``) has that edge.
    """
    files = {module_name(path): path for path in py_files(package_dir)}
    graph: Graph = {module: {} for module in files}

    def known(target: str) -> str | None:
        while target and target not in files:
            target = target.rpartition(".")[0]
        return target or None

    for module, path in files.items():
        for line, imported, names in imports(path):
            targets = [f"{imported}.{n}" if f"{imported}.{n}" in files else imported for n in names] or [imported]
            for target in targets:
                found = known(target)
                if found is not None:
                    graph[module].setdefault(found, []).append(line)
    return graph, files


def circles(graph: Graph) -> list[list[str]]:
    """Every strongly connected component with more than one module, and every module
    that imports itself; each sorted, the list sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's algorithm; the graph is small enough to recurse
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph.get(module, {}):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1 or module in graph.get(module, {}):
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


def describe_circle(graph: Graph, files: dict[str, Path], circle: list[str], root: Path = REPO) -> str:
    """The circle's modules, then each import between them with its file and line."""
    members = set(circle)
    lines = [f"circle of {len(circle)} module(s): {', '.join(circle)}"]
    for module in circle:
        for target, at in sorted(graph[module].items()):
            if target in members:
                where = ", ".join(f"{files[module].relative_to(root)}:{n}" for n in sorted(set(at)))
                lines.append(f"    {module} -> {target}  ({where})")
    return "\n".join(lines)
