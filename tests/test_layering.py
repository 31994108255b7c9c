"""The layers: the core never imports the agent, the CLI or a plugin; plugins use only ``devframe``.

Checked with ``ast`` over the source files, so lazy imports inside functions count too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORE = REPO / "devframe" / "core"
PLUGINS = REPO / "plugins"

PLUGIN_PACKAGES = sorted(p.name for p in PLUGINS.glob("*/devframe_*") if p.is_dir())


def imports(path: Path) -> Iterator[tuple[int, str, tuple[str, ...]]]:
    """(line, module, imported names) for every import in ``path``, relative ones resolved.

    ``importlib.import_module("x")`` and ``__import__("x")`` with a literal name count too.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _package_of(path)
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


def _package_of(path: Path) -> str:
    parts: list[str] = []
    folder = path.parent
    while (folder / "__init__.py").exists():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts)


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _py_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def core_violations(path: Path, root: Path = REPO) -> list[str]:
    found = []
    for line, module, names in imports(path):
        targets = [module] + [f"{module}.{n}" for n in names]
        for target in targets:
            reason = None
            if _within(target, "devframe.agent"):
                reason = "the libvirt agent layer (devframe.agent)"
            elif _within(target, "devframe.cli"):
                reason = "the CLI (devframe.cli)"
            elif _within(target, "libvirt"):
                reason = "libvirt (only devframe.agent talks to libvirt)"
            elif target.split(".")[0].startswith("devframe_"):
                reason = f"the plugin package {target.split('.')[0]}"
            if reason:
                found.append(f"{path.relative_to(root)}:{line}: the core imports {target}: {reason}")
                break
    return found


def plugin_violations(path: Path, own: str, root: Path = REPO) -> list[str]:
    found = []
    for line, module, names in imports(path):
        where = f"{path.relative_to(root)}:{line}"
        top = module.split(".")[0]
        if top == "devframe":
            if module != "devframe":
                found.append(f"{where}: imports {module}; plugins import only from the public API `devframe`")
            else:
                private = [n for n in names if n in ("core", "agent", "cli", "testing") or n.startswith("_")]
                if private:
                    found.append(f"{where}: imports {', '.join(private)} from devframe; use the public API")
        elif top.startswith("devframe_") and top != own:
            found.append(f"{where}: imports another plugin ({module}); plugins are independent")
        elif top == "libvirt":
            found.append(f"{where}: imports libvirt; plugins never talk to libvirt")
    return found


def test_core_sources_exist() -> None:
    assert len(_py_files(CORE)) >= 8
    assert len(PLUGIN_PACKAGES) >= 6, PLUGIN_PACKAGES


def test_core_never_imports_agent_cli_or_plugins() -> None:
    problems = [p for path in _py_files(CORE) for p in core_violations(path)]
    assert not problems, "layering broken:\n" + "\n".join(problems)


@pytest.mark.parametrize("package", PLUGIN_PACKAGES)
def test_plugins_import_only_the_public_api(package: str) -> None:
    root = next(PLUGINS.glob(f"*/{package}"))
    problems = [p for path in _py_files(root) for p in plugin_violations(path, package)]
    assert not problems, "layering broken:\n" + "\n".join(problems)


# -- the checker itself -------------------------------------------------------------------------


def test_checker_catches_each_kind_of_violation(tmp_path: Path) -> None:
    core = tmp_path / "devframe" / "core"
    core.mkdir(parents=True)
    (tmp_path / "devframe" / "__init__.py").write_text("")
    (core / "__init__.py").write_text("")
    bad_core = core / "bad.py"
    bad_core.write_text(
        "import os\n"
        "from devframe.agent import Host\n"
        "def later():\n"
        "    import devframe_drive.device\n"
        "    from .. import cli\n"
        "    importlib.import_module('libvirt')\n"
    )
    found = core_violations(bad_core, tmp_path)
    assert [f.split(":")[1] for f in found] == ["2", "4", "5", "6"], found
    assert all(f.startswith("devframe/core/bad.py:") for f in found)
    plugin = tmp_path / "devframe_x"
    plugin.mkdir()
    (plugin / "__init__.py").write_text("")
    bad_plugin = plugin / "plugin.py"
    bad_plugin.write_text(
        "from devframe import Device, hookimpl\n"
        "from devframe_x.device import X\n"
        "from .device import Y\n"
        "from devframe.core.fields import Field\n"
        "from devframe import core\n"
        "import devframe_nic\n"
        "import devframe.agent\n"
    )
    lines = [f.split(":")[1] for f in plugin_violations(bad_plugin, "devframe_x", tmp_path)]
    assert lines == ["4", "5", "6", "7"], lines
