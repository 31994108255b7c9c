"""The drive plugin's hooks: registers :class:`~devframe_drive.device.Drive` (which describes
``<disk>`` alone, its ``DRIVE-PATH:`` placeholder included) and holds the legacy conf rule.

Legacy conf rule (deprecated path; the caller warns). The keys this plugin owns:

* ``drives``: a list of dicts, each a partial drive spec. Each needs ``path`` (``''`` is an
  empty cdrom/floppy) and ``index`` (int or digit string); ``iface`` defaults to the arch's
  disk bus, ``device`` to ``disk``.
* ``hda``, ``hdb``, ``hdc``, ``hdd``: old single paths -> disks at index 0-3 on the arch's
  disk bus (IDE on x86_64, the only arch with an IDE controller).
* ``cdrom``: the removable CD-ROM, which VDSM's legacy flow always added: a readonly
  cdrom at index 2 on the arch's cdrom bus, its path from ``cdrom``; without the key (or
  with ``None``) an empty one, no medium, so the guest still has a drive to insert one.
* ``floppy``: its path -> a floppy on ``fdc`` index 0 (x86_64 only; other archs have no
  floppy controller, so a floppy there is a DevframeError rather than an unbootable VM).

Every drive gets ``format`` ``raw`` and ``propagateErrors`` ``off`` unless given, a
``diskType`` (``block`` for a ``/dev/`` path, else ``file``) unless given, and a ``name``
derived from ``iface`` + ``index``. Drives are taken in the order ``drives``, ``hda``..``hdd``,
``cdrom``, ``floppy``; an index already used on the same interface moves to the next
free one, so no two drives collide.

Arch table (x86_64 is the only one with IDE and a floppy controller; the others use
virtio-scsi for cdroms, as QEMU's pseries, s390-ccw-virtio and virt machines support,
and pseries keeps SCSI for disks too, as the engine configured it). It covers every arch
of devframe's arch table (``devframe.ARCHES``). VDSM's own table had x86_64 (IDE) and
ppc64/ppc64le (SCSI) only; s390x and aarch64 take SCSI because their machines have no
IDE controller and a virtio disk cannot be a cdrom:

========= ========= ========== ======
arch      disk bus  cdrom bus  floppy
========= ========= ========== ======
x86_64    ide       ide        fdc
ppc64     scsi      scsi       --
ppc64le   scsi      scsi       --
s390x     virtio    scsi       --
aarch64   virtio    scsi       --
========= ========= ========== ======
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devframe import DevframeError, DeviceTypeRegister, SpecError, get_logger, hookimpl
from devframe_drive.device import Drive, drive_index, drive_name

_log = get_logger(plugin="drive")

#: arch -> (disk bus, cdrom bus, floppy supported)
ARCH_TABLE: Mapping[str, tuple[str, str, bool]] = {
    "x86_64": ("ide", "ide", True),
    "ppc64": ("scsi", "scsi", False),
    "ppc64le": ("scsi", "scsi", False),
    "s390x": ("virtio", "scsi", False),
    "aarch64": ("virtio", "scsi", False),
}

LEGACY_KEYS = ("drives", "hda", "hdb", "hdc", "hdd", "cdrom", "floppy")
_OLD_IDE = ("hda", "hdb", "hdc", "hdd")


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Drive)


@hookimpl
def devframe_legacy_conf_keys() -> list[str]:
    return list(LEGACY_KEYS)


@hookimpl
def devframe_spec_list_from_legacy_conf(conf: Any, arch: Any) -> list[dict[str, Any]]:
    return spec_list_from_legacy_conf(conf, arch)


# -- the legacy rule ---------------------------------------------------------------------------


def spec_list_from_legacy_conf(conf: Any, arch: Any) -> list[dict[str, Any]]:
    """The drive specs of a legacy conf (see the module docstring for the rule)."""
    if not isinstance(conf, Mapping):
        raise SpecError(f"legacy conf must be a dict, got {type(conf).__name__}")
    if arch not in ARCH_TABLE:
        raise DevframeError(f"legacy conf: unknown arch {arch!r} (known: {', '.join(ARCH_TABLE)})")
    disk_bus, cdrom_bus, has_floppy = ARCH_TABLE[arch]
    log = _log.bind(arch=arch)

    wanted: list[tuple[str, dict[str, Any]]] = []  # (conf key it came from, partial spec)
    drives = conf.get("drives")
    if drives is not None:
        if not isinstance(drives, list):
            raise SpecError(f"legacy conf key 'drives' must be a list of dicts, got {type(drives).__name__}")
        for position, entry in enumerate(drives):
            key = f"drives[{position}]"
            if not isinstance(entry, Mapping):
                raise SpecError(f"legacy conf key {key!r} must be a dict, got {type(entry).__name__}")
            for required in ("path", "index"):
                if entry.get(required) is None:
                    raise SpecError(f"legacy conf key '{key}.{required}' is missing")
            spec = dict(entry)
            device = spec.get("device", "disk")
            spec.setdefault("iface", {"cdrom": cdrom_bus, "floppy": "fdc"}.get(device, disk_bus))
            if device == "cdrom":
                spec.setdefault("readonly", True)
            wanted.append((key, spec))
    for position, key in enumerate(_OLD_IDE):
        if conf.get(key) is not None:
            wanted.append((key, {"path": conf[key], "index": position, "iface": disk_bus}))
    # Always the removable CD-ROM, as VDSM's legacy flow added it: empty without a path.
    cdrom = conf.get("cdrom")
    wanted.append(("cdrom", {"path": "" if cdrom is None else cdrom, "index": 2, "iface": cdrom_bus,
                             "device": "cdrom", "readonly": True}))  # fmt: skip
    if conf.get("floppy") is not None:
        if not has_floppy:
            raise SpecError(f"legacy conf key 'floppy': arch {arch} has no floppy controller")
        wanted.append(("floppy", {"path": conf["floppy"], "index": 0, "iface": "fdc", "device": "floppy"}))

    used: dict[str, set[int]] = {}
    specs = []
    for key, spec in wanted:
        specs.append(_legacy_drive(key, spec, used, log))
    return specs


def _legacy_drive(key: str, spec: dict[str, Any], used: dict[str, set[int]], log: Any) -> dict[str, Any]:
    path = spec["path"]
    if not isinstance(path, str):
        raise SpecError(f"legacy conf key '{key}.path' must be a str, got {type(path).__name__}")
    raw_index = spec["index"]
    try:
        if isinstance(raw_index, bool):
            raise ValueError
        index = int(raw_index)
        if index < 0:
            raise ValueError
    except (TypeError, ValueError):
        raise SpecError(f"legacy conf key '{key}.index' must be an int >= 0, got {raw_index!r}") from None
    iface = spec["iface"]
    if not isinstance(iface, str) or not iface:
        raise SpecError(f"legacy conf key '{key}.iface' must be a bus name, got {iface!r}")
    taken = used.setdefault(iface, set())
    wanted_index = index
    while index in taken:
        index += 1
    taken.add(index)
    if index != wanted_index:
        log.info("legacy drive index taken, moved", key=key, iface=iface, wanted=wanted_index, index=index)
    out: dict[str, Any] = {"type": "disk", "device": "disk"}
    out.update(spec)
    out["index"] = index
    out.setdefault("format", "raw")
    out.setdefault("propagateErrors", "off")
    out.setdefault("diskType", "block" if path.startswith("/dev/") else "file")
    name = out.get("name")
    parsed = drive_index(name) if isinstance(name, str) else None
    if name is None or index != wanted_index or (parsed is not None and parsed[1] != index):
        try:
            out["name"] = drive_name(iface, index)
        except ValueError as exc:
            raise SpecError(f"legacy conf key '{key}.iface': {exc}") from None
    return out
