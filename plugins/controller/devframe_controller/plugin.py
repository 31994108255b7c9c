"""Hook implementations of the controller plugin.

Legacy conf rule (deprecated path, engines before 3.3): every VM gets exactly one
``virtio-serial`` controller, index 0, whatever the conf holds. The engine relied
on it for the guest agent and SPICE agent channels, which the legacy conf never
lists as devices; the controller reads no conf key.

Arch table (the virtio-serial controller exists on every supported machine, on the
arch's native virtio transport):

========= ================== =================================
arch      machine            controller
========= ================== =================================
x86_64    pc / q35           ``virtio-serial`` (virtio-serial-pci)
ppc64     pseries            ``virtio-serial`` (virtio-serial-pci)
ppc64le   pseries            ``virtio-serial`` (virtio-serial-pci)
aarch64   virt               ``virtio-serial`` (virtio-serial-pci)
s390x     s390-ccw-virtio    ``virtio-serial`` (virtio-serial-ccw)
========= ================== =================================

An arch not in the table is a :class:`devframe.DevframeError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devframe import ARCHES, DeviceTypeRegister, SpecError, check_arch, hookimpl
from devframe_controller.device import Controller

__all__ = ["LEGACY_ARCHES", "legacy_controller_specs"]

#: arches the legacy rule knows (every one gets the same controller)
LEGACY_ARCHES = tuple(ARCHES)  # the core's list: one rule for every arch


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Controller)


@hookimpl
def devframe_legacy_conf_keys() -> list[str]:
    return []


@hookimpl
def devframe_spec_list_from_legacy_conf(conf: Mapping[str, Any], arch: str) -> list[dict[str, Any]]:
    return legacy_controller_specs(conf, arch)


def legacy_controller_specs(conf: Mapping[str, Any], arch: str) -> list[dict[str, Any]]:
    """The controller dev_specs of a legacy conf: always one virtio-serial controller."""
    if not isinstance(conf, Mapping):
        raise SpecError(f"legacy conf must be a dict, got {type(conf).__name__}")
    check_arch(arch)
    return [{"type": "controller", "device": "virtio-serial", "index": 0, "specParams": {}}]
