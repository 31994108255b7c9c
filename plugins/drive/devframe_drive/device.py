"""The ``<disk>`` dev_class (:class:`Drive`) and the drive-name helpers.

dev_spec mapping (engine key -> place in the ``<disk>`` element). Keys VDSM used sit at
the top level; everything else lives in ``specParams``.

=============================== ==========================================================
``device``                      ``@device``: disk (default), cdrom, floppy, lun
``diskType``                    ``@type``: file (default), block, dir, network, volume,
                                nvme, vhostuser (always present in a spec)
``path``                        the source, by ``diskType``: file -> ``source@file``,
                                block -> ``source@dev``, dir -> ``source@dir``,
                                network -> ``source@name``, vhostuser -> ``source@path``;
                                volume and nvme have none (see pool/volume/nvme below);
                                ``''`` means "no source" (an empty cdrom tray)
``name``                        ``target@dev``
``iface``                       ``target@bus`` (ide, scsi, virtio, sata, usb, fdc, xen, sd)
``index``                       derived from ``name`` (:func:`drive_index`); a spec with
                                ``iface`` + ``index`` and no ``name`` gets ``name`` from
                                :func:`drive_name`; a contradicting pair is a SpecError
``format``                      ``driver@type``; ``cow`` <-> ``qcow2``, others as is
``propagateErrors``             ``driver@error_policy``: ``off`` <-> stop, ``on`` <->
                                enospace, ``report``/``ignore`` as is
``cache``                       ``driver@cache``
``discard``                     ``driver@discard``: True <-> unmap, False <-> ignore
``readonly``                    ``<readonly/>``
``shared``                      ``'shared'`` <-> ``<shareable/>``, ``'transient'`` <->
                                ``<transient/>``; ``'none'``/``'exclusive'`` write nothing
                                (``exclusive`` is a lease, kept in metadata); True means
                                ``'shared'``; absent when the XML has neither element
``serial``                      ``serial`` text
``bootOrder``                   ``boot@order``
``sgio``                        ``@sgio`` (lun: filtered, unfiltered)
``protocol``                    ``source@protocol`` (network: rbd, iscsi, nbd, gluster,
                                http, https, ftp, ftps, tftp, sheepdog, vxhs, nfs)
``hosts``                       ``source/host`` list of ``{name, port, transport, socket}``
``alias`` / ``address``         ``alias@name`` / the direct child ``address``
specParams ``driverName``       ``driver@name`` (qemu, ...)
specParams ``rerrorPolicy``     ``driver@rerror_policy``
specParams ``io``               ``driver@io`` (threads, native, io_uring)
specParams ``detectZeroes``     ``driver@detect_zeroes``
specParams ``pinToIoThread``    ``driver@iothread`` (int)
specParams ``queues``,          ``driver@queues``, ``driver@queue_size`` (int)
``queueSize``
specParams ``ioeventfd``,       ``driver@ioeventfd``, ``@event_idx``, ``@copy_on_read``
``eventIdx``, ``copyOnRead``    (bool, on/off)
specParams ``driver.iommu``,    the virtio options ``driver@iommu``, ``@ats``, ``@packed``,
``driver.ats``, ``.packed``,    ``@page_per_vq`` (bool, on/off; devframe.VirtioOptions)
``driver.pagePerVq``
specParams ``model``            ``@model`` (virtio, virtio-transitional, ...-non-transitional)
specParams ``rawio``            ``@rawio`` (bool)
specParams ``snapshot``         ``@snapshot`` (no, internal, external, manual)
specParams ``sourceType``       ``source@type`` (nvme: pci, vhostuser: unix)
specParams ``startupPolicy``    ``source@startupPolicy``
specParams ``sourceIndex``      ``source@index``
specParams ``fdgroup``          ``source@fdgroup``
specParams ``pool``, ``volume``, ``source@pool``, ``source@volume``, ``source@mode``
``volumeMode``
specParams ``nvmeNamespace``,   ``source@namespace`` (int), ``source@managed`` (bool),
``nvmeManaged``, ``nvmeAddress`` the nvme controller's host PCI address ``source/address``
specParams ``query``, ``tls``,  ``source@query``, ``source@tls`` (bool),
``tlsHostname``                 ``source@tlsHostname``
specParams ``tray``             ``target@tray`` (open, closed)
specParams ``removable``        ``target@removable`` (bool, on/off)
specParams ``rotationRate``     ``target@rotation_rate`` (int)
specParams ``bootLoadparm``     ``boot@loadparm``
specParams ``transientShare``   ``transient@shareBacking`` (bool)
specParams ``wwn``,             ``wwn``, ``vendor``, ``product`` text
``vendor``, ``product``
specParams ``ioTune``           ``iotune``: a dict keyed by libvirt's child names
                                (``total_bytes_sec``, ..., ``group_name``); int values
specParams ``logicalBlockSize``, ``blockio@logical_block_size``, ``@physical_block_size``
``physicalBlockSize``
specParams ``discardNoUnref``  ``driver@discard_no_unref`` (bool, on/off)
specParams                      ``blockio@discard_granularity`` (int)
``discardGranularity``
specParams ``geometry``         ``geometry`` as ``{cyls, heads, secs, trans}``
specParams ``xml``              what is kept verbatim, as XML strings: ``disk`` (children
                                of ``<disk>`` not modeled above: backingStore chain,
                                mirror, encryption, disk-level auth, backenddomain, ...),
                                ``source`` (children of ``<source>`` besides ``host`` and
                                the nvme ``address``: auth, seclabel, encryption,
                                reservations, cookies, ssl, config, snapshot, slices,
                                reconnect, ...), ``driver`` (``metadata_cache``);
                                an s390x ``zpci`` travels in ``address`` (core)
=============================== ==========================================================

Metadata (the domain's ``<metadata>``, keyed ``devtype="disk" name=<target dev>``):
``domainID``, ``poolID``, ``imageID``, ``volumeID``, ``volumeChain``, ``volumeInfo``,
``GUID``, ``RBD``, ``managed``, ``leasePath``, ``leaseOffset`` (see :data:`METADATA`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from lxml import etree

from devframe import (
    INT,
    LIVE,
    ON_OFF,
    STR,
    YES_NO,
    AddressField,
    Bootable,
    Children,
    Choice,
    DevframeError,
    Device,
    ElementView,
    Field,
    Flag,
    Identity,
    PlaceholderError,
    Resolvers,
    SpecError,
    VirtioOptions,
    XMLError,
    checked_path,
    parse_xml,
)

__all__ = [
    "BUS_PREFIXES",
    "DRIVE_PATH",
    "METADATA",
    "STORAGE_KEYS",
    "Drive",
    "Host",
    "drive_index",
    "drive_name",
    "index_to_letters",
    "letters_to_index",
    "storage_layout",
]

DISK_TYPES = ("file", "block", "dir", "network", "volume", "nvme", "vhostuser")
DEVICES = ("disk", "cdrom", "floppy", "lun")
BUSES = ("ide", "fdc", "scsi", "virtio", "xen", "usb", "uml", "sata", "sd")
PROTOCOLS = ("nbd", "gluster", "rbd", "iscsi", "http", "https", "ftp", "ftps", "tftp", "sheepdog", "vxhs", "nfs")
FORMATS = (
    "raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi", "fat", "vhd", "ploop", "luks",
    "cow", "qcow", "qcow2", "qed", "vmdk", "aio",
)  # fmt: skip

#: target name prefix per bus (libvirt's naming; scsi, sata, usb and sd share ``sd``)
BUS_PREFIXES: Mapping[str, str] = {
    "ide": "hd",
    "scsi": "sd",
    "sata": "sd",
    "usb": "sd",
    "sd": "sd",
    "virtio": "vd",
    "fdc": "fd",
    "xen": "xvd",
    "uml": "ubd",
}

#: the placeholder of a drive's path, resolved from its storage IDs (:meth:`Drive.prepare`)
DRIVE_PATH = "DRIVE-PATH:"
#: metadata keys of a drive that name its volume
STORAGE_KEYS = ("domainID", "poolID", "imageID", "volumeID")


def storage_layout(root: str) -> Callable[[Mapping[str, Any]], str]:
    """A storage path resolver for oVirt's file layout
    ``root/poolID/domainID/images/imageID/volumeID``.

    Agents with a real storage layer pass their own ``Resolvers.storage_path`` instead.
    """

    def resolve(ids: Mapping[str, Any]) -> str:
        parts = [str(ids[key]) for key in ("poolID", "domainID", "imageID", "volumeID")]
        for part in parts:
            if "/" in part or part in (".", "..", ""):
                raise PlaceholderError(f"storage ID {part!r} is not a plain name")
        pool, domain, image, volume = parts
        return "/".join([root.rstrip("/"), pool, domain, "images", image, volume])

    return resolve


#: spec keys kept in the domain's <metadata>, with the type each is read back as
METADATA: Mapping[str, type | None] = {
    "domainID": str,
    "poolID": str,
    "imageID": str,
    "volumeID": str,
    "volumeChain": list,
    "volumeInfo": dict,
    "GUID": str,
    "RBD": str,
    "managed": bool,
    "leasePath": str,
    "leaseOffset": int,
}

# -- drive names -------------------------------------------------------------------------

_NAME_RE = re.compile(r"^(?:ioemu:)?(xvd|ubd|fd|hd|sd|vd)([a-z]+)([0-9]*)$")


def letters_to_index(letters: str) -> int:
    """``a`` -> 0, ``z`` -> 25, ``aa`` -> 26, ``zz`` -> 701, ``aaa`` -> 702 (bijective base 26)."""
    if not letters or not all("a" <= c <= "z" for c in letters):
        raise ValueError(f"drive letters must be a..z, got {letters!r}")
    value = 0
    for char in letters:
        value = value * 26 + (ord(char) - ord("a") + 1)
    return value - 1


def index_to_letters(index: int) -> str:
    """The inverse of :func:`letters_to_index`: 0 -> ``a``, 26 -> ``aa``."""
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError(f"a drive index is an int >= 0, got {index!r}")
    letters = ""
    number = index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def drive_name(iface: str, index: int) -> str:
    """The target name libvirt uses for drive ``index`` on bus ``iface`` (virtio, 26 -> ``vdaa``)."""
    prefix = BUS_PREFIXES.get(iface)
    if prefix is None:
        raise ValueError(f"no drive name prefix for bus {iface!r} (known: {', '.join(sorted(BUS_PREFIXES))})")
    return prefix + index_to_letters(index)


def drive_index(name: str) -> tuple[str, int] | None:
    """``(prefix, index)`` of a target name (``vdaa`` -> ``('vd', 26)``); None if it has no drive letters.

    A partition number after the letters (``sda1``) does not change the index.
    """
    match = _NAME_RE.match(name)
    if match is None:
        return None
    return match.group(1), letters_to_index(match.group(2))


# -- spec value conversions ------------------------------------------------------------------


def _format_to_spec(value: str) -> str:
    return "cow" if value == "qcow2" else value


def _format_from_spec(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("format is a non-empty str ('raw', 'cow', ...)")
    return "qcow2" if value == "cow" else value


_POLICY_TO_SPEC = {"stop": "off", "enospace": "on"}
_POLICY_FROM_SPEC = {"off": "stop", "on": "enospace"}


def _policy_to_spec(value: str) -> str:
    return _POLICY_TO_SPEC.get(value, value)


def _policy_from_spec(value: Any) -> str:
    if isinstance(value, bool):
        return "enospace" if value else "stop"
    if not isinstance(value, str) or not value:
        raise ValueError("propagateErrors is 'on', 'off', 'report' or 'ignore'")
    return _POLICY_FROM_SPEC.get(value, value)


def _discard_to_spec(value: str) -> bool | str:
    return {"unmap": True, "ignore": False}.get(value, value)


def _discard_from_spec(value: Any) -> str:
    if isinstance(value, bool):
        return "unmap" if value else "ignore"
    if isinstance(value, str) and value:
        return {"true": "unmap", "false": "ignore"}.get(value.lower(), value)
    raise ValueError("discard is a bool (True = unmap) or 'unmap'/'ignore'")


def _iotune(name: str, kind: Any = INT) -> Field[Any]:
    return Field(f"iotune/{name}", kind, spec=f"specParams.ioTune.{name}", doc=f"iotune {name}", live=LIVE)


def _removable_media(disk: Any) -> bool:
    """A cdrom's or floppy's medium changes on a running domain; a disk's source cannot."""
    return disk.element.get("device") in ("cdrom", "floppy")


def _geometry(name: str, kind: Any = INT) -> Field[Any]:
    return Field(f"geometry@{name}", kind, spec=f"specParams.geometry.{name}", doc=f"geometry {name}")


# -- the dev_class ---------------------------------------------------------------------------


class Host(ElementView):
    """One ``<host>`` of a network disk's source (a server, or a unix socket)."""

    __slots__ = ()

    tag = "host"
    name = Field("@name", STR, spec="name", doc="server name or IP")
    port = Field("@port", INT, spec="port")
    transport = Field("@transport", Choice("tcp", "rdma", "unix"), spec="transport")
    socket = Field("@socket", STR, spec="socket", doc="unix socket path (transport unix)")


# Children of <disk> / <source> / <driver> the fields model; every other child is kept
# verbatim (and carried through specs in specParams.xml).
_MODELED_DISK = frozenset(
    {"driver", "source", "target", "boot", "readonly", "shareable", "transient", "serial", "wwn",
     "vendor", "product", "iotune", "blockio", "geometry", "alias", "address"}
)  # fmt: skip
_MODELED_SOURCE = frozenset({"host", "address"})
_NOTHING_MODELED: frozenset[str] = frozenset()


# Spec-only keys handled by Drive itself, not by a field.
_PATH_ATTR = {"file": "file", "block": "dev", "dir": "dir", "network": "name", "vhostuser": "path"}
_SHARED_VALUES = ("none", "exclusive", "shared", "transient")
#: boolean words engines use for ``shared``
_SHARED_WORDS = {"false": "none", "no": "none", "true": "shared", "yes": "shared"}
_DEFAULT_BUS = {"disk": "virtio", "lun": "scsi", "cdrom": "ide", "floppy": "fdc"}


def _parse_fragment(text: Any, where: str) -> etree._Element:
    """One kept-verbatim element from a spec, through devframe's safe parser (no DTDs,
    no entities, no network)."""
    if not isinstance(text, str) or not text.strip().startswith("<"):
        raise SpecError(f"disk spec key {where!r}: expected an XML element string, got {text!r:.80}")
    try:
        element = parse_xml(text, source=f"disk spec key {where!r}").getroot()
    except XMLError as exc:
        raise SpecError(str(exc)) from None
    if not isinstance(element.tag, str):
        raise SpecError(f"disk spec key {where!r}: expected an element")
    return element


def _verbatim(container: etree._Element | None, modeled: frozenset[str]) -> list[str]:
    if container is None:
        return []
    out = []
    for child in container:
        if isinstance(child.tag, str) and child.tag not in modeled:
            out.append(etree.tostring(child, encoding="unicode", with_tail=False))
    return out


class Drive(VirtioOptions, Bootable, Device):
    """A ``<disk>``: a hard disk, cdrom, floppy or SCSI lun, from a file, block device,
    directory, network server, storage-pool volume, NVMe namespace or vhost-user socket.

    Identity without an alias: target dev, then serial, then source path.
    """

    __slots__ = ()  # parsing makes one of these per disk: keep it as small as Device

    dev_type: ClassVar[str] = "disk"
    tag: ClassVar[str] = "disk"
    description: ClassVar[str] = "disks, cdroms, floppies and luns (<disk>)"
    metadata_keys: ClassVar[Mapping[str, type | None]] = METADATA
    # libvirt's formatting order of <disk> children
    child_order: ClassVar[tuple[str, ...]] = (
        "driver", "auth", "source", "backingStore", "backenddomain", "geometry", "blockio",
        "mirror", "target", "iotune", "readonly", "shareable", "transient", "serial", "wwn",
        "vendor", "product", "encryption", "boot", "acpi", "alias", "address",
    )  # fmt: skip

    # <disk> attributes
    device = Field("@device", Choice(*DEVICES), spec="device", default="disk", doc="disk, cdrom, floppy or lun")
    disk_type = Field(
        "@type", Choice(*DISK_TYPES), spec="diskType", default="file", doc="where the data comes from",
        live=_removable_media,
    )  # fmt: skip
    model = Field("@model", Choice("virtio", "virtio-transitional", "virtio-non-transitional"), spec="specParams.model")
    sgio = Field("@sgio", Choice("filtered", "unfiltered"), spec="sgio", doc="lun SG_IO filtering")
    rawio = Field("@rawio", YES_NO, spec="specParams.rawio")
    snapshot = Field("@snapshot", Choice("no", "internal", "external", "manual"), spec="specParams.snapshot")

    # <driver>
    driver_name = Field("driver@name", STR, spec="specParams.driverName", doc="hypervisor driver (qemu)")
    format = Field(
        "driver@type", Choice(*FORMATS), spec="format", to_spec=_format_to_spec, from_spec=_format_from_spec,
        doc="image format (spec: 'cow' is qcow2)", live=_removable_media,
    )  # fmt: skip
    cache = Field(
        "driver@cache", Choice("default", "none", "writeback", "writethrough", "directsync", "unsafe"), spec="cache"
    )
    error_policy = Field(
        "driver@error_policy", Choice("stop", "report", "ignore", "enospace"), spec="propagateErrors",
        to_spec=_policy_to_spec, from_spec=_policy_from_spec, doc="write error policy (spec: propagateErrors)",
    )  # fmt: skip
    rerror_policy = Field("driver@rerror_policy", Choice("stop", "report", "ignore"), spec="specParams.rerrorPolicy")
    io = Field("driver@io", Choice("threads", "native", "io_uring"), spec="specParams.io")
    ioeventfd = Field("driver@ioeventfd", ON_OFF, spec="specParams.ioeventfd")
    event_idx = Field("driver@event_idx", ON_OFF, spec="specParams.eventIdx")
    copy_on_read = Field("driver@copy_on_read", ON_OFF, spec="specParams.copyOnRead")
    discard_no_unref = Field("driver@discard_no_unref", ON_OFF, spec="specParams.discardNoUnref")
    discard = Field(
        "driver@discard", Choice("unmap", "ignore"), spec="discard",
        to_spec=_discard_to_spec, from_spec=_discard_from_spec,
    )  # fmt: skip
    detect_zeroes = Field("driver@detect_zeroes", Choice("off", "on", "unmap"), spec="specParams.detectZeroes")
    iothread = Field("driver@iothread", INT, spec="specParams.pinToIoThread")
    queues = Field("driver@queues", INT, spec="specParams.queues")
    queue_size = Field("driver@queue_size", INT, spec="specParams.queueSize")

    # <source>: the path attribute per type (spec 'path', see module docstring)
    source_file = Field("source@file", STR, doc="type file", live=_removable_media)
    source_dev = Field("source@dev", STR, doc="type block", live=_removable_media)
    source_dir = Field("source@dir", STR, doc="type dir", live=_removable_media)
    source_name = Field("source@name", STR, doc="type network: image/volume/export name", live=_removable_media)
    source_path = Field("source@path", STR, doc="type vhostuser: socket path")
    protocol = Field("source@protocol", Choice(*PROTOCOLS), spec="protocol", live=_removable_media)
    hosts = Children("source/host", Host, spec="hosts", doc="network servers", live=_removable_media)
    source_type = Field("source@type", Choice("pci", "unix"), spec="specParams.sourceType")
    startup_policy = Field(
        "source@startupPolicy", Choice("mandatory", "requisite", "optional"), spec="specParams.startupPolicy",
        live=_removable_media,
    )  # fmt: skip
    source_index = Field("source@index", INT, spec="specParams.sourceIndex")
    fdgroup = Field("source@fdgroup", STR, spec="specParams.fdgroup")
    pool = Field("source@pool", STR, spec="specParams.pool", live=_removable_media)
    volume = Field("source@volume", STR, spec="specParams.volume", live=_removable_media)
    volume_mode = Field("source@mode", Choice("host", "direct"), spec="specParams.volumeMode")
    nvme_namespace = Field("source@namespace", INT, spec="specParams.nvmeNamespace")
    nvme_managed = Field("source@managed", YES_NO, spec="specParams.nvmeManaged")
    nvme_address = AddressField("source/address", spec="specParams.nvmeAddress")
    query = Field("source@query", STR, spec="specParams.query")
    tls = Field("source@tls", YES_NO, spec="specParams.tls")
    tls_hostname = Field("source@tlsHostname", STR, spec="specParams.tlsHostname")

    # <target>
    name = Field("target@dev", STR, spec="name", doc="guest device name (vda, hdc, ...)")
    bus = Field("target@bus", Choice(*BUSES), spec="iface")
    tray = Field("target@tray", Choice("open", "closed"), spec="specParams.tray")
    removable = Field("target@removable", ON_OFF, spec="specParams.removable")
    rotation_rate = Field("target@rotation_rate", INT, spec="specParams.rotationRate")

    # flags and identification
    readonly = Flag("readonly", spec="readonly")
    shareable = Flag("shareable", doc="spec: shared='shared'")
    transient = Flag("transient", doc="spec: shared='transient'")
    transient_share_backing = Field("transient@shareBacking", YES_NO, spec="specParams.transientShare")
    serial = Field("serial", STR, spec="serial")
    wwn = Field("wwn", STR, spec="specParams.wwn")
    vendor = Field("vendor", STR, spec="specParams.vendor")
    product = Field("product", STR, spec="specParams.product")

    # <iotune>
    total_bytes_sec = _iotune("total_bytes_sec")
    read_bytes_sec = _iotune("read_bytes_sec")
    write_bytes_sec = _iotune("write_bytes_sec")
    total_iops_sec = _iotune("total_iops_sec")
    read_iops_sec = _iotune("read_iops_sec")
    write_iops_sec = _iotune("write_iops_sec")
    total_bytes_sec_max = _iotune("total_bytes_sec_max")
    read_bytes_sec_max = _iotune("read_bytes_sec_max")
    write_bytes_sec_max = _iotune("write_bytes_sec_max")
    total_iops_sec_max = _iotune("total_iops_sec_max")
    read_iops_sec_max = _iotune("read_iops_sec_max")
    write_iops_sec_max = _iotune("write_iops_sec_max")
    size_iops_sec = _iotune("size_iops_sec")
    group_name = _iotune("group_name", STR)
    total_bytes_sec_max_length = _iotune("total_bytes_sec_max_length")
    read_bytes_sec_max_length = _iotune("read_bytes_sec_max_length")
    write_bytes_sec_max_length = _iotune("write_bytes_sec_max_length")
    total_iops_sec_max_length = _iotune("total_iops_sec_max_length")
    read_iops_sec_max_length = _iotune("read_iops_sec_max_length")
    write_iops_sec_max_length = _iotune("write_iops_sec_max_length")

    # <blockio>, <geometry>
    logical_block_size = Field("blockio@logical_block_size", INT, spec="specParams.logicalBlockSize")
    physical_block_size = Field("blockio@physical_block_size", INT, spec="specParams.physicalBlockSize")
    discard_granularity = Field("blockio@discard_granularity", INT, spec="specParams.discardGranularity")
    cyls = _geometry("cyls")
    heads = _geometry("heads")
    secs = _geometry("secs")
    trans = _geometry("trans", Choice("auto", "none", "lba"))

    # -- derived values --------------------------------------------------------------------

    @property
    def path(self) -> str | None:
        """The source path of this disk's type (file, dev, dir, network name, socket)."""
        attr = _PATH_ATTR.get(self.disk_type or "file")
        if attr is None:
            return None
        source = self.element.find("source")
        return None if source is None else source.get(attr)

    @path.setter
    def path(self, value: str | None) -> None:
        kind = self.disk_type or "file"
        attr = _PATH_ATTR.get(kind)
        if attr is None and not value:
            return
        if attr is None:
            raise SpecError(f"{self.describe()}: diskType {kind!r} has no 'path' (use pool/volume or nvme keys)")
        field = type(self).fields[{"file": "source_file", "dev": "source_dev", "dir": "source_dir",
                                   "name": "source_name", "path": "source_path"}[attr]]  # fmt: skip
        assert isinstance(field, Field)
        field.__set__(self, value or None)

    @property
    def index(self) -> int | None:
        """The drive index from the target name (``vdb`` -> 1), None when it has no letters."""
        name = Field.raw(type(self).name, self)
        parsed = drive_index(name) if name else None
        return parsed[1] if parsed else None

    @property
    def shared(self) -> str | None:
        """``'shared'`` (``<shareable/>``), ``'transient'`` (``<transient/>``) or None."""
        if self.shareable:
            return "shared"
        if self.transient:
            return "transient"
        return None

    def identity(self) -> Identity | None:
        """The target dev (oVirt keys disk metadata ``devtype="disk" name=<dev>``), else the
        serial, else the source path."""
        # Read straight from the element: binding asks every disk without an alias.
        target = next(self.element.iterchildren("target"), None)
        name = target.get("dev") if target is not None else None
        if name:
            return {"devtype": "disk", "name": name}
        serial = Field.raw(type(self).serial, self)
        if serial:
            return {"devtype": "disk", "serial": serial}
        path = self.path
        if path:
            return {"devtype": "disk", "path": path}
        return None

    # -- host placeholders ------------------------------------------------------------------

    def prepare(self, resolvers: Resolvers) -> None:
        """A ``DRIVE-PATH:`` source becomes the host path of the drive's volume.

        The path is, in order: an explicit value (``resolvers.values``) for the
        placeholder or the drive's target name; ``resolvers.storage_path(ids)`` with the
        drive's storage IDs from its metadata (:data:`STORAGE_KEYS`); else the oVirt file
        layout under ``resolvers.storage_root`` (:func:`storage_layout`). A path under
        /dev makes the disk a block device.
        """
        path = self.path
        if not path or not path.startswith(DRIVE_PATH):
            return
        resolved = self._volume_path(resolvers, path)
        if resolved.startswith("/dev/") and (self.disk_type or "file") == "file":
            self.path = None
            self.disk_type = "block"
        self.path = resolved

    def _volume_path(self, resolvers: Resolvers, placeholder: str) -> str:
        name = Field.raw(type(self).name, self)
        value = resolvers.explicit(placeholder, name)
        if value is not None:
            return value
        metadata = self.metadata if self.has_metadata else {}
        missing = [key for key in STORAGE_KEYS if not metadata.get(key)]
        if missing:
            raise PlaceholderError(
                f"{self.describe()} (target {name!r}): {placeholder!r} needs storage IDs "
                f"{', '.join(missing)} in its metadata, or --resolve {name or placeholder}=PATH"
            )
        resolver = resolvers.storage_path
        if resolver is None and resolvers.storage_root is not None:
            resolver = storage_layout(resolvers.storage_root)
        if resolver is None:
            raise PlaceholderError(f"{self.describe()} (target {name!r}): no storage path resolver for {placeholder!r}")
        ids = {key: metadata[key] for key in STORAGE_KEYS}
        return checked_path(resolver(ids), self.describe(), placeholder)

    # -- dev_spec --------------------------------------------------------------------------

    def write_spec(self, spec: dict[str, Any]) -> None:
        """``path``, ``index``, ``shared``, ``diskType``'s default and what is kept verbatim."""
        spec.setdefault("diskType", "file")
        path = self.path
        if path is not None:
            spec["path"] = path
        index = self.index
        if index is not None:
            spec["index"] = index
        shared = self.shared
        if shared is not None:
            spec["shared"] = shared
        extra = {
            "disk": _verbatim(self.element, _MODELED_DISK),
            "source": _verbatim(self.element.find("source"), _MODELED_SOURCE),
            "driver": _verbatim(self.element.find("driver"), _NOTHING_MODELED),
        }
        extra = {key: value for key, value in extra.items() if value}
        if extra:
            spec["specParams"]["xml"] = extra

    def read_spec(self, rest: dict[str, Any]) -> None:
        """``path``, ``index`` (or the target name it implies), ``shared``, the verbatim XML,
        and what libvirt requires (a target name; a network disk's protocol)."""
        path = rest.pop("path", None)
        index = rest.pop("index", None)
        shared = rest.pop("shared", None)
        extra: Any = None
        params = rest.get("specParams")
        if isinstance(params, dict) and "xml" in params:
            extra = params.pop("xml")
        self._apply_index(index, rest)
        self._apply_shared(shared)
        if path is not None:
            if not isinstance(path, str):
                raise SpecError(f"{self.describe()}: spec key 'path' must be a str, got {type(path).__name__}")
            self.path = path
        if extra is not None:
            self._apply_verbatim(extra)
        if self.disk_type == "network" and self.protocol is None:
            raise SpecError(f"{self.describe()}: a network disk spec needs 'protocol'")
        if self.disk_type == "vhostuser" and self.element.find("source") is not None and self.source_type is None:
            self.source_type = "unix"  # the only socket type libvirt has

    def _apply_index(self, index: Any, spec: Mapping[str, Any]) -> None:
        if index is not None:
            try:
                index = INT.coerce(index)
            except (TypeError, ValueError):
                raise SpecError(f"{self.describe()}: spec key 'index' must be an int >= 0, got {index!r}") from None
            if index < 0:
                raise SpecError(f"{self.describe()}: spec key 'index' must be an int >= 0, got {index!r}")
        name = Field.raw(type(self).name, self)
        if name:
            if index is not None and self.index is not None and self.index != index:
                raise SpecError(
                    f"{self.describe()}: spec key 'index' {index} contradicts 'name' {name!r} (index {self.index})"
                )
            return
        # No name: derive it from iface + index, as libvirt names drives (defaults: first drive
        # on the usual bus of the device kind).
        bus = self.bus
        if bus is None:
            bus = _DEFAULT_BUS.get(self.device or "disk", "virtio")
            self.bus = bus
        try:
            self.name = drive_name(bus, index or 0)
        except ValueError as exc:
            raise SpecError(f"{self.describe()}: spec key 'iface': {exc}") from None

    def _apply_shared(self, shared: Any) -> None:
        if shared is None:
            return
        given = shared
        if isinstance(shared, bool):
            shared = "shared" if shared else "none"
        elif isinstance(shared, str) and shared.strip().lower() in _SHARED_WORDS:
            # Engines (and metadata written without type="bool") also say true/false.
            shared = _SHARED_WORDS[shared.strip().lower()]
        if shared not in _SHARED_VALUES:
            raise SpecError(
                f"{self.describe()}: spec key 'shared' must be one of {_SHARED_VALUES} or a bool, got {shared!r}"
            )
        self.shareable = shared == "shared"
        self.transient = shared == "transient"
        if shared == "exclusive" or (isinstance(given, str) and given != shared):
            # No XML form (an exclusive lease), or the engine's own word for it: keep what
            # the engine said, so the dev_spec gives it back.
            self.metadata["shared"] = given

    def _apply_verbatim(self, extra: Any) -> None:
        if not isinstance(extra, Mapping):
            raise SpecError(f"{self.describe()}: spec key 'specParams.xml' must be a dict, got {type(extra).__name__}")
        for key, items in extra.items():
            where = f"specParams.xml.{key}"
            if key not in ("disk", "source", "driver"):
                raise SpecError(f"{self.describe()}: unknown spec key {where!r} (disk, source or driver)")
            if not isinstance(items, list):
                raise SpecError(f"{self.describe()}: spec key {where!r} must be a list of XML strings")
            if key == "disk":
                container = self.element
            else:
                container = self.element.find(key)
                if container is None and items:
                    container = etree.Element(key)
                    self.insert_child(self.element, container, at_root=True)
            for position, text in enumerate(items):
                child = _parse_fragment(text, f"{where}[{position}]")
                if key == "disk":
                    self.insert_child(self.element, child, at_root=True)
                else:
                    container.append(child)

    # -- display ---------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """What ``devframe inspect`` prints for a disk. Never raises."""
        out: dict[str, Any] = {}
        getters: tuple[tuple[str, Callable[[], Any]], ...] = (
            ("name", lambda: self.name),
            ("device", lambda: self.device or "disk"),
            ("type", lambda: self.disk_type or "file"),
            ("bus", lambda: self.bus),
            ("path", lambda: self.path),
            ("protocol", lambda: self.protocol),
            ("pool/volume", lambda: f"{self.pool}/{self.volume}" if self.pool else None),
            ("format", lambda: self.format),
            ("readonly", lambda: self.readonly or None),
            ("shared", lambda: self.shared),
            ("boot", lambda: self.boot_order),
            ("serial", lambda: self.serial),
        )
        for label, getter in getters:
            try:
                value = getter()
            except DevframeError:
                value = "<invalid>"
            if value is not None:
                out[label] = value
        return out
