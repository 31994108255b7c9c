"""The ``<disk>`` dev_class (:class:`Drive`): everything libvirt 11.3's ``<disk>`` holds.

dev_spec mapping (engine key -> place in the ``<disk>`` element). Keys VDSM used sit at
the top level; everything else lives in ``specParams``. Where a value is a dict or a
list of dicts, its keys are listed in :mod:`devframe_drive.source` (the storage source:
``auth``, ``encryption``, a backing layer, ...) or below.

=============================== ==========================================================
``device``                      ``@device``: disk (default), cdrom, floppy, lun
``diskType``                    ``@type``: file (default), block, dir, network, volume,
                                nvme, vhostuser, vhostvdpa (always present in a spec)
``path``                        the source, by ``diskType``: file -> ``source@file``,
                                block and vhostvdpa -> ``source@dev``, dir ->
                                ``source@dir``, network -> ``source@name``, vhostuser ->
                                ``source@path``; volume and nvme have none (see
                                pool/volume/nvme below); ``''`` means "no source" (an
                                empty cdrom tray)
``name``                        ``target@dev``
``iface``                       ``target@bus`` (ide, scsi, virtio, sata, usb, fdc, xen, sd)
``index``                       derived from ``name`` (:func:`drive_index`); a spec with
                                ``iface`` + ``index`` and no ``name`` gets ``name`` from
                                :func:`drive_name`; a contradicting pair is a SpecError
``format``                      ``driver@type`` in VDSM's words: ``cow`` <-> qcow2, every
                                other type as is
specParams ``libvirtFormat``    ``driver@type`` when it is libvirt's own ``cow`` (the
                                rule: ``format`` keeps VDSM's meaning, so a literal
                                ``type='cow'`` comes out as ``libvirtFormat: 'cow'`` and
                                no ``format``; a spec may give any libvirt type here;
                                with a ``format`` naming another type it is a SpecError)
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
``protocol``                    ``source@protocol`` (network: nbd, gluster, rbd, iscsi,
                                http, https, ftp, ftps, tftp, ssh, sheepdog, vxhs, nfs)
``hosts``                       ``source/host`` list of ``{name, port, transport, socket}``
``alias`` / ``address``         ``alias@name`` / the direct child ``address``
specParams ``driverName``       ``driver@name`` (qemu, ...)
specParams ``rerrorPolicy``     ``driver@rerror_policy``
specParams ``io``               ``driver@io`` (threads, native, io_uring)
specParams ``detectZeroes``     ``driver@detect_zeroes``
specParams ``pinToIoThread``    ``driver@iothread`` (int)
specParams ``iothreads``        ``driver/iothreads/iothread`` list of ``{id, queues:
                                [{id}]}`` (libvirt 10)
specParams ``metadataCache``    ``driver/metadata_cache`` as ``{maxSize, unit}``
specParams ``queues``,          ``driver@queues``, ``driver@queue_size`` (int)
``queueSize``
specParams ``ioeventfd``,       ``driver@ioeventfd``, ``@event_idx``, ``@copy_on_read``
``eventIdx``, ``copyOnRead``    (bool, on/off)
specParams ``discardNoUnref``   ``driver@discard_no_unref`` (bool, on/off)
specParams ``driver.iommu``,    the virtio options ``driver@iommu``, ``@ats``, ``@packed``,
``driver.ats``, ``.packed``,    ``@page_per_vq`` (bool, on/off; devframe.VirtioOptions)
``driver.pagePerVq``
specParams ``model``            ``@model`` (virtio, virtio-transitional, ...-non-transitional)
specParams ``rawio``            ``@rawio`` (bool)
specParams ``snapshot``         ``@snapshot`` (no, internal, external, manual)
specParams ``diskAuth``         the disk-level ``<auth>`` (where VDSM writes it) as
                                ``{username, secret: {type, uuid | usage}}``
specParams ``auth``             ``source/auth``, the same dict (libvirt reads either)
specParams ``diskEncryption``   the disk-level ``<encryption>`` (libvirt's older place)
specParams ``encryption``       ``source/encryption``; both as in the source table
specParams ``sourceType``,      the ``<source>`` attributes, and its children
``startupPolicy``,              ``snapshotName``, ``configFile``, ``initiator``,
``sourceIndex``, ``fdgroup``,   ``sslVerify``, ``cookies`` (secret), ``readahead``,
``pool``, ``volume``,           ``timeout``, ``knownHosts``, ``identity``,
``volumeMode``,                 ``reconnect``, ``slices``, ``seclabels``,
``nvmeNamespace``,              ``reservations``, ``dataStore``: the storage source keys
``nvmeManaged``,                of :mod:`devframe_drive.source`, under ``specParams``
``nvmeAddress``, ``query``,
``tls``, ``tlsHostname``
specParams ``backingChain``     the ``<backingStore>`` chain as a list, top first (the
                                image right below the disk's own): each layer a storage
                                source dict with ``index`` (``backingStore@index``), its
                                own chain flattened into the list; ``{}`` is libvirt's
                                closing ``<backingStore/>`` ("nothing below")
specParams ``mirror``           ``<mirror>``: a storage source dict with ``job`` (copy,
                                active-commit), ``ready`` (yes, abort, pivot),
                                ``backingChain``, and the old block-copy ``file`` /
                                ``fileFormat`` attributes
specParams ``backendDomain``    ``backenddomain@name`` (Xen driver domain)
specParams ``tray``             ``target@tray`` (open, closed)
specParams ``removable``        ``target@removable`` (bool, on/off)
specParams ``rotationRate``     ``target@rotation_rate`` (int)
specParams ``bootLoadparm``     ``boot@loadparm``
specParams ``acpiIndex``        ``acpi@index`` (devframe.AcpiIndex)
specParams ``transientShare``   ``transient@shareBacking`` (bool)
specParams ``wwn``,             ``wwn``, ``vendor``, ``product`` text
``vendor``, ``product``
specParams ``ioTune``           ``iotune``: a dict keyed by libvirt's child names
                                (``total_bytes_sec``, ..., ``group_name``); int values
specParams ``throttleFilters``  ``throttlefilters/throttlefilter`` list of ``{group}``
                                (libvirt 11; instead of ``iotune``)
specParams ``logicalBlockSize``, ``blockio@logical_block_size``, ``@physical_block_size``
``physicalBlockSize``
specParams                      ``blockio@discard_granularity`` (int)
``discardGranularity``
specParams ``geometry``         ``geometry`` as ``{cyls, heads, secs, trans}``
specParams ``xml``              what no field carries (a namespaced extension, libvirt's
                                status-only ``privateData``): the core's escape
                                (:mod:`devframe.core.escape`); the earlier ``{disk,
                                source, driver}`` lists are still read
=============================== ==========================================================

The engine's spellings (accepted by ``device_from_spec``; ``to_spec`` writes the key on
the right):

========================== =================================================================
``iotune``                 ``specParams.ioTune`` (VDSM's top-level dict of iotune names)
``discard_no_unref``       ``specParams.discardNoUnref``
``managed_reservation``    ``specParams.reservations.managed``: True adds ``<reservations
                           managed='yes'/>``; False adds nothing (as VDSM did)
``auth``                   ``specParams.diskAuth``: VDSM's ``{username, type, uuid}``
                           (``usage`` too) becomes ``{username, secret: {type, uuid}}``
========================== =================================================================

VDSM's ``volumeChain`` (metadata, below) and the backing chain: ``volumeChain`` lists the
image's volumes base first, each ``{domainID, imageID, volumeID, path, leasePath,
leaseOffset}``; its last entry is the active volume, the disk's own ``path``. The
``backingChain`` lists the same volumes below the active one, top first, so
``backingChain[i]`` is ``volumeChain[-2 - i]``: its ``path`` is that entry's ``path``
(its ``diskType`` the disk's own: file, or block for volumes under /dev), and the IDs
and lease stay in ``volumeChain``, in metadata: libvirt's XML has no place for them.
A chain the engine sends closed (no further backing) ends with ``{}``.

Metadata (the domain's ``<metadata>``, keyed ``devtype="disk" name=<target dev>``), by
design: ``domainID``, ``poolID``, ``imageID``, ``volumeID``, ``volumeChain``,
``volumeInfo``, ``GUID``, ``RBD``, ``managed``, ``leasePath``, ``leaseOffset``,
``diskReplicate``, ``guestName``, ``truesize``, ``apparentsize`` (VDSM's volume sizes,
which it reports and libvirt's XML has no place for; see :data:`METADATA`); ``shared``
when it has no XML form (``exclusive``: a lease, no disk element) or was given in the
engine's own word (``'false'``, ``'true'``: metadata written without a type): the element
says ``<shareable/>``/``<transient/>``, and the engine gets back the word it sent. Whatever
else a spec carries that no field maps is kept there too, and reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from devframe import (
    INT,
    LIVE,
    ON_OFF,
    UINT,
    YES_NO,
    AcpiIndex,
    Bootable,
    Child,
    Children,
    Choice,
    DevframeError,
    Device,
    Field,
    FieldValueError,
    Flag,
    Identity,
    PlaceholderError,
    Resolvers,
    SpecAlias,
    SpecError,
    SpecValueError,
    VirtioOptions,
    checked_path,
    first_child,
)
from devframe_drive.names import BUS_PREFIXES, drive_index, drive_name, index_to_letters, letters_to_index
from devframe_drive.source import (
    DISK_TYPES,
    FORMATS,
    PATH_ATTR,
    Auth,
    ChainFields,
    Encryption,
    Host,
    IoThread,
    MetadataCache,
    Mirror,
    StorageFields,
    StrictView,
    format_from_spec,
    format_to_spec,
    literal_format,
    removable_media,
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

DEVICES = ("disk", "cdrom", "floppy", "lun")
BUSES = ("ide", "fdc", "scsi", "virtio", "xen", "usb", "uml", "sata", "sd")

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
    # VDSM's, kept for it: the target of a disk replication, the guest's name for the disk
    "diskReplicate": dict,
    "guestName": str,
    # VDSM's volume sizes (bytes; reported, not configured): the XML has no place for them
    "truesize": None,
    "apparentsize": None,
    # the engine's word for sharing when the XML cannot say it (see read_spec)
    "shared": str,
}

# -- spec value conversions ------------------------------------------------------------------

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


def _engine_auth(value: Any) -> dict[str, Any]:
    """VDSM's ``auth {username, type, uuid}`` as the canonical ``{username, secret}``."""
    if not isinstance(value, Mapping):
        raise TypeError(f"expected a dict {{username, type, uuid}}, got {type(value).__name__}")
    if "secret" in value:
        return dict(value)  # already the canonical shape
    unknown = sorted(str(key) for key in value if key not in ("username", "type", "uuid", "usage"))
    if unknown:
        raise ValueError(f"unknown keys {unknown} (username, type, uuid, usage)")
    out: dict[str, Any] = {}
    if value.get("username") is not None:
        out["username"] = value["username"]
    secret = {key: value[key] for key in ("type", "uuid", "usage") if value.get(key) is not None}
    if secret:
        out["secret"] = secret
    return out


def _engine_managed_reservation(value: Any) -> bool | None:
    """VDSM's ``managed_reservation``: True asks for libvirt-managed reservations, False
    for nothing at all."""
    flag = YES_NO.coerce(value) if not isinstance(value, bool) else value
    return True if flag else None


# -- small views of <disk> children -------------------------------------------------------


def _iotune(name: str) -> Field[Any]:
    return Field(name, UINT, spec=name, doc=f"iotune {name}")


class IoTune(StrictView):
    """``<iotune>``: I/O limits, one child element per limit (libvirt's names)."""

    __slots__ = ()

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
    group_name = Field("group_name", spec="group_name", doc="iotune group shared by disks")
    total_bytes_sec_max_length = _iotune("total_bytes_sec_max_length")
    read_bytes_sec_max_length = _iotune("read_bytes_sec_max_length")
    write_bytes_sec_max_length = _iotune("write_bytes_sec_max_length")
    total_iops_sec_max_length = _iotune("total_iops_sec_max_length")
    read_iops_sec_max_length = _iotune("read_iops_sec_max_length")
    write_iops_sec_max_length = _iotune("write_iops_sec_max_length")


class Geometry(StrictView):
    """``<geometry cyls heads secs trans/>``: the BIOS disk geometry."""

    __slots__ = ()

    cyls = Field("@cyls", INT, spec="cyls")
    heads = Field("@heads", INT, spec="heads")
    secs = Field("@secs", INT, spec="secs")
    trans = Field("@trans", Choice("auto", "none", "lba"), spec="trans")


class ThrottleFilter(StrictView):
    """``<throttlefilter group/>``: a domain-level throttle group this disk joins."""

    __slots__ = ()

    group = Field("@group", spec="group")


# -- the dev_class ---------------------------------------------------------------------------

# Spec-only keys handled by Drive itself, not by a field.
_SHARED_VALUES = ("none", "exclusive", "shared", "transient")
#: boolean words engines use for ``shared``
_SHARED_WORDS = {"false": "none", "no": "none", "true": "shared", "yes": "shared"}
_DEFAULT_BUS = {"disk": "virtio", "lun": "scsi", "cdrom": "ide", "floppy": "fdc"}
_SP = "specParams."


class Drive(StorageFields, ChainFields, VirtioOptions, Bootable, AcpiIndex, Device):
    """A ``<disk>``: a hard disk, cdrom, floppy or SCSI lun, from a file, block device,
    directory, network server, storage-pool volume, NVMe namespace, vhost-user socket or
    vDPA device, with its backing chain, block job mirror, encryption and credentials.

    The storage source's fields come from :class:`~devframe_drive.source.StorageFields`
    and :class:`~devframe_drive.source.ChainFields` under ``specParams`` (``protocol``,
    ``hosts`` and ``diskType`` at the top, as VDSM has them). Identity without an alias:
    target dev, then serial, then source path.
    """

    __slots__ = ()  # parsing makes one of these per disk: keep it as small as Device

    dev_type: ClassVar[str] = "disk"
    identity_devtype: ClassVar[str | None] = "disk"  # every identity() holds it
    tag: ClassVar[str] = "disk"
    description: ClassVar[str] = "disks, cdroms, floppies and luns (<disk>)"
    metadata_keys: ClassVar[Mapping[str, type | None]] = METADATA
    spec_aliases: ClassVar[Mapping[str, str | SpecAlias]] = {
        "iotune": _SP + "ioTune",
        "discard_no_unref": _SP + "discardNoUnref",
        "managed_reservation": SpecAlias(_SP + "reservations.managed", _engine_managed_reservation),
        "auth": SpecAlias(_SP + "diskAuth", _engine_auth),
    }
    inherited_spec_prefix: ClassVar[str] = _SP
    top_level_keys: ClassVar[frozenset[str]] = frozenset({"diskType", "protocol", "hosts"})
    # libvirt's formatting order of <disk> children
    child_order: ClassVar[tuple[str, ...]] = (
        "driver", "auth", "source", "backingStore", "backenddomain", "geometry", "blockio",
        "mirror", "target", "iotune", "throttlefilters", "readonly", "shareable", "transient",
        "serial", "wwn", "vendor", "product", "encryption", "boot", "acpi", "alias", "address",
    )  # fmt: skip

    # <disk> attributes
    device = Field("@device", Choice(*DEVICES), spec="device", default="disk", doc="disk, cdrom, floppy or lun")
    disk_type = Field(
        "@type", Choice(*DISK_TYPES), spec="diskType", default="file", doc="where the data comes from",
        live=removable_media,
    )  # fmt: skip
    model = Field("@model", Choice("virtio", "virtio-transitional", "virtio-non-transitional"), spec=_SP + "model")
    sgio = Field("@sgio", Choice("filtered", "unfiltered"), spec="sgio", doc="lun SG_IO filtering")
    rawio = Field("@rawio", YES_NO, spec=_SP + "rawio")
    snapshot = Field("@snapshot", Choice("no", "internal", "external", "manual"), spec=_SP + "snapshot")

    # <driver>
    driver_name = Field("driver@name", spec=_SP + "driverName", doc="hypervisor driver (qemu)")
    format = Field(
        "driver@type", Choice(*FORMATS), spec="format", to_spec=format_to_spec, from_spec=format_from_spec,
        doc="image format (spec: 'cow' is qcow2; libvirt's own cow is specParams.libvirtFormat)",
        live=removable_media,
    )  # fmt: skip
    cache = Field(
        "driver@cache", Choice("default", "none", "writeback", "writethrough", "directsync", "unsafe"), spec="cache"
    )
    error_policy = Field(
        "driver@error_policy", Choice("stop", "report", "ignore", "enospace"), spec="propagateErrors",
        to_spec=_policy_to_spec, from_spec=_policy_from_spec, doc="write error policy (spec: propagateErrors)",
    )  # fmt: skip
    rerror_policy = Field("driver@rerror_policy", Choice("stop", "report", "ignore"), spec=_SP + "rerrorPolicy")
    io = Field("driver@io", Choice("threads", "native", "io_uring"), spec=_SP + "io")
    ioeventfd = Field("driver@ioeventfd", ON_OFF, spec=_SP + "ioeventfd")
    event_idx = Field("driver@event_idx", ON_OFF, spec=_SP + "eventIdx")
    copy_on_read = Field("driver@copy_on_read", ON_OFF, spec=_SP + "copyOnRead")
    discard_no_unref = Field("driver@discard_no_unref", ON_OFF, spec=_SP + "discardNoUnref")
    discard = Field(
        "driver@discard", Choice("unmap", "ignore"), spec="discard",
        to_spec=_discard_to_spec, from_spec=_discard_from_spec,
    )  # fmt: skip
    detect_zeroes = Field("driver@detect_zeroes", Choice("off", "on", "unmap"), spec=_SP + "detectZeroes")
    iothread = Field("driver@iothread", UINT, spec=_SP + "pinToIoThread")
    queues = Field("driver@queues", UINT, spec=_SP + "queues")
    queue_size = Field("driver@queue_size", UINT, spec=_SP + "queueSize")
    metadata_cache = Child("driver/metadata_cache", MetadataCache, spec=_SP + "metadataCache")
    iothreads = Children("driver/iothreads/iothread", IoThread, spec=_SP + "iothreads", doc="iothread mapping")

    # disk-level <auth> and <encryption> (libvirt reads them as the source's)
    disk_auth = Child("auth", Auth, spec=_SP + "diskAuth", doc="the source's login, written beside it")
    disk_encryption = Child("encryption", Encryption, spec=_SP + "diskEncryption")

    # the block job target, the Xen backend domain
    mirror = Child("mirror", Mirror, spec=_SP + "mirror", doc="block copy / active commit target")
    backend_domain = Field("backenddomain@name", spec=_SP + "backendDomain", doc="Xen driver domain")

    # <target>
    name = Field("target@dev", spec="name", doc="guest device name (vda, hdc, ...)")
    bus = Field("target@bus", Choice(*BUSES), spec="iface")
    tray = Field("target@tray", Choice("open", "closed"), spec=_SP + "tray")
    removable = Field("target@removable", ON_OFF, spec=_SP + "removable")
    rotation_rate = Field("target@rotation_rate", UINT, spec=_SP + "rotationRate")

    # flags and identification
    readonly = Flag("readonly", spec="readonly")
    shareable = Flag("shareable", doc="spec: shared='shared'")
    transient = Flag("transient", doc="spec: shared='transient'")
    transient_share_backing = Field("transient@shareBacking", YES_NO, spec=_SP + "transientShare")
    serial = Field("serial", spec="serial")
    wwn = Field("wwn", spec=_SP + "wwn")
    vendor = Field("vendor", spec=_SP + "vendor")
    product = Field("product", spec=_SP + "product")

    # I/O limits: <iotune> or (libvirt 11) <throttlefilters>
    iotune = Child("iotune", IoTune, spec=_SP + "ioTune", doc="I/O limits (spec: specParams.ioTune)", live=LIVE)
    throttle_filters = Children("throttlefilters/throttlefilter", ThrottleFilter, spec=_SP + "throttleFilters")

    # <blockio>, <geometry>
    logical_block_size = Field("blockio@logical_block_size", UINT, spec=_SP + "logicalBlockSize")
    physical_block_size = Field("blockio@physical_block_size", UINT, spec=_SP + "physicalBlockSize")
    discard_granularity = Field("blockio@discard_granularity", UINT, spec=_SP + "discardGranularity")
    geometry = Child("geometry", Geometry, spec=_SP + "geometry")

    # -- derived values --------------------------------------------------------------------

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
        # libvirt writes <driver>, <source>, then <target> (a <backingStore> between: a fourth)
        target = first_child(self.element, "target", near=3)
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
        """``path``, ``index``, ``shared``, ``diskType``'s default, libvirt's literal
        ``cow`` and what is kept verbatim."""
        spec.setdefault("diskType", "file")
        # What self.path, self.index, self.shared and the format's raw text read, in one
        # pass over the children (each of those searches them again: to_spec asks every disk).
        source = target = driver = None
        shareable = transient = False
        element = self.element
        # el[0]/getnext() rather than lxml's child iterator (which costs as much as reading
        # five children to make): the same children in the same order
        following = element[0] if len(element) else None
        while following is not None:
            child = following
            following = child.getnext()
            tag = child.tag
            if tag == "source":
                source = child if source is None else source
            elif tag == "target":
                target = child if target is None else target
            elif tag == "driver":
                driver = child if driver is None else driver
            elif tag == "shareable":
                shareable = True
            elif tag == "transient":
                transient = True
        attr = PATH_ATTR.get(element.get("type") or "file")
        path = None if attr is None or source is None else source.get(attr)
        if path is not None:
            spec["path"] = path
        name = target.get("dev") if target is not None else None
        parsed = drive_index(name) if name else None
        if parsed is not None:
            spec["index"] = parsed[1]
        shared = "shared" if shareable else "transient" if transient else None
        if shared is not None:
            spec["shared"] = shared
        params = spec["specParams"]
        if driver is not None and driver.get("type") == "cow":
            params["libvirtFormat"] = "cow"

    def read_spec(self, rest: dict[str, Any]) -> None:
        """``path``, ``index`` (or the target name it implies), ``shared``, libvirt's
        literal format, the verbatim XML, and what libvirt requires (a target name; a
        network disk's protocol)."""
        path = rest.pop("path", None)
        index = rest.pop("index", None)
        shared = rest.pop("shared", None)
        literal: Any = None
        params = rest.get("specParams")
        if isinstance(params, dict):
            literal = params.pop("libvirtFormat", None)
        self._apply_index(index, rest)
        self._apply_shared(shared)
        try:
            if path is not None:
                self.path = path
            if literal is not None:
                literal_format(self, type(self).format, {"format": self.format}, "format", literal)
        except FieldValueError as exc:
            key = "path" if exc.field == "path" else "specParams.libvirtFormat"
            raise SpecValueError(exc.device, key, exc.value, exc.reason) from None
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

    # -- display ---------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """What ``devframe inspect`` prints for a disk (no secret, no cookie). Never raises."""
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
            ("backing", lambda: sum(1 for layer in self.backing_chain if layer.path) or None),
            ("encrypted", lambda: True if self.encryption or self.disk_encryption else None),
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
