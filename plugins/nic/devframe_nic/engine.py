"""The engine's spellings of interface dev_spec keys (VDSM and the oVirt engine).

VDSM and the engine name several interface values otherwise than devframe's dev_spec.
Each spelling below is an alias of one canonical key: ``device_from_spec`` takes it,
writes the canonical key's value (so it reaches the XML), and ``to_spec`` emits the
canonical form. Two are custom properties, which the engine keeps in the device's
metadata by design: they stay there as well, and ``to_spec`` writes them as the value
their field has now, so an edit of the field cannot leave them saying otherwise.

A spelling that contradicts its canonical key given in the same spec, or a value that
does not fit, is a :class:`~devframe.SpecError` naming the engine's key. The two that
stand for one key each (``specParams.vlanid``, ``port_isolated``) are declared in the
class's ``spec_aliases`` and moved by the core before the fields are set; the others
need more of the spec and are read here, from ``read_spec``.
``numa_node`` has no place in libvirt's ``<interface>`` and is refused the same way.

==================== ====================================== ==============================
engine key           canonical key                          note
==================== ====================================== ==============================
specParams.vlanid    specParams.vlan ``[{"id": N}]``        one VLAN tag (SR-IOV VFs)
port_isolated        specParams.portIsolated                ``<port isolated>``
custom.queues        specParams.driver.queues               kept in ``custom`` too
vm_custom.sndbuf     specParams.sndbuf                      kept in ``vm_custom`` too
hostdev              specParams.hostAddress (pci, usb bus/  a node-device name:
                     device) or specParams.hostVendor and   ``pci_0000_00_19_0``,
                     hostProduct (``usb_VVVV_PPPP``)        ``usb_1_3``, ``usb_0781_5583``;
                                                            the type is ``hostdev``
teaming: True        specParams.teaming.type                ``persistent``; ``transient``
                                                            when specParams.teaming
                                                            .persistent names the partner
numa_node            (refused)                              libvirt has no NUMA node on
                                                            an interface
==================== ====================================== ==============================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from devframe import Device, FieldValueError, SpecError, SpecValueError

if TYPE_CHECKING:
    # devframe_nic.device imports this module: typing the functions by the base class
    # keeps the two modules out of an import circle (Nic's own fields are read by name).
    Nic = Device

__all__ = ["apply_engine_spellings", "host_source_from_node_name", "sync_custom_properties"]

_PCI_NAME = re.compile(r"pci_([0-9a-fA-F]{4,8})_([0-9a-fA-F]{2})_([0-9a-fA-F]{2})_([0-7])")
_USB_PRODUCT_NAME = re.compile(r"usb_([0-9a-fA-F]{4})_([0-9a-fA-F]{4})")
_USB_ADDRESS_NAME = re.compile(r"usb_([0-9]{1,3})_([0-9]{1,3})")


def host_source_from_node_name(name: str) -> dict[str, Any] | None:
    """The canonical spec values of a hostdev interface's source named by a libvirt
    node-device name (None: a name no ``<interface type='hostdev'>`` source can hold).

    ``pci_DDDD_BB_SS_F`` gives ``hostAddress`` as libvirt writes a pci address;
    ``usb_VVVV_PPPP`` the vendor and product ids; ``usb_BBB_DDD`` a usb bus/device address.
    """
    match = _PCI_NAME.fullmatch(name)
    if match:
        domain, bus, slot, function = (int(part, 16) for part in match.groups())
        address = {
            "type": "pci",
            "domain": f"0x{domain:04x}",
            "bus": f"0x{bus:02x}",
            "slot": f"0x{slot:02x}",
            "function": f"0x{function:x}",
        }
        return {"hostAddress": address}
    match = _USB_PRODUCT_NAME.fullmatch(name)
    if match:
        return {"hostVendor": f"0x{match[1].lower()}", "hostProduct": f"0x{match[2].lower()}"}
    match = _USB_ADDRESS_NAME.fullmatch(name)
    if match:
        return {"hostAddress": {"type": "usb", "bus": str(int(match[1])), "device": str(int(match[2]))}}
    return None


def _error(nic: Nic, key: str, value: object, reason: str) -> SpecError:
    return SpecValueError(nic.describe(), key, value, reason)


def _set(nic: Nic, engine_key: str, value: object, canonical: str, name: str) -> None:
    """Write ``value`` through the field ``name`` (spec key ``canonical``); the canonical
    key given in the same spec wins only when it says the same."""
    field = type(nic).fields[name]
    before = field.spec_value(nic)
    try:
        field.apply_spec_value(nic, value)
    except FieldValueError as exc:
        raise _error(nic, engine_key, exc.value, exc.reason) from None
    after = field.spec_value(nic)
    if before is not None and after != before:
        raise _error(nic, engine_key, value, f"contradicts {canonical} {before!r} given in the same spec")


#: Custom properties that carry a modeled value: (holder key, property, field name).
_CUSTOM_PROPERTIES = (("custom", "queues", "queues"), ("vm_custom", "sndbuf", "sndbuf"))


def _custom(source: Mapping[str, Any], outer: str, inner: str) -> Any:
    holder = source.get(outer)
    # type() first: isinstance against the Mapping ABC is a Python-level check (to_spec
    # asks this of every NIC with metadata)
    return holder.get(inner) if type(holder) is dict or isinstance(holder, Mapping) else None


def sync_custom_properties(nic: Nic, spec: dict[str, Any], metadata: Mapping[str, Any]) -> None:
    """``to_spec``'s side: a custom property the metadata holds is written as the value
    its field has now, so the two cannot disagree after an edit of the field."""
    for outer, inner, name in _CUSTOM_PROPERTIES:
        if _custom(metadata, outer, inner) is None:
            continue
        raw = type(nic).fields[name].raw(nic)  # type: ignore[attr-defined]
        if raw is not None:
            holder = spec.setdefault(outer, {})
            if isinstance(holder, dict):
                holder[inner] = raw  # the core adds the other properties from metadata


def apply_engine_spellings(nic: Nic, rest: dict[str, Any]) -> None:
    """Take the engine's spellings out of ``rest`` (the keys no field took) and write
    their canonical values into ``nic`` (see the module docstring)."""
    # specParams.vlanid and port_isolated are the class's spec_aliases: the core moved them.
    for outer, inner, name in _CUSTOM_PROPERTIES:
        # The property stays among the custom properties (metadata by design, as the
        # engine keeps them); its value reaches the XML through the field.
        value = _custom(rest, outer, inner)
        if value is not None:
            canonical = type(nic).fields[name].spec or name
            _set(nic, f"{outer}.{inner}", value, canonical, name)
    _apply_hostdev(nic, rest)
    _apply_teaming(nic, rest)
    if rest.get("numa_node") is not None:
        reason = (
            "libvirt's <interface> has no NUMA node (a host device's node follows from its "
            "host address); leave the key out"
        )
        raise _error(nic, "numa_node", rest["numa_node"], reason)
    rest.pop("numa_node", None)


def _apply_hostdev(nic: Nic, rest: dict[str, Any]) -> None:
    name = rest.pop("hostdev", None)
    if name is None:
        return
    if not isinstance(name, str):
        raise _error(nic, "hostdev", name, "expected a node-device name such as 'pci_0000_00_19_0'")
    values = host_source_from_node_name(name)
    if values is None:
        reason = "not a pci or usb node-device name (pci_DDDD_BB_SS_F, usb_VVVV_PPPP, usb_BBB_DDD)"
        raise _error(nic, "hostdev", name, reason)
    device = rest.get("device")
    if device is None:
        type(nic).fields["type"].apply_spec_value(nic, "hostdev")  # the spec named no type: the node device says it
    elif device != "hostdev":
        raise _error(nic, "hostdev", name, f"names a host device, but the interface type is {device!r}")
    fields = {"hostAddress": "host_address", "hostVendor": "host_vendor", "hostProduct": "host_product"}
    for key, value in values.items():
        _set(nic, "hostdev", value, f"specParams.{key}", fields[key])


def _apply_teaming(nic: Nic, rest: dict[str, Any]) -> None:
    value = rest.pop("teaming", None)
    if value is None:
        return
    if not isinstance(value, bool):
        reason = "expected True or False (the team's type and partner go in specParams.teaming)"
        raise _error(nic, "teaming", value, reason)
    if not value:
        if nic.element.find("teaming") is not None:
            raise _error(nic, "teaming", value, "contradicts specParams.teaming given in the same spec")
        return
    partner = type(nic).fields["teaming_persistent"].spec_value(nic)
    if partner is not None:
        kind = "transient"
    elif type(nic).fields["type"].spec_value(nic) == "hostdev":
        reason = (
            "a hostdev interface joins a team as its transient member: "
            "name its partner in specParams.teaming.persistent"
        )
        raise _error(nic, "teaming", value, reason)
    else:
        kind = "persistent"
    _set(nic, "teaming", kind, "specParams.teaming.type", "teaming_type")
