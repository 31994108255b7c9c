"""Each built-in plugin's own test suite passes with only the core and that plugin
installed: nothing in a plugin leans on another plugin being there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PLUGINS = sorted(p.name for p in (REPO / "plugins").iterdir() if (p / "pyproject.toml").is_file())


def _uv() -> str:
    found = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(found).exists():
        pytest.fail("uv is needed to build the isolated environments (scripts/bootstrap installs it)")
    return found


def test_every_builtin_plugin_is_checked():
    """Every folder under plugins/ is a distribution checked here (a folder without a
    pyproject.toml would silently drop out of the list)."""
    folders = sorted(p.name for p in (REPO / "plugins").iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    assert PLUGINS == folders
    assert {"controller", "drive", "graphics", "nic", "sound", "video"} <= set(PLUGINS)


@pytest.mark.slow
@pytest.mark.parametrize("plugin", PLUGINS)
def test_plugin_suite_passes_alone(plugin, tmp_path):
    uv = _uv()
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "DEVFRAME_", "PYTHONPATH"))}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    subprocess.run([uv, "venv", "-q", "-p", sys.executable, str(venv)], check=True, env=env, timeout=300)
    python = str(venv / "bin" / "python")
    subprocess.run(
        [
            uv,
            "pip",
            "install",
            "-q",
            "-p",
            python,
            "-e",
            str(REPO),
            "-e",
            str(REPO / "plugins" / plugin),
            "pytest",
            "hypothesis",
        ],
        check=True,
        env=env,
        timeout=600,
    )
    listed = subprocess.run(
        [
            python,
            "-c",
            "import importlib.metadata as m; print(sorted(e.name for e in m.entry_points(group='devframe')))",
        ],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert listed.stdout.strip() == repr([plugin])
    result = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"plugins/{plugin}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
