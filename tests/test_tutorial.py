"""docs/writing-plugins.md: its files are the example plugin, its hook reference is the
hook specs, and its steps, run as written in a fresh virtual environment, end with a
discovered plugin whose tests pass."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from devframe.core import hookspecs

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "writing-plugins.md"
EXAMPLE = REPO / "examples" / "devframe-myrng"

_FILE_BLOCK = re.compile(r"<!-- file: (?P<path>[^ ]+) -->\n```[a-z]*\n(?P<body>.*?)```\n", re.S)
_RUN_BLOCK = re.compile(r"<!-- run -->\n```console\n(?P<body>.*?)```\n", re.S)
_HOOK_HEADING = re.compile(r"^### `(?P<name>devframe_\w+)\((?P<args>[^)]*)\)`$", re.M)


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _files() -> dict[str, str]:
    return {m["path"]: m["body"] for m in _FILE_BLOCK.finditer(_doc())}


def _commands() -> list[str]:
    return [
        line[2:]
        for block in _RUN_BLOCK.finditer(_doc())
        for line in block["body"].splitlines()
        if line.startswith("$ ")
    ]


def test_tutorial_files_are_the_example_plugin():
    files = _files()
    assert files, "no file blocks found in the tutorial"
    example = {
        "devframe-myrng/" + str(p.relative_to(EXAMPLE)): p.read_text(encoding="utf-8")
        for p in EXAMPLE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and ".egg-info" not in str(p)
    }
    assert sorted(files) == sorted(example), "tutorial files and examples/devframe-myrng differ in names"
    for path, body in files.items():
        assert body == example[path], f"{path} in the tutorial differs from examples/"


def test_hook_reference_lists_every_hook_with_its_arguments():
    specs = {
        name: [p for p in inspect.signature(fn).parameters]
        for name, fn in vars(hookspecs).items()
        if name.startswith("devframe_") and callable(fn)
    }
    documented = {
        m["name"]: [a.strip() for a in m["args"].split(",") if a.strip()] for m in _HOOK_HEADING.finditer(_doc())
    }
    missing = sorted(set(specs) - set(documented))
    unknown = sorted(set(documented) - set(specs))
    assert not missing, f"hooks missing from the reference: {missing} (run scripts/hook-reference)"
    assert not unknown, f"the reference documents hooks that do not exist: {unknown}"
    for name, args in specs.items():
        assert documented[name] == args, f"{name}: documented ({documented[name]}) != spec ({args})"
    reference = _doc().split("## Hook reference", 1)[1]
    for name in specs:
        section = reference.split(f"### `{name}(", 1)[1].split("### ", 1)[0]
        if name in hookspecs.DEPRECATED_HOOKS:
            assert "Deprecated" in section, f"{name}: the reference does not say it is deprecated"
            continue
        for word in ("Receives", "Returns", "Called"):
            assert word in section, f"{name}: the reference does not say what it {word.lower()}"


@pytest.mark.slow
def test_tutorial_steps_work_in_a_fresh_venv(tmp_path):
    for path, body in _files().items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    commands = _commands()
    assert any(c.startswith("devframe plugins") for c in commands)
    script = "set -euo pipefail\n" + "\n".join(commands) + "\ndevframe plugins --json > plugins.json\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON", "DEVFRAME_"))}
    env["DEVFRAME_SRC"] = str(REPO)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, f"tutorial steps failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    assert "myrng" in result.stdout and "passed" in result.stdout
    plugins = {p["name"]: p for p in json.loads((tmp_path / "plugins.json").read_text())}
    assert plugins["myrng"]["state"] == "loaded"
    assert plugins["myrng"]["distribution"] == "devframe-myrng"
    assert plugins["myrng"]["dev_types"] == ["rng"]
    assert plugins["myrng"]["claims"] == ["<rng>"]
    # Only what the tutorial installed: the core ships no plugin of its own.
    assert sorted(plugins) == ["myrng"], sys.version
