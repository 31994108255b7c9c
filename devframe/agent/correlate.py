"""Correlate the devices libvirt reports with the devices the engine knows.

The engine knows each device by its deviceId; libvirt reports the devices of a running
domain. A reported device is matched to a known one by the rules of
:mod:`devframe.core.identity`: its deviceId (user alias ``ua-<deviceId>``) or libvirt
alias first, then its class's identity (disk target, NIC MAC, controller type and
index, ...) within the same dev_type, then, among devices that are otherwise
indistinguishable, in document order (identical XML first). Every lookup is a dict
built once, so correlation is linear in the number of devices, and no device is lost:
each known device is matched or removed, each reported one matched or added.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from devframe.core.device import Device, DeviceMetadata
from devframe.core.domain import Domain
from devframe.core.errors import DevframeError
from devframe.core.identity import (
    alias_key,
    device_id_from_alias,
    device_key,
    identity_key,
    match,
    unique_keys,
)
from devframe.core.metadata.binding import Entry
from devframe.core.registry import Registry
from devframe.core.xmledit import subtree_xml

__all__ = ["Correlation", "KnownDevices", "correlate", "device_label", "spec_changes"]


@dataclass
class Correlation:
    """The result of :func:`correlate`.

    ``matched``: key -> the reported device (key: the known deviceId; a known device
    without one is keyed by its alias, else ``dev_type:identity``, numbered ``#2``,
    ``#3`` ... for indistinguishable devices, so every known device has its own key).
    ``pairs``: key -> (known device, reported device). ``added``: reported devices
    nobody knew. ``removed``: known devices libvirt no longer reports. ``changed``: key
    -> {dev_spec field (dotted path): (known value, reported value)} for matched devices
    that differ. ``by``: key -> "alias", "identity" or "order", how each match was made.
    """

    matched: dict[str, Device] = field(default_factory=dict)
    pairs: dict[str, tuple[Device, Device]] = field(default_factory=dict)
    added: list[Device] = field(default_factory=list)
    removed: list[Device] = field(default_factory=list)
    changed: dict[str, dict[str, tuple[Any, Any]]] = field(default_factory=dict)
    by: dict[str, str] = field(default_factory=dict)
    #: key -> (known dev_spec, reported dev_spec) of the pairs whose XML differed, as
    #: built to compare them (callers reporting the change reuse them)
    specs: dict[str, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict)
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
    identity = device.checked_identity()
    return {
        "dev_type": device.dev_type,
        "alias": device.alias,
        "identity": dict(identity) if identity else None,
        "address": device.address,
    }


class KnownDevices:
    """The known side of :func:`correlate`, read once and matched against many reports.

    An agent keeps its known devices while libvirt reports the live XML again and again:
    a snapshot reads each known device's deviceId and serializes its XML once, instead of
    on every :meth:`correlate`. It holds each device's XML and deviceId as they were when
    it was made (metadata still undecoded then is compared as it was too; decoded metadata
    as it is when compared): make a new one after editing the devices. Each
    :class:`Correlation` carries the snapshot of its reported side
    (:attr:`Correlation.reported`), the known side of the next poll.
    """

    __slots__ = (
        "_aliases",
        "_keys",
        "_positions",
        "_raw",
        "_section",
        "_section_xml",
        "_unique",
        "dev_types",
        "devices",
        "ids",
        "metadata",
        "xml",
    )

    def __init__(
        self, known: Domain | Iterable[Any], *, registry: Registry | None = None, _like: KnownDevices | None = None
    ) -> None:
        ids: list[str | None]
        # One element's XML at a cost that follows the element (devframe.core.xmledit).
        tostring = subtree_xml
        xml: list[bytes] | None = None
        #: the domain's metadata section, while it is as parsed (see :meth:`section_xml`)
        self._section: Any = None
        self._section_xml: bytes | bool | None = False  # False: not serialized yet
        #: each device's alias where it was read on the way (else not read: None)
        self._aliases: list[str | None] | None = None
        self._positions: list[int] | None = None
        self._unique: bool | None = None
        if isinstance(known, Domain):
            self._section = known.metadata_section
            devices = known.devices
            xml = [tostring(device.element, as_bytes=True) for device in devices]
            ids, self._aliases = _device_ids(devices, xml, _like)
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
        #: the devices, their dev_types and engine deviceIds, in order
        self.devices: list[Device] = devices
        self.dev_types: list[str] = [device.dev_type for device in devices]
        self.ids: list[str | None] = ids
        #: each device's element, serialized when the snapshot was made
        self.xml: list[bytes] = xml if xml is not None else [tostring(d.element, as_bytes=True) for d in devices]
        #: each device's metadata: its DeviceMetadata, its entry still undecoded, or None
        self.metadata: list[Any] = [device.metadata_source for device in devices]
        self._raw: list[bytes | None] | None = None  # entry XML, made per device when compared
        self._keys: list[str] | None = None

    def __len__(self) -> int:
        return len(self.devices)

    def keys(self) -> list[str]:
        """Each device's key in a :class:`Correlation` (deviceId, else alias, else
        identity; indistinguishable devices numbered in document order)."""
        if self._keys is None:
            self._keys = unique_keys(
                [_key(device, device_id) for device, device_id in zip(self.devices, self.ids, strict=True)]
            )
        return self._keys

    def alias_keys(self) -> list[str | None]:
        """Each device's key for the first matching rule: deviceId, else libvirt alias."""
        aliases = self._aliases
        return [
            alias_key(aliases[i] if aliases is not None and aliases[i] is not None else device.alias, self.ids[i])
            for i, device in enumerate(self.devices)
        ]

    def raw_metadata(self, index: int) -> bytes | None:
        """The XML of device ``index``'s metadata entry while still undecoded (else None)."""
        raw = self._raw
        if raw is None:
            raw = self._raw = [None] * len(self.devices)
        value = raw[index]
        if value is None:
            value = raw[index] = _entry_xml(self.metadata[index])
        return value

    def unique_ids(self) -> bool:
        """True when no two devices share a deviceId."""
        unique = self._unique
        if unique is None:
            ids = [device_id for device_id in self.ids if device_id]
            unique = self._unique = len(set(ids)) == len(ids)
        return unique

    def identity(self, index: int) -> Any:
        """Device ``index``'s identity key for the second matching rule (None: none)."""
        return identity_key(self.dev_types[index], self.devices[index].checked_identity())

    def positions(self) -> list[int]:
        """Each device's metadata entry position as parsed (-1: none, or decoded since)."""
        positions = self._positions
        if positions is None:
            positions = self._positions = [
                -1 if item is None else item.position if type(item) is Entry else _parsed_position(item)
                for item in self.metadata
            ]
        return positions

    def section_xml(self) -> bytes | None:
        """The domain's ``<ovirt-vm:vm>`` XML while nothing was written to it since parsing
        (None otherwise): then each entry's parse-time position is its place in that XML."""
        xml = self._section_xml
        if xml is False:
            section = self._section
            vm = section.vm_element if section is not None and section.pristine else None
            xml = self._section_xml = etree.tostring(vm) if vm is not None else None
        return xml if isinstance(xml, bytes) else None

    def correlate(self, reported: Domain) -> Correlation:
        """Match ``reported`` (a Domain from live XML) against these devices."""
        if not isinstance(reported, Domain):
            raise DevframeError(
                f"correlate: reported must be a Domain parsed from live XML, got {type(reported).__name__}"
            )
        result = Correlation()
        # The live side reuses what this side read where a device's XML is unchanged.
        live = result.reported = KnownDevices(reported, _like=self)
        known_xml, live_xml = self.xml, live.xml
        matching = match(
            self.dev_types,
            self.alias_keys(),
            self.identity,
            live.dev_types,
            live.alias_keys(),
            live.identity,
            known_content=known_xml.__getitem__,
            live_content=live_xml.__getitem__,
        )
        result.removed = [self.devices[index] for index in matching.removed]
        result.added = [live.devices[found] for found in matching.added]
        self._record(result, live, matching.pairs, matching.how)
        return result

    def _record(self, result: Correlation, live: KnownDevices, pairs: list[tuple[int, int]], how: list[str]) -> None:
        """Fill the result for the matched pairs (``how``: the rule that matched each)."""
        keys = self.keys()
        known_devices, live_devices = self.devices, live.devices
        mine = [index for index, _ in pairs]
        theirs = [found for _, found in pairs]
        pair_keys = [keys[index] for index in mine]
        reported = [live_devices[found] for found in theirs]
        result.matched = dict(zip(pair_keys, reported, strict=True))
        result.pairs = dict(zip(pair_keys, zip([known_devices[i] for i in mine], reported, strict=True), strict=True))
        result.by = dict(zip(pair_keys, how, strict=True))
        # Most matched devices are unchanged: comparing their serialized XML (and metadata)
        # spares building two dev_specs per pair (which made correlate ~25x a parse).
        known_xml, live_xml = self.xml, live.xml
        known_md, live_md = self.metadata, live.metadata
        same_sections: bool | None = None  # both metadata sections as parsed, and equal
        known_at: list[int] | None = None
        live_at: list[int] | None = None
        for index, found, key in zip(mine, theirs, pair_keys, strict=True):
            if known_xml[index] == live_xml[found] and type(known_devices[index]) is type(live_devices[found]):
                first, second = known_md[index], live_md[found]
                if first is None and second is None:
                    continue
                if first is not None and second is not None:
                    if known_at is None or live_at is None:
                        known_at, live_at = self.positions(), live.positions()
                    position = known_at[index]
                    if position >= 0 and position == live_at[found]:
                        # Equal sections as parsed, and each entry at the same place in
                        # them: the entries are equal, and no entry is serialized.
                        if same_sections is None:
                            mine_xml = self.section_xml()
                            same_sections = mine_xml is not None and mine_xml == live.section_xml()
                        if same_sections:
                            continue
                if self._same_metadata(index, live, found):
                    continue
            before, after = _spec(known_devices[index]), _spec(live_devices[found])
            result.specs[key] = (before, after)
            diff = _diff(before, after)
            if diff:
                result.changed[key] = diff

    def _same_metadata(self, index: int, live: KnownDevices, found: int) -> bool:
        """Same device class and metadata values (the XML is known to be equal)."""
        known, reported = self.devices[index], live.devices[found]
        if self.metadata[index] is not None and live.metadata[found] is not None:
            # Both still as bound from their domains: equal entry XML means equal values,
            # and nothing is decoded.
            raw = self.raw_metadata(index)
            if raw is not None and raw == live.raw_metadata(found):
                return True
        first, second = known.metadata_if_any(), reported.metadata_if_any()
        if first is None or second is None:
            present = first if first is not None else second
            return present is None or len(present) == 0
        return first.same_as(second)


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


def _key(device: Device, device_id: str | None) -> str:
    if device_id:
        return device_id
    alias = device.alias
    if alias:
        return str(alias)
    return device_key(device.dev_type, None, None, device.checked_identity())


def _device_ids(
    devices: list[Device], xml: list[bytes], like: KnownDevices | None
) -> tuple[list[str | None], list[str | None]]:
    """Each device's deviceId, and its alias where read on the way.

    Read straight from the element for classes that keep the base rule (the alias
    ``ua-<deviceId>``), through the property for those that override it. Where ``like``
    (the known side) has a device of the same class serializing to the same XML at the
    same position, its alias and deviceId are the same, so they are taken from there:
    the common case when libvirt reports devices unchanged.
    """
    base = Device.device_id
    plain: dict[type, bool] = {}
    ids: list[str | None] = []
    aliases: list[str | None] = []
    append = ids.append
    add_alias = aliases.append
    like_xml: list[bytes] = like.xml if like is not None else []
    like_devices: list[Device] = like.devices if like is not None else []
    like_aliases = like._aliases if like is not None else None
    like_ids: list[str | None] = like.ids if like is not None else []
    known = len(like_xml) if like_aliases is not None else 0
    for index, device in enumerate(devices):
        cls = type(device)
        simple = plain.get(cls)
        if simple is None:
            simple = plain[cls] = getattr(cls, "device_id", None) is base and cls.has_alias
        if not simple:
            append(device.device_id)
            add_alias(None)
            continue
        if index < known and xml[index] == like_xml[index] and type(like_devices[index]) is cls:
            name = like_aliases[index]  # type: ignore[index]
            if name is not None or like_ids[index] is None:
                append(like_ids[index])
                add_alias(name)
                continue
        alias_el = next(device.element.iterchildren("alias"), None)
        name = alias_el.get("name") if alias_el is not None else None
        append(device_id_from_alias(name))
        add_alias(name)
    return ids, aliases


def _parsed_position(metadata: Any) -> int:
    """A still undecoded entry's place among its section's entries when parsed (else -1)."""
    if isinstance(metadata, DeviceMetadata):
        if not metadata.pending:
            return -1
        metadata = metadata.source
    position = getattr(metadata, "position", -1)
    return position if isinstance(position, int) else -1


def _entry_xml(metadata: Any) -> bytes | None:
    """The XML of a metadata entry not yet decoded (None once decoded, or without one)."""
    if metadata is None:
        return None
    if isinstance(metadata, DeviceMetadata):
        return metadata.raw_xml()
    get_raw = getattr(metadata, "raw", None)
    return get_raw() if callable(get_raw) else None


def spec_changes(known: Device, reported: Device) -> dict[str, tuple[Any, Any]]:
    """The dev_spec fields (dotted paths) whose values differ between two devices."""
    return _diff(_spec(known), _spec(reported))


def _diff(known: Mapping[str, Any], reported: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    old = _flatten(known)
    new = _flatten(reported)
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
