"""The nic plugin's hooks: registers :class:`~devframe_nic.device.Nic` (dev_type
``interface``, which describes ``<interface>`` alone) and holds the legacy conf rule.

Metadata: the engine keeps ``network`` (logical network name), ``portMirroring``
(list of network names) and ``custom`` (custom properties) of a NIC in the domain's
``<metadata>``, in an ``<ovirt-vm:device mac_address="...">`` entry keyed by the MAC.

Legacy conf rule (deprecated path of old engines)
-------------------------------------------------
``macAddr``, ``nicModel`` and ``bridge`` are comma-separated lists zipped together,
one NIC per ``nicModel`` entry, in order:

* ``nicModel`` decides the count; ``pv`` means ``virtio``.
* ``macAddr`` gives every NIC its own MAC: fewer MACs than models (padding would give two
  NICs one MAC, and the domain's metadata could not tell them apart) or the same MAC twice
  is a ``SpecError`` naming ``macAddr``.
* a ``bridge`` list shorter than ``nicModel`` is padded with its last element (NICs share
  a bridge); a list longer than ``nicModel`` (more MACs or bridges than models, or any
  with an empty model list), or an empty one while models are given, cannot be zipped: a
  ``DevframeError`` naming the keys.
* every NIC is ``{"type": "interface", "device": "bridge", "macAddr": mac,
  "nicModel": model, "network": bridge}``; a malformed MAC is a ``DevframeError``
  naming ``macAddr``.
* no ``nicModel``, ``macAddr`` or ``bridge`` at all: no NIC.

Arch table: the rule is the same on every supported architecture (the device model
comes from the conf, never from the arch):

=========== =====================================
x86_64      zip rule above
ppc64       zip rule above
ppc64le     zip rule above
s390x       zip rule above (libvirt gives ccw addresses)
aarch64     zip rule above
=========== =====================================

Any other arch is a ``DevframeError``; so is a conf that is not a dict. The plugin
logs nothing here: the core's caller emits the deprecation warning and the log line
naming the legacy keys (from ``devframe_legacy_conf_keys``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devframe import ARCHES, DeviceTypeRegister, SpecError, check_arch, hookimpl
from devframe_nic.device import MAC, Nic, normalize_model

__all__ = ["LEGACY_ARCHES", "LEGACY_KEYS", "spec_list_from_legacy_conf"]

LEGACY_KEYS = ("macAddr", "nicModel", "bridge")
#: Architectures the legacy rule knows; all of them use the same rule.
LEGACY_ARCHES = tuple(ARCHES)  # the core's list: one rule for every arch


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Nic)


@hookimpl
def devframe_legacy_conf_keys() -> list[str]:
    return list(LEGACY_KEYS)


@hookimpl
def devframe_spec_list_from_legacy_conf(conf: Mapping[str, Any], arch: str) -> list[dict[str, Any]]:
    return spec_list_from_legacy_conf(conf, arch)


def _split(conf: Mapping[str, Any], key: str) -> list[str]:
    value = conf.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        items = [item.strip() for item in value.split(",")] if value.strip() else []
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        items = [item.strip() for item in value]
    else:
        raise SpecError(f"legacy conf key {key!r}: expected a comma-separated string, got {value!r}")
    if any(not item for item in items):
        raise SpecError(f"legacy conf key {key!r}: empty entry in {value!r}")
    return items


def _padded(items: list[str], count: int, key: str, models: str) -> list[str]:
    if len(items) > count:
        raise SpecError(
            f"legacy conf keys {key!r} and {models!r} cannot be zipped: "
            f"{len(items)} {key} entries for {count} {models} entries"
        )
    if not items:
        raise SpecError(f"legacy conf keys {key!r} and {models!r} cannot be zipped: {key!r} is empty")
    return items + [items[-1]] * (count - len(items))


def _one_each(macs: list[str], count: int) -> list[str]:
    """The MACs of ``count`` NICs: exactly one each, no two alike (MACs ignore case)."""
    _padded(macs, count, "macAddr", "nicModel")  # more MACs than models, or none: named there
    if len(macs) < count:
        raise SpecError(
            f"legacy conf key 'macAddr' has {len(macs)} MAC(s) for {count} NICs ('nicModel'): "
            "every NIC needs its own MAC"
        )
    seen: dict[str, int] = {}
    for index, mac in enumerate(macs):
        first = seen.setdefault(mac.strip().lower(), index)
        if first != index:
            raise SpecError(f"legacy conf key 'macAddr' gives {mac!r} to NICs {first} and {index}: MACs are unique")
    return macs


def spec_list_from_legacy_conf(conf: Mapping[str, Any], arch: str) -> list[dict[str, Any]]:
    """The NIC dev_specs of a legacy conf (see the module docstring for the rule)."""
    if not isinstance(conf, Mapping):
        raise SpecError(f"legacy conf must be a dict, got {type(conf).__name__}")
    check_arch(arch)
    models = _split(conf, "nicModel")
    macs = _split(conf, "macAddr")
    bridges = _split(conf, "bridge")
    if not models:
        if macs or bridges:
            given = [k for k, v in (("macAddr", macs), ("bridge", bridges)) if v]
            raise SpecError(f"legacy conf keys {[*given, 'nicModel']!r} cannot be zipped: 'nicModel' is empty")
        return []
    macs = _one_each(macs, len(models))
    bridges = _padded(bridges, len(models), "bridge", "nicModel")
    specs: list[dict[str, Any]] = []
    for index, (mac, model, bridge) in enumerate(zip(macs, models, bridges, strict=True)):
        try:
            MAC.parse(mac)
        except ValueError as exc:
            raise SpecError(f"legacy conf key 'macAddr' entry {index}: {exc} (got {mac!r})") from None
        specs.append(
            {
                "type": "interface",
                "device": "bridge",
                "macAddr": mac,
                "nicModel": normalize_model(model),
                "network": bridge,
            }
        )
    return specs
