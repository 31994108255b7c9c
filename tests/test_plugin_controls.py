"""Plugin controls and broken plugins, seen from a real `devframe` process.

Each test installs small plugin distributions into a temporary folder (a package plus
a ``*.dist-info`` with ``entry_points.txt``: exactly what pip leaves behind), puts the
folder on PYTHONPATH, and runs the installed ``devframe`` command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

DEVFRAME = Path(sys.executable).with_name("devframe")

GOOD = """
from devframe import Device, Field, hookimpl

class Watchdog(Device):
    dev_type = "watchdog"
    tag = "watchdog"
    model = Field("@model", spec="device", default="i6300esb")
    action = Field("@action", spec="specParams.action")

@hookimpl
def devframe_register_device_types(register):
    register(Watchdog)
"""

BROKEN = {
    "import_error": ("import devframe_no_such_module_anywhere\n", "cannot import"),
    "raising_hook": (
        "from devframe import hookimpl\n\n@hookimpl\ndef devframe_register_device_types(register):\n"
        "    raise RuntimeError('kaputt')\n",
        "kaputt",
    ),
    "misspelled_hook": (
        "from devframe import hookimpl\n\n@hookimpl\ndef devframe_register_device_typs(register):\n    pass\n",
        "devframe_register_device_typs",
    ),
    "misspelled_argument": (
        "from devframe import hookimpl\n\n@hookimpl\ndef devframe_register_device_types(registr):\n    pass\n",
        "registr",
    ),
    "zz_claims_taken_tag": (
        "from devframe import Device, hookimpl\n\n"
        "class Dog(Device):\n    dev_type = 'dog'\n    tag = 'watchdog'\n\n"
        "@hookimpl\ndef devframe_register_device_types(register):\n    register(Dog)\n",
        "watchdog",
    ),
}

DOMAIN = """<domain type='kvm'><name>w</name><memory>1024</memory>
<os><type arch='x86_64'>hvm</type></os>
<devices><watchdog model='i6300esb' action='reset'/><sound model='ich6'/></devices></domain>"""


def install(site: Path, name: str, source: str, *, commands: str = "") -> None:
    """Install a one-module plugin distribution ``devframe-<name>`` into ``site``."""
    module = f"dfplug_{name}"
    (site / f"{module}.py").write_text(textwrap.dedent(source) + commands, encoding="utf-8")
    info = site / f"devframe_{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: devframe-{name}\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[devframe]\n{name} = {module}\n", encoding="utf-8")


def run(site: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DEVFRAME_")}
    environ["PYTHONPATH"] = str(site)
    environ.update(env)
    return subprocess.run([str(DEVFRAME), *args], capture_output=True, text=True, env=environ, timeout=120, check=False)


def plugins(site: Path, **env: str) -> dict[str, dict[str, object]]:
    result = run(site, "plugins", "--json", **env)
    assert result.returncode == 0, result.stderr
    return {p["name"]: p for p in json.loads(result.stdout)}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    install(folder, "watchdog", GOOD)
    return folder


def test_a_third_party_plugin_is_found_by_its_entry_point(site, tmp_path):
    found = plugins(site)
    assert found["watchdog"]["state"] == "loaded"
    assert found["watchdog"]["distribution"] == "devframe-watchdog"
    assert found["watchdog"]["claims"] == ["<watchdog>"]
    domain = tmp_path / "d.xml"
    domain.write_text(DOMAIN)
    result = run(site, "inspect", "--json", str(domain))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["watchdog"][0]["specParams"]["action"] == "reset"


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_plugin_is_reported_and_the_rest_keeps_working(site, tmp_path, case):
    source, reason = BROKEN[case]
    install(site, case, source)
    found = plugins(site)
    assert found[case]["state"] == "broken", found[case]
    assert reason in str(found[case]["error"]), found[case]["error"]
    assert found["watchdog"]["state"] == "loaded"
    assert found["sound"]["state"] == "loaded"
    domain = tmp_path / "d.xml"
    domain.write_text(DOMAIN)
    result = run(site, "inspect", "--json", str(domain))
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)) == {"watchdog", "sound"}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_strict_mode_turns_each_broken_plugin_into_an_error(site, case):
    source, reason = BROKEN[case]
    install(site, case, source)
    result = run(site, "plugins", DEVFRAME_STRICT_PLUGINS="1")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert reason in result.stderr
    assert "Traceback" not in result.stderr


def test_two_plugins_claiming_one_tag_are_both_named(site):
    install(site, "zz_claims_taken_tag", BROKEN["zz_claims_taken_tag"][0])
    error = str(plugins(site)["zz_claims_taken_tag"]["error"])
    assert "watchdog" in error and "zz_claims_taken_tag" in error


def test_load_plugins_allow_list(site):
    found = plugins(site, DEVFRAME_LOAD_PLUGINS="sound,watchdog")
    assert {n for n, p in found.items() if p["state"] == "loaded"} == {"sound", "watchdog"}
    assert {p["state"] for n, p in found.items() if n not in ("sound", "watchdog")} == {"blocked"}


def test_empty_load_list_loads_none(site):
    found = plugins(site, DEVFRAME_LOAD_PLUGINS="")
    assert found and {p["state"] for p in found.values()} == {"blocked"}


def test_builtin_plugins_can_be_disabled_like_any_other(site, tmp_path):
    found = plugins(site, DEVFRAME_DISABLE_PLUGINS="sound, watchdog")
    assert found["sound"]["state"] == "blocked" and found["watchdog"]["state"] == "blocked"
    domain = tmp_path / "d.xml"
    domain.write_text(DOMAIN)
    result = run(site, "inspect", "--json", str(domain), DEVFRAME_DISABLE_PLUGINS="sound")
    specs = json.loads(result.stdout)
    # A disabled plugin's devices are still there, kept as unknown devices.
    assert specs["sound"][0]["xml"].startswith("<sound")


COMMANDS = '''

import click

@click.command("woof")
@click.argument("times", type=int)
def woof(times):
    """Bark TIMES times."""
    click.echo("woof " * times)

@click.command("inspect")
def not_inspect():
    click.echo("hijacked")

@hookimpl
def devframe_cli_commands():
    return [woof, not_inspect]
'''


def test_a_plugin_adds_subcommands_but_cannot_take_a_builtin_name(site, tmp_path):
    install(site, "barker", "from devframe import hookimpl\n", commands=COMMANDS)
    result = run(site, "woof", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "woof woof"
    domain = tmp_path / "d.xml"
    domain.write_text(DOMAIN)
    result = run(site, "inspect", str(domain))
    assert result.returncode == 0 and "hijacked" not in result.stdout
    assert "woof" in run(site, "--help").stdout
