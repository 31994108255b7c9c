"""Simulated hosts for the fleet's tests and benchmark: libvirt test-driver node files.

Each node file is a host of its own (``test:///path/node.xml``: libvirt's test driver
keeps one private state per connection), with running guests whose devices are made
here: NICs (by MAC), disks (by target), a graphics device with a password, so the
redaction of secrets is exercised on every run.
"""

from __future__ import annotations

import uuid as uuid_module
from pathlib import Path

__all__ = ["PASSWORD", "fill", "guest_template", "guest_uuid", "guest_xml", "write_node"]

#: the graphics password every generated guest has; must never leave an agent
PASSWORD = "s3cr3t-Fleet-Pw"


def guest_uuid(host: int, guest: int) -> str:
    return str(uuid_module.UUID(int=(0xDEF << 112) + (host << 32) + guest))


def guest_template(host: int, guest: int, devices: int = 6, *, graphics: bool = True) -> str:
    """:func:`guest_xml` with ``{link}`` and ``{generation}`` left to fill (:func:`fill`;
    the XML has no braces of its own): a simulation cycling guests makes each guest's
    text once and fills in the generation per cycle."""
    parts = []
    count = devices - (1 if graphics else 0)
    for index in range(count):
        tag = f"{host:03x}{guest:03x}{index:03x}"
        if index % 2 == 0:
            mac = f"52:54:{host & 255:02x}:{guest >> 8 & 255:02x}:{guest & 255:02x}:{index & 255:02x}"
            parts.append(
                f"<interface type='network'><mac address='{mac}'/><source network='default'/>"
                "<model type='virtio'/><link state='{link}'/>"
                f"<alias name='ua-{uuid_module.UUID(int=(host << 64) + (guest << 32) + index)}'/></interface>"
            )
        else:
            letters = ""
            n = index // 2 + 1
            while n:
                n, rest = divmod(n - 1, 26)
                letters = chr(97 + rest) + letters
            parts.append(
                f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                f"<source file='/var/lib/fleet/{tag}.img'/><target dev='vd{letters}' bus='virtio'/>"
                f"<serial>s{tag}g{{generation}}</serial></disk>"
            )
    if graphics:
        parts.append(f"<graphics type='vnc' port='-1' autoport='yes' passwd='{PASSWORD}'/>")
    return (
        f"<domain type='test'><name>h{host}-g{guest}</name><uuid>{guest_uuid(host, guest)}</uuid>"
        "<memory unit='KiB'>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os>"
        f"<devices>{''.join(parts)}</devices></domain>"
    )


def fill(template: str, generation: int) -> str:
    """A :func:`guest_template` as the guest of ``generation``."""
    # Two replaces: several times cheaper than str.format on a guest's text.
    link = "up" if generation % 2 == 0 else "down"
    return template.replace("{link}", link).replace("{generation}", str(generation))


def guest_xml(host: int, guest: int, devices: int = 6, *, generation: int = 0, graphics: bool = True) -> str:
    """One guest with ``devices`` devices; ``generation`` changes every NIC's link state
    and every disk's serial (a change of every device a correlate reports)."""
    return fill(guest_template(host, guest, devices, graphics=graphics), generation)


def write_node(directory: Path, host: int, guests: int, devices: int = 6, *, graphics: bool = True) -> str:
    """Write host ``host``'s node file; returns its test-driver URI."""
    path = directory / f"node{host}.xml"
    domains = "".join(guest_xml(host, g, devices, graphics=graphics) for g in range(guests))
    path.write_text(
        "<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>1</threads>"
        "<active>2</active><mhz>2000</mhz></cpu><memory>8388608</memory>"
        f"{domains}</node>",
        encoding="utf-8",
    )
    return f"test://{path}"
