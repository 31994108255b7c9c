"""The ``devframe`` command line: every command and option, in process and as the installed program.

In-process runs use click's CliRunner against ``devframe.cli.main``; the subprocess runs
use the ``devframe`` script installed next to this interpreter (the venv's entry point),
so start-up, stdin, exit statuses and stderr are the real ones.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from lxml import etree

from devframe import create_registry
from devframe.cli import COMMANDS, main
from devframe.cli.inspect import format_address
from devframe.testing import canonical

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "domain.xml"
DOMAIN_RNG = Path("/usr/share/libvirt/schemas/domain.rng")
DEVFRAME = Path(sys.executable).with_name("devframe")
BUILTIN_PLUGINS = {"drive", "nic", "graphics", "sound", "video", "controller"}
# The example's graphics passwords: never on any output of inspect.
SECRETS = ("s3cret-spice-ticket", "vnc-pass")

HOSTILE_XXE = """<?xml version="1.0"?>
<!DOCTYPE domain [<!ENTITY leak SYSTEM "file:///etc/passwd">]>
<domain type="kvm"><name>&leak;</name><devices/></domain>
"""


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without any DEVFRAME_* setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVFRAME_")}
    env.update(extra)
    return env


def invoke(*args: str, input: str | bytes | None = None, env: dict[str, str] | None = None) -> Result:
    # CliRunner only overrides the keys it is given: unset the caller's DEVFRAME_* explicitly.
    overrides: dict[str, str | None] = {k: None for k in os.environ if k.startswith("DEVFRAME_")}
    overrides.update({k: v for k, v in (env or {}).items() if k.startswith("DEVFRAME_")})
    return CliRunner().invoke(main, list(args), input=input, env=overrides, catch_exceptions=False)


def run(
    *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    assert DEVFRAME.exists(), f"devframe is not installed next to {sys.executable} (run scripts/bootstrap)"
    return subprocess.run(
        [str(DEVFRAME), *args],
        input=input if isinstance(input, str) or input is None else input.decode(),
        capture_output=True,
        text=True,
        env=env if env is not None else clean_env(),
        cwd=cwd,
        timeout=120,
    )


def assert_one_line_error(stderr: str, *needles: str, logs_allowed: bool = False) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    if logs_allowed:  # log lines (here: refused plugin commands) may come before the error
        lines = [line for line in lines if line.startswith("devframe: ")]
    assert len(lines) == 1, f"expected one error line, got: {stderr!r}"
    assert lines[0].startswith("devframe: error: ")
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def example_tags() -> list[str]:
    devices = etree.parse(str(EXAMPLE)).getroot().find("devices")
    assert devices is not None
    return [child.tag for child in devices if isinstance(child.tag, str)]


# -- the example itself -----------------------------------------------------------------


def test_example_is_valid_against_libvirts_schema() -> None:
    from devframe.schema import validate_domain_xml

    assert validate_domain_xml(EXAMPLE.read_bytes()) == []


def test_example_has_devices_no_plugin_handles_and_ovirt_metadata() -> None:
    root = etree.parse(str(EXAMPLE)).getroot()
    tags = set(example_tags())
    assert {"disk", "interface", "graphics", "sound", "video", "controller"} <= tags
    assert {"memballoon", "channel", "rng"} <= tags
    assert root.find("metadata/{http://ovirt.org/vm/1.0}vm") is not None


# -- inspect ------------------------------------------------------------------------------


def test_inspect_table_lists_every_device_in_document_order() -> None:
    result = invoke("inspect", str(EXAMPLE))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("domain web-frontend-01  uuid 5f0c2a4e-8d1b-4c3a-9e7f-2b6d4a1c0e93")
    assert lines[1].split()[:4] == ["DEV_TYPE", "PLUGIN", "ALIAS", "ADDRESS"]
    rows = lines[2:]
    assert [row.split()[0] for row in rows] == example_tags()


def test_inspect_table_shows_plugin_alias_compact_address_and_key_fields() -> None:
    rows = invoke("inspect", str(EXAMPLE)).stdout.splitlines()[2:]
    boot_disk = next(r for r in rows if "ua-0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f" in r)
    assert boot_disk.split()[:2] == ["disk", "drive"]
    assert "pci 0000:04:00.0" in boot_disk
    lun = next(r for r in rows if "ua-1f2e3d4c" in r)
    assert "drive 0:0:0:0" in lun
    sound = next(r for r in rows if r.startswith("sound"))
    assert "sound" in sound.split()[1] and "pci 0000:00:1b.0" in sound and "model=ich9" in sound
    balloon = next(r for r in rows if r.startswith("memballoon"))
    assert balloon.split()[1] == "memballoon" and "pci 0000:08:00.0" in balloon and "model=virtio" in balloon
    channel = next(r for r in rows if r.startswith("channel"))
    assert "virtio-serial 0:0:1" in channel
    tablet = next(r for r in rows if "type=tablet" in r)
    assert "usb 0:1" in tablet


def test_inspect_never_shows_secrets() -> None:
    for args in (["inspect", str(EXAMPLE)], ["inspect", "--json", str(EXAMPLE)]):
        result = invoke(*args)
        assert result.exit_code == 0
        for secret in SECRETS:
            assert secret not in result.stdout
            assert secret not in result.stderr


def test_inspect_json_is_the_dev_spec_map() -> None:
    result = invoke("inspect", "--json", str(EXAMPLE))
    assert result.exit_code == 0, result.stderr
    spec_map = json.loads(result.stdout)
    counts = Counter(example_tags())
    assert list(spec_map) == list(dict.fromkeys(example_tags()))  # first-seen document order
    assert {dev_type: len(specs) for dev_type, specs in spec_map.items()} == dict(counts)
    routes = create_registry(env={}).routes
    for dev_type, specs in spec_map.items():
        # the engine's name where it differs from libvirt's tag (memballoon: balloon)
        spec_type = routes[dev_type].dev_class.spec_type if dev_type in routes else ""
        assert all(spec["type"] == (spec_type or dev_type) for spec in specs)
    boot = spec_map["disk"][0]
    assert boot["deviceId"] == "0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f"
    assert boot["address"] == {"type": "pci", "domain": "0x0000", "bus": "0x04", "slot": "0x00", "function": "0x0"}
    assert spec_map["sound"][0]["device"] == "ich9"
    # A typed kind's spec holds its fields, not raw XML (every kind of the example is typed).
    assert spec_map["memballoon"][0]["specParams"]["model"] == "virtio" and "xml" not in spec_map["memballoon"][0]


def test_inspect_json_leaves_secret_attributes_out_of_verbatim_xml(tmp_path: Path) -> None:
    # A graphics device without a plugin is an UnknownDevice whose spec carries its XML;
    # a dev_spec carries no secret unless asked (issue 20: devframe.core.secrets).
    path = tmp_path / "d.xml"
    path.write_text(
        '<domain type="kvm"><name>g</name><devices>'
        '<graphics type="vnc" passwd="topsecret-vnc"/><sound model="ich9"/></devices></domain>'
    )
    result = invoke("inspect", "--json", str(path), env=clean_env(DEVFRAME_DISABLE_PLUGINS="graphics"))
    assert result.exit_code == 0, result.stderr
    assert "topsecret-vnc" not in result.stdout
    spec = json.loads(result.stdout)["graphics"][0]
    assert spec["xml"] == '<graphics type="vnc"/>'


def test_inspect_json_reports_a_device_whose_spec_fails_instead_of_crashing(tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(
        '<domain type="kvm"><name>b</name><devices>'
        '<sound model="ich9"><audio id="not-a-number"/><alias name="ua-x1"/></sound>'
        '<sound model="ac97"/></devices></domain>'
    )
    result = invoke("inspect", "--json", str(path))
    assert result.exit_code == 0, result.stderr
    first, second = json.loads(result.stdout)["sound"]
    assert first["alias"] == "ua-x1" and "not-a-number" in first["error"]
    assert second["device"] == "ac97" and "error" not in second
    table = invoke("inspect", str(path))
    assert table.exit_code == 0 and "<invalid 'not-a-number'>" in table.stdout


def test_inspect_reads_stdin() -> None:
    result = invoke("inspect", "-", input=EXAMPLE.read_bytes())
    assert result.exit_code == 0, result.stderr
    assert "ua-0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f" in result.stdout


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ({"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x1f", "function": "0x2"}, "pci 0000:00:1f.2"),
        ({"type": "pci", "bus": "3", "slot": "10"}, "pci 0000:03:0a.0"),
        ({"type": "drive", "controller": "0", "bus": "1", "target": "0", "unit": "3"}, "drive 0:1:0:3"),
        ({"type": "drive", "unit": "1"}, "drive 0:0:0:1"),
        ({"type": "virtio-serial", "controller": "0", "bus": "0", "port": "2"}, "virtio-serial 0:0:2"),
        ({"type": "usb", "bus": "0", "port": "1.2"}, "usb 0:1.2"),
        ({"type": "ccw", "cssid": "0xfe", "ssid": "0x0", "devno": "0x0001"}, "ccw 254.0.0x0001"),
        ({"type": "pci", "bus": "zz"}, "pci bus=zz"),
        ({"type": "isa", "iobase": "0x505"}, "isa iobase=0x505"),
        (None, ""),
    ],
)
def test_compact_address(address: dict[str, str] | None, shown: str) -> None:
    assert format_address(address) == shown


# -- rebuild ------------------------------------------------------------------------------


def test_rebuild_prints_the_same_domain() -> None:
    result = invoke("rebuild", str(EXAMPLE))
    assert result.exit_code == 0, result.stderr
    assert canonical(result.stdout) == canonical(EXAMPLE.read_bytes())


def test_rebuild_from_stdin() -> None:
    xml = '<domain type="kvm"><name>s</name><devices><sound model="ac97"/><rng model="virtio"/></devices></domain>'
    result = invoke("rebuild", "-", input=xml)
    assert result.exit_code == 0, result.stderr
    assert canonical(result.stdout) == canonical(xml)


# -- validate ------------------------------------------------------------------------------


def test_validate_valid_file() -> None:
    result = invoke("validate", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{EXAMPLE}: valid"


def test_validate_invalid_file_prints_problems_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "invalid.xml"
    path.write_text(
        EXAMPLE.read_text().replace('<watchdog model="i6300esb" action="reset"/>', '<watchdog model="nonsense"/>')
    )
    result = invoke("validate", str(path))
    assert result.exit_code == 1
    problems = result.stdout.splitlines()
    assert problems, result.output
    assert all(line.startswith(f"{path}") for line in problems)
    assert any(line.startswith(f"{path}:") and line.split(":")[1].isdigit() for line in problems)
    assert "invalid" in result.stderr


def test_validate_reports_a_missing_schema_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "domain.rng"
    result = invoke("validate", "--schema", str(missing), str(EXAMPLE))
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, str(missing), "not found")


def test_validate_with_schema_option(tmp_path: Path) -> None:
    # A copy of libvirt's schema folder elsewhere: includes resolve next to the file given.
    copy = tmp_path / "schemas"
    shutil.copytree(DOMAIN_RNG.parent, copy)
    assert invoke("validate", "--schema", str(copy / "domain.rng"), str(EXAMPLE)).exit_code == 0
    # A schema that accepts only <other/> rejects the domain.
    tiny = tmp_path / "tiny.rng"
    tiny.write_text('<element name="other" xmlns="http://relaxng.org/ns/structure/1.0"><empty/></element>')
    result = invoke("validate", "--schema", str(tiny), str(EXAMPLE))
    assert result.exit_code == 1
    assert "domain" in result.stdout


def test_validate_refuses_hostile_xml_as_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "xxe.xml"
    path.write_text(HOSTILE_XXE)
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, str(path))
    assert "root:" not in result.stdout + result.stderr


def test_validate_stdin() -> None:
    result = invoke("validate", "-", input=EXAMPLE.read_bytes())
    assert result.exit_code == 0 and "<stdin>: valid" in result.stdout


def test_schema_module_is_cached_and_reports_lines() -> None:
    from devframe.schema import SchemaError, domain_schema_problems, load_domain_schema, validate_domain_xml

    assert load_domain_schema() is load_domain_schema(DOMAIN_RNG)
    problems = domain_schema_problems('<domain type="kvm">\n<name>x</name>\n<bogus/>\n</domain>')
    assert problems and all(p.line is None or p.line >= 1 for p in problems)
    assert validate_domain_xml("<nodomain/>")
    with pytest.raises(SchemaError, match=r"/no/such/schema\.rng"):
        load_domain_schema("/no/such/schema.rng")


# -- plugins ------------------------------------------------------------------------------


def test_plugins_table_lists_the_builtin_plugins() -> None:
    result = invoke("plugins", env=clean_env())
    assert result.exit_code == 0, result.stderr
    for name in BUILTIN_PLUGINS:
        assert any(line.startswith(f"{name}  [loaded]  devframe-") for line in result.stdout.splitlines()), name
    assert "dev_types: disk" in result.stdout and "claims:" in result.stdout and "hooks:" in result.stdout


def test_plugins_json() -> None:
    result = invoke("plugins", "--json", env=clean_env())
    assert result.exit_code == 0, result.stderr
    infos = {info["name"]: info for info in json.loads(result.stdout)}
    assert BUILTIN_PLUGINS <= set(infos)
    drive = infos["drive"]
    assert set(drive) >= {"name", "distribution", "version", "dev_types", "claims", "hooks", "state", "error"}
    assert drive["state"] == "loaded" and drive["distribution"] == "devframe-drive" and drive["error"] is None
    assert "disk" in drive["dev_types"] and "devframe_register_device_types" in drive["hooks"]


def test_plugins_blocked_by_environment() -> None:
    infos = json.loads(invoke("plugins", "--json", env=clean_env(DEVFRAME_DISABLE_PLUGINS="sound,video")).stdout)
    states = {info["name"]: info["state"] for info in infos}
    assert states["sound"] == states["video"] == "blocked" and states["drive"] == "loaded"
    infos = json.loads(invoke("plugins", "--json", env=clean_env(DEVFRAME_LOAD_PLUGINS="")).stdout)
    assert {info["state"] for info in infos} == {"blocked"}


# -- user errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["inspect", "/no/such/file.xml"], ["/no/such/file.xml", "No such file"]),
        (["rebuild", "/no/such/file.xml"], ["/no/such/file.xml"]),
        (["validate", "/no/such/file.xml"], ["/no/such/file.xml"]),
        (["inspect"], ["Missing argument"]),
        (["--bogus", "plugins"], ["--bogus"]),
        (["inspect", "--bogus", "x"], ["--bogus"]),
        (["--log-level", "loud", "plugins"], ["loud"]),
        (["no-such-command"], ["no-such-command"]),
    ],
)
def test_user_errors_are_one_line_with_status_2(args: list[str], needles: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, *needles)
    assert result.stdout == ""


def test_bad_xml_is_a_user_error_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    path.write_text('<domain type="kvm">\n<devices>\n<disk>\n</domain>\n')
    for command in ("inspect", "rebuild"):
        result = invoke(command, str(path))
        assert result.exit_code == 2
        assert_one_line_error(result.stderr, str(path), "line ")


def test_not_a_domain_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "net.xml"
    path.write_text("<network><name>n</name></network>")
    result = invoke("inspect", str(path))
    assert result.exit_code == 2
    assert_one_line_error(result.stderr)


def test_xml_size_limit_from_environment(tmp_path: Path) -> None:
    result = invoke("inspect", str(EXAMPLE), env=clean_env(DEVFRAME_XML_MAX_BYTES="1000"))
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, str(EXAMPLE), "1000")
    stdin = invoke("inspect", "-", input=EXAMPLE.read_bytes(), env=clean_env(DEVFRAME_XML_MAX_BYTES="1000"))
    assert stdin.exit_code == 2 and "<stdin>" in stdin.stderr


def test_debug_shows_the_traceback() -> None:
    result = invoke("--debug", "inspect", "/no/such/file.xml")
    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("devframe: error: /no/such/file.xml")


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.startswith("devframe, version ")


def test_every_builtin_command_has_help() -> None:
    listing = invoke("--help")
    assert listing.exit_code == 0
    for name in COMMANDS:
        assert f"  {name}" in listing.stdout
        result = invoke(name, "--help")
        assert result.exit_code == 0 and result.stdout.startswith(f"Usage: devframe {name}"), name


# -- the installed program ---------------------------------------------------------------


def test_installed_program_inspect_and_exit_statuses() -> None:
    ok = run("inspect", "examples/domain.xml")
    assert ok.returncode == 0, ok.stderr
    assert "ua-0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f" in ok.stdout and ok.stderr == ""
    missing = run("inspect", "nope.xml")
    assert missing.returncode == 2
    assert_one_line_error(missing.stderr, "nope.xml")
    invalid = run("validate", "-", input=HOSTILE_XXE)
    assert invalid.returncode == 2
    assert_one_line_error(invalid.stderr, "<stdin>")


def test_installed_program_reads_stdin_and_rebuilds() -> None:
    result = run("rebuild", "-", input=EXAMPLE.read_text())
    assert result.returncode == 0, result.stderr
    assert canonical(result.stdout) == canonical(EXAMPLE.read_bytes())


def test_closed_stdout_pipe_is_not_an_error() -> None:
    result = subprocess.run(
        f"set -o pipefail; '{DEVFRAME}' inspect examples/domain.xml | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=clean_env(),
        timeout=60,
        executable="/bin/bash",
    )
    assert result.stdout.startswith("domain web-frontend-01")
    assert "error" not in result.stderr.lower() and "Traceback" not in result.stderr


def _json_lines(stderr: str) -> list[dict[str, object]]:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "expected log lines on stderr"
    return [json.loads(line) for line in lines]


def test_log_json_flag_writes_json_lines_to_stderr() -> None:
    result = run("--log-json", "--log-level", "debug", "plugins", "--json")
    assert result.returncode == 0, result.stderr
    events = _json_lines(result.stderr)
    assert all("event" in e and "level" in e and "timestamp" in e for e in events)
    assert any(e["level"] == "debug" for e in events)
    json.loads(result.stdout)  # stdout stays clean JSON


def test_log_format_and_level_from_environment() -> None:
    result = run("plugins", env=clean_env(DEVFRAME_LOG_FORMAT="json", DEVFRAME_LOG_LEVEL="debug"))
    assert result.returncode == 0, result.stderr
    assert any(e["level"] == "debug" for e in _json_lines(result.stderr))
    # The flag beats the environment; the default level (warning) hides debug lines.
    console = run("--no-log-json", "--log-level", "debug", "plugins", env=clean_env(DEVFRAME_LOG_FORMAT="json"))
    assert console.stderr.strip() and not console.stderr.lstrip().startswith("{")
    quiet = run("plugins", env=clean_env(DEVFRAME_LOG_FORMAT="json"))
    assert quiet.returncode == 0
    quiet_events = _json_lines(quiet.stderr) if quiet.stderr.strip() else []
    assert all(e["level"] in ("warning", "error") for e in quiet_events)


def test_cli_imports_commands_lazily() -> None:
    # Start-up cost: importing the CLI must not import any command module or the schema.
    code = (
        "import sys, devframe.cli; "
        "print(sorted(m for m in sys.modules if m.startswith(('devframe.cli.', 'devframe.schema'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


# -- plugin subcommands ---------------------------------------------------------------


def _fake_distribution(root: Path, dist: str, module: str, entry_name: str, source: str) -> None:
    """A real installed distribution (dist-info with entry points) in ``root``."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[devframe]\n{entry_name} = {module}\n")


@pytest.fixture
def plugin_path(tmp_path: Path) -> Path:
    _fake_distribution(
        tmp_path,
        "df-cli-demo",
        "df_cli_demo",
        "cli_demo",
        """
        import click
        from devframe import hookimpl

        @click.command()
        @click.argument("who", default="world")
        def hello(who):
            "Say hello."
            click.echo(f"hello {who}")

        @click.command(name="inspect")
        def fake_inspect():
            click.echo("FAKE INSPECT")

        @click.command()
        def boom():
            raise RuntimeError("kaboom")

        @hookimpl
        def devframe_cli_commands():
            return [hello, fake_inspect, boom, "not a command"]
        """,
    )
    _fake_distribution(
        tmp_path,
        "df-cli-demo2",
        "df_cli_demo2",
        "cli_demo2",
        """
        import click
        from devframe import hookimpl

        @click.command(name="hello")
        def other_hello():
            click.echo("SECOND HELLO")

        @hookimpl
        def devframe_cli_commands():
            return [other_hello]
        """,
    )
    return tmp_path


def test_plugin_adds_a_subcommand(plugin_path: Path) -> None:
    env = clean_env(PYTHONPATH=str(plugin_path))
    result = run("hello", "devframe", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello devframe\n"
    listing = run("--help", env=env)
    assert "hello" in listing.stdout and "boom" in listing.stdout


def test_plugin_command_name_clashes_are_refused_and_logged(plugin_path: Path) -> None:
    env = clean_env(PYTHONPATH=str(plugin_path), DEVFRAME_LOG_FORMAT="json")
    builtin = run("inspect", "examples/domain.xml", env=env)
    assert builtin.returncode == 0, builtin.stderr
    assert "FAKE INSPECT" not in builtin.stdout and "web-frontend-01" in builtin.stdout
    hello = run("hello", env=env)
    assert hello.returncode == 0 and hello.stdout == "hello world\n"
    events = _json_lines(hello.stderr)
    refused = {(e.get("plugin"), e.get("command")) for e in events if "refused" in str(e["event"])}
    assert ("cli_demo", "inspect") in refused
    assert ("cli_demo2", "hello") in refused
    assert any("not a named click command" in str(e["event"]) and e.get("plugin") == "cli_demo" for e in events)


def test_plugin_command_crash_is_one_line_unless_debug(plugin_path: Path) -> None:
    env = clean_env(PYTHONPATH=str(plugin_path))
    result = run("boom", env=env)
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "internal error", "kaboom", "--debug", logs_allowed=True)
    debug = run("--debug", "boom", env=env)
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr and "RuntimeError: kaboom" in debug.stderr


def test_plugin_commands_of_a_disabled_plugin_are_gone(plugin_path: Path) -> None:
    env = clean_env(PYTHONPATH=str(plugin_path), DEVFRAME_DISABLE_PLUGINS="cli_demo")
    hello = run("hello", env=env)
    # cli_demo is blocked, so cli_demo2's `hello` is the only one left.
    assert hello.returncode == 0 and hello.stdout == "SECOND HELLO\n"
    boom = run("boom", env=env)
    assert boom.returncode == 2
    assert_one_line_error(boom.stderr, "boom", logs_allowed=True)
