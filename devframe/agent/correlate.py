"""Correlate the devices libvirt reports with the devices the engine knows.

The engine knows each device by its deviceId; libvirt reports the devices of a running
domain. A reported device is matched to a known one by its user alias
``ua-<deviceId>`` first, then by its plugin's identity (disk target, NIC MAC,
controller type and index, ...) within the same dev_type. Both lookups are dicts built
once, so correlation is linear in the number of devices.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from devframe.core.device import Device
from devframe.core.domain import Domain
from devframe.core.errors import DevframeError

__all__ = ["Correlation", "correlate", "device_label", "spec_changes"]


@dataclass
class Correlation:
    """The result of :func:`correlate`.

    ``matched``: key -> the reported device (key: the known deviceId; a known device
    without one is keyed by its alias, else ``dev_type:identity``). ``pairs``: key ->
    (known device, reported device). ``added``: reported devices nobody knew.
    ``removed``: known devices libvirt no longer reports. ``changed``: key -> {dev_spec
    field (dotted path): (known value, reported value)} for matched devices that differ.
    ``by``: key -> "alias" or "identity", how each match was made.
    """

    matched: dict[str, Device] = field(default_factory=dict)
    pairs: dict[str, tuple[Device, Device]] = field(default_factory=dict)
    added: list[Device] = field(default_factory=list)
    removed: list[Device] = field(default_factory=list)
    changed: dict[str, dict[str, tuple[Any, Any]]] = field(default_factory=dict)
    by: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (aliases, not objects)."""
        return {
            "matched": {key: device_label(device) for key, device in self.matched.items()},
            "added": [device_label(device) for device in self.added],
            "removed": [device_label(device) for device in self.removed],
            "changed": {key: {f: [old, new] for f, (old, new) in diff.items()} for key, diff in self.changed.items()},
        }


def device_label(device: Device) -> dict[str, Any]:
    """How a device is named in reports: dev_type, alias, identity, address (JSON-friendly)."""
    identity = device.identity()
    return {
        "dev_type": device.dev_type,
        "alias": device.alias,
        "identity": list(identity) if identity is not None else None,
        "address": device.address,
    }


def _known_devices(known: Domain | Iterable[Any], reported: Domain) -> list[tuple[Device, str | None]]:
    if isinstance(known, Domain):
        return [(device, device.device_id) for device in known.devices]
    out: list[tuple[Device, str | None]] = []
    for index, item in enumerate(known):
        if isinstance(item, Device):
            out.append((item, item.device_id))
            continue
        if not isinstance(item, Mapping):
            raise DevframeError(
                f"correlate: known device #{index} is a {type(item).__name__}, expected a dev_spec dict"
            )
        device = reported.registry.device_from_spec(item)
        device_id = item.get("deviceId")
        out.append((device, str(device_id) if device_id else device.device_id))
    return out


def _key(device: Device, device_id: str | None) -> str:
    if device_id:
        return device_id
    alias = device.alias
    if alias:
        return str(alias)
    identity = device.identity()
    return f"{device.dev_type}:{'/'.join(str(p) for p in identity or ())}"


def correlate(known: Domain | Sequence[Mapping[str, Any]] | Iterable[Any], reported: Domain) -> Correlation:
    """Match ``reported`` (a Domain from live XML) against ``known`` (a Domain or a
    dev_spec_list). See :class:`Correlation`."""
    if not isinstance(reported, Domain):
        raise DevframeError(f"correlate: reported must be a Domain parsed from live XML, got {type(reported).__name__}")
    known_devices = _known_devices(known, reported)
    result = Correlation()

    reported_devices = reported.devices
    by_id: dict[str, int] = {}
    for index, device in enumerate(reported_devices):
        device_id = device.device_id
        if device_id is not None:
            by_id.setdefault(device_id, index)
    taken: set[int] = set()
    waiting: list[tuple[Device, str | None]] = []
    for device, device_id in known_devices:
        found = by_id.get(device_id) if device_id else None
        if found is None or found in taken or reported_devices[found].dev_type != device.dev_type:
            waiting.append((device, device_id))
            continue
        taken.add(found)
        _record(result, device, device_id, reported_devices[found], "alias")

    # Identity lookup over what aliases did not match, built once.
    by_identity: dict[tuple[str, tuple[Any, ...]], list[int]] = {}
    for index, device in enumerate(reported_devices):
        if index in taken:
            continue
        identity = _identity(device)
        if identity is not None:
            by_identity.setdefault((device.dev_type, identity), []).append(index)
    for device, device_id in waiting:
        identity = _identity(device)
        candidates = by_identity.get((device.dev_type, identity)) if identity is not None else None
        if not candidates:
            result.removed.append(device)
            continue
        index = candidates.pop(0)
        taken.add(index)
        _record(result, device, device_id, reported_devices[index], "identity")

    result.added = [device for index, device in enumerate(reported_devices) if index not in taken]
    return result


def _identity(device: Device) -> tuple[Any, ...] | None:
    """The plugin's identity; for a device without one (no plugin: ``<memballoon>``,
    ``<audio>``), its libvirt alias, else its whole canonical XML."""
    identity = device.identity()
    if identity is not None:
        return identity
    alias = device.alias
    if alias:
        return ("alias", alias)
    return ("xml", etree.tostring(device.element, method="c14n2", strip_text=True, with_comments=False))


def _record(result: Correlation, known: Device, device_id: str | None, reported: Device, how: str) -> None:
    key = _key(known, device_id)
    result.matched[key] = reported
    result.pairs[key] = (known, reported)
    result.by[key] = how
    # Most matched devices are unchanged: a cheap equality check spares building
    # two dev_specs per pair (which made correlate ~25x a parse).
    diff = {} if known.same_as(reported) else spec_changes(known, reported)
    if diff:
        result.changed[key] = diff


def spec_changes(known: Device, reported: Device) -> dict[str, tuple[Any, Any]]:
    """The dev_spec fields (dotted paths) whose values differ between two devices."""
    old = _flatten(_spec(known))
    new = _flatten(_spec(reported))
    changes: dict[str, tuple[Any, Any]] = {}
    for name in old.keys() | new.keys():
        before, after = old.get(name), new.get(name)
        if before != after:
            changes[name] = (before, after)
    return dict(sorted(changes.items()))


def _spec(device: Device) -> dict[str, Any]:
    try:
        return device.to_spec()
    except DevframeError as exc:
        # A device whose values do not fit its fields is still compared, by its error.
        return {"error": str(exc)}


def _flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        path = f"{prefix}{key}"
        if isinstance(item, Mapping) and item:
            out.update(_flatten(item, path + "."))
        elif isinstance(item, Mapping):
            continue  # an empty specParams says nothing
        else:
            out[path] = item
    return out
