"""Issue 19 item 3: ``devframe edit`` on files (the installed program) and on a host
(libvirt's test driver, in process: the test holds a connection, so the command's own
connection shares the driver's state and the test can read back what it defined).

The same on a real libvirtd's domain: ``test_edit_and_tree_on_a_real_libvirtd`` below,
marked ``libvirtd``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import devframe
from devframe.agent import Guest, Host
from devframe.cli import main
from devframe.schema import validate_domain_xml

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "domain.xml"
DEVFRAME = Path(sys.executable).with_name("devframe")
SOUND = '{"type": "sound", "device": "ich9"}'
#: the example's graphics passwords and Ceph secret: never in a diff or a message
SECRETS = ("s3cret-spice-ticket", "vnc-pass", "3c1e5d7f-9a2b-4c6d-8e0f-1a3b5c7d9e2f")


def env(**extra: str) -> dict[str, str]:
    drop = ("COLUMNS", "NO_COLOR", "LIBVIRT_DEFAULT_URI")
    base = {k: v for k, v in os.environ.items() if not k.startswith("DEVFRAME_") and k not in drop}
    return {**base, **extra}


def edit(*args: str, input: str | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DEVFRAME), "edit", *args], capture_output=True, text=True, input=input, env=env(**extra), timeout=120
    )


@pytest.fixture
def vm(tmp_path: Path) -> Path:
    path = tmp_path / "vm.xml"
    shutil.copy(EXAMPLE, path)
    return path


def one_error(out: subprocess.CompletedProcess[str] | Result, *needles: str, logs_allowed: bool = False) -> None:
    stderr = out.stderr
    code = out.returncode if isinstance(out, subprocess.CompletedProcess) else out.exit_code
    assert code == 2, (code, stderr)
    lines = [line for line in stderr.splitlines() if line.strip()]
    if logs_allowed:  # the agent's own log lines (a warning) may come first
        lines = [line for line in lines if line.startswith("devframe: ")]
    assert len(lines) == 1 and lines[0].startswith("devframe: error: "), stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def diff_lines(diff: str, sign: str) -> list[str]:
    return [line[1:].strip() for line in diff.splitlines() if line.startswith(sign) and not line.startswith(sign * 3)]


# -- files -----------------------------------------------------------------------------------------


def test_add_a_spec_prints_a_diff_of_just_that_and_leaves_the_file(vm: Path) -> None:
    before = vm.read_bytes()
    out = edit(str(vm), "--add-device", SOUND, "--print-diff")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"--- {vm} (before)\n+++ {vm} (after)\n@@ ")
    assert diff_lines(out.stdout, "+") == ['<sound model="ich9"/>'] and diff_lines(out.stdout, "-") == []
    assert out.stderr == "devframe: added sound:1\n"
    assert vm.read_bytes() == before


def test_without_print_diff_the_edited_domain_is_printed_and_validates(vm: Path) -> None:
    xml_device = "<rng model='virtio'><backend model='random'>/dev/random</backend></rng>"
    out = edit(str(vm), "--add-device", xml_device, "--remove-device", "watchdog")
    assert out.returncode == 0, out.stderr
    domain = devframe.parse_domain(out.stdout)
    assert [d.element.findtext("backend") for d in domain.dev_map["rng"]] == ["/dev/urandom", "/dev/random"]
    assert "watchdog" not in domain.dev_map
    assert validate_domain_xml(out.stdout) == []
    # Everything else is the domain as it was, device for device.
    original = devframe.load_domain(EXAMPLE)
    kept = [d.to_xml() for d in original.devices if d.dev_type != "watchdog"]
    assert [d.to_xml() for d in domain.devices][:-1] == kept


def test_add_from_a_file_and_remove_by_alias_and_by_index(vm: Path, tmp_path: Path) -> None:
    spec = tmp_path / "nic.json"
    spec.write_text(
        json.dumps({"type": "interface", "device": "bridge", "network": "lab", "macAddr": "56:6f:00:00:00:09"})
    )
    out = edit(
        str(vm),
        "--add-device",
        f"@{spec}",
        "--remove-device",
        "ua-9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",  # the Ceph disk, vdb
        "--remove-device",
        "interface:2",  # the SR-IOV NIC
        "--json",
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["changes"] == [
        "removed disk:1 alias=ua-9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
        "removed interface:2 alias=ua-a7b8c9d0-e1f2-4a3b-8c5d-6e7f8091a2b3",
        "added interface:2",
    ]
    domain = devframe.parse_domain(result["xml"])
    assert [d.element.xpath("string(target/@dev)") for d in domain.dev_map["disk"]] == ["vda", "sda", "sdc"]
    assert domain.dev_map["interface"][-1].element.xpath("string(mac/@address)") == "56:6f:00:00:00:09"
    assert domain.dev_map["interface"][-1].metadata["network"] == "lab"  # kept in <metadata>, by MAC
    assert 'name="vdb"' not in result["xml"]  # the removed disk's metadata entry went with it
    # The result ("xml") is the domain for libvirt, passwords included; the diff is for people.
    assert not any(secret in result["diff"] + out.stderr for secret in SECRETS)


def test_set_fields_nested_keys_and_metadata(vm: Path) -> None:
    out = edit(
        str(vm),
        "--set", "interface:0", "linkActive=false",
        "--set", "sound", "address.slot=0x1c",
        "--set", "interface:1", "network=backup-net",
        "--set", "video", "specParams.heads=2",
        "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["changes"] == [
        "set interface:0 alias=ua-e5f6a7b8-c9d0-4e1f-8a3b-4c5d6e7f8091 linkActive: true -> false",
        'set sound:0 alias=ua-b8c9d0e1-f2a3-4b4c-9d6e-7f8091a2b3c4 address.slot: "0x1b" -> "0x1c"',
        'set interface:1 alias=ua-f6a7b8c9-d0e1-4f2a-9b4c-5d6e7f8091a2 network: "storage-net" -> "backup-net"',
        "set video:0 alias=ua-c9d0e1f2-a3b4-4c5d-8e7f-8091a2b3c4d5 specParams.heads: 1 -> 2",
    ]
    assert sorted(diff_lines(result["diff"], "+")) == sorted(
        [
            '<link state="down"/>',
            '<address type="pci" domain="0x0000" bus="0x00" slot="0x1c" function="0x0"/>',
            "<ovirt-vm:network>backup-net</ovirt-vm:network>",
            '<model type="qxl" ram="65536" vram="32768" vgamem="16384" heads="2" primary="yes"/>',
        ]
    )


def test_setting_a_secret_never_shows_it(vm: Path) -> None:
    out = edit(str(vm), "--set", "graphics:1", "passwd=n3w-vnc-secret", "--print-diff")
    assert out.returncode == 0, out.stderr
    assert "n3w-vnc-secret" not in out.stdout + out.stderr
    assert not any(secret in out.stdout + out.stderr for secret in SECRETS)
    assert 'passwd: "***" -> "***"' in out.stderr
    assert [line for line in out.stdout.splitlines() if line.startswith("+<") or line.startswith("+ ")]
    written = edit(str(vm), "--set", "graphics:1", "passwd=n3w-vnc-secret", "--in-place")
    assert written.returncode == 0 and "n3w-vnc-secret" in vm.read_text()  # the file itself has it


def test_in_place_keeps_a_backup_and_prints_no_xml(vm: Path) -> None:
    original = vm.read_bytes()
    vm.chmod(0o640)
    out = edit(str(vm), "--remove-device", "sound", "--in-place")
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""
    assert f"wrote {vm} (the original is {vm}.bak)" in out.stderr
    assert Path(f"{vm}.bak").read_bytes() == original
    assert "<sound" not in vm.read_text() and (vm.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in vm.parent.iterdir() if p.name.startswith(".devframe-edit-")] == []


def test_stdin_in_and_the_result_out() -> None:
    out = edit("-", "--add-device", SOUND, input=EXAMPLE.read_text())
    assert out.returncode == 0, out.stderr
    assert len(devframe.parse_domain(out.stdout).dev_map["sound"]) == 2


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        ([], ["nothing to edit"]),
        (["--remove-device", "disk:9"], ["--remove-device disk:9", "disk:0-disk:3"]),
        (["--remove-device", "disk"], ["4 disk devices", "disk:INDEX"]),
        (["--remove-device", "ua-nobody"], ["--remove-device ua-nobody", "no device has this alias"]),
        (["--remove-device", "sound", "--remove-device", "sound:0"], ["named twice"]),
        (["--set", "interface:0", "linkActive"], ["expected KEY=VALUE"]),
        (["--set", "interface:0", "specParams.link=down"], ["no dev_spec key 'specParams.link'", "113 keys"]),
        (["--set", "video", "specParams.heads=many"], ["video", "heads", "many", "int"]),
        (["--add-device", "{not json"], ["--add-device", "neither a device element (XML) nor a dev_spec (JSON)"]),
        (["--add-device", '{"type": "teleporter"}'], ["teleporter"]),
        (["--add-device", "<sound model='ich9'"], ["--add-device", "line 1"]),
        (["--add-device", SOUND, "--define"], ["--define", "is a file, not a domain of a host"]),
        (["--add-device", SOUND, "--update", "--define"], ["give one of them"]),
    ],
)
def test_user_errors_are_one_line_naming_what_and_where(vm: Path, args: list[str], needles: list[str]) -> None:
    out = edit(str(vm), *args)
    assert out.returncode == 2, out
    one_error(out, *needles)


def test_in_place_needs_a_file() -> None:
    out = edit("-", "--add-device", SOUND, "--in-place", input=EXAMPLE.read_text())
    one_error(out, "--in-place", "<stdin> is not a file")


def test_a_name_that_is_no_file_needs_a_uri() -> None:
    out = edit("no-such-vm", "--add-device", SOUND)
    one_error(out, "no-such-vm: no such file", "-c URI", "LIBVIRT_DEFAULT_URI")


# -- a host: libvirt's test driver -------------------------------------------------------------------


@pytest.fixture
def test_host() -> Iterator[tuple[Host, Guest]]:
    """A domain of our own on test:///default, defined and running, under a held connection."""
    host = Host("test:///default")
    name = f"edit-{uuid.uuid4().hex[:8]}"
    domain = devframe.parse_domain(
        f"<domain type='test'><name>{name}</name><memory>65536</memory><os><type>hvm</type></os><devices>"
        "<disk type='file' device='disk'><source file='/guest/a.img'/><target dev='vda' bus='virtio'/>"
        "<alias name='ua-0d15c000-0000-4000-8000-00000000000a'/></disk>"
        "<interface type='network'><mac address='52:54:00:00:00:0a'/><source network='default'/>"
        "<link state='up'/></interface></devices></domain>"
    )
    guest = host.create_guest(domain)
    try:
        yield host, guest
    finally:
        guest.destroy()
        host.close()


def cli(*args: str, **extra: str) -> Result:
    overrides: dict[str, str | None] = {k: None for k in os.environ if k.startswith("DEVFRAME_")}
    overrides["LIBVIRT_DEFAULT_URI"] = None
    overrides.update(extra)
    return CliRunner().invoke(main, list(args), env=overrides, catch_exceptions=False)


def test_define_replaces_the_definition_on_the_host(test_host: tuple[Host, Guest]) -> None:
    host, guest = test_host
    out = cli("edit", "-c", "test:///default", guest.name, "--add-device", SOUND, "--set", "interface",
              "linkActive=false", "--define", "--json")  # fmt: skip
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["defined"] is True and result["source"] == f"test:///default domain {guest.name} (definition)"
    assert "xml" not in result  # it went to libvirt
    defined = host.guest(guest.name).domain(inactive=True)
    assert [d.element.get("model") for d in defined.dev_map["sound"]] == ["ich9"]
    assert defined.dev_map["interface"][0].element.xpath("string(link/@state)") == "down"
    assert "sound" not in guest.domain().dev_map  # the running domain is as it was


def test_without_define_or_update_nothing_changes_on_the_host(test_host: tuple[Host, Guest]) -> None:
    _, guest = test_host
    before = guest.xml(inactive=True)
    out = cli("edit", "--connect", "test:///default", guest.uuid, "--remove-device", "disk", "--print-diff")
    assert out.exit_code == 0, out.output
    assert diff_lines(out.stdout, "-")[0] == '<disk type="file" device="disk">'
    assert guest.xml(inactive=True) == before


def test_libvirt_default_uri_names_the_host_for_a_name_that_is_no_file(test_host: tuple[Host, Guest]) -> None:
    _, guest = test_host
    out = cli("edit", guest.name, "--add-device", SOUND, "--print-diff", LIBVIRT_DEFAULT_URI="test:///default")
    assert out.exit_code == 0, out.output
    assert diff_lines(out.stdout, "+") == ['<sound model="ich9"/>']


def test_update_on_the_test_driver_says_what_it_cannot_do(test_host: tuple[Host, Guest]) -> None:
    _, guest = test_host
    attach = cli("edit", "-c", "test:///default", guest.name, "--add-device", SOUND, "--update")
    assert attach.exit_code == 2
    one_error(attach, "attach device", "test:///default", guest.name, "not supported", logs_allowed=True)
    change = cli("edit", "-c", "test:///default", guest.name, "--set", "interface", "linkActive=false", "--update")
    assert change.exit_code == 2  # Guest.update asks libvirt, and the test driver updates no device
    one_error(change, guest.name, "test:///default", logs_allowed=True)
    # A field libvirt cannot change on a running domain is refused before libvirt is asked.
    model = cli("edit", "-c", "test:///default", guest.name, "--set", "interface", "nicModel=e1000", "--update")
    one_error(model, "cannot change on a running domain", "nicModel", "nothing was changed")


def test_a_domain_the_host_does_not_have(test_host: tuple[Host, Guest]) -> None:
    out = cli("edit", "-c", "test:///default", "no-such-domain", "--add-device", SOUND)
    assert out.exit_code == 2
    one_error(out, "no-such-domain")


def test_in_place_on_a_host_is_refused(test_host: tuple[Host, Guest]) -> None:
    _, guest = test_host
    out = cli("edit", "-c", "test:///default", guest.name, "--add-device", SOUND, "--in-place")
    one_error(out, "--in-place", "is not a file")


# -- a real libvirtd (marked: it needs the shared daemon; run by scripts/test and .ci/run) ------------


@pytest.mark.libvirtd
def test_edit_and_tree_on_a_real_libvirtd(libvirtd: None) -> None:
    """edit --define, edit --update (a USB tablet: its unplug needs no guest OS) and tree,
    through the installed program, on a running TCG guest of qemu:///system."""
    from libvirt_host import PREFIX, URI, tiny_domain_xml

    name = f"{PREFIX}edit-{uuid.uuid4().hex[:8]}"
    host = Host(URI)
    guest = host.create_guest(devframe.parse_domain(tiny_domain_xml(name)))

    def run(*args: str) -> dict[str, Any]:
        out = subprocess.run([str(DEVFRAME), *args], capture_output=True, text=True, env=env(), timeout=120)
        assert out.returncode == 0, out.stderr
        result: dict[str, Any] = json.loads(out.stdout)
        return result

    try:
        tree = run("tree", "-c", URI, name, "--json")
        assert tree["roots"][0]["label"].startswith("pci-root (PCI bus 0x00)")
        defined = run("edit", "-c", URI, name, "--add-device", SOUND, "--define", "--json")
        assert defined["defined"] is True
        assert "sound" in guest.domain(inactive=True).dev_map and "sound" not in guest.domain().dev_map
        tablet = '{"type": "input", "device": "tablet", "specParams": {"bus": "usb"}}'
        added = run("edit", "-c", URI, name, "--add-device", tablet, "--update", "--json")
        (line,) = added["updated"]
        alias = line.split("alias=")[1]
        (live,) = guest.domain().find(alias=alias)
        assert (live.raw_address() or {}).get("type") == "usb"
        shown = subprocess.run([str(DEVFRAME), "tree", "-c", URI, name], capture_output=True, text=True, env=env())
        assert f"input tablet alias={alias}" in shown.stdout
        removed = run("edit", "-c", URI, name, "--remove-device", alias, "--update", "--timeout", "15", "--json")
        (done,) = removed["updated"]
        assert done.startswith("detached input:") and done.endswith(f" alias={alias}")
        assert guest.domain().find(alias=alias) == []
    finally:
        try:
            guest.destroy()
        finally:
            host.close()
