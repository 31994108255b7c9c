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
from operator import is_
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
from devframe.core.safexml import parse_trusted_xml
from devframe.core.xmlcut import children_xml
from devframe.core.xmledit import FEW_NAMESPACES, subtree_xml

__all__ = ["Correlation", "KnownDevices", "Written", "correlate", "device_label", "devices_written", "spec_changes"]

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
    #: built to compare them (callers reporting the change reuse them; the snapshots keep
    #: them for the next correlation: read them, never edit them)
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
        "_context",
        "_entries",
        "_hits",
        "_identities",
        "_keys",
        "_layout",
        "_raw",
        "_section",
        "_spec_marks",
        "_specs",
        "_standalone",
        "_unique",
        "dev_types",
        "devices",
        "ids",
        "metadata",
        "xml",
    )

    def __init__(
        self,
        known: Domain | Iterable[Any],
        *,
        registry: Registry | None = None,
        written: Written | None = None,
        _like: KnownDevices | None = None,
    ) -> None:
        """``known``: a Domain, or devices and dev_specs (these need ``registry``).
        ``written``: the Domain's ``<devices>`` as :func:`devices_written` wrote it just
        now (a caller that wrote it for a digest spares writing it again)."""
        ids: list[str | None]
        xml: list[bytes] | None = None
        #: the metadata section (entries are compared through its XML)
        self._section: MetadataSection | None = None
        #: the section's start tag and each entry element's XML, cut once (``_UNREAD``: not
        #: cut yet; None: not to be cut)
        self._entries: Any = _UNREAD
        #: each device's alias as read on the way (``_UNREAD``: not read)
        self._aliases: list[Any] | None = None
        #: each device's index on the known side it was made against (-1: no device there
        #: with the same XML and class); only while :meth:`correlate` runs
        self._hits: list[int] | None = None
        self._alias_keys: list[str | None] | None = None
        self._identities: list[Any] | None = None
        self._by_xml: dict[bytes, int] | None = None
        self._unique: bool | None = None
        #: when :attr:`xml` holds the devices as written inside ``<devices>`` and that start
        #: tag declares namespaces: (start tag, end tag); None: each is XML on its own
        self._context: tuple[bytes, bytes] | None = None
        self._standalone: list[bytes] | None = None
        #: whether ``<devices>`` was written once and cut (None: not a domain's devices)
        self._layout: bool | None = None
        if isinstance(known, Domain):
            self._section = known.metadata_section
            devices = known.devices
            # A domain laid out as the known side's was is tried first (an agent's polls
            # come from one writer); one that could not be cut is written device by device.
            cut = _like is None or _like._layout is not False
            xml, self._context, self._layout = _devices_xml(devices, cut=cut, written=written)
            ids, self._aliases = self._read_ids(devices, xml, _like)
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
        #: each device's element as XML, serialized when the snapshot was made: written on
        #: its own, or as written inside ``<devices>`` (whose start tag then declares the
        #: namespaces in scope: compared only with devices written under an equal one)
        self.xml: list[bytes] = xml if xml is not None else [subtree_xml(d.element, as_bytes=True) for d in devices]
        #: each device's metadata: its DeviceMetadata, its entry still undecoded, or None
        self.metadata: list[Any] = [device.metadata_source for device in devices]
        self._raw: list[bytes | None] | None = None  # entry XML, made per device when compared
        self._keys: list[str] | None = None
        #: each device's dev_spec once built (:meth:`spec`), else None
        self._specs: list[dict[str, Any] | None] | None = None
        #: per built spec, the decoded metadata it was built from (:func:`_metadata_mark`)
        self._spec_marks: list[Any] | None = None

    def __len__(self) -> int:
        return len(self.devices)

    def keys(self) -> list[str]:
        """Each device's key in a :class:`Correlation` (deviceId, else alias, else
        identity; indistinguishable devices numbered in document order)."""
        if self._keys is None:
            # The alias as read on the way and the identity as matching read it (or took
            # it from the known side), where they were: not read from the element again.
            keys: list[str] = []
            for index, device_id in enumerate(self.ids):
                if device_id:
                    keys.append(device_id)
                    continue
                alias = self.alias(index)
                if alias:
                    keys.append(str(alias))
                    continue
                found = self._identity(index, None)
                keys.append(device_key(self.dev_types[index], None, None, dict(found[1]) if found else None))
            self._keys = unique_keys(keys)
        return self._keys

    def alias(self, index: int) -> str | None:
        """Device ``index``'s libvirt alias (as read on the way where it was)."""
        aliases = self._aliases
        found = aliases[index] if aliases is not None else _UNREAD
        return self.devices[index].alias if found is _UNREAD else found

    def alias_keys(self) -> list[str | None]:
        """Each device's key for the first matching rule: deviceId, else libvirt alias."""
        keys = self._alias_keys
        if keys is None:
            aliases = self._aliases
            if aliases is not None and _UNREAD not in aliases:
                keys = list(map(alias_key, aliases, self.ids))
            else:
                keys = [
                    alias_key(device.alias if aliases is None or aliases[i] is _UNREAD else aliases[i], self.ids[i])
                    for i, device in enumerate(self.devices)
                ]
            self._alias_keys = keys
        return keys

    def spec(self, index: int) -> dict[str, Any]:
        """Device ``index``'s dev_spec (``to_spec()``, secrets left out; ``{"error": ...}``
        when its values do not fit), built once per snapshot and kept: a correlation
        takes a reported device's spec from here, or builds it here for the snapshot it
        makes, so the next correlation has it as its known side's. Shared, not copied:
        read it, never edit it.

        Kept while the device's metadata is as bound from its domain (none, or not yet
        decoded), or decoded and not written to since the spec was built (``to_spec``
        itself decodes it). Like the XML, it is the device as it was: make a new
        snapshot after editing a device's element."""
        specs = self._specs
        if specs is None:
            specs = self._specs = [None] * len(self.devices)
        device = self.devices[index]
        spec = specs[index]
        if spec is None or not self._spec_holds(index, device):
            spec = specs[index] = _spec(device)
            self._mark(index, device)
        return spec

    def known_spec(self, index: int) -> dict[str, Any] | None:
        """Device ``index``'s dev_spec if :meth:`spec` built it already and it still
        holds (else None: nothing is built)."""
        specs = self._specs
        if specs is None:
            return None
        spec = specs[index]
        return spec if spec is not None and self._spec_holds(index, self.devices[index]) else None

    def _take_spec(self, index: int, spec: dict[str, Any] | None) -> None:
        """Keep ``spec`` as device ``index``'s (its XML and metadata equal a device's
        whose spec it is)."""
        if spec is None:
            return
        specs = self._specs
        if specs is None:
            specs = self._specs = [None] * len(self.devices)
        specs[index] = spec
        self._mark(index, self.devices[index])

    def _mark(self, index: int, device: Device) -> None:
        """Note what device ``index``'s metadata is as its spec is kept."""
        mark = _metadata_mark(device)
        marks = self._spec_marks
        if marks is None:
            if mark is None:
                return
            marks = self._spec_marks = [None] * len(self.devices)
        marks[index] = mark

    def _spec_holds(self, index: int, device: Device) -> bool:
        """Whether device ``index``'s kept spec still matches its metadata."""
        if _metadata_as_bound(device):
            return True
        marks = self._spec_marks
        mark = marks[index] if marks is not None else None
        if mark is None:
            return False
        source = device.metadata_source
        return mark[0] is source and isinstance(source, DeviceMetadata) and mark[1] == source.edits

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
            # An identity reads the element only, so equal XML gives an equal one; a
            # missing one is read again (a plugin failure is then reported for this device).
            value = None
            if hits is not None and like is not None and hits[index] >= 0:
                value = like._identity(hits[index], None)
            if value is None:
                value = identity_key(self.dev_types[index], self.devices[index].checked_identity())
            found[index] = value
        return value

    def _xml_index(self) -> dict[bytes, int]:
        """Each distinct device XML and the first device serializing to it."""
        by_xml = self._by_xml
        if by_xml is None:
            by_xml = self._by_xml = _first_of(self.xml)
        return by_xml

    def _entry_pieces(self) -> tuple[bytes, dict[Any, bytes]] | None:
        """The metadata section's start tag and each entry element's XML, the section
        written once (None: no section, or not cut: entries are then written one by one)."""
        entries = self._entries
        if entries is _UNREAD:
            section = self._section
            vm = section.vm_element if section is not None else None
            cut = children_xml(vm) if vm is not None else None
            entries = None
            if vm is not None and cut is not None:
                entries = (cut[0], dict(zip(vm, cut[1], strict=True)))
            self._entries = entries
        return entries  # type: ignore[no-any-return]

    def _read_ids(
        self, devices: list[Device], xml: list[bytes], like: KnownDevices | None
    ) -> tuple[list[str | None], list[Any]]:
        """Each device's deviceId, and its alias as read on the way; sets ``_hits``.

        Read straight from the element for classes that keep the base rule (the alias
        ``ua-<deviceId>``, and for kinds libvirt gives no alias, the metadata's deviceId,
        read from the entry without wrapping it), through the property for classes that
        have their own. Where ``like`` (the known side) has a device of the same class
        serializing to the same XML, its alias, and its deviceId where the metadata cannot
        differ, are taken from there: the common case when libvirt reports devices
        unchanged, wherever they moved.
        """
        base = Device.device_id
        rules: dict[type, int] = {}
        ids: list[str | None] = []
        aliases: list[Any] = []
        append = ids.append
        add_alias = aliases.append
        hits: list[int] | None = None
        like_aliases = like._aliases if like is not None else None
        if like is not None and (like._context == self._context or self._context is None):
            # In one form: as held when written under equal <devices> tags, else alone.
            by_xml = like._xml_index() if like._context == self._context else _first_of(like._xml_alone())
            hits = list(map(by_xml.get, xml, repeat(-1)))
        self._hits = hits
        like_devices: list[Device] = like.devices if like is not None else []
        like_ids: list[str | None] = like.ids if like is not None else []
        for index, device in enumerate(devices):
            cls = type(device)
            hit = hits[index] if hits is not None else -1
            if hit >= 0 and type(like_devices[hit]) is not cls:
                hit = hits[index] = -1  # type: ignore[index]
            rule = rules.get(cls)
            if rule is None:
                rule = rules[cls] = (
                    _OWN_RULE
                    if getattr(cls, "device_id", None) is not base
                    else _ALIAS_RULE
                    if cls.has_alias
                    else _METADATA_RULE
                )
            if rule == _OWN_RULE:
                append(device.device_id)
                add_alias(_UNREAD)
                continue
            if hit >= 0 and like is not None and like_aliases is not None:
                name = like_aliases[hit]
                if (
                    (name is not None or like_ids[hit] is None)
                    if rule == _ALIAS_RULE
                    else device_id_from_alias(name) is not None or self._same_entry(device, like, hit)
                ):
                    append(like_ids[hit])
                    add_alias(name)
                    continue
            alias_el = next(device.element.iterchildren("alias"), None)
            name = alias_el.get("name") if alias_el is not None else None
            found = device_id_from_alias(name)
            if found is None and rule == _METADATA_RULE:
                found = _metadata_device_id(device)
            append(found)
            add_alias(name)
        return ids, aliases

    def _same_entry(self, device: Device, like: KnownDevices, hit: int) -> bool:
        """``device`` has no metadata and ``like``'s device ``hit`` none either, or both
        have entries still undecoded and of equal XML (under equal section tags)."""
        mine, theirs = device.metadata_source, like.metadata[hit]
        if mine is None or theirs is None:
            return mine is None and theirs is None
        entries = like._comparable_entries(self)
        found = entries[0].get(_entry_element(theirs))
        return found is not None and found == entries[1].get(_entry_element(mine))

    def _xml_for(self, live: KnownDevices) -> tuple[list[bytes], list[bytes]]:
        """This side's and ``live``'s (a snapshot made just now) device XML in one form:
        as held, when written under equal ``<devices>`` tags, else each written on its own."""
        if self._context == live._context:
            return self.xml, live.xml
        return self._xml_alone(), live._xml_alone(now=True)

    def _xml_alone(self, *, now: bool = False) -> list[bytes]:
        """Each device's XML written on its own, as when the snapshot was made (``now``:
        it was just made, so its elements are written again)."""
        context = self._context
        if context is None:
            return self.xml
        alone = self._standalone
        if alone is None and now:
            alone = self._standalone = _devices_xml(self.devices, cut=False)[0]
        if alone is None:
            # Each piece under the start tag it was written under is the device as it was.
            head, end = context
            alone = self._standalone = [
                subtree_xml(parse_trusted_xml(head + piece + end).getroot()[0], as_bytes=True) for piece in self.xml
            ]
        return alone

    def correlate(self, reported: Domain, *, written: Written | None = None) -> Correlation:
        """Match ``reported`` (a Domain from live XML) against these devices
        (``written``: its ``<devices>`` as :func:`devices_written` wrote it just now)."""
        if not isinstance(reported, Domain):
            raise DevframeError(
                f"correlate: reported must be a Domain parsed from live XML, got {type(reported).__name__}"
            )
        result = Correlation()
        # The live side reuses what this side read where a device's XML is unchanged.
        live = result.reported = KnownDevices(reported, written=written, _like=self)
        try:
            known_xml, live_xml = self._xml_for(live)
            matching = match(
                self.dev_types,
                self.alias_keys(),
                self.identity,
                live.dev_types,
                live.alias_keys(),
                partial(live._identity, like=self),
                known_content=known_xml.__getitem__,
                live_content=live_xml.__getitem__,
            )
        finally:
            live._hits = None  # indexes into this side: meaningless for the next poll
        result.removed = [self.devices[index] for index in matching.removed]
        result.added = [live.devices[found] for found in matching.added]
        self._record(result, live, matching.pairs, matching.how, known_xml, live_xml)
        return result

    def _record(
        self,
        result: Correlation,
        live: KnownDevices,
        pairs: list[tuple[int, int]],
        how: list[str],
        known_xml: list[bytes],
        live_xml: list[bytes],
    ) -> None:
        """Fill the result for the matched pairs (``how``: the rule that matched each;
        ``*_xml``: each side's device XML, in one form)."""
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
        known_md, live_md = self.metadata, live.metadata
        # Entries of both sections, each section written once and cut per entry: equal
        # entry XML under equal section start tags means equal values, nothing decoded.
        entries: tuple[dict[Any, bytes], dict[Any, bytes]] | None = None
        # Specs built by an earlier correlation (or by the caller) are taken, not built
        # again: a device whose XML and metadata are unchanged has the same spec, and a
        # reported device's spec built here is the next poll's known one. Looked up only
        # where one was kept (a plain loop: Python 3.11 indexes a list in a few
        # instructions, a call costs a hundred).
        kept, known_spec, take = self._specs, self.known_spec, live._take_spec
        for index, found, key in zip(mine, theirs, pair_keys, strict=True):
            if known_xml[index] == live_xml[found] and type(known_devices[index]) is type(live_devices[found]):
                first, second = known_md[index], live_md[found]
                if first is None and second is None:
                    if kept is not None and kept[index] is not None:
                        take(found, known_spec(index))
                    continue
                if first is not None and second is not None:
                    if entries is None:
                        entries = self._comparable_entries(live)
                    mine_xml = entries[0].get(first.element if type(first) is Entry else _entry_element(first))
                    if mine_xml is not None and mine_xml == entries[1].get(
                        second.element if type(second) is Entry else _entry_element(second)
                    ):
                        if kept is not None and kept[index] is not None:
                            take(found, known_spec(index))
                        continue
                if self._same_metadata(index, live, found):
                    continue
            before, after = self.spec(index), live.spec(found)
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
#: how a class's deviceId is read: from its ``ua-`` alias; from its alias, else its
#: metadata (kinds libvirt gives no alias); by its own property
_ALIAS_RULE, _METADATA_RULE, _OWN_RULE = 0, 1, 2


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


#: a domain's ``<devices>`` element (None: the domain has no device) and its XML
Written = tuple[etree._Element | None, bytes]


def devices_written(domain: Domain) -> Written:
    """``domain``'s ``<devices>`` element and its XML as :func:`subtree_xml` writes it
    (bytes), for a digest and then for :class:`KnownDevices` to cut, written once.
    Without devices: (None, the XML :meth:`Domain.devices_xml` makes)."""
    devices = domain.devices
    parent = devices[0].element.getparent() if devices else None
    if parent is None:
        return None, domain.devices_xml().encode()
    return parent, subtree_xml(parent, as_bytes=True)


def _devices_xml(
    devices: list[Device], *, cut: bool, written: Written | None = None
) -> tuple[list[bytes], tuple[bytes, bytes] | None, bool]:
    """Each device's element as XML (without its tail); the ``<devices>`` start and end
    tags it is relative to (None: each is XML on its own); whether it was cut.

    With ``cut``, ``<devices>`` is written once and cut per device where its layout
    allows (:func:`children_xml`: one call instead of one per device). A piece is the
    device written on its own unless the start tag declares namespaces (written on its
    own, a device declares every namespace in scope). Else each device is written as
    :func:`subtree_xml` writes it, the namespaces in scope counted once (the devices of
    a domain share their parent).
    """
    if not devices:
        return [], None, False
    parent = devices[0].element.getparent()
    elements = [device.element for device in devices]
    if parent is None:
        return [subtree_xml(element, as_bytes=True) for element in elements], None, False
    if cut and len(parent) == len(elements):
        # The caller's XML only when it is this very element's (written just now).
        found = children_xml(parent, written[1] if written is not None and written[0] is parent else None)
        if found is not None and all(map(is_, parent, elements)):
            head, pieces = found
            if b"xmlns" not in head:
                return pieces, None, True
            prefix = f"{parent.prefix}:" if parent.prefix else ""
            return pieces, (head, f"</{prefix}{etree.QName(parent).localname}>".encode()), True
    if len(parent.nsmap) <= FEW_NAMESPACES:
        return list(map(_tostring, elements)), None, False
    return [subtree_xml(element, as_bytes=True) for element in elements], None, False


def _first_of(xml: list[bytes]) -> dict[bytes, int]:
    """Each distinct XML and the index of its first occurrence."""
    # reversed: the first of equal XMLs is written last and stays
    return dict(zip(reversed(xml), range(len(xml) - 1, -1, -1), strict=True))


def _metadata_device_id(device: Device) -> str | None:
    """The deviceId in a device's metadata, as :attr:`Device.device_id` reads it for kinds
    libvirt gives no alias, without wrapping an entry still undecoded (so it can still
    be compared as XML)."""
    source = device.metadata_source
    if source is None:
        return None
    if type(source) is not Entry and not isinstance(source, DeviceMetadata):
        return device.device_id
    value = source.get("deviceId")
    return str(value) if value is not None else None


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
    """The dotted paths whose values differ between two dev_specs (as if both were
    flattened: an empty mapping says nothing, a missing value is None), in order."""
    changes: dict[str, tuple[Any, Any]] = {}
    _diff_into(known, reported, "", changes)
    return dict(sorted(changes.items()))


def _diff_into(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str, out: dict[str, tuple[Any, Any]]) -> None:
    """Add to ``out`` what differs under ``prefix``: equal values are passed over whole
    (most of a changed device is unchanged), only differing mappings are walked."""
    get = new.get
    for key, before in old.items():
        after = get(key)
        if before is after or before == after:
            continue
        _diff_value(f"{prefix}{key}", before, after, out)
    if new.keys() != old.keys():  # a set comparison in C: the same keys, most often
        for key, after in new.items():
            if key not in old and after is not None:
                _diff_value(f"{prefix}{key}", None, after, out)


def _diff_value(path: str, before: Any, after: Any, out: dict[str, tuple[Any, Any]]) -> None:
    old_map, new_map = isinstance(before, Mapping), isinstance(after, Mapping)
    if old_map and new_map:
        _diff_into(before, after, path + ".", out)
    elif old_map or new_map:
        # A mapping against a plain value: compare both flattened under the path.
        old = _flatten(before, path + ".") if old_map else {path: before}
        new = _flatten(after, path + ".") if new_map else {path: after}
        for name in old.keys() | new.keys():
            first, second = old.get(name), new.get(name)
            if first != second:
                out[name] = (first, second)
    else:
        out[path] = (before, after)


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


def _metadata_mark(device: Device) -> tuple[DeviceMetadata, int] | None:
    """The decoded metadata a spec built now reflects, with its count of writes; None
    while the metadata is as bound (:func:`_metadata_as_bound` covers it) or of a kind
    whose writes are not counted (then the spec is rebuilt)."""
    source = device.metadata_source
    if type(source) is DeviceMetadata and not source.pending:
        return source, source.edits
    return None


def _metadata_as_bound(device: Device) -> bool:
    """The device's metadata is none, or as bound from its domain and not decoded
    (so not edited): a spec built from it still holds."""
    source = device.metadata_source
    return source is None or type(source) is Entry or (isinstance(source, DeviceMetadata) and source.pending)
