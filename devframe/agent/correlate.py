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

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import repeat
from typing import Any, cast

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
from devframe.core.metadata.section import MetadataSection
from devframe.core.registry import Registry
from devframe.core.xmledit import FEW_NAMESPACES, children_xml, subtree_xml

__all__ = ["Correlation", "KnownDevices", "correlate", "device_label", "spec_changes"]

#: one element as XML bytes, without its tail (called through map: no Python frame per device)
_tostring = cast("Callable[[etree._Element], bytes]", partial(etree.tostring, with_tail=False))


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
    it was made (metadata still undecoded then is compared as it was when first compared;
    decoded metadata as it is when compared): make a new one after editing the devices.
    Each :class:`Correlation` carries the snapshot of its reported side
    (:attr:`Correlation.reported`), the known side of the next poll.

    What follows from a device's XML alone (its alias, deviceId and identity) is read
    once per distinct XML: a reported device serializing like a known device of the
    same class takes them from the known side.
    """

    __slots__ = (
        "_alias_keys",
        "_aliases",
        "_by_xml",
        "_entries",
        "_hits",
        "_identities",
        "_keys",
        "_raw",
        "_section",
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
        xml: list[bytes] | None = None
        #: the domain's metadata section (entries are compared through its XML)
        self._section: MetadataSection | None = None
        #: the section's start tag and each entry element's XML, cut once (None: not cut yet)
        self._entries: tuple[bytes, dict[Any, bytes]] | bool | None = None
        #: each device's alias where it was read on the way (else not read: None)
        self._aliases: list[str | None] | None = None
        #: each device's index on the known side it was made against (-1: no device there
        #: with the same XML and class); only while :meth:`correlate` runs
        self._hits: list[int] | None = None
        self._alias_keys: list[str | None] | None = None
        self._identities: list[Any] | None = None
        self._by_xml: dict[bytes, int] | None = None
        self._unique: bool | None = None
        if isinstance(known, Domain):
            self._section = known.metadata_section
            devices = known.devices
            xml = _devices_xml(devices)
            ids, self._aliases, self._hits = _device_ids(devices, xml, _like)
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
        self.xml: list[bytes] = xml if xml is not None else [subtree_xml(d.element, as_bytes=True) for d in devices]
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
        keys = self._alias_keys
        if keys is None:
            aliases = self._aliases
            keys = self._alias_keys = [
                alias_key(aliases[i] if aliases is not None and aliases[i] is not None else device.alias, self.ids[i])
                for i, device in enumerate(self.devices)
            ]
        return keys

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
        return self._identity(index, None)

    def _identity(self, index: int, like: KnownDevices | None) -> Any:
        """:meth:`identity`, read once; taken from ``like`` (the known side this snapshot
        was made against) where a device there has the same XML and class."""
        found = self._identities
        if found is None:
            found = self._identities = [_UNREAD] * len(self.devices)
        value = found[index]
        if value is _UNREAD:
            hits = self._hits
            hit = hits[index] if hits is not None and like is not None else -1
            # An identity reads the element only, so equal XML gives an equal one; a
            # missing one is read again (a plugin failure is then reported for this device).
            value = like._identity(hit, None) if hit >= 0 else None  # type: ignore[union-attr]
            if value is None:
                value = identity_key(self.dev_types[index], self.devices[index].checked_identity())
            found[index] = value
        return value

    def _xml_index(self) -> dict[bytes, int]:
        """Each distinct device XML and the first device serializing to it."""
        by_xml = self._by_xml
        if by_xml is None:
            xml = self.xml
            # reversed: the first of equal XMLs is written last and stays
            by_xml = self._by_xml = dict(zip(reversed(xml), range(len(xml) - 1, -1, -1), strict=True))
        return by_xml

    def _entry_pieces(self) -> tuple[bytes, dict[Any, bytes]] | None:
        """The metadata section's start tag and each entry element's XML, the section
        written once (None: no section, or not cut: entries are then written one by one)."""
        entries = self._entries
        if entries is None:
            section = self._section
            vm = section.vm_element if section is not None else None
            cut = children_xml(vm) if vm is not None else None
            entries = self._entries = (cut[0], dict(zip(vm, cut[1], strict=True))) if cut is not None else False  # type: ignore[arg-type]
        return entries if entries is not False else None  # type: ignore[return-value]

    def correlate(self, reported: Domain) -> Correlation:
        """Match ``reported`` (a Domain from live XML) against these devices."""
        if not isinstance(reported, Domain):
            raise DevframeError(
                f"correlate: reported must be a Domain parsed from live XML, got {type(reported).__name__}"
            )
        result = Correlation()
        # The live side reuses what this side read where a device's XML is unchanged.
        live = result.reported = KnownDevices(reported, _like=self)
        try:
            matching = match(
                self.dev_types,
                self.alias_keys(),
                self.identity,
                live.dev_types,
                live.alias_keys(),
                partial(live._identity, like=self),
                known_content=self.xml.__getitem__,
                live_content=live.xml.__getitem__,
            )
        finally:
            live._hits = None  # indexes into this side: meaningless for the next poll
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
        # Entries of both sections, each section written once and cut per entry: equal
        # entry XML under equal section start tags means equal values, nothing decoded.
        entries: tuple[dict[Any, bytes], dict[Any, bytes]] | None = None
        for index, found, key in zip(mine, theirs, pair_keys, strict=True):
            if known_xml[index] == live_xml[found] and type(known_devices[index]) is type(live_devices[found]):
                first, second = known_md[index], live_md[found]
                if first is None and second is None:
                    continue
                if first is not None and second is not None:
                    if entries is None:
                        entries = self._comparable_entries(live)
                    mine_xml = entries[0].get(_entry_element(first))
                    if mine_xml is not None and mine_xml == entries[1].get(_entry_element(second)):
                        continue
                if self._same_metadata(index, live, found):
                    continue
            before, after = _spec(known_devices[index]), _spec(live_devices[found])
            result.specs[key] = (before, after)
            diff = _diff(before, after)
            if diff:
                result.changed[key] = diff

    def _comparable_entries(self, live: KnownDevices) -> tuple[dict[Any, bytes], dict[Any, bytes]]:
        """Each side's entry XML by entry element when both sections were cut and start
        alike (the start tag declares the namespaces in scope); else nothing to look up."""
        mine, theirs = self._entry_pieces(), live._entry_pieces()
        if mine is None or theirs is None or mine[0] != theirs[0]:
            return {}, {}
        return mine[1], theirs[1]

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


#: an identity not read yet
_UNREAD: Any = object()


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


def _devices_xml(devices: list[Device]) -> list[bytes]:
    """Each device's element as XML (without its tail), as :func:`subtree_xml` writes it.

    The devices of one domain share their parent: the namespaces in scope are counted
    once, not once per device.
    """
    if not devices:
        return []
    parent = devices[0].element.getparent()
    elements = [device.element for device in devices]
    if parent is None or len(parent.nsmap) <= FEW_NAMESPACES:
        return list(map(_tostring, elements))
    return [subtree_xml(element, as_bytes=True) for element in elements]


def _device_ids(
    devices: list[Device], xml: list[bytes], like: KnownDevices | None
) -> tuple[list[str | None], list[str | None], list[int] | None]:
    """Each device's deviceId, its alias where read on the way, and the index of the
    device of ``like`` with the same XML and class (-1: none).

    Read straight from the element for classes that keep the base rule (the alias
    ``ua-<deviceId>``), through the property for those that override it. Where ``like``
    (the known side) has a device of the same class serializing to the same XML, its
    alias and deviceId are the same, so they are taken from there: the common case when
    libvirt reports devices unchanged, wherever they moved.
    """
    base = Device.device_id
    plain: dict[type, bool] = {}
    ids: list[str | None] = []
    aliases: list[str | None] = []
    append = ids.append
    add_alias = aliases.append
    like_aliases = like._aliases if like is not None else None
    hits: list[int] | None = None
    if like is not None:
        hits = list(map(like._xml_index().get, xml, repeat(-1)))
    like_devices: list[Device] = like.devices if like is not None else []
    like_ids: list[str | None] = like.ids if like is not None else []
    for index, device in enumerate(devices):
        cls = type(device)
        hit = hits[index] if hits is not None else -1
        if hit >= 0 and type(like_devices[hit]) is not cls:
            hit = hits[index] = -1  # type: ignore[index]
        simple = plain.get(cls)
        if simple is None:
            simple = plain[cls] = getattr(cls, "device_id", None) is base and cls.has_alias
        if not simple:
            append(device.device_id)
            add_alias(None)
            continue
        if hit >= 0 and like_aliases is not None:
            name = like_aliases[hit]
            if name is not None or like_ids[hit] is None:
                append(like_ids[hit])
                add_alias(name)
                continue
        alias_el = next(device.element.iterchildren("alias"), None)
        name = alias_el.get("name") if alias_el is not None else None
        append(device_id_from_alias(name))
        add_alias(name)
    return ids, aliases, hits


def _entry_element(metadata: Any) -> Any:
    """The element of a metadata entry still undecoded (None once decoded: a decoded
    DeviceMetadata has no source left)."""
    if type(metadata) is Entry:
        return metadata.element
    if isinstance(metadata, DeviceMetadata) and type(metadata.source) is Entry:
        return metadata.source.element
    return None


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
