"""The sound plugin's hooks: the smallest complete devframe plugin.

Everything about ``<sound>`` itself lives in its device class
(:class:`devframe_sound.device.Sound`); this module registers the class and holds the
legacy conf rule.

Legacy conf rule (deprecated path, engines before 3.3; key ``soundDevice``): a
``soundDevice`` gives one sound device of that model; none (or empty) gives no sound
device. The model is passed on as the engine chose it (the engine offered only
models the guest's arch has), so the rule is the same on every arch:

========= =========================================
arch      ``soundDevice: M``
========= =========================================
x86_64    one ``<sound model='M'>``
ppc64     one ``<sound model='M'>``
ppc64le   one ``<sound model='M'>``
aarch64   one ``<sound model='M'>``
s390x     one ``<sound model='M'>``
========= =========================================

An arch not in the table, a conf that is not a dict or a ``soundDevice`` that is not
a string is a :class:`devframe.DevframeError` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devframe import ARCHES, DeviceTypeRegister, SpecError, check_arch, hookimpl
from devframe_sound.device import Sound

#: arches the legacy rule knows (every one gets the same device)
LEGACY_ARCHES = tuple(ARCHES)  # the core's list: one rule for every arch


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Sound)


@hookimpl
def devframe_legacy_conf_keys() -> list[str]:
    return ["soundDevice"]


@hookimpl
def devframe_spec_list_from_legacy_conf(conf: Mapping[str, Any], arch: str) -> list[dict[str, Any]]:
    if not isinstance(conf, Mapping):
        raise SpecError(f"legacy conf must be a dict, got {type(conf).__name__}")
    check_arch(arch)
    model = conf.get("soundDevice")
    if model is None or model == "":
        return []
    if not isinstance(model, str):
        raise SpecError(f"legacy conf key 'soundDevice': expected a model name, got {model!r}")
    return [{"type": "sound", "device": model}]
