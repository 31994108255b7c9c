"""Issue 13 item 3: no import circles in devframe.

The graph is read from the source with ``ast`` (tests/import_scan.py): every import
counts, at the top, inside functions and under ``if TYPE_CHECKING:``; relative imports
are resolved, and ``from devframe.x import name`` is an edge to ``devframe.x.name`` when
that is a module. A circle is a strongly connected component of more than one module, or
a module importing itself. The layers themselves are checked by test_layering.py.
"""

from __future__ import annotations

from pathlib import Path

from import_scan import REPO, Graph, circles, describe_circle, import_graph, within

PACKAGE = REPO / "devframe"

#: The core's circles as they are today: the core refactoring removes them, and empties
#: this list as it does (each entry: the modules of one strongly connected component).
KNOWN_CORE_CIRCLES_TO_REMOVE: list[list[str]] = [
    [
        "devframe.core.device",
        "devframe.core.devtype",
        "devframe.core.dispatch",
        "devframe.core.domain",
        "devframe.core.hookspecs",
        "devframe.core.metadata",
        "devframe.core.metadata.section",
        "devframe.core.prepare",
        "devframe.core.registry",
    ],
]


def _graph() -> tuple[Graph, dict[str, Path]]:
    graph, files = import_graph(PACKAGE)
    assert {"devframe.agent.host", "devframe.agent.guest", "devframe.core.domain", "devframe.cli"} <= set(graph)
    return graph, files


def _report(graph: Graph, files: dict[str, Path], found: list[list[str]]) -> str:
    return "\n".join(describe_circle(graph, files, circle) for circle in found)


def test_no_import_circle_outside_the_core() -> None:
    """The agent, the CLI, schema.py, testing.py and the package itself take part in no circle."""
    graph, files = _graph()
    found = [c for c in circles(graph) if not all(within(m, "devframe.core") for m in c)]
    assert not found, f"{len(found)} import circle(s) outside devframe.core:\n{_report(graph, files, found)}"


def test_core_circles_are_the_known_ones() -> None:
    """No new circle in the core, and every one removed is taken off the list."""
    graph, files = _graph()
    found = [c for c in circles(graph) if all(within(m, "devframe.core") for m in c)]
    print(f"core import circles ({len(found)}):\n{_report(graph, files, found)}")
    known = {tuple(c) for c in KNOWN_CORE_CIRCLES_TO_REMOVE}
    new = [c for c in found if tuple(c) not in known]
    gone = [list(c) for c in sorted(known - {tuple(c) for c in found})]
    message = []
    if new:
        message.append("import circles in devframe.core not in KNOWN_CORE_CIRCLES_TO_REMOVE:")
        message.append(_report(graph, files, new))
    if gone:
        message.append("circles in KNOWN_CORE_CIRCLES_TO_REMOVE that no longer exist (take them off):")
        message.extend(f"    {', '.join(c)}" for c in gone)
    if message:
        message.append(f"the core's circles now: KNOWN_CORE_CIRCLES_TO_REMOVE = {found!r}")
    assert not message, "\n".join(message)


def test_host_and_guest_do_not_import_each_other() -> None:
    """A Host is one connection, a Guest one domain: they meet only in devframe.agent (docs/agent.md)."""
    graph, _files = _graph()
    host, guest = "devframe.agent.host", "devframe.agent.guest"
    assert guest not in graph[host], f"{host} imports {guest} (lines {graph[host][guest]})"
    assert host not in graph[guest], f"{guest} imports {host} (lines {graph[guest][host]})"


# -- the checker itself -------------------------------------------------------------------------


def test_checker_finds_every_kind_of_circle(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "from pkg.a import A\n",
        # a <-> b: one at the top, one inside a function
        "a.py": "from pkg import b\nA = 1\n",
        "b.py": "def later():\n    from . import a\n",
        # c <-> d: under TYPE_CHECKING, and a plain `import x.y`
        "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.d import D\n",
        "d.py": "import pkg.c\nD = 1\n",
        # sub (the package) <-> sub.e: a module naming its parent package
        "sub/__init__.py": "from .e import E\n",
        "sub/e.py": "from pkg.sub import F\nE = 1\n",
        # a module importing itself, and importlib with a literal name
        "f.py": "import importlib\nimportlib.import_module('pkg.f')\n",
        # no circle: g imports h, h imports outside modules only
        "g.py": "from pkg.h import H\n",
        "h.py": "import os\nfrom lxml import etree\nH = 1\n",
    }
    for name, text in files.items():
        (pkg / name).write_text(text)
    graph, paths = import_graph(pkg)
    assert circles(graph) == [
        ["pkg.a", "pkg.b"],
        ["pkg.c", "pkg.d"],
        ["pkg.f"],
        ["pkg.sub", "pkg.sub.e"],
    ], graph
    assert "pkg" not in graph["pkg.a"]  # `from pkg import b` is an edge to the module b only
    assert graph["pkg"] == {"pkg.a": [1]}  # a name from a module: an edge to that module
    report = describe_circle(graph, paths, ["pkg.a", "pkg.b"], root=tmp_path)
    assert "pkg.a -> pkg.b  (pkg/a.py:1)" in report and "pkg.b -> pkg.a  (pkg/b.py:2)" in report
