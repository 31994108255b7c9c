"""The oVirt metadata layout: where VM values and device entries live, and their keys.

::

    <metadata>
      <ovirt-vm:vm xmlns:ovirt-vm="http://ovirt.org/vm/1.0">
        <ovirt-vm:clusterVersion>4.7</ovirt-vm:clusterVersion>     VM-level values
        <ovirt-vm:custom>...</ovirt-vm:custom>                     custom properties
        <ovirt-vm:device devtype="disk" name="vda">...</ovirt-vm:device>
        <ovirt-vm:device mac_address="56:6f:...">...</ovirt-vm:device>
      </ovirt-vm:vm>
    </metadata>

A device entry is keyed by its attributes: ``alias`` / ``deviceId`` (the engine's user
alias ``ua-<deviceId>``), or a plugin's identity (``devtype`` + ``name`` for disks,
``mac_address`` for NICs, ``devtype`` + ``alias`` otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

__all__ = [
    "ALIAS_KEYS",
    "DEVICE",
    "NS",
    "PREFIX",
    "VM",
    "find_vm",
    "identity_key",
    "new_vm",
    "normalize",
]

NS = "http://ovirt.org/vm/1.0"
PREFIX = "ovirt-vm"
VM = f"{{{NS}}}vm"
DEVICE = f"{{{NS}}}device"
METADATA = "metadata"

#: Entry attributes that name the device by alias rather than by identity.
ALIAS_KEYS = frozenset({"alias", "deviceId"})
#: Identity attributes compared case-insensitively.
_CASELESS = frozenset({"mac_address"})

# libvirt writes <metadata> after these; a new section goes there too.
_BEFORE_METADATA = ("name", "uuid", "genid", "title", "description")


def normalize(key: str, value: str) -> str:
    """An identity value as compared (MAC addresses ignore case)."""
    return value.strip().lower() if key in _CASELESS else value


def identity_key(attrs: Mapping[str, str], keys: tuple[str, ...]) -> tuple[str, ...] | None:
    """The values of ``keys`` in ``attrs`` (normalized), or None if one is missing."""
    out = []
    for key in keys:
        value = attrs.get(key)
        if value is None:
            return None
        out.append(normalize(key, value))
    return tuple(out)


def find_vm(root: etree._Element) -> tuple[etree._Element | None, etree._Element | None]:
    """(``<metadata>``, ``<ovirt-vm:vm>``) of a domain; either may be None."""
    section = root.find(METADATA)
    if section is None:
        return None, None
    return section, section.find(VM)


def new_vm(root: etree._Element) -> etree._Element:
    """Create ``<ovirt-vm:vm>`` (and ``<metadata>`` when missing) in a domain."""
    section = root.find(METADATA)
    if section is None:
        position = 0
        for index, child in enumerate(root):
            if isinstance(child.tag, str) and child.tag in _BEFORE_METADATA:
                position = index + 1
        section = etree.Element(METADATA)
        root.insert(position, section)
        _indent_like(section, root, position)
    # Declare the prefix on the element itself, as libvirt stores each namespace's
    # metadata as its own document; an ancestor's declaration is reused by lxml.
    nsmap = None if section.nsmap.get(PREFIX) == NS else {PREFIX: NS}
    vm = etree.SubElement(section, VM, nsmap=nsmap)
    _indent_like(vm, section, len(section) - 1)
    return vm


def _indent_like(element: etree._Element, parent: etree._Element, position: int) -> None:
    """Give a new child the whitespace its siblings have (a readable document)."""
    siblings = [c for c in parent if c is not element]
    if not siblings:
        outer = parent.tail if parent.tail is not None else None
        if outer is None or outer.strip():
            return
        step = "  "
        parent.text = outer + step
        element.tail = outer
        return
    if position > 0:
        before = parent[position - 1]
        element.tail = before.tail
        if position == len(parent) - 1:
            before.tail = parent.text
    else:
        element.tail = parent.text
