"""Benchmark for issue 2: parse_domain and to_xml against lxml's own floor, in one process.

    python benchmarks/bench_parse.py [--devices N] [--runs R]

Generates a domain with N devices (a realistic mix: disks, interfaces, graphics, sound, video,
controllers, and devices no built-in plugin claims such as channel, memballoon, rng and serial,
with aliases and addresses), then prints, best of R runs each:

* parse ratio: ``parse_domain(xml)`` over the floor ``lxml parses the same bytes and iterates
  <devices>``;
* build ratio: ``Domain.to_xml()`` over the floor ``etree.tostring`` of the same tree.

Exits with status 1 when the parse ratio is above 3.0 (issue 2's acceptance bound).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable

from lxml import etree

import devframe

PARSE_RATIO_LIMIT = 3.0


def _pci(slot: int, bus: int = 0) -> str:
    return f"<address type='pci' domain='0x0000' bus='0x{bus:02x}' slot='0x{slot % 32:02x}' function='0x0'/>"


def _disk(i: int) -> str:
    if i % 5 == 0:
        return (
            f"<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
            f"<source file='/var/lib/libvirt/images/iso{i}.iso'/><target dev='sd{i}' bus='sata'/><readonly/>"
            f"<alias name='ua-cd{i}'/><address type='drive' controller='0' bus='0' target='0' unit='{i % 6}'/></disk>"
        )
    return (
        f"<disk type='block' device='disk'><driver name='qemu' type='raw' cache='none' io='native'/>"
        f"<source dev='/dev/mapper/vg-lv{i}'/><target dev='vd{i}' bus='virtio'/><serial>SN{i:08d}</serial>"
        f"<boot order='{i % 9 + 1}'/><alias name='ua-disk{i}'/>{_pci(i, 1)}</disk>"
    )


def _interface(i: int) -> str:
    return (
        f"<interface type='bridge'><mac address='52:54:00:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}'/>"
        f"<source bridge='br{i % 4}'/><model type='virtio'/><driver name='vhost' queues='4'/>"
        f"<link state='up'/><mtu size='1500'/><alias name='ua-nic{i}'/>{_pci(i, 2)}</interface>"
    )


def _graphics(i: int) -> str:
    if i % 2:
        return (
            "<graphics type='spice' autoport='yes' passwdValidTo='1970-01-01T00:00:01'>"
            "<listen type='network' network='vdsm-ovirtmgmt'/><channel name='main' mode='secure'/></graphics>"
        )
    return (
        "<graphics type='vnc' port='-1' autoport='yes' keymap='en-us'><listen type='address' address='0'/></graphics>"
    )


def _controller(i: int) -> str:
    kinds = [
        f"<controller type='virtio-serial' index='{i}' ports='16'><alias name='ua-vs{i}'/>{_pci(i, 3)}</controller>",
        f"<controller type='scsi' index='{i}' model='virtio-scsi'><driver iothread='1'/>"
        f"<alias name='ua-scsi{i}'/>{_pci(i, 3)}</controller>",
        f"<controller type='usb' index='{i}' model='qemu-xhci' ports='8'>"
        f"<alias name='ua-usb{i}'/>{_pci(i, 3)}</controller>",
        f"<controller type='pci' index='{i}' model='pcie-root-port'><model name='pcie-root-port'/>"
        f"<target chassis='{i}' port='0x{i % 256:x}'/><alias name='pci.{i}'/>{_pci(i, 0)}</controller>",
    ]
    return kinds[i % len(kinds)]


def _unknown(i: int) -> str:
    kinds = [
        f"<channel type='unix'><source mode='bind' path='/var/lib/libvirt/qemu/channels/c{i}.sock'/>"
        f"<target type='virtio' name='org.qemu.guest_agent.{i}'/><alias name='channel{i}'/>"
        f"<address type='virtio-serial' controller='0' bus='0' port='{i % 16 + 1}'/></channel>",
        f"<memballoon model='virtio'><stats period='5'/><alias name='ua-balloon{i}'/>{_pci(i, 4)}</memballoon>",
        f"<rng model='virtio'><backend model='random'>/dev/urandom</backend>"
        f"<alias name='ua-rng{i}'/>{_pci(i, 5)}</rng>",
        f"<serial type='pty'><target type='isa-serial' port='{i % 4}'><model name='isa-serial'/></target>"
        f"<alias name='serial{i}'/></serial>",
    ]
    return kinds[i % len(kinds)]


def _sound(i: int) -> str:
    return f"<sound model='ich9'><codec type='micro'/><alias name='ua-snd{i}'/>{_pci(i, 6)}</sound>"


def _video(i: int) -> str:
    return (
        f"<video><model type='qxl' ram='65536' vram='32768' vgamem='16384' heads='1' primary='yes'/>"
        f"<alias name='ua-video{i}'/>{_pci(i, 7)}</video>"
    )


# Roughly what a large real domain holds: mostly disks and NICs, then controllers and the rest.
MIX: list[Callable[[int], str]] = [
    _disk,
    _disk,
    _disk,
    _interface,
    _interface,
    _controller,
    _unknown,
    _unknown,
    _graphics,
    _sound,
    _video,
]


def generate_domain(devices: int) -> bytes:
    parts = [_emulator()]
    parts += [MIX[i % len(MIX)](i) for i in range(devices - 1)]
    body = "\n    ".join(parts)
    return (
        "<domain type='kvm' xmlns:ovirt-vm='http://ovirt.org/vm/1.0'>\n"
        "  <name>bench</name>\n  <uuid>9f2a0a76-7d0e-4d8e-8f55-3e1e56e6b7a1</uuid>\n"
        "  <memory unit='KiB'>8388608</memory>\n  <vcpu placement='static'>4</vcpu>\n"
        "  <os><type arch='x86_64' machine='pc-q35-8.2'>hvm</type><boot dev='hd'/></os>\n"
        "  <features><acpi/><apic/></features>\n"
        "  <cpu mode='host-model'><topology sockets='1' cores='4' threads='1'/></cpu>\n"
        f"  <devices>\n    {body}\n  </devices>\n</domain>\n"
    ).encode()


def _emulator() -> str:
    return "<emulator>/usr/bin/qemu-system-x86_64</emulator>"


def best_of(runs: int, func: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=10_000, help="devices in the generated domain")
    parser.add_argument("--runs", type=int, default=7, help="runs of each measurement (best is kept)")
    args = parser.parse_args(argv)
    if args.devices < 1 or args.runs < 1:
        parser.error("--devices and --runs must be positive")

    xml = generate_domain(args.devices)
    registry = devframe.default_registry()  # plugin loading is not part of a parse
    safe_parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, collect_ids=False)

    def floor_parse() -> object:
        root = etree.fromstring(xml, safe_parser)
        devices = root.find("devices")
        return [child.tag for child in devices]

    def parse() -> object:
        return devframe.parse_domain(xml, registry=registry)

    domain = parse()
    assert isinstance(domain, devframe.Domain)
    counts = {k: len(v) for k, v in domain.dev_map.items()}
    unknown = sum(1 for d in domain.devices if isinstance(d, devframe.UnknownDevice))

    floor_parse_t = best_of(args.runs, floor_parse)
    parse_t = best_of(args.runs, parse)

    tree = domain.tree

    def floor_build() -> object:
        return etree.tostring(tree, encoding="unicode")

    build_t = best_of(args.runs, domain.to_xml)
    floor_build_t = best_of(args.runs, floor_build)

    # After an edit the <devices> element is rebuilt from the objects: the slow path of to_xml.
    def edited_build() -> object:
        last = domain.devices[-1]
        domain.remove(last)
        domain.to_xml()
        domain.add(last)
        return domain.to_xml()

    edited_t = best_of(args.runs, edited_build)

    parse_ratio = parse_t / floor_parse_t
    build_ratio = build_t / floor_build_t
    print(f"domain: {args.devices} devices, {len(xml) / 1e6:.1f} MB, {unknown} unknown; {counts}")
    print(f"parse_domain / (lxml parse + iterate <devices>): {parse_ratio:.2f}  (limit {PARSE_RATIO_LIMIT})")
    print(f"to_xml / etree.tostring:                         {build_ratio:.2f}")
    print(f"remove+to_xml+add+to_xml / (2 x etree.tostring): {edited_t / (2 * floor_build_t):.2f}")
    if parse_ratio > PARSE_RATIO_LIMIT:
        print(f"FAIL: parse ratio {parse_ratio:.2f} is above {PARSE_RATIO_LIMIT}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
