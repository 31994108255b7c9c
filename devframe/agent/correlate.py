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

from devframe.core.device import Device, DeviceMetadata
from devframe.core.domain import Domain
from devframe.core.errors import DevframeError
from devframe.core.registry import Registry

__all__ = ["Correlation", "KnownDevices", "correlate", "device_label", "spec_changes"]


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
    #: the reported devices as a snapshot: the known side of the next poll
    reported: KnownDevices | None = None

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


class KnownDevices:
    """The known side of :func:`correlate`, read once and matched against many reports.

    An agent keeps its known devices while libvirt reports the live XML again and again:
    a snapshot reads each known device's deviceId and serializes its XML once, instead of
    on every :meth:`correlate`. It holds the devices as they were when it was made; make a
    new one after editing them. Each :class:`Correlation` carries the snapshot of its
    reported side (:attr:`Correlation.reported`), the known side of the next poll.
    """

    __slots__ = ("_keys", "_raw", "dev_types", "devices", "ids", "metadata", "xml")

    def __init__(self, known: Domain | Iterable[Any], *, registry: Registry | None = None) -> None:
        ids: list[str | None]
        if isinstance(known, Domain):
            devices = list(known._devices)
            ids = [device.device_id for device in devices]
        else:
            devices, ids = [], []
            for index, item in enumerate(known):
                if isinstance(item, Device):
                    devices.append(item)
                    ids.append(item.device_id)
                    continue
                if not isinstance(item, Mapping):
                    raise DevframeError(
                        f"correlate: known device #{index} is a {type(item).__name__}, expected a dev_spec dict"
                    )
                if registry is None:
                    raise DevframeError("correlate: dev_specs need a registry to become devices")
                device = registry.device_from_spec(item)
                device_id = item.get("deviceId")
                devices.append(device)
                ids.append(str(device_id) if device_id else device.device_id)
        tostring = etree.tostring
        #: the devices, their dev_types and engine deviceIds, in order
        self.devices: list[Device] = devices
        self.dev_types: list[str] = [device.dev_type for device in devices]
        self.ids: list[str | None] = ids
        #: each device's element, serialized when the snapshot was made
        self.xml: list[bytes] = [tostring(device.element, with_tail=False) for device in devices]
        #: each device's metadata: its DeviceMetadata, its entry still undecoded, or None
        self.metadata: list[Any] = [device._metadata for device in devices]
        self._raw: list[bytes | None] | None = None  # entry XML, made per device when compared
        self._keys: list[str] | None = None

    def __len__(self) -> int:
        return len(self.devices)

    def keys(self) -> list[str]:
        """Each device's key in a :class:`Correlation` (deviceId, else alias, else identity)."""
        if self._keys is None:
            self._keys = [_key(device, device_id) for device, device_id in zip(self.devices, self.ids, strict=True)]
        return self._keys

    def raw_metadata(self, index: int) -> bytes | None:
        """The XML of device ``index``'s metadata entry while still undecoded (else None)."""
        raw = self._raw
        if raw is None:
            raw = self._raw = [None] * len(self.devices)
        value = raw[index]
        if value is None:
            value = raw[index] = _entry_xml(self.metadata[index])
        return value

    def correlate(self, reported: Domain) -> Correlation:
        """Match ``reported`` (a Domain from live XML) against these devices."""
        if not isinstance(reported, Domain):
            raise DevframeError(
                f"correlate: reported must be a Domain parsed from live XML, got {type(reported).__name__}"
            )
        result = Correlation()
        live = result.reported = KnownDevices(reported)
        live_ids, live_types = live.ids, live.dev_types
        count = len(live_ids)
        # First occurrence wins: filled back to front, in C.
        by_id: dict[str | None, int] = dict(zip(reversed(live_ids), range(count - 1, -1, -1), strict=True))
        by_id.pop(None, None)
        taken: set[int] = set()
        waiting: list[int] = []
        keys = self.keys()
        for index, device_id in enumerate(self.ids):
            found = by_id.get(device_id) if device_id else None
            if found is None or found in taken or live_types[found] != self.dev_types[index]:
                waiting.append(index)
                continue
            taken.add(found)
            self._record(result, keys[index], index, live, found, "alias")
        if waiting:
            # Identity lookup over what aliases did not match, built once.
            by_identity: dict[tuple[str, tuple[Any, ...]], list[int]] = {}
            for found in range(count):
                if found in taken:
                    continue
                identity = _identity(live.devices[found])
                if identity is not None:
                    by_identity.setdefault((live_types[found], identity), []).append(found)
            for index in waiting:
                identity = _identity(self.devices[index])
                candidates = by_identity.get((self.dev_types[index], identity)) if identity is not None else None
                if not candidates:
                    result.removed.append(self.devices[index])
                    continue
                found = candidates.pop(0)
                taken.add(found)
                self._record(result, keys[index], index, live, found, "identity")
        if len(taken) < count:
            result.added = [device for found, device in enumerate(live.devices) if found not in taken]
        return result

    def _record(self, result: Correlation, key: str, index: int, live: KnownDevices, found: int, how: str) -> None:
        known, reported = self.devices[index], live.devices[found]
        result.matched[key] = reported
        result.pairs[key] = (known, reported)
        result.by[key] = how
        # Most matched devices are unchanged: comparing their serialized XML (and metadata)
        # spares building two dev_specs per pair (which made correlate ~25x a parse).
        if self.xml[index] == live.xml[found] and type(known) is type(reported):
            mine, theirs = self.metadata[index], live.metadata[found]
            if mine is None and theirs is None:
                return
            if mine is not None and theirs is not None:
                # Both still as bound from their domains: equal entry XML means equal
                # values, and nothing is decoded.
                raw = self.raw_metadata(index)
                if raw is not None and raw == live.raw_metadata(found):
                    return
            first, second = known.metadata_if_any(), reported.metadata_if_any()
            if first is None or second is None:
                present = first if first is not None else second
                if present is None or len(present) == 0:
                    return
            elif first.same_as(second):
                return
        diff = spec_changes(known, reported)
        if diff:
            result.changed[key] = diff


def correlate(
    known: KnownDevices | Domain | Sequence[Mapping[str, Any]] | Iterable[Any], reported: Domain
) -> Correlation:
    """Match ``reported`` (a Domain from live XML) against ``known`` (a Domain, a
    dev_spec_list, or a :class:`KnownDevices` snapshot kept between polls). See
    :class:`Correlation`."""
    if not isinstance(reported, Domain):
        raise DevframeError(f"correlate: reported must be a Domain parsed from live XML, got {type(reported).__name__}")
    if not isinstance(known, KnownDevices):
        known = KnownDevices(known, registry=reported.registry)
    return known.correlate(reported)


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


def _key(device: Device, device_id: str | None) -> str:
    if device_id:
        return device_id
    alias = device.alias
    if alias:
        return str(alias)
    identity = device.identity()
    return f"{device.dev_type}:{'/'.join(str(p) for p in identity or ())}"


def _entry_xml(metadata: Any) -> bytes | None:
    """The XML of a metadata entry not yet decoded (None once decoded, or without one)."""
    if metadata is None:
        return None
    if isinstance(metadata, DeviceMetadata):
        return metadata._raw()
    get_raw = getattr(metadata, "raw", None)
    return get_raw() if callable(get_raw) else None


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
