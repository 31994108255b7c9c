"""Issue 13 item 3: no import circles in devframe.

The graph is read from the source with ``ast`` (tests/import_scan.py): every import
counts, at the top, inside functions and under ``if TYPE_CHECKING:``; relative imports
are resolved, and ``from devframe.x import name`` is an edge to ``devframe.x.name`` when
that is a module. A circle is a strongly connected component of more than one module, or
a module importing itself. The layers themselves are checked by test_layering.py.
"""

from __future__ import annotations

from pathlib import Path

from import_scan import REPO, Graph, circles, describe_circle, import_graph

PACKAGE = REPO / "devframe"


def _graph() -> tuple[Graph, dict[str, Path]]:
    graph, files = import_graph(PACKAGE)
    assert {
        "devframe.agent.host",
        "devframe.agent.guest",
        "devframe.core.domain",
        "devframe.cli",
        "devframe.fleet.agent",
        "devframe.fleet.jetstream",
    } <= set(graph)
    return graph, files


def _report(graph: Graph, files: dict[str, Path], found: list[list[str]]) -> str:
    return "\n".join(describe_circle(graph, files, circle) for circle in found)


def test_no_import_circle_anywhere_in_devframe() -> None:
    """The core, the agent, the CLI, schema.py, testing.py and the package itself."""
    graph, files = _graph()
    found = circles(graph)
    assert not found, f"{len(found)} import circle(s) in devframe:\n{_report(graph, files, found)}"


def test_guest_never_imports_host() -> None:
    """A Host is one connection and makes Guests; a Guest is one domain and sees its Host
    only through the GuestHost interface (docs/agent.md)."""
    graph, _files = _graph()
    host, guest = "devframe.agent.host", "devframe.agent.guest"
    assert host not in graph[guest], f"{guest} imports {host} (lines {graph[guest][host]})"
    assert guest in graph[host], "the Host makes its Guests"


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
