"""The layers: the core never imports the agent, the fleet, the CLI, the test tools or a
plugin; the agent never imports the fleet, the CLI or the test tools; the fleet never
imports the CLI or the test tools; plugins use only ``devframe``.

Checked with ``ast`` over the source files (tests/import_scan.py), so imports inside
functions and under ``if TYPE_CHECKING:`` count too. Import circles: test_import_graph.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from import_scan import REPO, imports, py_files, within

CORE = REPO / "devframe" / "core"
AGENT = REPO / "devframe" / "agent"
FLEET = REPO / "devframe" / "fleet"
PLUGINS = REPO / "plugins"

PLUGIN_PACKAGES = sorted(p.name for p in PLUGINS.glob("*/devframe_*") if p.is_dir())


def core_violations(path: Path, root: Path = REPO) -> list[str]:
    found = []
    for line, module, names in imports(path):
        targets = [module] + [f"{module}.{n}" for n in names]
        for target in targets:
            reason = None
            if within(target, "devframe.agent"):
                reason = "the libvirt agent layer (devframe.agent)"
            elif within(target, "devframe.fleet"):
                reason = "the fleet (devframe.fleet), above the agent"
            elif within(target, "devframe.cli"):
                reason = "the CLI (devframe.cli)"
            elif within(target, "devframe.testing"):
                reason = "the test tools (devframe.testing, a pytest plugin)"
            elif within(target, "libvirt"):
                reason = "libvirt (only devframe.agent talks to libvirt)"
            elif target.split(".")[0].startswith("devframe_"):
                reason = f"the plugin package {target.split('.')[0]}"
            if reason:
                found.append(f"{path.relative_to(root)}:{line}: the core imports {target}: {reason}")
                break
    return found


def agent_violations(path: Path, root: Path = REPO) -> list[str]:
    found = []
    for line, module, names in imports(path):
        for target in [module] + [f"{module}.{n}" for n in names]:
            if within(target, "devframe.cli") or within(target, "devframe.testing") or within(target, "devframe.fleet"):
                layer = (
                    "the CLI"
                    if within(target, "devframe.cli")
                    else "the fleet"
                    if within(target, "devframe.fleet")
                    else "the test tools"
                )
                found.append(f"{path.relative_to(root)}:{line}: the agent imports {target}: {layer} sit above it")
                break
    return found


def fleet_violations(path: Path, root: Path = REPO) -> list[str]:
    found = []
    for line, module, names in imports(path):
        for target in [module] + [f"{module}.{n}" for n in names]:
            if within(target, "devframe.cli") or within(target, "devframe.testing"):
                layer = "the CLI" if within(target, "devframe.cli") else "the test tools"
                found.append(f"{path.relative_to(root)}:{line}: the fleet imports {target}: {layer} sit above it")
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
    assert len(py_files(CORE)) >= 8
    assert len(PLUGIN_PACKAGES) >= 6, PLUGIN_PACKAGES


def test_core_never_imports_agent_cli_or_plugins() -> None:
    problems = [p for path in py_files(CORE) for p in core_violations(path)]
    assert not problems, "layering broken:\n" + "\n".join(problems)


def test_agent_never_imports_cli_or_testing() -> None:
    assert len(py_files(AGENT)) >= 8
    problems = [p for path in py_files(AGENT) for p in agent_violations(path)]
    assert not problems, "layering broken:\n" + "\n".join(problems)


def test_fleet_never_imports_cli_or_testing() -> None:
    assert len(py_files(FLEET)) >= 6
    problems = [p for path in py_files(FLEET) for p in fleet_violations(path)]
    assert not problems, "layering broken:\n" + "\n".join(problems)


@pytest.mark.parametrize("package", PLUGIN_PACKAGES)
def test_plugins_import_only_the_public_api(package: str) -> None:
    root = next(PLUGINS.glob(f"*/{package}"))
    problems = [p for path in py_files(root) for p in plugin_violations(path, package)]
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
        "if TYPE_CHECKING:\n"
        "    from devframe.testing import registry\n"
        "from devframe import testing\n"
        "from devframe.fleet import FleetView\n"
    )
    found = core_violations(bad_core, tmp_path)
    assert sorted(int(f.split(":")[1]) for f in found) == [2, 4, 5, 6, 8, 9, 10], found
    assert all(f.startswith("devframe/core/bad.py:") for f in found)
    agent = tmp_path / "devframe" / "agent"
    agent.mkdir()
    (agent / "__init__.py").write_text("")
    bad_agent = agent / "bad.py"
    bad_agent.write_text(
        "from devframe.core.domain import Domain\n"
        "from devframe.agent.host import Host\n"
        "def later():\n"
        "    from ..cli import main\n"
        "from devframe import cli, testing\n"
        "from devframe.fleet.view import FleetView\n"
    )
    assert sorted(int(f.split(":")[1]) for f in agent_violations(bad_agent, tmp_path)) == [4, 5, 6]
    fleet = tmp_path / "devframe" / "fleet"
    fleet.mkdir()
    (fleet / "__init__.py").write_text("")
    bad_fleet = fleet / "bad.py"
    bad_fleet.write_text(
        "from devframe.agent import Host\n"
        "from devframe.core.log import get_logger\n"
        "def later():\n"
        "    from devframe.cli.monitor import monitor\n"
        "from devframe import testing\n"
    )
    assert sorted(int(f.split(":")[1]) for f in fleet_violations(bad_fleet, tmp_path)) == [4, 5]
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
