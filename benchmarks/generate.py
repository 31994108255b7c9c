"""Generated libvirt domains for the benchmarks (shared by run.py, bench_parse.py, bench_metadata.py).

Two generators. :func:`generate_domain` ("mix") makes a realistic mixed domain: mostly disks and NICs, then controllers,
graphics, sound, video and devices no built-in plugin claims (channel, memballoon, rng, serial,
input, watchdog, ...), with aliases and guest addresses. With ``metadata=True`` it also writes the
oVirt ``<metadata>`` section the engine sends: one ``<ovirt-vm:device>`` entry per disk (keyed by
``devtype``/``name``, with storage IDs and a volume chain) and per NIC (keyed by ``mac_address``,
with its network and custom properties).

:func:`generate_varied_domain` ("varied") makes a domain of every typed kind: its devices are
copies of the device elements of devframe's own sample domains (devframe/sample_domains/*.xml),
so it follows the plugins as they grow, and every dev_type a plugin registers must have one
there. It also holds what the first one has not: devices without aliases (one in ten), pairs of
identical devices (no alias, same identity; two in twenty-five), and metadata for half of the
devices (disks by target, NICs by MAC, the others by alias).

:func:`build_metadata_domain` is the disk-and-NIC domain of ``bench_metadata.py``.

Everything is deterministic: the same size always gives the same bytes.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "GENERATORS",
    "MIX",
    "build_metadata_domain",
    "device_templates",
    "drive_name",
    "generate_disks",
    "generate_domain",
    "generate_varied_domain",
]

_SEED = uuid.UUID(int=12345).int


def _uuid(i: int, salt: int = 0) -> uuid.UUID:
    return uuid.UUID(int=(_SEED * (salt + 3) + i * 7919) % (1 << 128))


def drive_name(index: int, prefix: str = "vd") -> str:
    """libvirt's drive name: prefix + base-26 index (a..z, aa..)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return prefix + letters


def _mac(i: int) -> str:
    return f"56:6f:{i >> 24 & 255:02x}:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}"


def _pci(slot: int, bus: int = 0) -> str:
    return f"<address type='pci' domain='0x0000' bus='0x{bus:02x}' slot='0x{slot % 32:02x}' function='0x0'/>"


def _disk(i: int) -> str:
    if i % 5 == 0:
        return (
            f"<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
            f"<source file='/var/lib/libvirt/images/iso{i}.iso'/><target dev='{drive_name(i, 'sd')}' bus='sata'/>"
            f"<readonly/><alias name='ua-{_uuid(i)}'/>"
            f"<address type='drive' controller='0' bus='0' target='0' unit='{i % 6}'/></disk>"
        )
    img, vol, dom = _uuid(i, 1), _uuid(i, 2), _uuid(i, 3)
    return (
        f"<disk type='file' device='disk' snapshot='no'>"
        f"<driver name='qemu' type='qcow2' cache='none' error_policy='stop' io='threads'/>"
        f"<source file='/rhev/data-center/mnt/blockSD/{dom}/images/{img}/{vol}'/>"
        f"<target dev='{drive_name(i)}' bus='virtio'/><serial>{img}</serial>"
        f"<boot order='{i % 9 + 1}'/><alias name='ua-{_uuid(i)}'/>{_pci(i, 1)}</disk>"
    )


def _interface(i: int) -> str:
    return (
        f"<interface type='bridge'><mac address='{_mac(i)}'/>"
        f"<source bridge='br{i % 4}'/><model type='virtio'/><driver name='vhost' queues='4'/>"
        f"<filterref filter='vdsm-no-mac-spoofing'/><link state='up'/><mtu size='1500'/>"
        f"<alias name='ua-{_uuid(i)}'/>{_pci(i, 2)}</interface>"
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
        f"<controller type='virtio-serial' index='{i}' ports='16'>"
        f"<alias name='ua-{_uuid(i)}'/>{_pci(i, 3)}</controller>",
        f"<controller type='scsi' index='{i}' model='virtio-scsi'><driver iothread='1'/>"
        f"<alias name='ua-{_uuid(i)}'/>{_pci(i, 3)}</controller>",
        f"<controller type='usb' index='{i}' model='qemu-xhci' ports='8'>"
        f"<alias name='ua-{_uuid(i)}'/>{_pci(i, 3)}</controller>",
        f"<controller type='pci' index='{i}' model='pcie-root-port'><model name='pcie-root-port'/>"
        f"<target chassis='{i % 256}' port='0x{i % 256:x}'/><alias name='pci.{i}'/>{_pci(i, 0)}</controller>",
    ]
    return kinds[i % len(kinds)]


def _unknown(i: int) -> str:
    # Devices no built-in plugin claims: they become UnknownDevice and must cost no more.
    kinds = [
        f"<channel type='unix'><source mode='bind' path='/var/lib/libvirt/qemu/channels/c{i}.sock'/>"
        f"<target type='virtio' name='org.qemu.guest_agent.{i}'/><alias name='channel{i}'/>"
        f"<address type='virtio-serial' controller='0' bus='0' port='{i % 16 + 1}'/></channel>",
        f"<memballoon model='virtio'><stats period='5'/><alias name='ua-{_uuid(i)}'/>{_pci(i, 4)}</memballoon>",
        f"<rng model='virtio'><backend model='random'>/dev/urandom</backend>"
        f"<alias name='ua-{_uuid(i)}'/>{_pci(i, 5)}</rng>",
        f"<serial type='pty'><target type='isa-serial' port='{i % 4}'><model name='isa-serial'/></target>"
        f"<alias name='serial{i}'/></serial>",
        f"<input type='tablet' bus='usb'><alias name='input{i}'/>"
        f"<address type='usb' bus='0' port='{i % 8 + 1}'/></input>",
        f"<watchdog model='i6300esb' action='reset'><alias name='ua-{_uuid(i)}'/>{_pci(i, 8)}</watchdog>",
    ]
    return kinds[i % len(kinds)]


def _sound(i: int) -> str:
    return f"<sound model='ich9'><codec type='micro'/><alias name='ua-{_uuid(i)}'/>{_pci(i, 6)}</sound>"


def _video(i: int) -> str:
    return (
        f"<video><model type='qxl' ram='65536' vram='32768' vgamem='16384' heads='1' primary='yes'/>"
        f"<alias name='ua-{_uuid(i)}'/>{_pci(i, 7)}</video>"
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


def _disk_entry(i: int) -> str:
    name = drive_name(i, "sd") if i % 5 == 0 else drive_name(i)
    img, vol, dom, pool = _uuid(i, 1), _uuid(i, 2), _uuid(i, 3), _uuid(i, 4)
    return (
        f"<ovirt-vm:device devtype='disk' name='{name}'>"
        f"<ovirt-vm:domainID>{dom}</ovirt-vm:domainID><ovirt-vm:imageID>{img}</ovirt-vm:imageID>"
        f"<ovirt-vm:poolID>{pool}</ovirt-vm:poolID><ovirt-vm:volumeID>{vol}</ovirt-vm:volumeID>"
        "<ovirt-vm:volumeChain><ovirt-vm:volumeChainNode>"
        f"<ovirt-vm:domainID>{dom}</ovirt-vm:domainID><ovirt-vm:imageID>{img}</ovirt-vm:imageID>"
        f"<ovirt-vm:leaseOffset type='int'>0</ovirt-vm:leaseOffset><ovirt-vm:volumeID>{vol}</ovirt-vm:volumeID>"
        "</ovirt-vm:volumeChainNode></ovirt-vm:volumeChain></ovirt-vm:device>"
    )


def _nic_entry(i: int) -> str:
    return (
        f"<ovirt-vm:device mac_address='{_mac(i).upper()}'><ovirt-vm:network>ovirtmgmt</ovirt-vm:network>"
        "<ovirt-vm:custom><ovirt-vm:queues type='int'>4</ovirt-vm:queues></ovirt-vm:custom></ovirt-vm:device>"
    )


def generate_domain(devices: int, *, metadata: bool = False) -> bytes:
    """A domain with ``devices`` devices (the emulator counts as one) in :data:`MIX` proportions."""
    parts = ["<emulator>/usr/bin/qemu-system-x86_64</emulator>"]
    entries: list[str] = []
    for i in range(devices - 1):
        make = MIX[i % len(MIX)]
        parts.append(make(i))
        if metadata and make is _disk:
            entries.append(_disk_entry(i))
        elif metadata and make is _interface:
            entries.append(_nic_entry(i))
    body = "\n    ".join(parts)
    section = ""
    if metadata:
        section = (
            "  <metadata>\n    <ovirt-vm:vm>\n"
            "      <ovirt-vm:clusterVersion>4.7</ovirt-vm:clusterVersion>\n"
            "      <ovirt-vm:memGuaranteedSize type='int'>2048</ovirt-vm:memGuaranteedSize>\n      "
            + "\n      ".join(entries)
            + "\n    </ovirt-vm:vm>\n  </metadata>\n"
        )
    return (
        "<domain type='kvm' xmlns:ovirt-vm='http://ovirt.org/vm/1.0'>\n"
        "  <name>bench</name>\n  <uuid>9f2a0a76-7d0e-4d8e-8f55-3e1e56e6b7a1</uuid>\n"
        f"{section}"
        "  <memory unit='KiB'>8388608</memory>\n  <vcpu placement='static'>4</vcpu>\n"
        "  <os><type arch='x86_64' machine='pc-q35-8.2'>hvm</type><boot dev='hd'/></os>\n"
        "  <features><acpi/><apic/></features>\n"
        "  <cpu mode='host-model'><topology sockets='1' cores='4' threads='1'/></cpu>\n"
        f"  <devices>\n    {body}\n  </devices>\n</domain>\n"
    ).encode()


def generate_disks(count: int, first: int = 100_000) -> bytes:
    """A domain of ``count`` disks only, numbered from ``first`` (so none shares a name, alias or
    address with the disks of a :func:`generate_domain` domain): new disks for run.py's bulk edits."""
    body = "\n    ".join(_disk(first + i) for i in range(count))
    return f"<domain type='kvm'>\n  <name>disks</name>\n  <devices>\n    {body}\n  </devices>\n</domain>\n".encode()


def build_metadata_domain(count: int) -> tuple[bytes, bytes]:
    """(with metadata, without metadata) XML of a domain of ``count`` disks and NICs (bench_metadata.py)."""
    devices: list[str] = []
    entries: list[str] = []
    for i in range(count):
        dev_id = uuid.UUID(int=(_SEED + i * 7919) % (1 << 128))
        slot = f"0x{i % 32:02x}"
        bus = f"0x{(i // 32) % 256:02x}"
        if i % 2 == 0:
            name = drive_name(i // 2)
            img, vol, dom, pool = (uuid.UUID(int=(_SEED * (k + 3) + i) % (1 << 128)) for k in range(4))
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


# -- the second generator: every typed kind, from the sample domains ---------------------------

#: how often each dev_type comes up in a cycle of the varied domain (others: once a cycle); disks
#: and NICs a quarter and a sixth of the devices, as in a large real VM
VARIED_WEIGHTS = {"disk": 12, "interface": 8, "controller": 4}
#: one device in ten has no alias
_NO_ALIAS = 10
#: in every 25 devices, positions 11 and 12 are the same device twice (no alias, same identity)
_PAIR = (25, 11)
_OVIRT = "http://ovirt.org/vm/1.0"
#: placeholders in a prepared template (text no sample domain holds)
_ALIAS, _DEV, _MAC = "@ALIAS@", "@DEV@", "@MAC@"


@dataclass(frozen=True)
class _Template:
    """A sample device, prepared once: XML text with placeholders for what each copy changes."""

    dev_type: str
    with_alias: str  # holds _ALIAS where the alias name goes
    without_alias: str
    #: the disk target's prefix (vd, sd, hd, ...) when its text holds _DEV; NICs: whether it holds _MAC
    dev_prefix: str | None
    has_mac: bool


@lru_cache(maxsize=1)
def device_templates() -> dict[str, tuple[str, ...]]:
    """Every device element of devframe's sample domains, as XML text, by the dev_type of the
    plugin that claims it (document order, files sorted). Raises when a registered dev_type
    has none: add a device of that kind to a sample domain."""
    from lxml import etree

    import devframe
    from devframe.testing import sample_domain_files

    registry = devframe.default_registry()
    found: dict[str, list[str]] = {}
    for path in sample_domain_files():
        devices = etree.parse(str(path)).getroot().find("devices")
        for child in devices if devices is not None else ():
            if not isinstance(child.tag, str):
                continue
            route = registry.route_for(child)
            if route is None:
                continue
            child.tail = None
            # A copy declares only the namespaces it uses (the sample's root declares more);
            # one that still declares some would do so once per copy, and a domain may hold
            # 64 declarations (ParseLimits.max_namespaces): such a sample is left out.
            text = etree.tostring(copy.deepcopy(child), encoding="unicode")
            if "xmlns" not in text:
                found.setdefault(route.dev_type, []).append(text)
    missing = sorted(set(registry.routes) - set(found))
    if missing:
        raise SystemExit(f"no sample domain has a device of dev_type {', '.join(missing)}: the varied domain needs one")
    return {dev_type: tuple(found[dev_type]) for dev_type in sorted(found)}


def _prepare(dev_type: str, text: str) -> _Template:
    from lxml import etree

    element = etree.fromstring(text)
    dev_prefix = None
    target, mac = element.find("target"), element.find("mac")
    if dev_type == "disk" and target is not None and target.get("dev"):
        found = re.match(r"[a-z]{2}", target.get("dev", ""))
        dev_prefix = found.group(0) if found else "vd"
        target.set("dev", _DEV)
    has_mac = dev_type == "interface" and mac is not None
    if has_mac:
        assert mac is not None
        mac.set("address", _MAC)
    old = element.find("alias")
    position = None
    if old is not None:
        position = element.index(old)
        if position == len(element) - 1 and position > 0:
            element[position - 1].tail = old.tail  # the closing indentation leaves with it
        element.remove(old)
    without_alias = etree.tostring(element, encoding="unicode")
    if position is None:
        address = element.find("address")
        position = element.index(address) if address is not None else len(element)
    # Indented like its siblings, as libvirt writes a live <alias>: correlate cuts an evenly
    # laid-out <devices> per device, and a real live domain is laid out evenly.
    alias = etree.Element("alias", name=_ALIAS)
    inner = element.text if len(element) and (element.text or "").strip() == "" else None
    if position == len(element) and position > 0:
        alias.tail, element[-1].tail = element[-1].tail, inner
    elif position > 0:
        alias.tail = element[position - 1].tail
    else:
        alias.tail = inner
    element.insert(position, alias)
    with_alias = etree.tostring(element, encoding="unicode")
    return _Template(dev_type, with_alias, without_alias, dev_prefix, has_mac)


@lru_cache(maxsize=1)
def _prepared() -> dict[str, tuple[_Template, ...]]:
    return {t: tuple(_prepare(t, text) for text in texts) for t, texts in device_templates().items()}


def _varied_cycle(dev_types: list[str]) -> list[str]:
    cycle: list[str] = []
    for dev_type in dev_types:
        if dev_type != "emulator":  # one per domain, first
            cycle += [dev_type] * VARIED_WEIGHTS.get(dev_type, 1)
    return cycle


def _varied_device(template: _Template, i: int, alias: bool) -> tuple[str, str | None]:
    """One device: its identity made unique by ``i`` (disk target, NIC MAC), alias ``ua-<uuid>``
    or none; and the attributes that key its metadata entry (None: it cannot have one)."""
    key = None
    name = f"ua-{_uuid(i)}" if alias else None
    text = template.with_alias.replace(_ALIAS, name) if name is not None else template.without_alias
    if template.dev_prefix is not None:
        dev = drive_name(i, template.dev_prefix)
        text = text.replace(_DEV, dev)
        key = f"devtype='disk' name='{dev}'"
    elif template.has_mac:
        text = text.replace(_MAC, _mac(i))
        key = f"mac_address='{_mac(i).upper()}'"
    if key is None and name is not None:
        key = f"devtype='{template.dev_type}' alias='{name}'"
    return text, key


def _varied_entry(dev_type: str, key: str, i: int) -> str:
    if dev_type in ("disk", "interface") and "alias=" not in key:
        entry = _disk_entry(i) if dev_type == "disk" else _nic_entry(i)
        return f"<ovirt-vm:device {key}>" + entry[entry.index(">") + 1 :]
    return (
        f"<ovirt-vm:device {key}><ovirt-vm:custom><ovirt-vm:label>bench-{i}</ovirt-vm:label>"
        "<ovirt-vm:managed type='bool'>true</ovirt-vm:managed></ovirt-vm:custom></ovirt-vm:device>"
    )


def generate_varied_domain(devices: int, *, metadata: bool = True) -> bytes:
    """A domain of ``devices`` devices (the emulator counts as one) of every typed kind, from the
    sample domains' devices (see the module's docstring)."""
    templates = _prepared()
    cycle = _varied_cycle(list(templates))
    parts = [templates["emulator"][0].without_alias]
    entries: list[str] = []
    turns: dict[str, int] = {}
    pair = ""
    for i in range(devices - 1):
        position = i % _PAIR[0]
        if position == _PAIR[1] + 1 and pair:
            parts.append(pair)  # the same device again
            continue
        dev_type = cycle[i % len(cycle)]
        turn = turns[dev_type] = turns.get(dev_type, -1) + 1
        kinds = templates[dev_type]
        paired = position == _PAIR[1]
        text, key = _varied_device(kinds[turn % len(kinds)], i, alias=not paired and i % _NO_ALIAS != 3)
        parts.append(text)
        if paired:
            pair = text  # and no metadata: an entry could not tell the two apart
        elif metadata and key is not None and i % 2 == 0:
            entries.append(_varied_entry(dev_type, key, i))
    body = "\n    ".join(parts)
    section = ""
    if metadata:
        section = (
            f"  <metadata>\n    <ovirt-vm:vm xmlns:ovirt-vm='{_OVIRT}'>\n"
            "      <ovirt-vm:clusterVersion>4.7</ovirt-vm:clusterVersion>\n      "
            + "\n      ".join(entries)
            + "\n    </ovirt-vm:vm>\n  </metadata>\n"
        )
    return (
        f"<domain type='kvm' xmlns:ovirt-vm='{_OVIRT}'>\n"
        "  <name>bench-varied</name>\n  <uuid>6a1d3c2e-90b4-4f5e-8a7d-1c2b3a4f5e6d</uuid>\n"
        f"{section}"
        "  <memory unit='KiB'>8388608</memory>\n  <vcpu placement='static'>4</vcpu>\n"
        "  <os><type arch='x86_64' machine='pc-q35-8.2'>hvm</type><boot dev='hd'/></os>\n"
        "  <features><acpi/><apic/></features>\n"
        f"  <devices>\n    {body}\n  </devices>\n</domain>\n"
    ).encode()


#: the generators every measure runs on, by the name the tables use
GENERATORS: dict[str, Callable[[int], bytes]] = {
    "mix": lambda n: generate_domain(n, metadata=True),
    "varied": lambda n: generate_varied_domain(n, metadata=True),
}
