"""Benchmark: what binding per-device metadata adds to ``parse_domain``.

A domain of 10,000 devices (disks and NICs) is parsed with its engine-style
``<metadata>`` section (one ``<ovirt-vm:device>`` entry per device, disks keyed by
``devtype``/``name``, NICs by ``mac_address``) and without it. Both are timed in this
process, best of several runs, and the ratio is printed. Target: at most 1.5.

``to_xml()`` of the parsed domain is compared with ``etree.tostring`` of the same tree
(target: at most 3x), unchanged and with 1 % of the devices' metadata edited.

Run: ``python benchmarks/bench_metadata.py [--devices N] [--runs N]``; exits non-zero
when a target is missed.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from lxml import etree

import devframe
from devframe import Device, DeviceType, hookimpl

PARSE_TARGET = 1.5
TO_XML_TARGET = 3.0
NS = "http://ovirt.org/vm/1.0"


class BenchDisk(Device):
    dev_type = "disk"
    tag = "disk"


class BenchNic(Device):
    dev_type = "interface"
    tag = "interface"


class BenchPlugin:
    """Disks keyed by target dev, NICs by MAC: the keys the engine uses."""

    @hookimpl
    def devframe_device_types(self) -> list[DeviceType]:
        return [DeviceType("disk", BenchDisk), DeviceType("interface", BenchNic)]

    @hookimpl
    def devframe_metadata_identity(self, element: Any, dev_type: str) -> dict[str, str] | None:
        if dev_type == "disk":
            target = element.find("target")
            return {"devtype": "disk", "name": target.get("dev")} if target is not None else None
        mac = element.find("mac")
        return {"mac_address": mac.get("address")} if mac is not None else None


def drive_name(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return "vd" + letters


def build_domain(count: int) -> tuple[bytes, bytes]:
    """(with metadata, without metadata) XML of one domain with ``count`` devices."""
    rng = uuid.UUID(int=12345).int
    devices: list[str] = []
    entries: list[str] = []
    for i in range(count):
        dev_id = uuid.UUID(int=(rng + i * 7919) % (1 << 128))
        slot = f"0x{i % 32:02x}"
        bus = f"0x{(i // 32) % 256:02x}"
        if i % 2 == 0:
            name = drive_name(i // 2)
            img, vol, dom, pool = (uuid.UUID(int=(rng * (k + 3) + i) % (1 << 128)) for k in range(4))
            devices.append(
                f"""    <disk type="file" device="disk" snapshot="no">
      <driver name="qemu" type="qcow2" cache="none" error_policy="stop" io="threads"/>
      <source file="/rhev/data-center/mnt/blockSD/{dom}/images/{img}/{vol}"/>
      <target dev="{name}" bus="virtio"/>
      <serial>{img}</serial>
      <alias name="ua-{dev_id}"/>
      <address type="pci" domain="0x0000" bus="{bus}" slot="{slot}" function="0x0"/>
    </disk>
"""
            )
            entries.append(
                f"""      <ovirt-vm:device devtype="disk" name="{name}">
        <ovirt-vm:domainID>{dom}</ovirt-vm:domainID>
        <ovirt-vm:imageID>{img}</ovirt-vm:imageID>
        <ovirt-vm:poolID>{pool}</ovirt-vm:poolID>
        <ovirt-vm:volumeID>{vol}</ovirt-vm:volumeID>
      </ovirt-vm:device>
"""
            )
        else:
            mac = "56:6f:" + ":".join(f"{(i >> s) & 0xFF:02x}" for s in (24, 16, 8, 0))
            devices.append(
                f"""    <interface type="bridge">
      <mac address="{mac}"/>
      <source bridge="ovirtmgmt"/>
      <model type="virtio"/>
      <filterref filter="vdsm-no-mac-spoofing"/>
      <link state="up"/>
      <mtu size="1500"/>
      <alias name="ua-{dev_id}"/>
      <address type="pci" domain="0x0000" bus="{bus}" slot="{slot}" function="0x0"/>
    </interface>
"""
            )
            entries.append(
                f"""      <ovirt-vm:device mac_address="{mac.upper()}">
        <ovirt-vm:network>ovirtmgmt</ovirt-vm:network>
      </ovirt-vm:device>
"""
            )
    head = """<domain type="kvm" xmlns:ovirt-vm="http://ovirt.org/vm/1.0">
  <name>bench</name>
  <uuid>5f0c2a4e-8d1b-4c3a-9e7f-2b6d4a1c0e93</uuid>
"""
    metadata = (
        "  <metadata>\n    <ovirt-vm:vm>\n"
        "      <ovirt-vm:clusterVersion>4.7</ovirt-vm:clusterVersion>\n"
        '      <ovirt-vm:memGuaranteedSize type="int">2048</ovirt-vm:memGuaranteedSize>\n'
        + "".join(entries)
        + "    </ovirt-vm:vm>\n  </metadata>\n"
    )
    tail = '  <memory unit="KiB">4194304</memory>\n  <devices>\n' + "".join(devices) + "  </devices>\n</domain>\n"
    return (head + metadata + tail).encode(), (head + tail).encode()


def best(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def measure(registry: devframe.Registry, label: str, with_md: bytes, without_md: bytes, runs: int) -> dict[str, float]:
    domain = devframe.parse_domain(with_md, registry=registry)
    bound = sum(1 for d in domain.devices if d._metadata is not None)
    orphans = len(domain.orphan_metadata)
    if orphans:
        print(f"[{label}] {orphans} entries did not bind (plugins without identity hooks?); skipped")
        return {}
    # Interleave the two so drift on a shared machine hits both alike.
    t_with = t_without = float("inf")
    for _ in range(runs):
        t_without = min(t_without, best(lambda: devframe.parse_domain(without_md, registry=registry), 1))
        t_with = min(t_with, best(lambda: devframe.parse_domain(with_md, registry=registry), 1))
    ratio = t_with / t_without
    print(
        f"[{label}] parse_domain: {bound} devices bound; with/without metadata = {ratio:.2f} (target <= {PARSE_TARGET})"
    )

    floor = best(lambda: etree.tostring(domain.tree, encoding="unicode"), runs)
    unchanged = best(domain.to_xml, runs)
    print(f"[{label}] to_xml unchanged / etree.tostring = {unchanged / floor:.2f} (target <= {TO_XML_TARGET})")
    devices = [d for d in domain.devices if d._metadata is not None]
    step = max(len(devices) // 100, 1)

    def edit_one_percent() -> None:
        for d in devices[::step]:
            d.metadata["touched"] = d.metadata.get("touched", 0) + 1
        domain.to_xml()

    edited = best(edit_one_percent, runs)
    print(
        f"[{label}] to_xml with 1% of metadata edited / etree.tostring = {edited / floor:.2f} "
        f"(target <= {TO_XML_TARGET})"
    )
    again = devframe.parse_domain(domain.to_xml(), registry=registry)
    assert not again.orphan_metadata, "edited domain lost a binding"
    return {"parse": ratio, "to_xml": unchanged / floor, "to_xml_edited": edited / floor}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    with_md, without_md = build_domain(args.devices)
    print(f"{args.devices} devices, {len(with_md) - len(without_md)} bytes of metadata in {len(with_md)} bytes")
    results = {
        "bench plugin": measure(
            devframe.create_registry(entry_points=False, plugins=[("bench", BenchPlugin())]),
            "bench plugin",
            with_md,
            without_md,
            args.runs,
        ),
        "installed plugins": measure(devframe.create_registry(), "installed plugins", with_md, without_md, args.runs),
    }
    failed = False
    for label, figures in results.items():
        if not figures:
            continue
        if (
            figures["parse"] > PARSE_TARGET
            or figures["to_xml"] > TO_XML_TARGET
            or figures["to_xml_edited"] > TO_XML_TARGET
        ):
            print(f"FAIL [{label}]: {figures}")
            failed = True
    print("ratio:", " ".join(f"{k}={v['parse']:.2f}" for k, v in results.items() if v))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
