"""The ``<hostdev>`` dev_class: a host device given to the guest.

Models libvirt's ``<hostdev>`` element (formatdomain "Host device assignment") in its
two modes. ``mode='subsystem'`` (the default) passes a host device through::

    <hostdev mode='subsystem' type='pci' managed='yes' display='on' ramfb='on'>
      <driver name='vfio' model='...'/>
      <source startupPolicy='optional' writeFiltering='no'>
        <address domain='0x0000' bus='0x65' slot='0x00' function='0x0'/>   <- HOST address
      </source>
      <teaming type='transient' persistent='ua-...'/>
      <boot order='1' loadparm='...'/>
      <alias name='ua-...'/>
      <acpi index='3'/>
      <rom bar='on' file='/path/vbios.rom' enabled='yes'/>
      <address type='pci' .../>                                             <- GUEST address
    </hostdev>

with the other subsystem types' sources: ``usb`` (``<vendor id/>``, ``<product id/>``
and/or ``<address bus device/>``, ``@startupPolicy``, ``@guestReset``), ``scsi``
(``<adapter name='scsi_hostN'/>`` + ``<address bus target unit/>``, or
``protocol='iscsi'`` with ``@name``, ``<host name port/>``, ``<auth>`` and
``<initiator>``; ``@sgio``, ``@rawio``, ``<readonly/>``, ``<shareable/>``),
``scsi_host`` (``protocol='vhost' wwpn='naa.…'``, ``@model``) and ``mdev``
(``<address uuid/>``, ``@model`` vfio-pci/vfio-ccw/vfio-ap, ``@display``, ``@ramfb``).
``mode='capabilities'`` (LXC) gives the container a device node or an interface:
``storage`` (``<block>``), ``misc`` (``<char>``) and ``net`` (``<interface>``, with
``<ip>`` and ``<route>`` children of the hostdev).

The guest address is the direct child ``address`` (core :class:`devframe.AddressField`);
``source/address`` is the host address and never mixed up with it.

dev_spec mapping (engine key on the left, XML place on the right). VDSM named a host
device by its libvirt node-device name in ``device`` and kept ``driver`` and
``bootOrder`` at the top level; everything else is in ``specParams``:

================================== ==============================================================
``device``                         the host device's node-device name, derived from the source:
                                   pci ``pci_DDDD_BB_SS_F`` (hex, libvirt's widths), usb
                                   ``usb_VVVV_PPPP`` (vendor and product id, 4 hex digits each)
                                   when the source names them, else ``usb_BUS_DEV`` (decimal,
                                   1-3 digits: the parts' width tells the two apart), scsi
                                   ``scsi_HOST_BUS_TARGET_UNIT`` (decimal, HOST from
                                   ``adapter@name='scsi_hostHOST'``), mdev ``mdev_<uuid>`` (the
                                   uuid with ``_`` for ``-`` as libvirt names mdevs; ``-`` and a
                                   trailing ``_<parent>`` are accepted). Kinds without a node
                                   device (iscsi, scsi_host, storage, misc, net) and sources a
                                   name cannot be made of give the type itself (``"scsi_host"``);
                                   an element without ``@type`` gives ``"hostdev"``.
``driver``                         ``driver@name`` (vfio, kvm, xen)
``bootOrder``                      ``boot@order`` (devframe.Bootable)
``alias``                          ``alias@name``
``deviceId``                       the ``<deviceId>`` of a ``ua-<deviceId>`` alias
``address``                        the direct child ``address``: the GUEST address (a dict)
``specParams.mode``                ``@mode`` (subsystem, capabilities)
``specParams.type``                ``@type`` (pci, usb, scsi, scsi_host, mdev; storage, misc, net)
``specParams.hostAddress``         ``source/address`` as a dict of its attributes: the HOST
                                   address (pci domain/bus/slot/function, usb bus/device, scsi
                                   bus/target/unit, mdev uuid), strings as written
``specParams.vendorId``            ``source/vendor@id`` (usb, ``0x0781``)
``specParams.productId``           ``source/product@id`` (usb)
``specParams.adapter``             ``source/adapter@name`` (scsi, ``scsi_host3``)
``specParams.adapterType``         ``source/adapter@type`` (scsi_host, fc_host)
``specParams.adapterWwnn``         ``source/adapter@wwnn`` (fc_host: the vHBA's node WWN, 16 hex
                                   digits, optional ``0x``)
``specParams.adapterWwpn``         ``source/adapter@wwpn`` (fc_host: the vHBA's port WWN)
``specParams.adapterParent``       ``source/adapter@parent`` (fc_host: parent HBA, ``scsi_host5``)
``specParams.adapterParentWwnn``   ``source/adapter@parent_wwnn`` (fc_host: parent by node WWN)
``specParams.adapterParentWwpn``   ``source/adapter@parent_wwpn`` (fc_host: parent by port WWN)
``specParams.adapterParentFabricWwn`` ``source/adapter@parent_fabric_wwn`` (fc_host: parent by
                                   fabric WWN)
``specParams.adapterManaged``      ``source/adapter@managed`` (bool, yes/no; fc_host)
``specParams.adapterParentAddr``   ``source/adapter/parentaddr`` (scsi: the SCSI host by its
                                   parent's PCI address) as ``{uniqueId, domain, bus, slot,
                                   function, multifunction}``
``specParams.managed``             ``@managed`` (bool, yes/no)
``specParams.model``               ``@model`` (mdev: vfio-pci, vfio-ccw, vfio-ap; scsi_host:
                                   virtio, virtio-transitional, virtio-non-transitional)
``specParams.display``             ``@display`` (bool, on/off; mdev, pci)
``specParams.ramfb``               ``@ramfb`` (bool, on/off; mdev, pci)
``specParams.sgio``                ``@sgio`` (scsi: filtered, unfiltered)
``specParams.rawio``               ``@rawio`` (bool, yes/no; scsi)
``specParams.driverModel``         ``driver@model`` (libvirt 11: the vfio variant driver)
``specParams.teaming.type``        ``teaming@type`` (persistent, transient; pci)
``specParams.teaming.persistent``  ``teaming@persistent`` (alias of the persistent NIC)
``specParams.startupPolicy``       ``source@startupPolicy`` (mandatory, requisite, optional)
``specParams.writeFiltering``      ``source@writeFiltering`` (bool, yes/no; pci)
``specParams.guestReset``          ``source@guestReset`` (off, uninitialized, on; usb)
``specParams.protocol``            ``source@protocol`` (adapter, iscsi; vhost for scsi_host)
``specParams.sourceName``          ``source@name`` (the iSCSI target IQN, ``…/LUN``)
``specParams.hosts``               ``source/host`` list of ``{name, port}`` (iscsi)
``specParams.auth.username``       ``source/auth@username`` (iscsi CHAP user)
``specParams.auth.secretType``     ``source/auth/secret@type`` (iscsi, ceph)
``specParams.auth.secretUuid``     ``source/auth/secret@uuid`` (a libvirt secret object: a
                                   reference, not a secret value)
``specParams.auth.secretUsage``    ``source/auth/secret@usage`` (the same, by usage name)
``specParams.initiator``           ``source/initiator/iqn@name`` (iscsi initiator IQN)
``specParams.wwpn``                ``source@wwpn`` (scsi_host, ``naa.`` + 16 hex digits)
``specParams.block``               ``source/block`` text (capabilities storage)
``specParams.char``                ``source/char`` text (capabilities misc)
``specParams.interface``           ``source/interface`` text (capabilities net)
``specParams.ips``                 ``ip`` list of ``{address, family, prefix, peer}`` (net)
``specParams.routes``              ``route`` list of ``{family, address, netmask, prefix,
                                   gateway, metric}`` (net)
``specParams.rom.bar``             ``rom@bar`` (bool, on/off)
``specParams.rom.file``            ``rom@file`` (path)
``specParams.rom.enabled``         ``rom@enabled`` (bool, yes/no)
``specParams.readonly``            ``<readonly/>`` (``true`` when present, else left out; scsi)
``specParams.shareable``           ``<shareable/>`` (``true`` when present, else left out; scsi)
``specParams.bootLoadparm``        ``boot@loadparm`` (devframe.Bootable)
``specParams.acpiIndex``           ``acpi@index`` (devframe.AcpiIndex)
================================== ==============================================================

Both forms of naming the host device are accepted and ``to_spec`` gives both: the
node-device name in ``device`` and the source in ``specParams`` (``type``,
``hostAddress``, ``vendorId``/``productId``, ``adapter``). A spec may give either; where
it gives both they must name the same device (numerically: ``0x65`` and ``101`` are one
bus), else :class:`devframe.SpecError` names both keys.

Defaults: a spec whose type comes from its ``device`` name alone (VDSM's
``{"type": "hostdev", "device": "pci_0000_00_19_0"}``) gets ``@mode`` (subsystem, or
capabilities for storage/misc/net) and the source the name describes. libvirt's
required values are filled where only one value is possible: ``@mode='capabilities'``
for the capabilities types, ``@model='vfio-pci'`` for an mdev without a model,
``source@protocol='vhost'`` for scsi_host. ``@managed`` is left to libvirt (``no``). A
spec that names no host device at all (no type, or a type without the source libvirt
requires) is a SpecError naming the missing key.

The ``fc_host`` adapter attributes come from the schema's adapter definition, which
hostdevs share with storage pools; libvirt's hostdev parser reads only ``adapter@name``,
so they are carried (an fc_host adapter names its vHBA by ``wwnn`` and ``wwpn``, enough
for a spec) but libvirt itself may refuse such a hostdev.

Not modeled (kept verbatim, as everything else): the ``<parentaddr>`` child of a scsi
``<adapter>`` (same shared definition).
"""

from __future__ import annotations

import re
import uuid as uuidlib
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NamedTuple

from lxml import etree

from devframe import (
    ABS_PATH,
    INT,
    ON_OFF,
    POSITIVE,
    STR,
    UUID,
    YES_NO,
    AcpiIndex,
    AddressField,
    Bootable,
    Child,
    Children,
    Choice,
    DevframeError,
    Device,
    ElementView,
    Field,
    FieldValueError,
    Identity,
    Pattern,
    PresentFlag,
    SpecError,
    address_text,
)

__all__ = [
    "CAPS_TYPES",
    "DEVICE_NAME",
    "SUBSYS_TYPES",
    "USB_ID",
    "WWN",
    "WWPN",
    "HostAddressField",
    "Hostdev",
    "IpAddress",
    "IscsiHost",
    "NodeDeviceName",
    "ParentAddr",
    "Route",
    "host_source_text",
    "node_device_name",
    "parse_node_device_name",
]

#: ``@type`` values of ``mode='subsystem'``
SUBSYS_TYPES = ("pci", "usb", "scsi", "scsi_host", "mdev")
#: ``@type`` values of ``mode='capabilities'`` (LXC)
CAPS_TYPES = ("storage", "misc", "net")
#: every ``@model`` the schema allows: mdev's, then scsi_host's
MODELS = ("vfio-pci", "vfio-ccw", "vfio-ap", "virtio", "virtio-transitional", "virtio-non-transitional")

USB_ID = Pattern("USB vendor/product id (0x0781)", r"(0x)?[0-9a-fA-F]{1,4}")
WWPN = Pattern("WWPN (naa. and 16 hex digits)", r"naa\.[0-9a-fA-F]{16}")
#: a Fibre Channel world wide name of an ``fc_host`` adapter (the schema's ``wwn``)
WWN = Pattern("WWN (16 hex digits, optional 0x)", r"(0x)?[0-9a-fA-F]{16}")
#: libvirt's ``deviceName`` (a host network interface)
DEVICE_NAME = Pattern("device name", r"[a-zA-Z0-9_.\-\\:/]+")


# -- host addresses and node-device names -----------------------------------------------------


def _number(text: object) -> int | None:
    """An address part as libvirt reads it (``0x`` hex, else decimal), None when it is not one."""
    if not isinstance(text, str):
        return None
    try:
        value = INT.parse(text)
    except ValueError:
        return None
    return value if value >= 0 else None


def _uuid(text: object) -> str | None:
    """A UUID in libvirt's canonical (lowercase, dashed) form; None when it is not one."""
    try:
        return str(uuidlib.UUID(UUID.coerce(text)))
    except (TypeError, ValueError):
        return None


#: the parts of each type's host address, with the largest value each may have
_ADDRESS_PARTS: dict[str, dict[str, int]] = {
    "pci": {"domain": 0xFFFFFFFF, "bus": 0xFF, "slot": 0x1F, "function": 0x7},
    "usb": {"bus": 0xFFF, "device": 0xFFF},
    "scsi": {"bus": 0xFFFFFFFF, "target": 0xFFFFFFFF, "unit": 0xFFFFFFFFFFFFFFFF},
}


def host_address_problem(kind: str | None, address: Mapping[str, object]) -> str | None:
    """Why ``address`` is not a host address of a ``kind`` hostdev (None: it is, or the
    kind has none devframe knows)."""
    if kind == "mdev":
        if "uuid" in address and _uuid(address["uuid"]) is None:
            return f"uuid={address['uuid']!r:.60} is not a UUID"
        return None
    for part, largest in _ADDRESS_PARTS.get(kind or "", {}).items():
        if part not in address:
            continue
        value = _number(address[part])
        if value is None or value > largest:
            return f"{part}={address[part]!r:.60} is not a {kind} {part} number (0..{largest:#x})"
    return None


class NodeDeviceName(NamedTuple):
    """What a node-device name says: the hostdev type and the source parts it fixes."""

    type: str
    #: ``source/address`` attributes (ints; ``uuid`` a canonical str)
    address: dict[str, Any]
    #: usb vendor and product ids, or None
    product: tuple[int, int] | None = None
    #: scsi ``scsi_hostN`` number, or None
    scsi_host: int | None = None


_PCI_NAME = re.compile(r"pci_([0-9a-fA-F]{4,8})_([0-9a-fA-F]{2})_([0-9a-fA-F]{2})_([0-7])")
_USB_PRODUCT_NAME = re.compile(r"usb_([0-9a-fA-F]{4})_([0-9a-fA-F]{4})")
_USB_ADDRESS_NAME = re.compile(r"usb_([0-9]{1,3})_([0-9]{1,3})")
_SCSI_NAME = re.compile(r"scsi_([0-9]+)_([0-9]+)_([0-9]+)_([0-9]+)")
_SCSI_HOST = re.compile(r"scsi_host([0-9]+)")


def parse_node_device_name(name: str) -> NodeDeviceName | None:
    """The type and source a node-device name stands for (None: not such a name)."""
    match = _PCI_NAME.fullmatch(name)
    if match:
        domain, bus, slot, function = (int(part, 16) for part in match.groups())
        return NodeDeviceName("pci", {"domain": domain, "bus": bus, "slot": slot, "function": function})
    match = _USB_PRODUCT_NAME.fullmatch(name)
    if match:
        return NodeDeviceName("usb", {}, product=(int(match[1], 16), int(match[2], 16)))
    match = _USB_ADDRESS_NAME.fullmatch(name)
    if match:
        return NodeDeviceName("usb", {"bus": int(match[1]), "device": int(match[2])})
    match = _SCSI_NAME.fullmatch(name)
    if match:
        host, bus, target, unit = (int(part) for part in match.groups())
        return NodeDeviceName("scsi", {"bus": bus, "target": target, "unit": unit}, scsi_host=host)
    if name.startswith("mdev_"):
        rest = name[len("mdev_") :]
        found = _uuid(rest[:36].replace("_", "-"))
        if found is not None and (len(rest) == 36 or rest[36] == "_"):
            return NodeDeviceName("mdev", {"uuid": found})
    return None


def _source(element: etree._Element) -> etree._Element | None:
    return next(element.iterchildren("source"), None)


def _child(element: etree._Element | None, tag: str) -> etree._Element | None:
    return None if element is None else next(element.iterchildren(tag), None)


def _attrs(element: etree._Element | None) -> Mapping[str, str]:
    """An element's attributes (none for no element), read-only."""
    return element.attrib if element is not None else {}  # type: ignore[return-value]


def _numbers(attrs: Mapping[str, str], *names: str, defaults: Mapping[str, int] | None = None) -> list[int] | None:
    values = []
    for name in names:
        raw = attrs.get(name)
        value = (defaults or {}).get(name) if raw is None else _number(raw)
        if value is None:
            return None
        values.append(value)
    return values


def _pci_parts(attrs: Mapping[str, str]) -> list[int] | None:
    parts = _numbers(attrs, "domain", "bus", "slot", "function", defaults={"domain": 0})
    if parts is None:
        return None
    limits = _ADDRESS_PARTS["pci"]
    if any(value > limits[name] for name, value in zip(("domain", "bus", "slot", "function"), parts, strict=True)):
        return None
    return parts


def _usb_product(source: etree._Element) -> tuple[int, int] | None:
    vendor, product = _child(source, "vendor"), _child(source, "product")
    if vendor is None or product is None:
        return None
    ids = _numbers({"v": vendor.get("id", ""), "p": product.get("id", "")}, "v", "p")
    if ids is None or max(ids) > 0xFFFF:
        return None
    return ids[0], ids[1]


def _scsi_host_number(source: etree._Element) -> int | None:
    adapter = _child(source, "adapter")
    match = _SCSI_HOST.fullmatch(adapter.get("name", "")) if adapter is not None else None
    return int(match[1]) if match else None


def node_device_name(element: etree._Element) -> str | None:
    """The libvirt node-device name of the host device a ``<hostdev>`` element passes
    through (None when its kind has none, or its source does not say). Never raises."""
    kind = element.get("type")
    source = _source(element)
    if source is None or kind not in ("pci", "usb", "scsi", "mdev"):
        return None
    address = _child(source, "address")
    attrs = _attrs(address)
    if kind == "pci":
        parts = _pci_parts(attrs) if address is not None else None
        return "pci_{:04x}_{:02x}_{:02x}_{:x}".format(*parts) if parts else None
    if kind == "usb":
        product = _usb_product(source)
        if product is not None:
            return f"usb_{product[0]:04x}_{product[1]:04x}"
        numbers = _numbers(attrs, "bus", "device")
        return f"usb_{numbers[0]}_{numbers[1]}" if numbers and max(numbers) <= 999 else None
    if kind == "scsi":
        host = _scsi_host_number(source)
        numbers = _numbers(attrs, "bus", "target", "unit")
        return f"scsi_{host}_{numbers[0]}_{numbers[1]}_{numbers[2]}" if host is not None and numbers else None
    found = _uuid(attrs.get("uuid"))
    return "mdev_" + found.replace("-", "_") if found else None


def _text(element: etree._Element | None) -> str | None:
    text = element.text.strip() if element is not None and element.text else ""
    return text or None


def host_source_text(element: etree._Element) -> str | None:
    """The host device a ``<hostdev>`` passes through, as one stable string for its
    identity: ``0000:65:00.0`` (pci), ``0781:5583`` or ``bus=3,device=12`` (usb),
    ``scsi_host3:0:2:5`` or the iSCSI target (scsi), the WWPN (scsi_host), the uuid
    (mdev), the block or char device path or the interface name (capabilities).
    Numbers are normalised so ``0x03`` and ``3`` agree; text that is no number is used
    as written. None without a source. Never raises."""
    kind = element.get("type")
    source = _source(element)
    if source is None:
        return None
    address = _child(source, "address")
    attrs = _attrs(address)
    if kind == "pci":
        parts = _pci_parts(attrs) if address is not None else None
        return "{:04x}:{:02x}:{:02x}.{:x}".format(*parts) if parts else address_text(attrs)
    if kind == "usb":
        product = _usb_product(source)
        if product is not None:
            return f"{product[0]:04x}:{product[1]:04x}"
        ids = [_child(source, tag) for tag in ("vendor", "product")]
        if all(item is not None and item.get("id") for item in ids):
            return ":".join(str(item.get("id")) for item in ids if item is not None)
        numbers = _numbers(attrs, "bus", "device")
        return f"bus={numbers[0]},device={numbers[1]}" if numbers else address_text(attrs)
    if kind == "scsi":
        if source.get("protocol") == "iscsi":
            return source.get("name") or None
        adapter = _child(source, "adapter")
        # an fc_host vHBA has no name: its port WWN tells it apart
        name = (adapter.get("name") or adapter.get("wwpn")) if adapter is not None else None
        numbers = _numbers(attrs, "bus", "target", "unit")
        where = ":".join(map(str, numbers)) if numbers else address_text(attrs)
        return f"{name}:{where}" if name and where else (name or where)
    if kind == "scsi_host":
        return source.get("wwpn") or None
    if kind == "mdev":
        raw = attrs.get("uuid")
        return _uuid(raw) or raw or None
    tag = {"storage": "block", "misc": "char", "net": "interface"}.get(kind or "")
    return _text(_child(source, tag)) if tag else None


class HostAddressField(AddressField):
    """``source/address``: the HOST address, a dict of its attributes as written.

    Unlike the guest address it is checked: each part must be a number of its type's
    range (or a UUID for mdev), so :meth:`~devframe.ElementView.problems` reports one
    that is not.
    """

    def check(self, view: ElementView) -> str | None:
        element = view.element.find("source/address")
        if element is None:
            return None
        problem = host_address_problem(view.element.get("type"), _attrs(element))
        return f"field {self.name!r} (source/address): {problem}" if problem else None

    def apply_spec_value(self, view: ElementView, value: Any) -> None:
        if value not in ({}, "", None) and not isinstance(value, Mapping):
            raise FieldValueError(
                view.describe(), self.spec or self.name, value, "expected a dict of address attributes"
            )
        super().apply_spec_value(view, value)


# -- repeated children ------------------------------------------------------------------------


class IscsiHost(ElementView):
    """One ``<host name port/>`` of an iSCSI source."""

    tag = "host"
    name = Field("@name", spec="name", doc="portal host name or address")
    port = Field("@port", INT, spec="port", doc="portal port (3260)")


class ParentAddr(ElementView):
    """``source/adapter/parentaddr`` of a scsi hostdev: the SCSI host named by its
    parent's PCI address (and the host's ``unique_id``) instead of ``scsi_hostN``."""

    tag = "parentaddr"
    unique_id = Field("@unique_id", POSITIVE, spec="uniqueId", doc="the SCSI host's unique_id")
    # the parent's PCI address as written (libvirt's pciaddress: no type attribute)
    domain = Field("address@domain", STR, spec="domain")
    bus = Field("address@bus", STR, spec="bus")
    slot = Field("address@slot", STR, spec="slot")
    function = Field("address@function", STR, spec="function")
    multifunction = Field("address@multifunction", ON_OFF, spec="multifunction")


class IpAddress(ElementView):
    """One ``<ip>`` of a capabilities ``net`` hostdev: an address the container gets."""

    tag = "ip"
    address = Field("@address", spec="address")
    family = Field("@family", Choice("ipv4", "ipv6"), spec="family")
    prefix = Field("@prefix", INT, spec="prefix")
    peer = Field("@peer", spec="peer")


class Route(ElementView):
    """One ``<route>`` of a capabilities ``net`` hostdev."""

    tag = "route"
    family = Field("@family", Choice("ipv4", "ipv6"), spec="family")
    address = Field("@address", spec="address")
    netmask = Field("@netmask", spec="netmask")
    prefix = Field("@prefix", INT, spec="prefix")
    gateway = Field("@gateway", spec="gateway")
    metric = Field("@metric", INT, spec="metric")


# -- the device -------------------------------------------------------------------------------

_SP = "specParams."


class Hostdev(Bootable, AcpiIndex, Device):
    """A host device given to the guest. Identity without an alias: its type and host source."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "hostdev"
    identity_devtype: ClassVar[str | None] = "hostdev"  # every identity() holds it
    tag: ClassVar[str] = "hostdev"
    description: ClassVar[str] = "host devices (<hostdev mode=subsystem|capabilities type=...>)"
    child_order: ClassVar[tuple[str, ...]] = (
        "driver", "source", "ip", "route", "readonly", "shareable", "teaming", "boot", "alias", "acpi", "rom",
        "address",
    )  # fmt: skip

    mode = Field("@mode", Choice("subsystem", "capabilities"), spec=_SP + "mode")
    type = Field("@type", Choice(*SUBSYS_TYPES, *CAPS_TYPES), spec=_SP + "type", doc="what kind of host device")
    managed = Field("@managed", YES_NO, spec=_SP + "managed", doc="libvirt detaches it from the host")
    model = Field("@model", Choice(*MODELS), spec=_SP + "model", doc="mdev / scsi_host device model")
    display = Field("@display", ON_OFF, spec=_SP + "display", doc="vfio display (mdev, pci)")
    ramfb = Field("@ramfb", ON_OFF, spec=_SP + "ramfb", doc="ramfb boot display (mdev, pci)")
    sgio = Field("@sgio", Choice("filtered", "unfiltered"), spec=_SP + "sgio", doc="SG_IO filtering (scsi)")
    rawio = Field("@rawio", YES_NO, spec=_SP + "rawio", doc="raw I/O capability (scsi)")
    driver_name = Field("driver@name", Choice("kvm", "vfio", "xen"), spec="driver", doc="pass-through backend")
    driver_model = Field("driver@model", STR, spec=_SP + "driverModel", doc="vfio variant driver (libvirt 11)")
    teaming_type = Field("teaming@type", Choice("persistent", "transient"), spec=_SP + "teaming.type")
    teaming_persistent = Field("teaming@persistent", STR, spec=_SP + "teaming.persistent")
    # <source>: the host device. vendor and product come first: a usb source lists them
    # before its address (spec-built elements are created in field order).
    startup_policy = Field(
        "source@startupPolicy", Choice("mandatory", "requisite", "optional"), spec=_SP + "startupPolicy"
    )
    write_filtering = Field("source@writeFiltering", YES_NO, spec=_SP + "writeFiltering", doc="pci config writes")
    guest_reset = Field("source@guestReset", Choice("off", "uninitialized", "on"), spec=_SP + "guestReset")
    protocol = Field("source@protocol", Choice("adapter", "iscsi", "vhost"), spec=_SP + "protocol")
    source_name = Field("source@name", STR, spec=_SP + "sourceName", doc="iSCSI target IQN")
    wwpn = Field("source@wwpn", WWPN, spec=_SP + "wwpn", doc="vhost-scsi target WWPN (scsi_host)")
    vendor_id = Field("source/vendor@id", USB_ID, spec=_SP + "vendorId", doc="usb vendor id")
    product_id = Field("source/product@id", USB_ID, spec=_SP + "productId", doc="usb product id")
    adapter = Field("source/adapter@name", STR, spec=_SP + "adapter", doc="scsi_hostN")
    adapter_type = Field("source/adapter@type", Choice("scsi_host", "fc_host"), spec=_SP + "adapterType")
    adapter_wwnn = Field("source/adapter@wwnn", WWN, spec=_SP + "adapterWwnn", doc="fc_host: vHBA node name")
    adapter_wwpn = Field("source/adapter@wwpn", WWN, spec=_SP + "adapterWwpn", doc="fc_host: vHBA port name")
    adapter_parent = Field("source/adapter@parent", STR, spec=_SP + "adapterParent", doc="fc_host: parent HBA")
    adapter_parent_wwnn = Field("source/adapter@parent_wwnn", WWN, spec=_SP + "adapterParentWwnn")
    adapter_parent_wwpn = Field("source/adapter@parent_wwpn", WWN, spec=_SP + "adapterParentWwpn")
    adapter_parent_fabric_wwn = Field("source/adapter@parent_fabric_wwn", WWN, spec=_SP + "adapterParentFabricWwn")
    adapter_managed = Field("source/adapter@managed", YES_NO, spec=_SP + "adapterManaged", doc="fc_host: vHBA")
    adapter_parent_addr = Child(
        "source/adapter/parentaddr", ParentAddr, spec=_SP + "adapterParentAddr", doc="scsi: the host by PCI address"
    )
    host_address = HostAddressField("source/address", spec=_SP + "hostAddress")
    hosts = Children("source/host", IscsiHost, spec=_SP + "hosts", doc="iSCSI portals")
    auth_username = Field("source/auth@username", STR, spec=_SP + "auth.username", doc="iSCSI CHAP user")
    auth_secret_type = Field("source/auth/secret@type", Choice("iscsi", "ceph"), spec=_SP + "auth.secretType")
    auth_secret_uuid = Field("source/auth/secret@uuid", STR, spec=_SP + "auth.secretUuid", doc="libvirt secret")
    auth_secret_usage = Field("source/auth/secret@usage", STR, spec=_SP + "auth.secretUsage", doc="libvirt secret")
    initiator = Field("source/initiator/iqn@name", STR, spec=_SP + "initiator", doc="iSCSI initiator IQN")
    block = Field("source/block", ABS_PATH, spec=_SP + "block", doc="host block device (capabilities storage)")
    char = Field("source/char", ABS_PATH, spec=_SP + "char", doc="host character device (capabilities misc)")
    interface = Field("source/interface", DEVICE_NAME, spec=_SP + "interface", doc="host interface (capabilities net)")
    ips = Children("ip", IpAddress, spec=_SP + "ips", doc="container addresses (capabilities net)")
    routes = Children("route", Route, spec=_SP + "routes", doc="container routes (capabilities net)")
    rom_bar = Field("rom@bar", ON_OFF, spec=_SP + "rom.bar", doc="expose the ROM BAR")
    rom_file = Field("rom@file", STR, spec=_SP + "rom.file", doc="ROM image given to the guest")
    rom_enabled = Field("rom@enabled", YES_NO, spec=_SP + "rom.enabled")
    readonly = PresentFlag("readonly", spec=_SP + "readonly")
    shareable = PresentFlag("shareable", spec=_SP + "shareable")

    # -- dev_spec ---------------------------------------------------------------------------

    @property
    def spec_device(self) -> str:
        """The node-device name of the host device, else its type, else ``"hostdev"``."""
        kind = self.element.get("type")
        if not kind:
            return self.dev_type
        return node_device_name(self.element) or kind

    def read_spec(self, rest: dict[str, Any]) -> None:
        """Take ``device`` (a node-device name or a type), check it against the source the
        spec gives in ``specParams``, fill what it implies and libvirt's required values."""
        named = self._named(rest.get("device"))
        given_type = self.element.get("type")
        named_type = named.type if isinstance(named, NodeDeviceName) else named
        if named_type is not None and given_type is not None and named_type != given_type:
            raise SpecError(
                f"hostdev spec: 'device' {rest.get('device')!r:.80} names a {named_type} device but "
                f"'specParams.type' is {given_type!r:.40}"
            )
        if given_type is None:
            if named_type is None:
                raise SpecError(
                    "hostdev spec: 'device' names no host device (a node-device name such as "
                    "'pci_0000_00_19_0', or a type) and 'specParams.type' is missing"
                )
            self.type = named_type
            if self.mode is None:
                self.mode = "capabilities" if named_type in CAPS_TYPES else "subsystem"
        kind = self.element.get("type")
        if kind in CAPS_TYPES and self.mode is None:
            self.mode = "capabilities"
        if isinstance(named, NodeDeviceName):
            self._apply_name(named, str(rest.get("device")))
        if kind == "mdev" and self.model is None:
            self.model = "vfio-pci"
        if kind == "scsi_host" and self.protocol is None:
            self.protocol = "vhost"
        self._check_source(kind)

    def _named(self, device: object) -> NodeDeviceName | str | None:
        """What the spec's ``device`` says: a node-device name, a type, or nothing."""
        if device is None or device == self.dev_type:
            return None
        if not isinstance(device, str):
            raise SpecError(f"hostdev spec: 'device' must be a node-device name, got {type(device).__name__}")
        if device in SUBSYS_TYPES or device in CAPS_TYPES or device == self.element.get("type"):
            return device
        named = parse_node_device_name(device)
        if named is None:
            raise SpecError(
                f"hostdev spec: 'device' {device!r:.80} is not a node-device name (pci_DDDD_BB_SS_F, "
                "usb_VVVV_PPPP, usb_BUS_DEV, scsi_HOST_BUS_TARGET_UNIT, mdev_<uuid>) nor a hostdev type"
            )
        return named

    def _apply_name(self, named: NodeDeviceName, device: str) -> None:
        """Write the source a node-device name stands for, or check the one the spec gave."""
        where = f"hostdev spec: 'device' {device!r:.80} and"
        source = _source(self.element)
        if named.product is not None:
            have = _usb_product(source) if source is not None else None
            if self.vendor_id is None and self.product_id is None:
                self.vendor_id = f"0x{named.product[0]:04x}"
                self.product_id = f"0x{named.product[1]:04x}"
                self._usb_source_in_order()
            elif have != named.product:
                raise SpecError(f"{where} 'specParams.vendorId'/'specParams.productId' do not name the same device")
        if named.scsi_host is not None:
            number = _scsi_host_number(source) if source is not None else None
            if self.adapter is None:
                self.adapter = f"scsi_host{named.scsi_host}"
            elif number != named.scsi_host:
                raise SpecError(f"{where} 'specParams.adapter' {self.adapter!r:.40} do not name the same device")
        if not named.address:
            return
        address = self.element.find("source/address")
        if address is None or not len(address.attrib):
            self.host_address = _format_address(named)
            return
        if not _same_address(named, _attrs(address)):
            raise SpecError(f"{where} 'specParams.hostAddress' do not name the same device")

    def _usb_source_in_order(self) -> None:
        """A usb source lists vendor and product before its address (the schema's order)."""
        source = _source(self.element)
        if source is None:
            return
        for position, tag in enumerate(("vendor", "product")):
            child = _child(source, tag)
            if child is not None:
                source.remove(child)
                source.insert(position, child)

    def _check_source(self, kind: str | None) -> None:
        """Refuse a spec that leaves out the host device libvirt requires for ``kind``."""
        address = self.element.find("source/address")
        attrs = _attrs(address)
        problem = host_address_problem(kind, attrs)
        if problem:
            raise SpecError(f"hostdev spec: 'specParams.hostAddress': {problem}")
        missing: str | None = None
        if kind == "pci" and not attrs:
            missing = "'specParams.hostAddress' (domain, bus, slot, function)"
        elif kind == "usb" and not (
            (self.vendor_id is not None and self.product_id is not None) or {"bus", "device"} <= set(attrs)
        ):
            missing = "'specParams.vendorId' and 'specParams.productId', or 'specParams.hostAddress' (bus, device)"
        elif kind == "scsi" and self.protocol == "iscsi":
            if self.source_name is None or not self.hosts:
                missing = "'specParams.sourceName' and 'specParams.hosts' (iSCSI target and portal)"
        elif kind == "scsi" and (not self._adapter_named() or not {"bus", "target", "unit"} <= set(attrs)):
            missing = (
                "'specParams.adapter' (or 'specParams.adapterParentAddr', or an fc_host's 'specParams.adapterWwnn' "
                "and 'specParams.adapterWwpn') "
                "and 'specParams.hostAddress' (bus, target, unit)"
            )
        elif kind == "scsi_host" and self.wwpn is None:
            missing = "'specParams.wwpn'"
        elif kind == "mdev" and "uuid" not in attrs:
            missing = "'specParams.hostAddress' (uuid)"
        elif kind in CAPS_TYPES:
            key = {"storage": "block", "misc": "char", "net": "interface"}[kind]
            if getattr(self, key) is None:
                missing = f"'specParams.{key}'"
        if missing:
            raise SpecError(f"hostdev spec: a {kind} host device needs {missing} (or a 'device' name that gives it)")

    def _adapter_named(self) -> bool:
        """A scsi adapter names its host: ``@name``, its parent's PCI address
        (``<parentaddr>``), or an fc_host vHBA's two WWNs."""
        if self.adapter is not None or self.element.find("source/adapter/parentaddr/address") is not None:
            return True
        return self.adapter_type == "fc_host" and self.adapter_wwnn is not None and self.adapter_wwpn is not None

    # -- identity and display ------------------------------------------------------------------

    def identity(self) -> Identity | None:
        """The type and the host device (:func:`host_source_text`); None without either."""
        kind = self.element.get("type")
        if not kind:
            return None
        source = host_source_text(self.element)
        return {"devtype": "hostdev", "type": kind, "source": source} if source else None

    def summary(self) -> dict[str, Any]:
        """Key fields for ``devframe inspect``: kind, host device, then options. Never raises."""
        element = self.element
        out: dict[str, Any] = {}
        if element.get("mode") == "capabilities":
            out["mode"] = "capabilities"
        for label, value in (
            ("type", element.get("type")),
            ("device", node_device_name(element)),
            ("source", host_source_text(element)),
        ):
            if value:
                out[label] = value
        getters: tuple[tuple[str, Callable[[], Any]], ...] = (
            ("model", lambda: self.model),
            ("managed", lambda: self.managed),
            ("driver", lambda: self.driver_name),
            ("display", lambda: self.display),
            ("boot", lambda: self.boot_order),
            ("startup_policy", lambda: self.startup_policy),
            ("rom", lambda: self.rom_file),
            ("readonly", lambda: self.readonly or None),
            ("shareable", lambda: self.shareable or None),
            ("auth_username", lambda: self.auth_username),
        )
        for label, getter in getters:
            try:
                value = getter()
            except DevframeError:
                value = "<invalid>"
            if value is not None:
                out[label] = value
        return out


def _format_address(named: NodeDeviceName) -> dict[str, str]:
    """A node-device name's host address as libvirt writes it."""
    parts = named.address
    if named.type == "pci":
        return {
            "domain": f"0x{parts['domain']:04x}",
            "bus": f"0x{parts['bus']:02x}",
            "slot": f"0x{parts['slot']:02x}",
            "function": f"0x{parts['function']:x}",
        }
    return {key: str(value) for key, value in parts.items()}


def _same_address(named: NodeDeviceName, attrs: Mapping[str, str]) -> bool:
    """True when ``attrs`` hold the parts of ``named`` (numbers compared as numbers)."""
    for key, value in named.address.items():
        raw = attrs.get(key)
        if raw is None and key == "domain":
            raw = "0"  # libvirt's default PCI domain
        if key == "uuid":
            if _uuid(raw) != value:
                return False
        elif _number(raw) != value:
            return False
    return True
