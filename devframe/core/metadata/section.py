"""A domain's metadata section: read once, bound to devices, written back.

Reading indexes the ``<ovirt-vm:device>`` entries (no values are decoded yet);
binding gives each device a lazily decoded mapping; writing touches only entries
whose device's metadata changed, added entries for devices that gained metadata, and
removes the entries of devices that left the domain. Entries no device claims
(orphans) stay where they are and are reported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lxml import etree

from devframe.core.device import Device, DeviceMetadata
from devframe.core.errors import MetadataError
from devframe.core.identity import Identity, device_id_from_alias, identity_key
from devframe.core.limits import ENTRY_DEPTH
from devframe.core.log import get_logger
from devframe.core.metadata.binding import (
    Entry,
    EntryIndex,
    ambiguity,
    describe_element,
    double_bind,
)
from devframe.core.metadata.codec import Retyper, coercer, decode_map, element_path, encode_map
from devframe.core.metadata.ovirt import ALIAS_KEYS, DEVICE, NS, find_vm, new_vm, normalize
from devframe.core.metadata.sync import place, remove, replace, sync_map
from devframe.core.xmledit import first_child

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = ["BoundMetadata", "MetadataSection", "OrphanMetadata", "VmMetadata"]

_DEVICE_LOCAL = "device"
_SKIP_DEVICES = frozenset({_DEVICE_LOCAL})


#: What a plugin's parse hook receives: the entry itself, decoded on first use.
BoundMetadata = Entry


class VmMetadata(DeviceMetadata):
    """VM-level values of ``<ovirt-vm:vm>`` (``custom`` holds the custom properties)."""

    __slots__ = ()

    #: the depth of a key's element: <domain><metadata><ovirt-vm:vm><key>
    key_depth = ENTRY_DEPTH

    def __repr__(self) -> str:
        return f"VmMetadata({sorted(self._data)})"


class _VmSource:
    __slots__ = ("_section",)

    def __init__(self, section: MetadataSection) -> None:
        self._section = section

    def materialize(self) -> dict[str, Any]:
        vm = self._section._vm_el
        if vm is None:
            return {}
        return decode_map(vm, ns=NS, source=self._section.source, skip=_SKIP_DEVICES)


class OrphanMetadata:
    """A device entry no device of the domain matches: kept on ``to_xml`` and reported."""

    __slots__ = ("_entry",)

    def __init__(self, entry: Entry) -> None:
        self._entry = entry

    @property
    def key(self) -> dict[str, str]:
        """The attributes keying the entry (``devtype``/``name``, ``mac_address``, ...)."""
        return dict(self._entry.attrs)

    @property
    def path(self) -> str:
        return element_path(self._entry.element)

    def values(self) -> dict[str, Any]:
        """The entry's values (a copy)."""
        return self._entry.decode()

    def __repr__(self) -> str:
        return f"OrphanMetadata({self.key})"


_UNSEEN: Any = object()


def first_alias(device_el: etree._Element) -> etree._Element | None:
    """The first ``<alias>`` child of a device element (no namespace), or None: the
    element whose ``name`` binding looks up."""
    # A few children are looked at directly (an iterchildren costs about six child reads
    # in lxml); past five, the alias is near the end: iterchildren.
    count = len(device_el)
    return first_child(device_el, "alias", count) if count <= 5 else next(device_el.iterchildren("alias"), None)


def first_aliases(devices_el: etree._Element) -> dict[etree._Element, etree._Element | None]:
    """:func:`first_alias` of every child of ``devices_el`` (None for a child without one;
    comments and processing instructions included, as keys with None).

    One XPath query walks the children in C and makes a proxy for each alias only; the
    search per device made one for every child before the alias (about 0.6 us a device on
    the varied domain). The children's proxies made here are the ones the dispatcher then
    reads, not copies: lxml keeps one proxy per node while it lives. A test compares this
    with first_alias on every child of the sample and generated domains, and on edits.
    """
    found: dict[etree._Element, etree._Element | None] = dict.fromkeys(devices_el)
    # "*/alias[1]": for each element child, its first child <alias> in no namespace, the
    # element first_alias finds (comments and instructions are no "*", as they are no alias).
    matches: list[etree._Element] = devices_el.xpath("*/alias[1]")  # type: ignore[assignment]  # (elements only)
    for alias_el in matches:
        found[alias_el.getparent()] = alias_el  # type: ignore[index]  # (a child of devices_el)
    return found


class MetadataSection:
    """The ``<ovirt-vm:vm>`` part of one domain's ``<metadata>``."""

    def __init__(
        self,
        root: etree._Element,
        *,
        source: str | None = None,
        vm: etree._Element | None = None,
    ) -> None:
        self.root = root
        self.source = source
        self._vm_el = vm
        self._index = EntryIndex(vm, source)
        self._retypers: dict[type[Device], Retyper | None] = {}
        self._device_entry: dict[Device, Entry] = {}
        self._orphans: list[Entry] = []
        self._vm_metadata: VmMetadata | None = None
        self._stamp = 0
        self._logger: Any = None
        #: True while the section is as parsed: nothing written to it since. An entry's
        #: ``position`` then is its index among the section's device entries.
        self.pristine = True

    @property
    def _log(self) -> Any:
        # Bound on first use: most parses never log.
        if self._logger is None:
            self._logger = get_logger(domain=self.root.findtext("name"), source=self.source)
        return self._logger

    # -- reading ------------------------------------------------------------------------

    @classmethod
    def from_domain(cls, root: etree._Element, *, source: str | None = None) -> MetadataSection | None:
        """The section of a domain, or None when it has no ``<ovirt-vm:vm>``."""
        section_el, vm = find_vm(root)
        if vm is None:
            return None
        assert section_el is not None
        extra = [c for c in section_el if c.tag == vm.tag and c is not vm]
        if extra:
            prefix = f"{source}: " if source else ""
            raise MetadataError(
                f"{prefix}<metadata> holds {len(extra) + 1} <ovirt-vm:vm> elements "
                f"({element_path(vm)}, {element_path(extra[0])}); libvirt keeps one per namespace"
            )
        return cls(root, source=source, vm=vm)

    @classmethod
    def empty(cls, root: etree._Element, *, source: str | None = None) -> MetadataSection:
        """A section for a domain that has none yet (created in the tree on write)."""
        return cls(root, source=source)

    def _retyper(self, device: Device) -> Retyper | None:
        cls = type(device)
        retyper = self._retypers.get(cls, False)
        if retyper is False:
            schema = cls.metadata_schema
            retyper = self._retypers[cls] = coercer(schema.coerce, schema.keys) if schema.keys else None
        return retyper  # type: ignore[return-value]

    def binder(self, devices_el: etree._Element | None = None) -> Any:
        """The dispatcher's lookup: ``(device) -> its entry or None``, by alias (or the
        deviceId in it), then by the device's identity (:mod:`devframe.core.identity`).

        ``devices_el``: the `<devices>` element whose children will be bound, when the
        caller has it whole: their aliases are then found in one pass (:func:`first_aliases`)
        instead of one search per device.

        Binding is strict where correlation pairs in order: two entries for one device,
        or one entry for two devices, is a :class:`MetadataError` naming both, since
        metadata bound to the wrong device (a disk's storage IDs) is worse than none.
        A closure over local lookups: it runs once per device, so it stays lean.
        """
        index = self._index
        if not index.entries:
            return None
        use_alias = index.has_aliases
        use_identity = index.has_identities
        alias_hits = index.alias_hits
        identity_hits = index.identity_hits
        retyper = self._retyper
        bound = self._device_entry
        source = self.source
        plain_identity = Device.identity
        keyed_devtypes = index.keyed_devtypes() if use_identity else frozenset()
        # Per class: whether to ask its devices for their identity. Not a class without
        # one (UnknownDevice and the like), nor one whose every identity carries a devtype
        # no entry keyed by identity has (Device.identity_devtype): it could match none.
        asks: dict[type[Device], bool] = {}
        aliases = first_aliases(devices_el) if use_alias and devices_el is not None else {}

        def bind(device: Device) -> Entry | None:
            element = device.element
            found: Entry | list[Entry] | None = None
            if use_alias:
                alias_el = aliases.get(element, _UNSEEN)
                if alias_el is _UNSEEN:  # not a child of devices_el when the binder was made
                    alias_el = first_alias(element)
                if alias_el is not None:
                    alias = alias_el.get("name")
                    if alias:
                        found = alias_hits(alias)
            # Identity is the fallback: asked only when no alias names an entry.
            if found is None and use_identity:
                cls = type(device)
                ask = asks.get(cls)
                if ask is None:
                    declared = cls.identity_devtype
                    ask = asks[cls] = cls.identity is not plain_identity and (
                        declared is None or declared in keyed_devtypes
                    )
                ident = device.checked_identity() if ask else None
                if ident:
                    found = identity_hits(ident)
            if found is None:
                return None
            if type(found) is list:
                if len(found) != 1:
                    raise ambiguity(element, found, source)
                found = found[0]
            entry: Entry = found  # type: ignore[assignment]
            if entry.element_bound is not None:
                raise double_bind(entry, entry.element_bound, element, source)
            entry.element_bound = element
            entry.retype = retyper(device)
            bound[device] = entry
            return entry

        return bind

    def finish(self) -> None:
        """After parsing: record and report the entries no device took (orphans)."""
        self._orphans = [e for e in self._index.entries if e.element_bound is None]
        if self._orphans:
            self._log.warning(
                "metadata entries match no device; kept as orphans",
                count=len(self._orphans),
                entries=[e.attrs for e in self._orphans[:10]],
            )

    def release(self, device: Device) -> None:
        """Stop holding ``device`` and its element: a reader that sees each device once and
        then drops it (:class:`devframe.core.stream.DomainStream`) lets them be freed.

        The device keeps its entry; the entry stays taken, so a later device it also
        matches is still refused (the message names that device fully, this one by its
        tag: describing it here would cost a fifth of a streamed parse).
        """
        entry = self._device_entry.pop(device, None)
        if entry is not None and isinstance(entry.element_bound, etree._Element):
            entry.element_bound = f"<{entry.element_bound.tag}> (read earlier)"

    # -- API ------------------------------------------------------------------------------

    @property
    def vm_metadata(self) -> VmMetadata:
        """VM-level values, decoded on first use."""
        if self._vm_metadata is None:
            self._vm_metadata = VmMetadata(_VmSource(self))
        return self._vm_metadata

    @property
    def vm_element(self) -> etree._Element | None:
        """The ``<ovirt-vm:vm>`` element (None while the domain has none)."""
        return self._vm_el

    @property
    def orphans(self) -> list[OrphanMetadata]:
        return [OrphanMetadata(e) for e in self._orphans]

    def entry_of(self, device: Device) -> Entry | None:
        return self._device_entry.get(device)

    def validate(self) -> None:
        """Decode every value now (binding is checked while parsing; values on use)."""
        _VmSource(self).materialize()
        for entry in self._index.entries:
            entry.decode()

    # -- writing ---------------------------------------------------------------------------

    def _key_for(self, device: Device, shared: Callable[[Device, Identity], bool]) -> dict[str, str]:
        """The attributes a new entry for ``device`` is keyed by (VDSM's format): its
        identity, unless another device of the domain has the same one; else its alias."""
        identity = device.checked_identity()
        if identity and not shared(device, identity):
            key = {k: str(v) for k, v in identity.items() if v is not None}
            if any(k != "devtype" for k in key):
                return key
        alias = device.alias
        if alias:
            return {"devtype": device.dev_type, "alias": alias}
        prefix = f"{self.source}: " if self.source else ""
        why = "another device of the domain has the same identity" if identity else "its class gives no identity"
        raise MetadataError(
            f"{prefix}cannot write the metadata of {device.describe()}: it has no alias and {why} "
            "to key it by; set device.alias (e.g. 'ua-<deviceId>')"
        )

    def _refresh_key(self, device: Device, entry: Entry) -> None:
        """Follow a device's renamed alias or identity, so the entry binds next time."""
        element = entry.element
        get = element.get
        changed = False
        if get("alias") is not None or get("deviceId") is not None:
            alias = device.alias
            if alias and get("alias") not in (None, alias):
                element.set("alias", alias)
                changed = True
            device_id = device_id_from_alias(alias)
            if device_id and get("deviceId") not in (None, device_id):
                element.set("deviceId", device_id)
                changed = True
        for key, value in (device.checked_identity() or {}).items():
            if value is None or key in ALIAS_KEYS:
                continue
            current = get(key)
            if current is None or current == value:
                continue
            if normalize(key, current) != normalize(key, str(value)):
                element.set(key, str(value))
                changed = True
        if changed:
            entry._attrs = None
            self.pristine = False

    def _vm(self) -> etree._Element:
        if self._vm_el is None:
            _, found = find_vm(self.root)
            self._vm_el = found if found is not None else new_vm(self.root)
        return self._vm_el

    def write(self, devices: Iterable[Device]) -> None:
        """Write changed device metadata and VM values back into the tree.

        ``devices``: the domain's devices now, in document order.
        """
        mapping = self._device_entry
        stamp = self._stamp = self._stamp + 1
        new: list[Device] = []
        get = mapping.get
        refresh = self._refresh_key
        for device in devices:
            entry = get(device)
            metadata = device.metadata_source
            if entry is None:
                if metadata is not None and device.has_metadata:
                    new.append(device)
                continue
            entry.stamp = stamp
            # Metadata still held as its bound entry was never read, so never written.
            if isinstance(metadata, DeviceMetadata):
                values = metadata.take_changes()  # written since the last save, else None
                if values is not None:
                    if not values:
                        entry.stamp = 0  # emptied: the entry goes
                        continue
                    sync_map(entry.element, values, ns=NS, retype=entry.retype, source=self.source)
                    self.pristine = False
            if device.take_edited():
                # Only an edited device can have a renamed alias or identity; asking every
                # class for every device's identity on each write cost twice tostring.
                refresh(device, entry)
        gone = [(d, e) for d, e in mapping.items() if e.stamp != stamp]
        if gone or new:
            self.pristine = False
        for device, entry in gone:
            # The device left the domain (or dropped its metadata): its entry goes too.
            remove(entry.element)
            del mapping[device]
            self._index.entries.remove(entry)
        if new:
            self._write_new(new, devices)
        vm_values = self._vm_metadata
        changed_vm = vm_values.take_changes() if vm_values is not None else None
        if changed_vm is not None:
            self.pristine = False
            if changed_vm or self._vm_el is not None:
                sync_map(
                    self._vm(),
                    changed_vm,
                    ns=NS,
                    skip=_SKIP_DEVICES,
                    insert_before=_DEVICE_LOCAL,
                    source=self.source,
                )

    def _device_of(self, entry: Entry) -> Device | None:
        """The device an entry is bound to (an error path: a scan is fine)."""
        return next((d for d, e in self._device_entry.items() if e is entry), None)

    def _write_new(self, devices: list[Device], everyone: Iterable[Device]) -> None:
        vm = self._vm()
        counts: Counter[Any] | None = None

        def shared(device: Device, identity: Identity) -> bool:
            # Counted over every device of the domain, once per write that adds entries:
            # an entry keyed by an identity two devices share would bind to neither.
            nonlocal counts
            if counts is None:
                counts = Counter(identity_key(d.dev_type, d.checked_identity()) for d in everyone)
            return counts[identity_key(device.dev_type, identity)] > 1

        taken: dict[frozenset[tuple[str, str]], Entry] = {}
        for entry in self._index.entries:
            taken[_exact(entry.attrs)] = entry
        position = _after_last_device(vm)
        for device in devices:
            attrs = self._key_for(device, shared)
            exact = _exact(attrs)
            clash = taken.get(exact)
            element = etree.Element(DEVICE, attrs)
            entry = Entry(element, self.source)
            entry.retype = self._retyper(device)
            entry.element_bound = device.element
            # The entry is placed below; its values are written at the depth it will have.
            encode_map(element, device.metadata_if_any() or {}, ns=NS, retype=entry.retype, depth=ENTRY_DEPTH + 1)
            owner = self._device_of(clash) if clash is not None else None
            if owner is not None:
                prefix = f"{self.source}: " if self.source else ""
                raise MetadataError(
                    f"{prefix}the metadata of {device.describe()} would be keyed like that of "
                    f"{owner.describe()} ({attrs}); give the devices distinct identities"
                )
            if clash is not None:
                # An orphan entry for this key: the device now present supersedes it.
                self._log.warning(
                    "orphan metadata entry replaced by the entry of a new device",
                    entry=clash.attrs,
                    device=describe_element(device.element),
                )
                replace(clash.element, element)
                self._orphans = [e for e in self._orphans if e is not clash]
                self._index.entries[self._index.entries.index(clash)] = entry
            else:
                place(vm, element, position)
                position += 1
                self._index.entries.append(entry)
            taken[exact] = entry
            self._device_entry[device] = entry


def _exact(attrs: Mapping[str, str]) -> frozenset[tuple[str, str]]:
    return frozenset((k, normalize(k, v)) for k, v in attrs.items())


def _after_last_device(vm: etree._Element) -> int:
    position = len(vm)
    for index in range(len(vm) - 1, -1, -1):
        if vm[index].tag == DEVICE:
            return index + 1
    return position
