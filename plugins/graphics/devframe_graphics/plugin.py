"""The graphics plugin's hooks: registers :class:`~devframe_graphics.device.Graphics` (which
describes ``<graphics>`` alone) and holds the legacy conf rule.

Legacy conf (deprecated path; the rule VDSM applied to pre-3.3 engines):

* no ``display`` (absent, None or empty) -> no graphics device: a headless VM;
* ``display`` of ``qxl`` or ``qxlnc`` -> one ``spice`` device;
* any other ``display`` string (``vnc``, ...) -> one ``vnc`` device;
* specParams copied from the conf: ``keyboardLayout`` -> ``keyMap``, ``displayNetwork``,
  and, for spice only, ``spiceSecureChannels``, ``copyPasteEnable`` and
  ``fileTransferEnable`` (libvirt's vnc has no channels, clipboard or file transfer
  elements; a vnc conf carrying them is logged with the skipped key names).

Arch table (graphics does not otherwise vary by arch in VDSM; the video plugin picks
the matching adapter):

========= ======================== ==============
arch      display qxl / qxlnc      other display
========= ======================== ==============
x86_64    spice                    vnc
ppc64     spice                    vnc
ppc64le   spice                    vnc
aarch64   spice                    vnc
s390x     refused                  vnc
========= ======================== ==============

s390x is refused for SPICE because a SPICE display needs the qxl adapter QEMU does
not have there (oVirt offered only VNC on s390x); the video plugin refuses the same
conf for the same reason, so the two plugins agree whichever runs first.

Any other arch is a :class:`LegacyConfError`. Bad values (a conf that is not a dict, a
``display`` or ``keyboardLayout`` that is not a string, a copy/paste flag that is not a
boolean word, an unknown spice channel) are :class:`LegacyConfError` naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devframe import DevframeError, DeviceTypeRegister, get_logger, hookimpl
from devframe_graphics.device import Graphics, parse_secure_channels

# Lazy: resolved against the structlog configuration in force at each call, not at import.
log = get_logger(plugin="graphics")

SPICE_DISPLAYS = frozenset({"qxl", "qxlnc"})

#: arch -> (graphics type for qxl/qxlnc or None when refused, type for any other display)
LEGACY_ARCH_TABLE: dict[str, tuple[str | None, str]] = {
    "x86_64": ("spice", "vnc"),
    "ppc64": ("spice", "vnc"),
    "ppc64le": ("spice", "vnc"),
    "aarch64": ("spice", "vnc"),
    "s390x": (None, "vnc"),
}

#: legacy conf key -> specParams key, and the graphics types it applies to
LEGACY_SPEC_PARAMS: dict[str, tuple[str, frozenset[str]]] = {
    "keyboardLayout": ("keyMap", frozenset({"spice", "vnc"})),
    "displayNetwork": ("displayNetwork", frozenset({"spice", "vnc"})),
    "spiceSecureChannels": ("spiceSecureChannels", frozenset({"spice"})),
    "copyPasteEnable": ("copyPasteEnable", frozenset({"spice"})),
    "fileTransferEnable": ("fileTransferEnable", frozenset({"spice"})),
}

_TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
_FALSE_WORDS = frozenset({"false", "no", "off", "0"})


class LegacyConfError(DevframeError):
    """A legacy conf value the graphics rule cannot convert; names the key."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(f"legacy conf key {key!r}: {message}")


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Graphics)


@hookimpl
def devframe_legacy_conf_keys() -> list[str]:
    return ["display", *LEGACY_SPEC_PARAMS]


def _engine_bool(key: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return "true"
        if word in _FALSE_WORDS:
            return "false"
    raise LegacyConfError(key, f"expected 'true' or 'false', got a {type(value).__name__}")


@hookimpl
def devframe_spec_list_from_legacy_conf(conf: Mapping[str, Any], arch: str) -> list[dict[str, Any]]:
    """The graphics dev_spec_list of a legacy conf (see the module docstring)."""
    if not isinstance(conf, Mapping):
        raise LegacyConfError("conf", f"a legacy conf must be a dict, got {type(conf).__name__}")
    if arch not in LEGACY_ARCH_TABLE:
        raise LegacyConfError("arch", f"unknown arch {arch!r} (known: {', '.join(LEGACY_ARCH_TABLE)})")
    display = conf.get("display")
    if display is None or display == "":
        return []
    if not isinstance(display, str):
        raise LegacyConfError("display", f"expected a string, got {type(display).__name__}")
    spice_type, other_type = LEGACY_ARCH_TABLE[arch]
    if display in SPICE_DISPLAYS:
        if spice_type is None:
            raise LegacyConfError(
                "display", f"{display!r} (SPICE) needs a qxl video device, which QEMU lacks on arch {arch!r}; use 'vnc'"
            )
        device = spice_type
    else:
        device = other_type
    params: dict[str, Any] = {}
    skipped: list[str] = []
    for key, (param, applies_to) in LEGACY_SPEC_PARAMS.items():
        value = conf.get(key)
        if value is None:
            continue
        if device not in applies_to:
            skipped.append(key)
            continue
        if param in ("copyPasteEnable", "fileTransferEnable"):
            params[param] = _engine_bool(key, value)
        elif param == "spiceSecureChannels":
            try:
                parse_secure_channels(value, where="legacy conf")
            except DevframeError as exc:
                raise LegacyConfError(key, str(exc)) from None
            params[param] = value
        else:
            if not isinstance(value, str) or not value:
                raise LegacyConfError(key, f"expected a non-empty string, got {type(value).__name__}")
            params[param] = value
    if skipped:
        log.info("legacy conf keys do not apply to this graphics type", device=device, skipped=skipped, arch=arch)
    log.debug("legacy graphics conf converted", device=device, arch=arch, keys=sorted(params))
    spec: dict[str, Any] = {"type": "graphics", "device": device}
    if params:
        spec["specParams"] = params
    return [spec]
