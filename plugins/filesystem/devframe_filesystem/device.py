"""The ``<filesystem>`` dev_class: a host directory, file, device or RAM disk shared with the guest.

Models libvirt's ``<filesystem>`` element (formatdomain "Filesystems"; schema
``filesystem``, ``filesystemCommon``, ``fsDriver``, ``fsBinary``, ``idmap``)::

    <filesystem type='mount' accessmode='passthrough' model='virtio' multidevs='remap'
                fmode='0644' dmode='0755'>
      <driver type='virtiofs' queue='1024' iommu='on'/>
      <binary path='/usr/libexec/virtiofsd' xattr='on'>
        <cache mode='always'/> <sandbox mode='chroot'/> <lock posix='on' flock='on'/>
        <thread_pool size='16'/> <openfiles max='4096'/>
      </binary>
      <source dir='/srv/share'/>            (per type: dir, socket, file, dev, name,
                                             usage+units, pool+volume)
      <target dir='share_tag'/>
      <idmap><uid start='0' target='100000' count='65535'/><gid .../></idmap>
      <readonly/>
      <boot order='2'/> <alias name='ua-...'/> <acpi index='3'/> <address type='pci' .../>
      <space_hard_limit unit='GiB'>10</space_hard_limit>
      <space_soft_limit unit='GiB'>8</space_soft_limit>
    </filesystem>

VDSM had no filesystem device, so apart from ``type``/``device`` the dev_spec keys are
libvirt's own names (camelCase), nested under ``specParams`` like the XML:

======================================= ==========================================================
``device``                              ``@type`` (mount, block, file, template, ram, bind,
                                        volume). A spec without ``device`` builds ``mount``
                                        (libvirt's default); an element without ``@type``
                                        gives ``"filesystem"``, which builds none again.
``alias`` / ``deviceId``                ``alias@name`` (``ua-<deviceId>``)
``address``                             the direct child ``address`` (a dict)
``bootOrder``                           ``boot@order`` (core ``Bootable``)
``specParams.bootLoadparm``             ``boot@loadparm`` (core ``Bootable``)
``specParams.acpiIndex``                ``acpi@index`` (core ``AcpiIndex``)
``specParams.model``                    ``@model`` (virtio, virtio-transitional,
                                        virtio-non-transitional)
``specParams.accessmode``               ``@accessmode`` (passthrough, mapped, squash)
``specParams.multidevs``                ``@multidevs`` (default, remap, forbid, warn)
``specParams.fmode``                    ``@fmode`` (octal text, e.g. ``"0644"``)
``specParams.dmode``                    ``@dmode`` (octal text, e.g. ``"0755"``)
``specParams.driver.type``              ``driver@type`` (path, handle, loop, nbd, ploop,
                                        virtiofs, mtp)
``specParams.driver.format``            ``driver@format`` (raw, qcow2, ... storage formats)
``specParams.driver.wrpolicy``          ``driver@wrpolicy`` (immediate)
``specParams.driver.queue``             ``driver@queue`` (virtiofs queue size)
``specParams.driver.iommu``, ``.ats``,  ``driver@iommu``, ``@ats``, ``@packed``, ``@page_per_vq``
``.packed``, ``.pagePerVq``             (core ``VirtioOptions``, bool, on/off)
``specParams.binary.path``              ``binary@path`` (the virtiofsd binary)
``specParams.binary.xattr``             ``binary@xattr`` (bool, on/off)
``specParams.binary.cache.mode``        ``binary/cache@mode`` (none, always)
``specParams.binary.sandbox.mode``      ``binary/sandbox@mode`` (namespace, chroot)
``specParams.binary.lock.posix``        ``binary/lock@posix`` (bool, on/off)
``specParams.binary.lock.flock``        ``binary/lock@flock`` (bool, on/off)
``specParams.binary.threadPool.size``   ``binary/thread_pool@size`` (int)
``specParams.binary.openfiles.max``     ``binary/openfiles@max`` (int > 0; libvirt 11)
``specParams.source.dir``               ``source@dir`` (mount, bind)
``specParams.source.socket``            ``source@socket`` (mount: an external virtiofsd)
``specParams.source.file``              ``source@file`` (file)
``specParams.source.dev``               ``source@dev`` (block)
``specParams.source.name``              ``source@name`` (template)
``specParams.source.usage``             ``source@usage`` (ram; int)
``specParams.source.units``             ``source@units`` (ram; KiB, MiB, ...)
``specParams.source.pool``              ``source@pool`` (volume)
``specParams.source.volume``            ``source@volume`` (volume)
``specParams.target.dir``               ``target@dir`` (guest path, or the virtio mount tag)
``specParams.readonly``                 ``<readonly/>`` (bool)
``specParams.idmap.uid``                every ``idmap/uid`` as ``{start, target, count}``
``specParams.idmap.gid``                every ``idmap/gid`` as ``{start, target, count}``
``specParams.spaceHardLimit``           ``space_hard_limit`` text (int)
``specParams.spaceHardLimitUnit``       ``space_hard_limit@unit``
``specParams.spaceSoftLimit``           ``space_soft_limit`` text (int)
``specParams.spaceSoftLimitUnit``       ``space_soft_limit@unit``
======================================= ==========================================================

Numbers are accepted as ints or decimal strings; ``to_spec`` gives ints. ``fmode`` and
``dmode`` must be strings (an int cannot tell octal ``644`` from decimal). A spec value
that cannot be used is a :class:`devframe.SpecError` naming its key; so is a spec
without ``specParams.target.dir`` or without the source its type needs (libvirt's
schema requires both, and neither has a default).

``type='volume'`` (a storage pool volume) is parsed by libvirt but missing from its
RelaxNG schema (9.0 and 11.3 alike): it is modeled all the same. Everything the fields
do not model stays in the element as it is.

Identity without an alias: the target dir (the guest mount point or tag is unique per
domain).
"""

from __future__ import annotations

from typing import Any, ClassVar

from devframe import (
    INT,
    OCTAL_MODE,
    ON_OFF,
    POSITIVE,
    STR,
    UINT32,
    ULONG,
    UNIT,
    AcpiIndex,
    Bootable,
    Children,
    Choice,
    Device,
    ElementView,
    Field,
    Flag,
    Identity,
    SpecError,
    VirtioOptions,
)

__all__ = [
    "ACCESS_MODES",
    "DRIVER_TYPES",
    "FS_TYPES",
    "MODELS",
    "SOURCE_KEYS",
    "STORAGE_FORMATS",
    "Filesystem",
    "IdMap",
]

#: Every ``@type`` libvirt knows for ``<filesystem>`` (``volume``: parsed, not in the schema).
FS_TYPES = ("mount", "block", "file", "template", "ram", "bind", "volume")
MODELS = ("virtio", "virtio-transitional", "virtio-non-transitional")
ACCESS_MODES = ("passthrough", "mapped", "squash")
MULTIDEVS = ("default", "remap", "forbid", "warn")
DRIVER_TYPES = ("path", "handle", "loop", "nbd", "ploop", "virtiofs", "mtp")
#: libvirt's storageFormat values (``driver@format``).
STORAGE_FORMATS = (
    "raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi", "fat", "vhd", "ploop", "luks",
    "cow", "qcow", "qcow2", "qed", "vmdk",
)  # fmt: skip

#: The ``<source>`` attributes each type needs: one of every group must be present.
SOURCE_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "mount": (("dir", "socket"),),
    "bind": (("dir",),),
    "file": (("file",),),
    "block": (("dev",),),
    "template": (("name",),),
    "ram": (("usage",),),
    "volume": (("pool",), ("volume",)),
}

_NO_TYPE = "filesystem"  # the spec ``device`` of an element without @type


class IdMap(ElementView):
    """One ``<uid>`` or ``<gid>`` range of an ``<idmap>``: guest ``start`` maps to host ``target``."""

    start = Field("@start", UINT32, spec="start", doc="first id in the guest")
    target = Field("@target", UINT32, spec="target", doc="first id on the host")
    count = Field("@count", UINT32, spec="count", doc="how many ids")


# -- the device --------------------------------------------------------------------------------


class Filesystem(Bootable, VirtioOptions, AcpiIndex, Device):
    """A shared filesystem (see the module docstring). Identity: the target dir."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "filesystem"
    identity_devtype: ClassVar[str | None] = "filesystem"  # every identity() holds it
    tag: ClassVar[str] = "filesystem"
    description: ClassVar[str] = "shared filesystems (<filesystem type=...>: 9p, virtiofs, LXC mounts)"
    # libvirt's order when it formats a filesystem; new children are put in place.
    child_order: ClassVar[tuple[str, ...]] = (
        "driver", "binary", "source", "target", "idmap", "readonly", "boot", "alias", "acpi", "address",
        "space_hard_limit", "space_soft_limit",
    )  # fmt: skip

    type = Field("@type", Choice(*FS_TYPES), spec="device", default="mount", absent_spec=_NO_TYPE, doc="source type")
    model = Field("@model", Choice(*MODELS), spec="specParams.model", doc="virtio device model")
    accessmode = Field("@accessmode", Choice(*ACCESS_MODES), spec="specParams.accessmode", doc="9p security")
    multidevs = Field("@multidevs", Choice(*MULTIDEVS), spec="specParams.multidevs", doc="9p inode clashes")
    fmode = Field("@fmode", OCTAL_MODE, spec="specParams.fmode", doc="mode of files created (mapped)")
    dmode = Field("@dmode", OCTAL_MODE, spec="specParams.dmode", doc="mode of dirs created (mapped)")
    # <driver>
    driver_type = Field("driver@type", Choice(*DRIVER_TYPES), spec="specParams.driver.type")
    driver_format = Field("driver@format", Choice(*STORAGE_FORMATS), spec="specParams.driver.format")
    wrpolicy = Field("driver@wrpolicy", Choice("immediate"), spec="specParams.driver.wrpolicy")
    queue = Field("driver@queue", UINT32, spec="specParams.driver.queue", doc="virtiofs queue size")
    # <binary> (virtiofs)
    binary_path = Field("binary@path", STR, spec="specParams.binary.path", doc="the virtiofsd binary")
    xattr = Field("binary@xattr", ON_OFF, spec="specParams.binary.xattr", doc="extended attributes")
    cache_mode = Field("binary/cache@mode", Choice("none", "always"), spec="specParams.binary.cache.mode")
    sandbox_mode = Field("binary/sandbox@mode", Choice("namespace", "chroot"), spec="specParams.binary.sandbox.mode")
    lock_posix = Field("binary/lock@posix", ON_OFF, spec="specParams.binary.lock.posix")
    lock_flock = Field("binary/lock@flock", ON_OFF, spec="specParams.binary.lock.flock")
    thread_pool_size = Field("binary/thread_pool@size", INT, spec="specParams.binary.threadPool.size")
    openfiles_max = Field("binary/openfiles@max", POSITIVE, spec="specParams.binary.openfiles.max")
    # <source>, one attribute (or pair) per type
    source_dir = Field("source@dir", STR, spec="specParams.source.dir", doc="host directory (mount, bind)")
    source_socket = Field("source@socket", STR, spec="specParams.source.socket", doc="external virtiofsd socket")
    source_file = Field("source@file", STR, spec="specParams.source.file", doc="host image file (file)")
    source_dev = Field("source@dev", STR, spec="specParams.source.dev", doc="host block device (block)")
    source_name = Field("source@name", STR, spec="specParams.source.name", doc="template name (template)")
    source_usage = Field("source@usage", ULONG, spec="specParams.source.usage", doc="RAM disk size (ram)")
    source_units = Field("source@units", UNIT, spec="specParams.source.units", doc="unit of usage (ram)")
    source_pool = Field("source@pool", STR, spec="specParams.source.pool", doc="storage pool (volume)")
    source_volume = Field("source@volume", STR, spec="specParams.source.volume", doc="pool volume (volume)")
    target_dir = Field("target@dir", STR, spec="specParams.target.dir", doc="guest path or mount tag")
    uid_map = Children("idmap/uid", IdMap, spec="specParams.idmap.uid", doc="user id ranges")
    gid_map = Children("idmap/gid", IdMap, spec="specParams.idmap.gid", doc="group id ranges")
    readonly = Flag("readonly", spec="specParams.readonly", doc="export read-only")
    space_hard_limit = Field("space_hard_limit", ULONG, spec="specParams.spaceHardLimit")
    space_hard_limit_unit = Field("space_hard_limit@unit", UNIT, spec="specParams.spaceHardLimitUnit")
    space_soft_limit = Field("space_soft_limit", ULONG, spec="specParams.spaceSoftLimit")
    space_soft_limit_unit = Field("space_soft_limit@unit", UNIT, spec="specParams.spaceSoftLimitUnit")

    # -- dev_spec -------------------------------------------------------------------------

    def read_spec(self, rest: dict[str, Any]) -> None:
        """Target dir and source are required."""
        target = Field.raw(Filesystem.target_dir, self)
        if not target:
            raise SpecError(f"{self.describe()}: dev_spec key 'specParams.target.dir' is required (guest path or tag)")
        kind = self.element.get("type") or "mount"
        source = next(self.element.iterchildren("source"), None)
        for group in SOURCE_KEYS.get(kind, ()):
            if source is None or not any(source.get(name) for name in group):
                keys = " or ".join(f"'specParams.source.{name}'" for name in group)
                raise SpecError(f"{self.describe()}: a {kind!r} filesystem needs dev_spec key {keys}")

    # -- identity and display -------------------------------------------------------------

    def identity(self) -> Identity | None:
        """The target dir (guest mount point or virtio tag), read from the element."""
        target = next(self.element.iterchildren("target"), None)
        directory = target.get("dir") if target is not None else None
        return {"devtype": "filesystem", "target": directory} if directory else None

    def summary(self) -> dict[str, Any]:
        """Key fields for ``devframe inspect``: type, driver, source, target, access. Never raises."""
        out: dict[str, Any] = {"type": self.element.get("type") or "mount"}
        out.update(
            self.shown_values(
                ("model", ("driver", "driver_type"), "accessmode", ("target", "target_dir"), ("boot", "boot_order"))
            )
        )
        source = next(self.element.iterchildren("source"), None)
        if source is not None and source.attrib:
            out["source"] = ",".join(f"{name!s}={value!s}" for name, value in source.attrib.items())
        if Filesystem.readonly.__get__(self, Filesystem):
            out["readonly"] = True
        return out
