"""Issue 19 item 4: ``devframe tree``, the address topology, through the installed program
(files, stdin, and libvirt's test driver) and :func:`devframe.topology.topology`.

The same on a real libvirtd's domain: tests/test_cli_edit.py's libvirtd-marked test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

import devframe
from devframe.testing import SAMPLE_DOMAINS, wrap_in_domain
from devframe.topology import topology

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "domain.xml"
SAMPLES = sorted(Path(SAMPLE_DOMAINS).glob("*.xml"))
DEVFRAME = Path(sys.executable).with_name("devframe")
NOWHERE = "the next PCI hot-plug has nowhere to go: every pcie-root-port is taken"


def env(**extra: str) -> dict[str, str]:
    drop = ("COLUMNS", "NO_COLOR", "LIBVIRT_DEFAULT_URI")
    base = {k: v for k, v in os.environ.items() if not k.startswith("DEVFRAME_") and k not in drop}
    return {**base, **extra}


def devframe_cli(*args: str, input: str | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DEVFRAME), *args], capture_output=True, text=True, input=input, env=env(**extra), timeout=120
    )


def tree_json(*args: str, input: str | None = None) -> dict[str, Any]:
    out = devframe_cli("tree", "--json", *args, input=input)
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def nodes(tree: dict[str, Any]) -> list[tuple[list[str], dict[str, Any]]]:
    """Every node with the labels of the nodes above it."""
    found: list[tuple[list[str], dict[str, Any]]] = []

    def visit(node: dict[str, Any], above: list[str]) -> None:
        found.append((above, node))
        for child in node.get("children", []):
            visit(child, [*above, node["label"]])

    for root in tree["roots"]:
        visit(root, [])
    return found


def parent_of(tree: dict[str, Any], label_start: str) -> str:
    (above,) = [above for above, node in nodes(tree) if node["label"].startswith(label_start)]
    return above[-1]


def test_the_example_every_device_under_what_it_plugs_into_and_the_warning() -> None:
    tree = tree_json(str(EXAMPLE))
    assert tree["roots"][0]["label"] == "pcie-root (PCI bus 0x00)"
    assert parent_of(tree, "disk vda") == "pci controller index=4 pcie-root-port"
    assert parent_of(tree, "disk sda") == "scsi controller index=0 virtio-scsi"
    assert parent_of(tree, "scsi controller index=0") == "pci controller index=3 pcie-root-port"
    assert parent_of(tree, "disk sdc") == "sata controller index=0"
    assert parent_of(tree, "input tablet") == "usb controller index=0 qemu-xhci"
    assert parent_of(tree, "channel org.qemu.guest_agent.0") == "virtio-serial controller index=0"
    address = {node["label"].split(" alias=")[0]: node["address"] for _, node in nodes(tree)}
    assert address["disk vda"] == "04:00.0" and address["disk sda"] == "0:0:0" and address["input tablet"] == "port 1"
    free = [node["label"] for _, node in nodes(tree) if node.get("free")]
    assert "free ports: 2, 3, 4, 5, 6, 7, 8" in free and "13 of 16 ports free" in free
    assert not any(label.startswith("empty") for label in free)  # nine root ports, nine devices
    assert len(tree["warnings"]) == 1 and tree["warnings"][0].startswith(NOWHERE)


def test_an_added_root_port_is_where_the_next_hotplug_goes() -> None:
    port = (
        "<controller type='pci' index='10' model='pcie-root-port'>"
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x1'/></controller>"
    )
    edited = devframe_cli("edit", str(EXAMPLE), "--add-device", port)
    assert edited.returncode == 0, edited.stderr
    text = devframe_cli("tree", "-", input=edited.stdout)
    assert text.returncode == 0, text.stderr
    assert "warning" not in text.stdout
    assert "│  └─ 0a:00.0  empty: the next hot-plugged PCIe device can go here" in text.stdout
    assert "├─ 00:03.1  pci controller index=10 pcie-root-port" in text.stdout


def test_legacy_buses_companions_bridges_ide_and_usb() -> None:
    tree = tree_json(str(Path(SAMPLE_DOMAINS) / "controllers-usb-scsi.xml"))
    assert tree["roots"][0]["label"] == "pci-root (PCI bus 0x00)"
    labels = {node["label"]: (above, node) for above, node in nodes(tree)}
    # EHCI with its UHCI companions: one USB bus, its ports under the master.
    master = labels["usb controller index=0 ich9-ehci1"][1]
    assert [c["label"] for c in master["children"]] == ["free ports: 1, 2, 3, 4, 5, 6"]
    assert "children" not in labels["usb controller index=0 ich9-uhci1"][1]
    assert labels["ccid controller index=0"][0][-1] == "usb controller index=2 qemu-xhci"
    assert parent_of(tree, "free slots: 0x02-0x1f") == "pci controller index=1 pci-bridge"
    assert "free (bus:target:unit): 0:0:0, 0:0:1, 1:0:0, 1:0:1" in labels  # the ide controller's four places
    assert tree["warnings"] == []  # pci-root and the bridge have free hot-plug slots


def test_usb_hubs_nest_and_implicit_controllers_are_named() -> None:
    devices = (
        "<hub type='usb'><address type='usb' bus='0' port='2'/></hub>"
        "<input type='tablet' bus='usb'><address type='usb' bus='0' port='2.3'/></input>"
        "<input type='mouse' bus='usb'><address type='usb' bus='0' port='1'/></input>"
        "<disk type='file' device='disk'><source file='/x.img'/><target dev='sdb' bus='scsi'/>"
        "<address type='drive' controller='1' bus='0' target='0' unit='3'/></disk>"
    )
    tree = tree_json("-", input=wrap_in_domain(devices))
    labels = {node["label"]: (above, node) for above, node in nodes(tree)}
    assert labels["input tablet"][0][-2:] == ["usb controller index=0 (implicit: libvirt adds it)", "hub usb"]
    assert labels["input tablet"][1]["address"] == "port 2.3"
    assert "free ports: 2.1, 2.2, 2.4, 2.5, 2.6, 2.7, 2.8" in labels
    assert labels["disk sdb"][0] == ["scsi controller index=1 (implicit: libvirt adds it)"]
    assert labels["disk sdb"][1]["address"] == "0:0:3"


def test_a_bus_no_controller_provides_is_a_warning() -> None:
    devices = (
        "<rng model='virtio'><backend model='random'>/dev/urandom</backend>"
        "<address type='pci' bus='0x05' slot='0x00'/></rng>"
    )
    tree = tree_json("-", input=wrap_in_domain(devices))
    assert parent_of(tree, "rng virtio") == "PCI bus 0x05: no controller with index=5 provides it"
    assert [node["address"] for _, node in nodes(tree) if node["label"] == "rng virtio"] == ["05:00.0"]
    assert "PCI bus 0x05 is used but no pci controller has index=5" in tree["warnings"]


def test_s390_devices_sit_on_the_channel_subsystem_in_device_number_order() -> None:
    tree = tree_json(str(Path(SAMPLE_DOMAINS) / "s390x-ccw.xml"))
    (ccw,) = [root for root in tree["roots"] if root["label"].startswith("ccw")]
    numbers = [child["address"] for child in ccw["children"]]
    assert numbers == sorted(numbers, key=lambda text: int(text.split(".")[-1], 16))
    assert numbers[0] == "fe.0.0000"


@pytest.mark.parametrize("path", [*SAMPLES, EXAMPLE], ids=lambda p: p.name)
def test_every_device_appears_once(path: Path) -> None:
    domain = devframe.load_domain(path)
    found = topology(domain)
    shown = [node.device for root in found.roots for node in root.walk() if node.device is not None]
    assert sorted(id(d) for d in shown) == sorted(id(d) for d in domain.devices), path.name


def test_dot_and_svg() -> None:
    dot = devframe_cli("tree", "--format", "dot", str(EXAMPLE))
    assert dot.returncode == 0 and dot.stdout.startswith('digraph "domain web-frontend-01')
    assert 'label="04:00.0\\ndisk vda alias=ua-0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f"' in dot.stdout
    assert "warning: " + NOWHERE in dot.stdout
    svg = devframe_cli("tree", "--format", "svg", str(EXAMPLE))
    assert svg.returncode == 0, svg.stderr
    root = etree.fromstring(svg.stdout.encode())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    drawn = [str(text) for text in root.itertext()]
    assert "disk vda alias=ua-0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f" in drawn
    assert any(text.startswith("warning: " + NOWHERE) for text in drawn)


def test_text_fits_the_terminal_unless_wide() -> None:
    narrow = devframe_cli("tree", str(EXAMPLE), COLUMNS="60")
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 60
    wide = devframe_cli("tree", "--wide", str(EXAMPLE), COLUMNS="60")
    assert max(len(line) for line in wide.stdout.splitlines()) > 100


def test_a_domain_of_the_test_driver() -> None:
    out = devframe_cli("tree", "-c", "test:///default", "test")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("domain test (test:///default domain test (live))\n")
    # The test driver's domain puts its disk on a bus 0x01 no controller provides: shown as such.
    assert "00:01.0  interface aa:bb:cc:dd:ee:ff" in out.stdout and "01:00.0  disk vda" in out.stdout
    assert "warning: PCI bus 0x01 is used but no pci controller has index=1" in out.stdout
    by_env = devframe_cli("tree", "--inactive", "test", LIBVIRT_DEFAULT_URI="test:///default")
    assert "(test:///default domain test (definition))" in by_env.stdout.splitlines()[0]
