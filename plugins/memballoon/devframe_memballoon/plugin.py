"""Hook implementations of the memballoon plugin.

Legacy conf rule (deprecated path, engines before 3.3): every VM gets exactly one
balloon device, whatever the conf holds. VDSM built the devices of a legacy conf (one
without a ``devices`` list) from its flat keys, none of which describes a balloon, and
then added the balloon every VM must have when none was listed:
``{"type": "balloon", "device": "memballoon", "specParams": {"model": "none"}}``.
The model is ``none`` on purpose: libvirt gives every QEMU guest without a
``<memballoon>`` a virtio balloon of its own, and engines before 3.3 had no balloon
support, so VDSM asked for an explicit "no balloon" (a guest with a virtio balloon has
one more PCI device, which would change its hardware). This rule keeps that: the
legacy VM gets the hardware VDSM gave it. (``balloonInfo`` is not a conf key but the
balloon statistics VDSM reported; ``memSize`` / ``memGuaranteedSize`` set the
balloon's runtime target, no part of the device.) The rule reads no conf key.

Arch table (``model='none'`` is valid on every machine; no device is created):

========= ================== ==================================
arch      machine            device
========= ================== ==================================
x86_64    pc / q35           ``<memballoon model='none'/>``
ppc64     pseries            ``<memballoon model='none'/>``
ppc64le   pseries            ``<memballoon model='none'/>``
aarch64   virt               ``<memballoon model='none'/>``
s390x     s390-ccw-virtio    ``<memballoon model='none'/>``
========= ================== ==================================

An arch not in the table, or a conf that is not a dict, is a
:class:`devframe.DevframeError` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devframe import ARCHES, DeviceTypeRegister, SpecError, check_arch, hookimpl
from devframe_memballoon.device import Memballoon

__all__ = ["LEGACY_ARCHES", "LEGACY_BALLOON_MODEL", "legacy_balloon_specs"]

#: arches the legacy rule knows (every one gets the same balloon)
LEGACY_ARCHES = tuple(ARCHES)  # the core's list: one rule for every arch

#: the model of the balloon VDSM gave a legacy VM
LEGACY_BALLOON_MODEL = "none"


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Memballoon)


@hookimpl
def devframe_legacy_conf_keys() -> list[str]:
    return []


@hookimpl
def devframe_spec_list_from_legacy_conf(conf: Mapping[str, Any], arch: str) -> list[dict[str, Any]]:
    return legacy_balloon_specs(conf, arch)


def legacy_balloon_specs(conf: Mapping[str, Any], arch: str) -> list[dict[str, Any]]:
    """The balloon dev_specs of a legacy conf: always the one balloon VDSM added."""
    if not isinstance(conf, Mapping):
        raise SpecError(f"legacy conf must be a dict, got {type(conf).__name__}")
    check_arch(arch)
    return [{"type": "balloon", "device": "memballoon", "specParams": {"model": LEGACY_BALLOON_MODEL}}]
