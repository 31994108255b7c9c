"""Issue 19 item 7: docs that cannot go stale.

docs/cli.md and the README's command table are what scripts/cli-reference writes from
the commands; every snippet of the README runs: Python blocks as written (in a
subprocess, from the repository's root), shell blocks through bash with the venv's
programs on PATH, the TOML block against a plugin's own pyproject.toml, the layout
block against the tree. An HTML comment before a block says how when it cannot run as is:

* ``readme-test: entry-points``: ``./scripts/bootstrap`` and ``./scripts/test`` are the
  suite's own entry points (``.ci/run`` runs them from a fresh clone); here each must
  exist, and the command after ``&&`` runs;
* ``readme-test: help``: a long-running command (the benchmarks) runs with ``--help``;
* ``readme-test: libvirtd``: needs real QEMU: run under the ``libvirtd`` marker.
"""

from __future__ import annotations

import os
import re
import runpy
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
BIN = Path(sys.executable).parent
_BLOCK = re.compile(r"(?:<!-- readme-test: (?P<mark>[\w-]+) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```\n", re.S)


def blocks(lang: str | None = None, mark: str | None = "") -> list[tuple[str, str]]:
    """(annotation, body) of the README's fenced blocks of ``lang``; ``mark`` filters
    by annotation ("" for none, None for any)."""
    found = []
    for match in _BLOCK.finditer(README.read_text(encoding="utf-8")):
        if lang is not None and match["lang"] != lang:
            continue
        annotation = match["mark"] or ""
        if mark is not None and annotation != mark:
            continue
        found.append((annotation, match["body"]))
    return found


def env() -> dict[str, str]:
    drop = ("COLUMNS", "NO_COLOR", "LIBVIRT_DEFAULT_URI", "PYTHONPATH")
    base = {k: v for k, v in os.environ.items() if not k.startswith("DEVFRAME_") and k not in drop}
    return {**base, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env(), timeout=300
    )


# -- the CLI reference ------------------------------------------------------------------------------


def test_the_cli_reference_and_the_readme_table_are_what_the_commands_say() -> None:
    script = runpy.run_path(str(REPO / "scripts" / "cli-reference"))
    assert (REPO / "docs" / "cli.md").read_text(encoding="utf-8") == script["reference"](), (
        "docs/cli.md is stale: run .venv/bin/python scripts/cli-reference"
    )
    readme = README.read_text(encoding="utf-8")
    assert readme == script["readme"](readme), "README's command table is stale: run scripts/cli-reference"
    from devframe.cli import COMMANDS

    for name in COMMANDS:
        assert f"## devframe {name}\n" in script["reference"]() and f"| `devframe {name}` |" in readme


def test_the_check_mode_fails_on_a_stale_reference(tmp_path: Path) -> None:
    script = runpy.run_path(str(REPO / "scripts" / "cli-reference"))
    assert script["main"](["--check"]) == 0
    stale = tmp_path / "cli.md"
    stale.write_text("# an old reference\n")
    script["main"].__globals__["REFERENCE"] = stale
    assert script["main"](["--check"]) == 1
    assert script["main"]([]) == 0 and stale.read_text() == script["reference"]()


# -- README snippets --------------------------------------------------------------------------------


def test_the_readme_has_the_snippets_this_file_runs() -> None:
    assert len(blocks("python")) == 2 and len(blocks("python", "libvirtd")) == 1
    assert len(blocks("sh")) == 1 and blocks("sh", "entry-points") and blocks("sh", "help")
    assert len(blocks("toml")) == 1 and len(blocks("")) == 1
    known = {"", "entry-points", "help", "libvirtd"}
    assert {mark for mark, _ in blocks(None, None)} <= known


@pytest.mark.parametrize("index", [0, 1])
def test_python_snippets_run_as_written(index: int) -> None:
    _, code = blocks("python")[index]
    out = run_python(code)
    assert out.returncode == 0, out.stderr[-3000:]


@pytest.mark.libvirtd
def test_the_hotplug_snippet_runs_on_a_real_libvirtd(libvirtd: None) -> None:
    ((_, code),) = blocks("python", "libvirtd")
    try:
        out = run_python(code)
        assert out.returncode == 0, out.stderr[-3000:]
    finally:
        run_python(
            "from devframe.agent import Host, GuestGoneError\n"
            "with Host('qemu:///system') as h:\n"
            "    try:\n        h.guest('devframe-example').destroy()\n"
            "    except GuestGoneError:\n        pass\n"
        )


def test_shell_snippets_run_through_the_cli() -> None:
    ((_, script),) = blocks("sh")
    # As written, then: the completion it set up is registered.
    out = subprocess.run(
        ["bash", "-e", "-c", script + "complete -p devframe\n"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env(),
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert '+    <sound model="ich9"/>' in out.stdout  # the edit's diff
    assert "every pcie-root-port is taken" in out.stdout  # the tree's warning
    assert "examples/domain.xml: valid" in out.stdout
    assert "complete -o nosort -F _devframe_completion devframe" in out.stdout


def test_the_entry_points_exist_and_the_main_job_runs() -> None:
    ((_, script),) = blocks("sh", "entry-points")
    lines = [line.split("#")[0].strip() for line in script.splitlines() if line.strip()]
    assert lines == ["./scripts/bootstrap && .venv/bin/devframe run examples/engine-domain.xml", "./scripts/test"]
    for entry in ("scripts/bootstrap", "scripts/test"):
        assert os.access(REPO / entry, os.X_OK), entry
    assert "./scripts/test" in (REPO / ".ci" / "run").read_text()  # CI runs the README's test command
    command = shlex.split(lines[0].split("&&")[1])
    out = subprocess.run(
        [str(BIN / "devframe"), *command[1:]], cwd=REPO, capture_output=True, text=True, env=env(), timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert "running on test:///default" in out.stdout and "ua-6e6f6f4d-0000-4000-8000-00000000a001" in out.stdout


def test_the_benchmark_commands_exist_with_their_options() -> None:
    ((_, script),) = blocks("sh", "help")
    scripts = set()
    for line in script.splitlines():
        code, _, comment = line.partition("#")
        command = shlex.split(code)
        assert command[0] == ".venv/bin/python", line
        scripts.add(command[1])
        out = subprocess.run(
            [sys.executable, command[1], "--help"], cwd=REPO, capture_output=True, text=True, env=env(), timeout=120
        )
        assert out.returncode == 0, out.stderr
        for option in re.findall(r"--[\w-]+", code + comment):
            assert option in out.stdout, (line, option)
    assert {"benchmarks/run.py", "benchmarks/spec_bound.py"} <= scripts


def test_the_toml_snippet_is_a_real_plugins_entry_point() -> None:
    ((_, text),) = blocks("toml")
    shown = tomllib.loads(text)["project"]["entry-points"]["devframe"]
    ((name, module),) = shown.items()
    real = tomllib.loads((REPO / "plugins" / name / "pyproject.toml").read_text())
    assert real["project"]["entry-points"]["devframe"] == shown
    assert (REPO / "plugins" / name / module.replace(".", "/")).with_suffix(".py").is_file()


def test_the_layout_names_what_is_there() -> None:
    ((_, text),) = blocks("")
    top = [line.split()[0] for line in text.splitlines() if line and not line.startswith(" ")]
    nested = [line.split()[0] for line in text.splitlines() if line.startswith("  ")]
    for name in top:
        assert (REPO / name.replace("<name>", "sound")).exists(), name
    for name in nested:
        assert (REPO / "devframe" / name).exists(), name
    assert {p.name for p in (REPO / "devframe").glob("*.py") if not p.name.startswith("_")} <= set(nested)
