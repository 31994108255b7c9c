"""The input plugin's hooks: registers the ``<input>`` device class and holds the legacy
conf rule.

Legacy conf rule (deprecated path, engines before 3.3; key ``tabletEnable``): VDSM gave
every VM of such an engine one pointing device when it built the domain: a USB tablet
when ``tabletEnable`` was true, else a mouse, on PS/2 where the machine has a PS/2
controller and on USB elsewhere. devframe's legacy flow builds the domain from the
dev_specs, so the rule emits that device as a spec:

========= ==================================== ==================================
arch      ``tabletEnable`` true                otherwise
========= ==================================== ==================================
x86_64    ``<input type='tablet' bus='usb'>``  ``<input type='mouse' bus='ps2'>``
ppc64     ``<input type='tablet' bus='usb'>``  ``<input type='mouse' bus='usb'>``
ppc64le   ``<input type='tablet' bus='usb'>``  ``<input type='mouse' bus='usb'>``
aarch64   ``<input type='tablet' bus='usb'>``  ``<input type='mouse' bus='usb'>``
s390x     ``<input type='tablet' bus='usb'>``  ``<input type='mouse' bus='usb'>``
========= ==================================== ==================================

``tabletEnable`` may be a bool or a boolean word (``true``/``false``, ``yes``/``no``,
``1``/``0``); anything else, an arch not in the table or a conf that is not a dict is a
:class:`devframe.SpecError` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devframe import DeviceTypeRegister, SpecError, check_arch, hookimpl
from devframe_input.device import Input

__all__ = ["LEGACY_KEYS", "legacy_input_specs"]

LEGACY_KEYS = ("tabletEnable",)
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0", ""})


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Input)


@hookimpl
def devframe_legacy_conf_keys() -> list[str]:
    return list(LEGACY_KEYS)


@hookimpl
def devframe_spec_list_from_legacy_conf(conf: Mapping[str, Any], arch: str) -> list[dict[str, Any]]:
    return legacy_input_specs(conf, arch)


def _tablet(value: object) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise SpecError(f"legacy conf key 'tabletEnable': expected a boolean, got {value!r:.80}")


def legacy_input_specs(conf: Mapping[str, Any], arch: str) -> list[dict[str, Any]]:
    """The pointing device VDSM gave a legacy VM (see the module docstring)."""
    if not isinstance(conf, Mapping):
        raise SpecError(f"legacy conf must be a dict, got {type(conf).__name__}")
    check_arch(arch)
    if _tablet(conf.get("tabletEnable")):
        return [{"type": "input", "device": "tablet", "specParams": {"bus": "usb"}}]
    bus = "ps2" if arch == "x86_64" else "usb"
    return [{"type": "input", "device": "mouse", "specParams": {"bus": bus}}]
