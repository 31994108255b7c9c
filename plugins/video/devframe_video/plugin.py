"""Hook implementations of the video plugin.

Legacy conf rule (deprecated path, engines before 3.3; keys ``display``,
``spiceMonitors``):

* no ``display`` (or an empty one): no video device (a headless VM).
* ``display`` of ``qxl`` or ``qxlnc`` (SPICE): one ``qxl`` video device per monitor,
  ``spiceMonitors`` of them (default 1), each with ``specParams.vram`` 65536 (KiB)
  for up to 2 monitors, else 32768 (more heads share the same PCI memory budget).
* any other ``display`` (VNC): one video device of the arch's default model.

Arch table (the model QEMU/libvirt use on the arch's standard machine):

========= ============= ============ ================================================
arch      machine       VNC model    SPICE
========= ============= ============ ================================================
x86_64    pc / q35      ``cirrus``   ``qxl``
ppc64     pseries       ``vga``      ``qxl``
ppc64le   pseries       ``vga``      ``qxl``
aarch64   virt          ``virtio``   ``qxl`` (as the rule says; QEMU's aarch64 build
                                     carries the qxl PCI device)
s390x     s390-ccw-     ``virtio``   refused: QEMU on s390x has no qxl device, so a
          virtio                     SPICE display cannot be right there
========= ============= ============ ================================================

aarch64's ``virt`` and s390x's ``s390-ccw-virtio`` machines have no VGA hardware
emulation (no legacy VGA I/O ports, and s390x has no PCI VGA at all); the only
display device both have is virtio-gpu (``virtio-gpu-pci`` / ``virtio-gpu-ccw``),
which is also what libvirt picks by default there. An arch not in the table is a
:class:`devframe.DevframeError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devframe import DeviceTypeRegister, SpecError, hookimpl
from devframe_video.device import Video

__all__ = ["SPICE_DISPLAYS", "VNC_MODEL_BY_ARCH", "legacy_video_specs"]

#: legacy ``display`` values that mean SPICE (``qxlnc``: SPICE without compression)
SPICE_DISPLAYS = frozenset({"qxl", "qxlnc"})

#: the video model of a VNC display, per guest arch
VNC_MODEL_BY_ARCH: dict[str, str] = {
    "x86_64": "cirrus",
    "ppc64": "vga",
    "ppc64le": "vga",
    "aarch64": "virtio",
    "s390x": "virtio",
}

#: arches without a qxl device in QEMU
_NO_QXL_ARCHES = frozenset({"s390x"})


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Video)


@hookimpl
def devframe_legacy_conf_keys() -> list[str]:
    return ["display", "spiceMonitors"]


@hookimpl
def devframe_spec_list_from_legacy_conf(conf: Mapping[str, Any], arch: str) -> list[dict[str, Any]]:
    return legacy_video_specs(conf, arch)


def _monitors(conf: Mapping[str, Any]) -> int:
    raw = conf.get("spiceMonitors", 1)
    if raw is None or raw == "":
        return 1
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise SpecError(f"legacy conf key 'spiceMonitors': expected a positive integer, got {raw!r}")
    try:
        count = int(raw)
    except ValueError:
        raise SpecError(f"legacy conf key 'spiceMonitors': expected a positive integer, got {raw!r}") from None
    if count < 1:
        raise SpecError(f"legacy conf key 'spiceMonitors': expected a positive integer, got {raw!r}")
    return count


def legacy_video_specs(conf: Mapping[str, Any], arch: str) -> list[dict[str, Any]]:
    """The video dev_specs of a legacy conf (see the module docstring for the rule)."""
    if not isinstance(conf, Mapping):
        raise SpecError(f"legacy conf must be a dict, got {type(conf).__name__}")
    if arch not in VNC_MODEL_BY_ARCH:
        raise SpecError(f"video: unknown arch {arch!r}: expected one of {', '.join(VNC_MODEL_BY_ARCH)}")
    display = conf.get("display")
    if display is None or display == "":
        return []
    if not isinstance(display, str):
        raise SpecError(f"legacy conf key 'display': expected a string, got {type(display).__name__}")
    if display in SPICE_DISPLAYS:
        if arch in _NO_QXL_ARCHES:
            raise SpecError(
                f"legacy conf key 'display': {display!r} (SPICE) needs a qxl video device, "
                f"which QEMU does not have on arch {arch!r}; use 'vnc'"
            )
        monitors = _monitors(conf)
        vram = 65536 if monitors <= 2 else 32768
        return [{"type": "video", "device": "qxl", "specParams": {"vram": vram}} for _ in range(monitors)]
    model = VNC_MODEL_BY_ARCH[arch]
    return [{"type": "video", "device": model, "specParams": {}}]
