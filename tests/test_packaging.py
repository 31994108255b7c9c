"""Packaging: what a user gets from ``pip install ./ ./plugins/*``, from the wheels
(``devframe`` alone, then ``devframe[devices]``) and from ``uv sync``.

Each installs into a fresh virtual environment, from the package registry, as a new
machine would; the built-in plugins must then be found through their entry points
alone (nothing on ``sys.path`` points at the checkout). Every distribution's wheel is
built once per session (the ``wheels`` fixture) and checked for its type marker,
licence and metadata; a user's script is type-checked with ``mypy --strict`` against
the installed wheels.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
BUILTIN = {
    "drive": "disk",
    "nic": "interface",
    "graphics": "graphics",
    "sound": "sound",
    "video": "video",
    "controller": "controller",
}
IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "__pycache__", "*.egg-info", "build", "dist", ".pytest_cache", ".mypy_cache",
    ".ruff_cache", ".hypothesis", "results",
)  # fmt: skip

pytestmark = pytest.mark.slow

PLUGIN_DIRS = sorted(p for p in (REPO / "plugins").iterdir() if (p / "pyproject.toml").is_file())
VERSION_LINE = re.compile(r'^__version__ = "([^"]+)"$', re.M)


def _env() -> dict[str, str]:
    # No DEVFRAME_* from the caller, and nothing that would make the new venv see ours.
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVFRAME_")}
    for key in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"):
        env.pop(key, None)
    return env


def _run(cmd: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{cmd} exited {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def _copy_checkout(tmp_path: Path) -> Path:
    copy = tmp_path / "src"
    shutil.copytree(REPO, copy, ignore=IGNORE, symlinks=True)
    return copy


def _base_python() -> str:
    # The interpreter this venv was made from: the machine's own python3.
    return getattr(sys, "_base_executable", sys.executable) or sys.executable


def _check_installed(venv: Path, src: Path) -> None:
    devframe = venv / "bin" / "devframe"
    assert devframe.exists()
    plugins = json.loads(_run([str(devframe), "plugins", "--json"], cwd=src).stdout)
    by_name = {info["name"]: info for info in plugins}
    for name, dev_type in BUILTIN.items():
        info = by_name.get(name)
        assert info is not None, f"plugin {name} not found through entry points: {sorted(by_name)}"
        assert info["state"] == "loaded", info
        assert info["distribution"] == f"devframe-{name}" and info["module"] == f"devframe_{name}.plugin"
        assert dev_type in info["dev_types"], info
    inspect = _run([str(devframe), "inspect", "examples/domain.xml"], cwd=src)
    assert "web-frontend-01" in inspect.stdout
    assert "ua-0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f" in inspect.stdout
    spec_map = json.loads(_run([str(devframe), "inspect", "--json", "examples/domain.xml"], cwd=src).stdout)
    assert set(BUILTIN.values()) <= set(spec_map)


def test_pip_install_of_core_and_plugins_into_a_fresh_venv(tmp_path: Path) -> None:
    src = _copy_checkout(tmp_path)
    venv = tmp_path / "venv"
    _run([_base_python(), "-m", "venv", str(venv)], cwd=tmp_path)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    plugin_dirs = sorted(
        str(p.relative_to(src)) for p in (src / "plugins").iterdir() if (p / "pyproject.toml").exists()
    )
    assert len(plugin_dirs) >= len(BUILTIN)
    _run([*pip, "./", *[f"./{d}" for d in plugin_dirs]], cwd=src)
    # Installed copies, not the checkout: the plugin modules live in the new venv.
    where = _run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import devframe, devframe_drive; print(devframe.__file__, devframe_drive.__file__)",
        ],
        cwd=tmp_path,
    ).stdout.split()
    assert all(path.startswith(str(venv)) for path in where), where
    _check_installed(venv, src)
    # Start-up stays cheap: listing the plugins loads each one but none of the heavy layers
    # (libvirt, the agent, the fleet's NATS client, the schema checker). A structural check,
    # not a timed one; the start-up time itself is benchmarks/run.py --only cold-start.
    probe = (
        "import sys\n"
        "from devframe.cli import main\n"
        "try:\n"
        "    main(['plugins'], standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('devframe_'))))\n"
        "print(' '.join(m for m in HEAVY if m in sys.modules))\n"
    ).replace("HEAVY", repr(HEAVY_AT_START))
    loaded, heavy = _run([str(venv / "bin" / "python"), "-c", probe], cwd=src).stdout.splitlines()[-2:]
    assert {f"devframe_{name}" for name in BUILTIN} <= set(loaded.split()), loaded
    assert heavy == "", f"devframe plugins imported {heavy}"


#: modules `devframe plugins` must not import (each costs start-up time every command pays)
HEAVY_AT_START = ("libvirt", "nats", "devframe.agent", "devframe.fleet", "devframe.schema")


def test_uv_sync_all_packages(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    assert uv is not None, "uv is not installed (scripts/bootstrap installs it)"
    src = _copy_checkout(tmp_path)
    env_python = _base_python()
    result = subprocess.run(
        [uv, "sync", "--all-packages", "--quiet"],
        cwd=src,
        env={**_env(), "UV_PYTHON_DOWNLOADS": "never", "UV_PYTHON": env_python},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    venv = src / ".venv"
    for tool in ("pytest", "ruff", "mypy"):
        assert (venv / "bin" / tool).exists(), f"dev group tool {tool} missing"
    # libvirt-python (dev group) was built against the system libvirt.
    _run([str(venv / "bin" / "python"), "-c", "import libvirt; libvirt.getVersion()"], cwd=src)
    _check_installed(venv, src)


# -- one version source per distribution, pins that follow it ------------------------------


def _pyproject(root: Path) -> dict[str, Any]:
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))


def _version_source(root: Path) -> tuple[Path, str]:
    """The file a distribution's version is read from, and the version it holds."""
    config = _pyproject(root)
    assert "version" not in config["project"], f"{root.name}: version written in pyproject.toml"
    assert config["project"]["dynamic"] == ["version"], root
    path = root / config["tool"]["hatch"]["version"]["path"]
    found = VERSION_LINE.findall(path.read_text(encoding="utf-8"))
    assert len(found) == 1, f"{path}: expected one __version__ line, found {found}"
    return path, found[0]


def test_each_distribution_has_one_version_source_and_plugins_pin_the_core_series() -> None:
    _, core = _version_source(REPO)
    import devframe

    assert devframe.__version__ == core
    version = Version(core)
    upper = Version(f"0.{version.minor + 1}") if version.major == 0 else Version(f"{version.major + 1}")
    extra = {
        Requirement(r).name: Requirement(r) for r in _pyproject(REPO)["project"]["optional-dependencies"]["devices"]
    }
    assert sorted(extra) == sorted(_pyproject(d)["project"]["name"] for d in PLUGIN_DIRS), "devices extra != plugins/"
    for root in PLUGIN_DIRS:
        config = _pyproject(root)
        name = config["project"]["name"]
        _, plugin_version = _version_source(root)
        assert plugin_version == core, (
            f"{name} {plugin_version}: the built-in plugins are released with devframe {core}"
        )
        (requirement,) = [Requirement(r) for r in config["project"]["dependencies"] if r.startswith("devframe")]
        for pin in (requirement.specifier, extra[name].specifier):
            assert version in pin and Version(f"{version.major}.{version.minor}.0") in pin, (name, pin)
            assert upper not in pin, f"{name}: {pin} lets the next series in"
        # One licence, classifier list and set of URLs for the whole project.
        for key in ("license", "classifiers", "urls"):
            core_value = _pyproject(REPO)["project"][key]
            if key == "classifiers":
                core_value = [c for c in core_value if c != "Framework :: Pytest"]
            assert config["project"][key] == core_value, f"{name}: {key} differs from the core's"


def test_set_version_rewrites_every_version_source_and_pin(tmp_path: Path) -> None:
    copy = tmp_path / "src"
    (copy / "scripts").mkdir(parents=True)
    shutil.copy2(REPO / "scripts" / "set-version", copy / "scripts")
    for root in [REPO, *PLUGIN_DIRS]:
        target = copy / root.relative_to(REPO)
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / "pyproject.toml", target)
        path, _ = _version_source(root)
        (copy / path.relative_to(REPO)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy / path.relative_to(REPO))
    result = subprocess.run(
        [sys.executable, str(copy / "scripts" / "set-version"), "1.4.2"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    for root in [copy, *(copy / d.relative_to(REPO) for d in PLUGIN_DIRS)]:
        assert _version_source(root)[1] == "1.4.2"
        pins = re.findall(r'"devframe(?:-[a-z]+)?(>=[^"]*)"', (root / "pyproject.toml").read_text())
        assert pins and set(pins) == {">=1.4.0,<2"}, (root, pins)
    bad = subprocess.run([sys.executable, str(copy / "scripts" / "set-version"), "two"], capture_output=True, text=True)
    assert bad.returncode == 2 and "usage" in bad.stderr


# -- the wheels ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every distribution's wheel, built once per session: {distribution name: wheel}.

    Built in one process with the build backend itself (hatchling, in the dev group):
    an isolated build per distribution costs a virtual environment each, 29 of them.
    """
    out = tmp_path_factory.mktemp("wheels")
    code = (
        "import os, sys\n"
        "from hatchling.build import build_wheel\n"
        "for root in sys.argv[2:]:\n"
        "    os.chdir(root)\n"
        "    build_wheel(sys.argv[1])\n"
    )
    roots = [str(REPO), *(str(d) for d in PLUGIN_DIRS)]
    result = subprocess.run([sys.executable, "-c", code, str(out), *roots], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    built = {}
    for wheel in out.glob("*.whl"):
        name = wheel.name.split("-")[0].replace("_", "-")
        built[name] = wheel
    assert len(built) == len(roots), sorted(built)
    return built


def _metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(archive.read(name).decode("utf-8"))


def test_every_wheel_holds_py_typed_the_licence_and_its_metadata(wheels: dict[str, Path]) -> None:
    _, version = _version_source(REPO)
    licence = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0" in licence
    for name, wheel in wheels.items():
        package = name.replace("-", "_")
        with zipfile.ZipFile(wheel) as archive:
            names = set(archive.namelist())
            assert f"{package}/py.typed" in names, f"{wheel.name}: no {package}/py.typed"
            (licence_file,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
            assert archive.read(licence_file).decode("utf-8") == licence, wheel.name
        meta = _metadata(wheel)
        assert meta["Version"] == version, wheel.name
        assert meta["License-Expression"] == "Apache-2.0", wheel.name
        classifiers = meta.get_all("Classifier") or []
        assert "Typing :: Typed" in classifiers and "Development Status :: 3 - Alpha" in classifiers, wheel.name
        urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL") or [])
        assert {"Homepage", "Source", "Issues", "Changelog"} <= set(urls), wheel.name
    core = _metadata(wheels["devframe"])
    by_extra: dict[str, set[str]] = {}
    for line in core.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        for extra in ("devices", "agent", "nats", "all"):
            if requirement.marker is not None and requirement.marker.evaluate({"extra": extra}):
                by_extra.setdefault(extra, set()).add(requirement.name)
    plugins = {name for name in wheels if name != "devframe"}
    assert by_extra["devices"] == plugins
    assert by_extra["all"] == plugins | by_extra["agent"] | by_extra["nats"]
    assert by_extra["agent"] == {"libvirt-python"} and by_extra["nats"] == {"nats-py", "orjson"}


USER_SCRIPT = """
from devframe import Device, Domain, device_from_spec, parse_domain
from devframe_sound import Sound


def models(domain: Domain) -> list[str]:
    found: list[str] = []
    for device in domain.dev_map.get("sound", []):
        if isinstance(device, Sound) and device.model is not None:
            found.append(device.model)
    return found


def aliases(devices: list[Device]) -> dict[str, str]:
    return {d.alias: d.dev_type for d in devices if d.alias is not None}


domain = parse_domain("<domain type='kvm'><name>t</name><devices><sound model='ich9'/></devices></domain>")
card = device_from_spec({"type": "sound", "device": "ich6"})
print(models(domain), aliases(domain.devices), card.to_spec()["device"])
"""

# Lines a type checker only flags when the packages' types are real (not Any).
WRONG_SCRIPT = """
from devframe import parse_domain
from devframe_sound import Sound

count: int = parse_domain("<domain/>")
model: int = Sound.dev_type
"""


def _deps(wheel: Path) -> list[str]:
    """The core's own requirements (no extras): what pip must fetch from the registry."""
    return [str(Requirement(r)) for r in _metadata(wheel).get_all("Requires-Dist") or [] if "extra ==" not in r]


def test_wheels_into_a_fresh_venv_core_then_devices_extra_and_mypy_strict(
    tmp_path: Path, wheels: dict[str, Path]
) -> None:
    venv = tmp_path / "venv"
    _run([_base_python(), "-m", "venv", str(venv)], cwd=tmp_path)
    python = str(venv / "bin" / "python")
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run([*pip, *_deps(wheels["devframe"])], cwd=tmp_path)  # lxml, click, ...: from the registry
    local = [*pip, "--no-index", "--find-links", str(wheels["devframe"].parent)]
    devframe = str(venv / "bin" / "devframe")
    example = str(REPO / "examples" / "domain.xml")

    # The core alone: it works, and says what to install.
    _run([*local, "devframe"], cwd=tmp_path)
    hint = 'pip install "devframe[devices]"'
    listed = _run([devframe, "plugins", "--json"], cwd=tmp_path)
    assert json.loads(listed.stdout) == [] and hint in listed.stderr
    shown = _run([devframe, "inspect", example], cwd=tmp_path)
    assert "web-frontend-01" in shown.stdout and hint in shown.stderr

    # The extra brings every built-in plugin.
    _run([*local, "devframe[devices]"], cwd=tmp_path)
    listed = _run([devframe, "plugins", "--json"], cwd=tmp_path)
    assert hint not in listed.stderr
    infos = {info["distribution"]: info for info in json.loads(listed.stdout)}
    assert set(infos) == {name for name in wheels if name != "devframe"}
    assert all(info["state"] == "loaded" and info["dev_types"] for info in infos.values()), infos
    shown = _run([devframe, "inspect", example], cwd=tmp_path)
    assert hint not in shown.stderr and " drive " in shown.stdout

    # A user's script type-checks against the installed wheels, strictly, and runs.
    (tmp_path / "user.py").write_text(USER_SCRIPT)
    (tmp_path / "wrong.py").write_text(WRONG_SCRIPT)
    mypy = [str(Path(sys.executable).with_name("mypy")), "--strict", "--no-incremental", "--python-executable", python]
    checked = subprocess.run([*mypy, "user.py"], cwd=tmp_path, capture_output=True, text=True, env=_env())
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert _run([python, "user.py"], cwd=tmp_path).stdout.strip() == "['ich9'] {} ich6"
    # The same checker, on lines that are wrong only if the types are real.
    wrong = subprocess.run([*mypy, "wrong.py"], cwd=tmp_path, capture_output=True, text=True, env=_env())
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    assert 'wrong.py:5: error: Incompatible types in assignment (expression has type "Domain"' in wrong.stdout
    assert 'wrong.py:6: error: Incompatible types in assignment (expression has type "str"' in wrong.stdout
