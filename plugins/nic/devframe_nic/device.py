"""The ``<interface>`` dev_class (network interfaces, dev_type ``interface``).

Models every attribute and child libvirt 11.3's schema gives ``<interface>``
(libvirt.org formatdomain, "Network interfaces"; domaincommon.rng ``interface`` and
what it references in networkcommon.rng) for every interface type: ``bridge``,
``network``, ``direct``, ``user``, ``ethernet``, ``hostdev``, ``vhostuser``, ``vdpa``,
``mcast``, ``server``, ``client``, ``udp``, ``internal``, ``null`` and ``vds``; both
backends (``default`` and ``passt``, which a ``user`` or a ``vhostuser`` interface
uses). Numbers are typed with the schema's ranges (a value outside them is refused from
a spec and reported from XML). Values libvirt adds later are kept as they are
(:class:`devframe.Choice` is lenient), and every child devframe does not model
(``actual`` of status XML, namespaced extensions, ...) stays in the element untouched.

dev_spec mapping (engine key on the left; ``sp.`` abbreviates ``specParams.``)

=========================== ===========================================================
type                        ``interface``
device                      ``@type`` (default ``bridge``)
alias / deviceId            ``alias@name`` (``ua-<deviceId>``)
address                     the direct child ``address`` (the GUEST address)
macAddr                     ``mac@address`` (a malformed MAC from a spec is an error)
nicModel                    ``model@type`` (the engine's ``pv`` means ``virtio``)
network                     the source name of the type: ``source@bridge`` for
                            ``bridge``, ``source@network`` for ``network``; for other
                            types the key is only kept in ``metadata`` (see below)
linkActive                  ``link@state`` (True = ``up``, False = ``down``)
name                        ``target@dev``
bootOrder                   ``boot@order``
filter                      ``filterref@filter``
filterParameters            ``filterref/parameter`` as ``[{name, value}, ...]``
mtu                         ``mtu@size``
sp.macType / sp.macCheck    ``mac@type`` / ``mac@check``
sp.macCurrentAddress        ``mac@currentAddress`` (the MAC the guest set; libvirt 11)
sp.sourceBridge             ``source@bridge`` when the type is not ``bridge``
sp.sourceNetwork            ``source@network`` when the type is not ``network``
sp.portgroup / sp.portid    ``source@portgroup`` / ``source@portid``
sp.macTableManager          ``source@macTableManager``
sp.sourceDev / sp.sourceMode ``source@dev`` / ``source@mode`` (direct: vepa, bridge,
                            private, passthrough; vhostuser: server, client); a
                            passt ``vhostuser`` or ``user`` names its host device here
sp.sourceName               ``source@name`` (internal)
sp.sourceType / sp.sourcePath ``source@type`` / ``source@path`` (vhostuser ``unix``)
sp.reconnect.enabled/.timeout/.delay ``source/reconnect@enabled|timeout|delay``
sp.sourceAddress / sp.sourcePort ``source@address`` / ``source@port`` (mcast, server,
                            client, udp)
sp.localAddress / sp.localPort ``source/local@address`` / ``@port`` (udp)
sp.hostAddress              ``source/address`` as a dict: the HOST address of a
                            ``hostdev`` interface (pci or usb), never the guest address
sp.hostVendor / sp.hostProduct ``source/vendor@id`` / ``source/product@id`` (usb)
sp.sourceMissing            ``source@missing`` (hostdev)
sp.managed                  ``@managed`` (hostdev)
sp.switchid / sp.portgroupid / sp.connectionid  ``source@...`` (vds)
sp.targetManaged            ``target@managed``
sp.guestDev / sp.guestActual ``guest@dev`` / ``guest@actual``
sp.script / sp.downscript   ``script@path`` / ``downscript@path``
sp.backendDomain            ``backenddomain@name``
sp.trustGuestRxFilters      ``@trustGuestRxFilters``
sp.vlanTrunk                ``vlan@trunk``
sp.vlan                     ``vlan/tag`` as ``[{id, nativeMode}, ...]``
sp.inbound.* / sp.outbound.* ``bandwidth/inbound|outbound@average|peak|burst|floor``
sp.bandwidthClassID         ``bandwidth@classID``
sp.virtualport.type         ``virtualport@type`` (openvswitch, 802.1Qbg, 802.1Qbh,
                            midonet)
sp.virtualport.parameters.* ``virtualport/parameters@managerid|typeid|typeidversion|
                            instanceid|profileid|interfaceid``
sp.driver.*                 ``driver@name|queues|txmode|ioeventfd|event_idx|
                            rx_queue_size|tx_queue_size|rss|rss_hash_report``; and
                            ``iommu|ats|packed|pagePerVq`` (devframe.VirtioOptions);
                            ``driver@model`` as ``model`` (hostdev: the VFIO variant)
sp.driver.host.*            ``driver/host@csum|gso|tso4|tso6|ecn|ufo|mrg_rxbuf``
sp.driver.guest.*           ``driver/guest@csum|tso4|tso6|ecn|ufo``
sp.backend.*                ``backend@type|tap|vhost|logFile``
sp.rom.*                    ``rom@bar|file|enabled``
sp.coalesce.rx.frames.max   ``coalesce/rx/frames@max``
sp.teaming.type / .persistent ``teaming@type`` / ``teaming@persistent``
sp.portIsolated             ``port@isolated``
sp.acpiIndex                ``acpi@index``
sp.sndbuf                   ``tune/sndbuf``
sp.bootLoadparm             ``boot@loadparm``
sp.ips                      ``ip`` children as ``[{address, family, prefix, peer}]``
sp.routes                   ``route`` children as ``[{family, address, netmask,
                            prefix, gateway, metric}]``
sp.sourceIps / sp.sourceRoutes ``source/ip`` / ``source/route`` (ethernet: host side)
sp.portForwards             ``portForward`` children (passt) as ``[{proto, address,
                            dev, ranges: [{start, end, to, exclude}]}]``
sp.emptyElements            the children present and empty, as a list of their paths
                            (``["bandwidth"]`` for VDSM's ``<bandwidth/>``): ``source``,
                            ``virtualport``, ``virtualport/parameters``, ``guest``,
                            ``backend``, ``driver``, ``driver/host|guest``, ``tune``,
                            ``bandwidth``, ``bandwidth/inbound|outbound``,
                            ``coalesce``, ``coalesce/rx``, ``coalesce/rx/frames``,
                            ``port``, ``rom``, ``acpi``
=========================== ===========================================================

Values kept in the domain's ``<metadata>`` (not in the element): ``network`` (the
engine's logical network name; a spec's ``network`` is written both to the source
and to metadata, and for types without a named source it lives only there),
``portMirroring`` (list of network names), ``custom`` (dict of custom properties),
``linkRateMbps`` (the engine's nominal link speed for the guest: libvirt's
``<interface>`` has no link speed, only ``<link state>``).
Every other spec key devframe does not model is kept in ``metadata`` too.

The engine's spellings (VDSM, the oVirt engine) are aliases of the keys above, listed
in :mod:`devframe_nic.engine`: ``specParams.vlanid`` and ``port_isolated`` (the class's
``spec_aliases``, moved by the core), ``custom.queues``, ``vm_custom.sndbuf``, ``hostdev`` (a node-device name),
``teaming: True``; ``numa_node`` is refused (libvirt's interface has no NUMA node).

Defaults ``device_from_spec`` fills where the spec has no key: type ``bridge``; a
``network`` interface without a source gets libvirt's ``default`` network; a
``vhostuser`` interface of libvirt's own backend (not passt) gets source type ``unix``
and mode ``client``; a ``udp``/``mcast``/``client`` source with a port and no address
gets ``127.0.0.1``. ``to_spec`` writes those keys as None where the element lacks them,
so a spec never adds a default the element did not have.

Identity without an alias: the MAC address (case-insensitive); a NIC of a failover
team (``<teaming>``) shares its MAC with its partner, so its identity adds the alias,
as does a NIC whose MAC another ``<interface>`` of the same domain carries.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from devframe import (
    LIVE,
    ON_OFF,
    STR,
    YES_NO,
    AcpiIndex,
    AddressField,
    Bootable,
    Children,
    Choice,
    Device,
    ElementView,
    EmptyElements,
    Field,
    Identity,
    IntRange,
    Kind,
    Pattern,
    SpecAlias,
    SpecError,
    VirtioOptions,
    first_child,
)
from devframe_nic.engine import apply_engine_spellings, sync_custom_properties

__all__ = [
    "INTERFACE_TYPES",
    "LINK_STATE",
    "MAC",
    "FilterParameter",
    "IpAddress",
    "MacKind",
    "Nic",
    "PortForward",
    "PortRange",
    "Route",
    "VlanTag",
    "normalize_model",
]

INTERFACE_TYPES = (
    "bridge",
    "network",
    "direct",
    "user",
    "ethernet",
    "hostdev",
    "vhostuser",
    "vdpa",
    "mcast",
    "server",
    "client",
    "udp",
    "internal",
    "null",
    "vds",
)

# libvirt's schema types of the interface's numbers and names (basictypes.rng,
# networkcommon.rng): a value outside them is refused from a spec, reported from XML.
POSITIVE = IntRange(1, name="positiveInteger")
UINT32 = IntRange(0, 2**32 - 1, name="unsignedInt")
USHORT = IntRange(0, 65535, name="unsignedShort")
LONG = IntRange(-(2**63), 2**63 - 1, name="long")
PORT = IntRange(-1, 65535, name="port number")
VLAN_ID = IntRange(0, 4095, name="VLAN id")
PREFIX = IntRange(0, 128, name="IP prefix")
UINT8 = IntRange(0, 255, name="uint8")
UINT24 = IntRange(0, 2**24 - 1, name="uint24")
#: bandwidth average/peak/floor in KiB/s, and burst in KiB
SPEED = IntRange(1, 2**54, name="speed")
BURST = IntRange(1, 2**32 - 1, name="burst size")
UUID = Pattern("UUID", r"[a-fA-F0-9]{32}|[a-fA-F0-9]{8}-([a-fA-F0-9]{4}-){3}[a-fA-F0-9]{12}")
PROFILE_ID = Pattern("port profile id (at most 39 characters)", r"(?s).{0,39}")
MODEL = Pattern("NIC model (letters, digits, '-', '_')", r"[a-zA-Z0-9_-]+")
DRIVER_MODEL = Pattern("driver model (letters, digits, '_', '+', '-')", r"[a-zA-Z0-9_+-]+")

#: A unicast MAC: six hex octets joined by ':', the low bit of the first one clear
#: (libvirt's ``uniMacAddr``; it refuses multicast addresses for a NIC): an even second digit.
_MAC_RE = re.compile(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}\Z")
_UNICAST_MAC_RE = re.compile(r"[0-9a-fA-F][02468aAcCeE](:[0-9a-fA-F]{2}){5}")


class MacKind(Kind[str]):
    """A unicast MAC address ``xx:xx:xx:xx:xx:xx``, kept in the case it was written."""

    name = "mac"
    python_type = str

    def parse(self, raw: str) -> str:
        if _UNICAST_MAC_RE.fullmatch(raw) is not None:
            return raw
        if not _MAC_RE.match(raw):
            raise ValueError("not a MAC address of the form xx:xx:xx:xx:xx:xx")
        raise ValueError("a multicast MAC address cannot name a NIC")

    def fast_parse(self) -> tuple[str, Any] | None:
        # what parse() accepts as it is, matched in the compiled reader without the call
        return ("match", _UNICAST_MAC_RE.fullmatch) if type(self).parse is MacKind.parse else None

    def format(self, value: str) -> str:
        if not isinstance(value, str):
            raise TypeError(f"expected a MAC address string, got {type(value).__name__}")
        return self.parse(value)

    def coerce(self, value: object) -> str:
        if not isinstance(value, str):
            raise TypeError(f"expected a MAC address string, got {type(value).__name__}")
        return self.parse(value.strip())


class _LinkState(Kind[bool]):
    """``link@state``: ``up`` is True, ``down`` is False (the engine's ``linkActive``)."""

    name = "up/down"
    python_type = bool
    _WORDS = {"up": True, "down": False, "true": True, "false": False, "yes": True, "no": False}

    def parse(self, raw: str) -> bool:
        if raw not in ("up", "down"):
            raise ValueError("expected 'up' or 'down'")
        return raw == "up"

    def fast_parse(self) -> tuple[str, Any] | None:
        # the two words as parse() reads them, looked up in the compiled reader
        return (
            ("words", {word: self.parse(word) for word in ("up", "down")})
            if type(self).parse is _LinkState.parse
            else None
        )

    def format(self, value: bool) -> str:
        if not isinstance(value, bool):
            raise TypeError(f"expected bool, got {type(value).__name__}")
        return "up" if value else "down"

    def coerce(self, value: object) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in self._WORDS:
            return self._WORDS[value.strip().lower()]
        raise ValueError(f"expected a bool (or up/down), got {value!r}")


MAC: Kind[str] = MacKind()
LINK_STATE: Kind[bool] = _LinkState()


def normalize_model(value: object) -> str:
    """A spec's ``nicModel`` as libvirt's model type: the engine's ``pv`` is ``virtio``."""
    text = STR.coerce(value)
    return "virtio" if text == "pv" else text


class FilterParameter(ElementView):
    """One ``<parameter name=... value=...>`` of a ``<filterref>``."""

    tag = "parameter"
    name = Field("@name", STR, spec="name")
    value = Field("@value", STR, spec="value")


class VlanTag(ElementView):
    """One ``<tag id=... nativeMode=...>`` of a ``<vlan>``."""

    tag = "tag"
    id = Field("@id", VLAN_ID, spec="id")
    native_mode = Field("@nativeMode", Choice("tagged", "untagged"), spec="nativeMode")


def vlan_tags(vlanid: Any) -> list[dict[str, int]]:
    """The engine's ``specParams.vlanid`` (one tag id) as the canonical ``vlan`` list."""
    return [{"id": VLAN_ID.coerce(vlanid)}]


class IpAddress(ElementView):
    """One ``<ip>`` of the interface (guest side for user/passt, host side otherwise)."""

    tag = "ip"
    address = Field("@address", STR, spec="address")
    family = Field("@family", Choice("ipv4", "ipv6"), spec="family")
    prefix = Field("@prefix", PREFIX, spec="prefix")
    peer = Field("@peer", STR, spec="peer")


class Route(ElementView):
    """One ``<route>`` of the interface."""

    tag = "route"
    family = Field("@family", Choice("ipv4", "ipv6"), spec="family")
    address = Field("@address", STR, spec="address")
    netmask = Field("@netmask", STR, spec="netmask")
    prefix = Field("@prefix", PREFIX, spec="prefix")
    gateway = Field("@gateway", STR, spec="gateway")
    metric = Field("@metric", UINT32, spec="metric")


class PortRange(ElementView):
    """One ``<range start=... end=... to=... exclude=...>`` of a ``<portForward>``."""

    tag = "range"
    start = Field("@start", PORT, spec="start")
    end = Field("@end", PORT, spec="end")
    to = Field("@to", PORT, spec="to")
    exclude = Field("@exclude", YES_NO, spec="exclude")


class PortForward(ElementView):
    """One ``<portForward>`` of a passt backend: protocol, host address/dev, ranges."""

    tag = "portForward"
    proto = Field("@proto", Choice("tcp", "udp"), spec="proto")
    address = Field("@address", STR, spec="address")
    dev = Field("@dev", STR, spec="dev")
    ranges = Children("range", PortRange, spec="ranges")


# Where libvirt writes each child of <interface>; fields creating a child follow it.
_CHILD_ORDER = (
    "mac",
    "source",
    "vlan",
    "virtualport",
    "ip",
    "route",
    "portForward",
    "script",
    "downscript",
    "backenddomain",
    "target",
    "guest",
    "model",
    "driver",
    "backend",
    "filterref",
    "tune",
    "teaming",
    "link",
    "mtu",
    "bandwidth",
    "coalesce",
    "port",
    "boot",
    "rom",
    "alias",
    "acpi",
    "address",
)

_SP = "specParams."

# Types whose source is named by the engine's top-level ``network`` key.
_NETWORK_KEY_FIELD = {"bridge": "source_bridge", "network": "source_network"}


def _socket_source(nic: ElementView) -> bool:
    """A vhost-user interface of libvirt's own backend connects through a unix socket
    (source type and mode default); passt's names a host device instead."""
    return Nic.type.raw(nic) == "vhostuser" and Nic.backend_type.raw(nic) != "passt"


def _port_source(nic: ElementView) -> bool:
    """A mcast/client/udp socket given a port and no address gets the local host."""
    return Nic.type.raw(nic) in ("mcast", "client", "udp") and Nic.source_port.raw(nic) is not None


class Nic(VirtioOptions, Bootable, AcpiIndex, Device):
    """A network interface (``<interface>``); see the module docstring for the mapping."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "interface"
    tag: ClassVar[str] = "interface"
    description: ClassVar[str] = "network interfaces (<interface type=...>)"
    child_order: ClassVar[tuple[str, ...]] = _CHILD_ORDER
    # The engine's logical network name, mirrored networks and custom properties.
    metadata_keys: ClassVar[Mapping[str, type | None]] = {
        "network": str,
        "portMirroring": list,
        "custom": dict,
        "linkRateMbps": int,
    }
    # The engine's spellings that are one key each (the core moves them); the others need
    # the whole spec and are read in read_spec (devframe_nic.engine).
    spec_aliases: ClassVar[Mapping[str, str | SpecAlias]] = {
        _SP + "vlanid": SpecAlias(_SP + "vlan", vlan_tags),
        "port_isolated": _SP + "portIsolated",
    }

    type = Field("@type", Choice(*INTERFACE_TYPES), spec="device", default="bridge", doc="interface type")
    mac = Field("mac@address", MAC, spec="macAddr", doc="MAC address")
    mac_type = Field("mac@type", Choice("generated", "static"), spec=_SP + "macType")
    mac_check = Field("mac@check", YES_NO, spec=_SP + "macCheck")
    mac_current_address = Field(
        "mac@currentAddress", MAC, spec=_SP + "macCurrentAddress", doc="the MAC the guest set (libvirt 11)"
    )
    model = Field("model@type", MODEL, spec="nicModel", from_spec=normalize_model, doc="NIC model")
    # Before the source: whether a vhost-user source gets socket defaults depends on it.
    backend_type = Field("backend@type", Choice("default", "passt"), spec=_SP + "backend.type")
    backend_tap = Field("backend@tap", STR, spec=_SP + "backend.tap")
    backend_vhost = Field("backend@vhost", STR, spec=_SP + "backend.vhost")
    backend_log_file = Field("backend@logFile", STR, spec=_SP + "backend.logFile")

    # <source>: which attributes apply depends on the type (see the module docstring).
    source_bridge = Field("source@bridge", STR, doc="bridge (type bridge, or the network's bridge)", live=LIVE)
    source_network = Field("source@network", STR, doc="libvirt network (type network)", live=LIVE)
    portgroup = Field("source@portgroup", STR, spec=_SP + "portgroup")
    portid = Field("source@portid", STR, spec=_SP + "portid", doc="a UUID (network ports), a long (vds)")
    mac_table_manager = Field("source@macTableManager", Choice("kernel", "libvirt"), spec=_SP + "macTableManager")
    source_dev = Field("source@dev", STR, spec=_SP + "sourceDev", doc="host device (direct, user, vdpa, passt)")
    source_mode = Field(
        "source@mode",
        Choice("vepa", "bridge", "private", "passthrough", "server", "client"),
        spec=_SP + "sourceMode",
        default="client",
        default_if=_socket_source,
    )
    source_name = Field("source@name", STR, spec=_SP + "sourceName")
    source_type = Field(
        "source@type", Choice("unix"), spec=_SP + "sourceType", default="unix", default_if=_socket_source
    )
    source_path = Field("source@path", STR, spec=_SP + "sourcePath", doc="vhost-user socket")
    reconnect_enabled = Field("source/reconnect@enabled", YES_NO, spec=_SP + "reconnect.enabled")
    reconnect_timeout = Field("source/reconnect@timeout", UINT32, spec=_SP + "reconnect.timeout")
    reconnect_delay = Field("source/reconnect@delay", UINT32, spec=_SP + "reconnect.delay")
    # The port first: an address defaults only where a port is given.
    source_port = Field("source@port", PORT, spec=_SP + "sourcePort")
    source_address = Field(
        "source@address", STR, spec=_SP + "sourceAddress", default="127.0.0.1", default_if=_port_source
    )
    local_address = Field("source/local@address", STR, spec=_SP + "localAddress")
    local_port = Field("source/local@port", PORT, spec=_SP + "localPort")
    # Declared in the schema's order: a usb host source is vendor, product, address.
    host_vendor = Field("source/vendor@id", STR, spec=_SP + "hostVendor")
    host_product = Field("source/product@id", STR, spec=_SP + "hostProduct")
    host_address = AddressField("source/address", spec=_SP + "hostAddress")
    source_missing = Field("source@missing", YES_NO, spec=_SP + "sourceMissing")
    managed = Field("@managed", YES_NO, spec=_SP + "managed")
    switchid = Field("source@switchid", UUID, spec=_SP + "switchid")
    portgroupid = Field("source@portgroupid", STR, spec=_SP + "portgroupid")
    connectionid = Field("source@connectionid", LONG, spec=_SP + "connectionid")
    trust_guest_rx_filters = Field("@trustGuestRxFilters", YES_NO, spec=_SP + "trustGuestRxFilters")

    vlan_trunk = Field("vlan@trunk", YES_NO, spec=_SP + "vlanTrunk")
    vlan = Children("vlan/tag", VlanTag, spec=_SP + "vlan", doc="VLAN tags")

    virtualport_type = Field(
        "virtualport@type", Choice("openvswitch", "802.1Qbg", "802.1Qbh", "midonet"), spec=_SP + "virtualport.type"
    )
    vp_managerid = Field("virtualport/parameters@managerid", UINT8, spec=_SP + "virtualport.parameters.managerid")
    vp_typeid = Field("virtualport/parameters@typeid", UINT24, spec=_SP + "virtualport.parameters.typeid")
    vp_typeidversion = Field(
        "virtualport/parameters@typeidversion", UINT8, spec=_SP + "virtualport.parameters.typeidversion"
    )
    vp_instanceid = Field("virtualport/parameters@instanceid", UUID, spec=_SP + "virtualport.parameters.instanceid")
    vp_profileid = Field("virtualport/parameters@profileid", PROFILE_ID, spec=_SP + "virtualport.parameters.profileid")
    vp_interfaceid = Field("virtualport/parameters@interfaceid", UUID, spec=_SP + "virtualport.parameters.interfaceid")

    # ethernet: the host side's addresses and routes live inside <source>
    source_ips = Children("source/ip", IpAddress, spec=_SP + "sourceIps")
    source_routes = Children("source/route", Route, spec=_SP + "sourceRoutes")

    ips = Children("ip", IpAddress, spec=_SP + "ips")
    routes = Children("route", Route, spec=_SP + "routes")
    port_forwards = Children("portForward", PortForward, spec=_SP + "portForwards")
    script = Field("script@path", STR, spec=_SP + "script")
    downscript = Field("downscript@path", STR, spec=_SP + "downscript")
    backend_domain = Field("backenddomain@name", STR, spec=_SP + "backendDomain")

    target = Field("target@dev", STR, spec="name", doc="host-side device name")
    target_managed = Field("target@managed", YES_NO, spec=_SP + "targetManaged")
    guest_dev = Field("guest@dev", STR, spec=_SP + "guestDev")
    guest_actual = Field("guest@actual", STR, spec=_SP + "guestActual")

    driver_name = Field("driver@name", Choice("qemu", "vhost", "kvm", "vfio", "xen"), spec=_SP + "driver.name")
    driver_model = Field("driver@model", DRIVER_MODEL, spec=_SP + "driver.model", doc="hostdev: the VFIO variant")
    queues = Field("driver@queues", POSITIVE, spec=_SP + "driver.queues")
    txmode = Field("driver@txmode", Choice("iothread", "timer"), spec=_SP + "driver.txmode")
    ioeventfd = Field("driver@ioeventfd", ON_OFF, spec=_SP + "driver.ioeventfd")
    event_idx = Field("driver@event_idx", ON_OFF, spec=_SP + "driver.event_idx")
    rx_queue_size = Field("driver@rx_queue_size", POSITIVE, spec=_SP + "driver.rx_queue_size")
    tx_queue_size = Field("driver@tx_queue_size", POSITIVE, spec=_SP + "driver.tx_queue_size")
    rss = Field("driver@rss", ON_OFF, spec=_SP + "driver.rss")
    rss_hash_report = Field("driver@rss_hash_report", ON_OFF, spec=_SP + "driver.rss_hash_report")
    host_csum = Field("driver/host@csum", ON_OFF, spec=_SP + "driver.host.csum")
    host_gso = Field("driver/host@gso", ON_OFF, spec=_SP + "driver.host.gso")
    host_tso4 = Field("driver/host@tso4", ON_OFF, spec=_SP + "driver.host.tso4")
    host_tso6 = Field("driver/host@tso6", ON_OFF, spec=_SP + "driver.host.tso6")
    host_ecn = Field("driver/host@ecn", ON_OFF, spec=_SP + "driver.host.ecn")
    host_ufo = Field("driver/host@ufo", ON_OFF, spec=_SP + "driver.host.ufo")
    host_mrg_rxbuf = Field("driver/host@mrg_rxbuf", ON_OFF, spec=_SP + "driver.host.mrg_rxbuf")
    guest_csum = Field("driver/guest@csum", ON_OFF, spec=_SP + "driver.guest.csum")
    guest_tso4 = Field("driver/guest@tso4", ON_OFF, spec=_SP + "driver.guest.tso4")
    guest_tso6 = Field("driver/guest@tso6", ON_OFF, spec=_SP + "driver.guest.tso6")
    guest_ecn = Field("driver/guest@ecn", ON_OFF, spec=_SP + "driver.guest.ecn")
    guest_ufo = Field("driver/guest@ufo", ON_OFF, spec=_SP + "driver.guest.ufo")

    filter = Field("filterref@filter", STR, spec="filter", doc="nwfilter name", live=LIVE)
    filter_parameters = Children("filterref/parameter", FilterParameter, spec="filterParameters", live=LIVE)
    sndbuf = Field("tune/sndbuf", UINT32, spec=_SP + "sndbuf", doc="tap send buffer (bytes)")
    teaming_type = Field("teaming@type", Choice("persistent", "transient"), spec=_SP + "teaming.type")
    teaming_persistent = Field("teaming@persistent", STR, spec=_SP + "teaming.persistent")
    link_active = Field("link@state", LINK_STATE, spec="linkActive", doc="link state up (True) / down", live=LIVE)
    mtu = Field("mtu@size", USHORT, spec="mtu")

    bandwidth_class_id = Field("bandwidth@classID", POSITIVE, spec=_SP + "bandwidthClassID")
    inbound_average = Field("bandwidth/inbound@average", SPEED, spec=_SP + "inbound.average", live=LIVE)
    inbound_peak = Field("bandwidth/inbound@peak", SPEED, spec=_SP + "inbound.peak", live=LIVE)
    inbound_burst = Field("bandwidth/inbound@burst", BURST, spec=_SP + "inbound.burst", live=LIVE)
    inbound_floor = Field("bandwidth/inbound@floor", SPEED, spec=_SP + "inbound.floor", live=LIVE)
    outbound_average = Field("bandwidth/outbound@average", SPEED, spec=_SP + "outbound.average", live=LIVE)
    outbound_peak = Field("bandwidth/outbound@peak", SPEED, spec=_SP + "outbound.peak", live=LIVE)
    outbound_burst = Field("bandwidth/outbound@burst", BURST, spec=_SP + "outbound.burst", live=LIVE)
    outbound_floor = Field("bandwidth/outbound@floor", SPEED, spec=_SP + "outbound.floor", live=LIVE)

    coalesce_rx_frames_max = Field("coalesce/rx/frames@max", UINT32, spec=_SP + "coalesce.rx.frames.max")
    port_isolated = Field("port@isolated", YES_NO, spec=_SP + "portIsolated")
    rom_bar = Field("rom@bar", ON_OFF, spec=_SP + "rom.bar")
    rom_file = Field("rom@file", STR, spec=_SP + "rom.file")
    rom_enabled = Field("rom@enabled", YES_NO, spec=_SP + "rom.enabled")

    # Children libvirt's schema lets stand empty; <bandwidth/> is what VDSM writes for a
    # NIC whose QoS it manages with no limit set.
    empty_elements = EmptyElements(
        "source",
        "virtualport",
        "virtualport/parameters",
        "guest",
        "backend",
        "driver",
        "driver/host",
        "driver/guest",
        "tune",
        "bandwidth",
        "bandwidth/inbound",
        "bandwidth/outbound",
        "coalesce",
        "coalesce/rx",
        "coalesce/rx/frames",
        "port",
        "rom",
        "acpi",
        spec=_SP + "emptyElements",
    )

    # -- identity -------------------------------------------------------------------

    def identity(self) -> Identity | None:
        """The lower-case MAC (oVirt keys NIC metadata ``mac_address``), plus the alias for
        a failover team member.

        The two NICs of a failover team (``<teaming>``) share one MAC, so their identity
        adds the alias. The raw MAC is used: a malformed one still identifies its device.
        Identity looks at this NIC only (a scan of sibling NICs would make every
        per-device caller quadratic); NICs that share a MAC without teaming have equal
        identities, which correlation pairs in document order.
        """
        # Read straight from the element: binding asks every NIC without an alias.
        element = self.element
        mac_el = first_child(element, "mac")  # libvirt writes <mac> first
        raw = mac_el.get("address") if mac_el is not None else None
        if not raw:
            return None
        mac = raw.lower()
        if next(element.iterchildren("teaming"), None) is not None:
            alias = Device.alias.raw(self)
            if alias:
                return {"mac_address": mac, "alias": alias}
        return {"mac_address": mac}

    # -- dev_spec ---------------------------------------------------------------------

    def _network_field(self, kind: str | None) -> Field[str] | None:
        name = _NETWORK_KEY_FIELD.get(kind or "")
        return getattr(Nic, name) if name else None

    def write_spec(self, spec: dict[str, Any]) -> None:
        """``network`` (the source of a bridge/network interface), the other source names,
        and the custom properties that carry a modeled value (:mod:`devframe_nic.engine`)."""
        params: dict[str, Any] = spec["specParams"]
        primary = _NETWORK_KEY_FIELD.get(Nic.type.raw(self) or "")
        # both names live on the first <source>: found once (to_spec asks every NIC)
        source = first_child(self.element, "source", near=2)  # after <mac>, as libvirt writes it
        if source is not None:
            for name, attr, extra_key in (
                ("source_bridge", "bridge", "sourceBridge"),
                ("source_network", "network", "sourceNetwork"),
            ):
                value = source.get(attr)
                if value is None:
                    continue
                if name == primary:
                    spec["network"] = value
                else:
                    params[extra_key] = value
        metadata = self.metadata_if_any()
        if metadata:
            sync_custom_properties(self, spec, metadata.values_view())

    def read_spec(self, rest: dict[str, Any]) -> None:
        """The engine's spellings (:mod:`devframe_nic.engine`); ``network`` names the source
        of a ``bridge``/``network`` interface (and stays in metadata: the engine's logical
        network name); then a ``network`` interface's default source."""
        params = rest.get("specParams")
        if params is not None and not isinstance(params, Mapping):
            raise _spec_error("specParams", params, "expected a dict")
        if params is not None and not isinstance(params, dict):
            params = rest["specParams"] = dict(params)  # a read-only mapping from the engine
        apply_engine_spellings(self, rest)
        # sourceBridge/sourceNetwork are named relative to the type, so they are not plain
        # fields: applied here, after the type is known.
        extras = {k: params.pop(k) for k in _SOURCE_EXTRAS if k in params} if params else {}
        network = rest.get("network")
        if network is not None and not isinstance(network, str):
            raise _spec_error("network", network, "expected a network or bridge name")
        self._apply_source_names(network, extras)
        if Nic.type.raw(self) == "network" and Nic.source_network.raw(self) is None:
            self.source_network = "default"  # libvirt's schema requires the network's name

    def _apply_source_names(self, network: str | None, extras: Mapping[str, Any]) -> None:
        primary = self._network_field(Nic.type.raw(self))
        if primary is not None and network:
            primary.__set__(self, network)
        for key, field in _SOURCE_EXTRAS.items():
            value = extras.get(key)
            if value is None:
                continue
            if not isinstance(value, str):
                raise _spec_error(f"specParams.{key}", value, "expected a name")
            if field is primary and network and value != network:
                raise _spec_error(f"specParams.{key}", value, f"contradicts network {network!r}")
            field.__set__(self, value)

    # -- display ------------------------------------------------------------------------

    def source_summary(self) -> str | None:
        """The one value naming where this NIC connects (per type), for display."""
        for field in (Nic.source_bridge, Nic.source_network, Nic.source_dev, Nic.source_path, Nic.source_name):
            value = field.raw(self)
            if value:
                return value
        host = self.element.find("source/address")
        if host is not None:
            return ",".join(f"{k!s}={v!s}" for k, v in host.attrib.items())
        address, port = Nic.source_address.raw(self), Nic.source_port.raw(self)
        if port:
            return f"{address or ''}:{port}"
        return None

    def summary(self) -> dict[str, Any]:
        """Key fields for ``devframe inspect``: type, mac, model, source, target, link, ..."""
        out: dict[str, Any] = {}
        for key, field in (
            ("type", Nic.type),
            ("mac", Nic.mac),
            ("model", Nic.model),
            ("target", Nic.target),
            ("link", Nic.link_active),
            ("mtu", Nic.mtu),
            ("boot", Nic.boot_order),
            ("filter", Nic.filter),
            ("virtualport", Nic.virtualport_type),
            ("teaming", Nic.teaming_type),
        ):
            raw = field.raw(self)
            if raw is None:
                continue
            out[key] = raw if field.check(self) is None else f"<invalid {raw!r}>"
        source = self.source_summary()
        if source:
            out["source"] = source
        tags = [t.get("id") for t in self.element.findall("vlan/tag")]
        if tags:
            out["vlan"] = ",".join(str(t) for t in tags)
        return out


_SOURCE_EXTRAS: dict[str, Field[str]] = {"sourceBridge": Nic.source_bridge, "sourceNetwork": Nic.source_network}


def _spec_error(key: str, value: object, reason: str) -> SpecError:
    return SpecError(f"interface dev_spec key {key!r}: {reason} (got {value!r})")
