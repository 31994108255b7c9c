"""Binding ``<ovirt-vm:device>`` entries to devices through indexes built once.

An entry is found for a device by its user alias (``alias`` attribute, or ``deviceId``
/ an ``ua-<deviceId>`` alias), then by the plugin's identity (``Device.identity``:
``devtype`` + ``name`` for disks, ``mac_address`` for NICs). Every lookup is a dict
lookup: the alias indexes are built when the section is read, an identity index the
first time a plugin answers with a given set of identity attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from operator import itemgetter
from typing import Any

from lxml import etree

from devframe.core.errors import MetadataError
from devframe.core.identity import device_id_from_alias
from devframe.core.metadata.codec import Retyper, decode_map, element_path
from devframe.core.metadata.ovirt import ALIAS_KEYS, DEVICE, NS, normalize
from devframe.core.xmledit import subtree_xml

__all__ = ["Entry", "EntryIndex", "IdentityPlan", "describe_element"]


class Entry(Mapping[str, Any]):
    """One ``<ovirt-vm:device>`` element, and the metadata a plugin's parse receives.

    As a mapping it decodes on first use; :class:`~devframe.DeviceMetadata` takes a
    private copy through :meth:`materialize` only when the device's metadata is read.
    """

    __slots__ = ("_attrs", "_cache", "element", "element_bound", "position", "retype", "source", "stamp")

    def __init__(self, element: etree._Element, source: str | None, position: int = -1) -> None:
        self.element = element
        #: index among the section's device entries when it was parsed (-1: made later)
        self.position = position
        self.source = source
        self._attrs: dict[str, str] | None = None
        self._cache: dict[str, Any] | None = None
        #: the element of the device it is bound to (None: an orphan). The entry never
        #: holds the dev_object itself: the device holds its entry, and a link back would
        #: make every parsed domain a reference cycle that only the garbage collector frees.
        #: A device released after streaming leaves its description instead (see
        #: MetadataSection.release).
        self.element_bound: etree._Element | str | None = None
        self.retype: Retyper | None = None
        self.stamp = 0

    @property
    def attrs(self) -> dict[str, str]:
        """The attributes keying the entry."""
        if self._attrs is None:
            self._attrs = dict(self.element.attrib)  # type: ignore[arg-type]  # lxml-stubs: str | bytes keys; lxml gives str
        return self._attrs

    def decode(self) -> dict[str, Any]:
        """A fresh dict of the entry's values (raises MetadataError naming the path)."""
        return decode_map(self.element, ns=NS, source=self.source, retype=self.retype)

    materialize = decode

    def _values(self) -> dict[str, Any]:
        if self._cache is None:
            self._cache = self.decode()
        return self._cache

    def __getitem__(self, key: str) -> Any:
        return self._values()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __len__(self) -> int:
        return len(self._values())

    def __bool__(self) -> bool:
        return True  # an entry is bound even when empty; its length says what it holds

    @property
    def has_values(self) -> bool:
        return len(self.element) > 0

    def raw(self) -> bytes:
        """The entry as XML bytes: equal bytes mean equal values, nothing decoded.

        (Unequal bytes prove nothing: the key attributes or namespace prefixes may differ;
        callers then compare decoded values.)
        """
        return subtree_xml(self.element, as_bytes=True)

    def describe(self) -> str:
        attrs = " ".join(f'{k}="{v}"' for k, v in self.attrs.items())
        return f"<ovirt-vm:device {attrs}> at {element_path(self.element)}"

    def __repr__(self) -> str:
        return f"Entry({self.describe()})"


def describe_element(element: etree._Element) -> str:
    """A device element as a person would name it: tag, alias, target / MAC."""
    parts = [f"<{element.tag}>"]
    alias = element.find("alias")
    if alias is not None and alias.get("name"):
        parts.append(f"alias={alias.get('name')!r}")
    for step, attr in (("target", "dev"), ("mac", "address")):
        node = element.find(step)
        if node is not None and node.get(attr):
            parts.append(f"{step}={node.get(attr)!r}")
    return " ".join(parts)


def _add(index: dict[Any, Any], key: Any, entry: Entry) -> None:
    # A slot holds the one entry with that key (the common case: no list per entry for
    # the garbage collector to scan), or a list when several entries share the key.
    bucket = index.get(key)
    if bucket is None:
        index[key] = entry
    elif type(bucket) is list:
        bucket.append(entry)
    else:
        index[key] = [bucket, entry]


def hits_list(bucket: Entry | list[Entry] | None) -> list[Entry]:
    """An index slot as a list (empty for None)."""
    if bucket is None:
        return []
    return list(bucket) if type(bucket) is list else [bucket]  # type: ignore[list-item]


class IdentityPlan:
    """How to turn one shape of identity dict into an index key, and that index."""

    __slots__ = ("caseless", "getter", "keyer", "keys", "table")

    def __init__(self, keys: tuple[str, ...], table: dict[Any, Entry | list[Entry]]) -> None:
        self.keys = keys
        self.getter = itemgetter(*keys)
        self.caseless = tuple(i for i, k in enumerate(keys) if normalize(k, "A") == "a")
        self.table = table
        #: :meth:`key` as one call (binding keys every device without an alias through it):
        #: the itemgetter itself when no value is compared caselessly. Never a bound method
        #: of the plan: that would make plan, table and entries a cycle outliving the domain.
        self.keyer: Callable[[Mapping[str, Any]], Any] = _keyer(self.getter, len(keys) == 1, self.caseless)

    def key(self, ident: Mapping[str, Any]) -> Any:
        """The index key of an identity (or of an entry's attributes) of this shape."""
        return self.keyer(ident)


def _keyer(
    getter: Callable[[Mapping[str, Any]], Any], single: bool, caseless: tuple[int, ...]
) -> Callable[[Mapping[str, Any]], Any]:
    if not caseless:
        return getter
    if single:

        def key_one(ident: Mapping[str, Any]) -> Any:
            value = getter(ident)
            return value.strip().lower() if isinstance(value, str) else value

        return key_one

    def key_many(ident: Mapping[str, Any]) -> Any:
        return tuple(
            v.strip().lower() if i in caseless and isinstance(v, str) else v for i, v in enumerate(getter(ident))
        )

    return key_many


#: identity_hits' "no plan made for this shape yet" (a shape's plan may be None)
_NO_PLAN: Any = object()
#: EntryIndex's "attribute names not seen yet" (the group of alias keys alone is None)
_NO_GROUP: Any = object()


class EntryIndex:
    """Lookup tables over a section's device entries."""

    def __init__(self, vm: etree._Element | None, source: str | None) -> None:
        self.entries: list[Entry] = []
        self.by_alias: dict[str, Entry | list[Entry]] = {}
        self.by_device_id: dict[str, Entry | list[Entry]] = {}
        #: entries grouped by their non-alias attribute names (for identity tables)
        self._groups: dict[tuple[str, ...], list[Entry]] = {}
        self._plans: dict[tuple[str, ...], IdentityPlan | None] = {}
        if vm is None:
            return
        entries = self.entries
        groups = self._groups
        by_alias, by_device_id = self.by_alias, self.by_device_id
        # the group of each attribute list as written, alias keys included (most entries
        # share a few; None: alias keys only): no filtering or sort per entry
        group_of: dict[tuple[str, ...], list[Entry] | None] = {}
        for position, element in enumerate(vm.iterchildren(DEVICE)):
            entry = Entry(element, source, position)
            entries.append(entry)
            names = element.keys()
            if "alias" in names or "deviceId" in names:
                alias = element.get("alias")
                device_id = element.get("deviceId") or device_id_from_alias(alias)
                # _add inline for a new key, the common case
                if alias:
                    if alias in by_alias:
                        _add(by_alias, alias, entry)
                    else:
                        by_alias[alias] = entry
                if device_id:
                    if device_id in by_device_id:
                        _add(by_device_id, device_id, entry)
                    else:
                        by_device_id[device_id] = entry
            written: tuple[str, ...] = tuple(names)  # type: ignore[arg-type]  # (lxml gives str)
            group = group_of.get(written, _NO_GROUP)
            if group is _NO_GROUP:
                rest = sorted(n for n in written if n not in ALIAS_KEYS)
                group = group_of[written] = groups.setdefault(tuple(rest), []) if rest else None
            if group is not None:
                group.append(entry)

    @property
    def has_aliases(self) -> bool:
        return bool(self.by_alias or self.by_device_id)

    @property
    def has_identities(self) -> bool:
        return any(names != ("devtype",) for names in self._groups)

    def keyed_devtypes(self) -> frozenset[str]:
        """The ``devtype`` values of the entries an identity holding a devtype can match:
        those with a ``devtype`` and another attribute beside the alias keys (an identity
        of ``devtype`` alone keys nothing, see :meth:`plan`)."""
        found: set[str] = set()
        for names, group in self._groups.items():
            if "devtype" in names and len(names) > 1:
                found.update(entry.element.get("devtype") or "" for entry in group)
        return frozenset(found)

    def plan(self, ident: Mapping[str, Any]) -> IdentityPlan | None:
        """The index for identities shaped like ``ident`` (cached by its key names)."""
        shape = tuple(ident)
        if shape in self._plans:
            return self._plans[shape]
        keys = tuple(sorted(k for k in shape if k not in ALIAS_KEYS))
        plan = None
        if keys and keys != ("devtype",):
            table: dict[Any, Entry | list[Entry]] = {}
            wanted = set(keys)
            plan = IdentityPlan(keys, table)
            keyer = plan.keyer  # key() as one call: a table holds every entry of its shape
            for names, group in self._groups.items():
                if not wanted.issubset(names):
                    continue
                for entry in group:
                    key = keyer(entry.element.attrib)  # type: ignore[arg-type]  # (lxml gives str)
                    # a new key (the common case) stored in one lookup; else _add
                    if table.setdefault(key, entry) is not entry:
                        _add(table, key, entry)
            if not table:
                plan = None  # no entry has these keys: devices of this shape need not be keyed
        self._plans[shape] = plan
        return plan

    def identity_hits(self, ident: Mapping[str, Any]) -> Entry | list[Entry] | None:
        """The entry (or entries) keyed by ``ident``; None when there is none."""
        # a known shape in one lookup, without the call to plan(): binding asks for every
        # device without an alias; and the plan's keyer called without key()'s frame
        plan: IdentityPlan | None = self._plans.get(tuple(ident), _NO_PLAN)
        if plan is _NO_PLAN:
            plan = self.plan(ident)
        if plan is None:
            return None
        try:
            return plan.table.get(plan.keyer(ident))
        except (KeyError, TypeError):  # a value missing or None this time
            return None

    def alias_hits(self, alias: str) -> Entry | list[Entry] | None:
        """The entry (or entries) named by ``alias`` or its deviceId; None when there is none."""
        by_alias = self.by_alias.get(alias)
        device_id = device_id_from_alias(alias)
        by_id = self.by_device_id.get(device_id) if device_id is not None else None
        if by_id is None or by_id is by_alias:
            return by_alias
        if by_alias is None:
            return by_id
        found = hits_list(by_alias)
        for entry in hits_list(by_id):
            if not any(entry is seen for seen in found):
                found.append(entry)
        return found[0] if len(found) == 1 else found


def ambiguity(element: etree._Element, entries: list[Entry], source: str | None) -> MetadataError:
    names = "; ".join(e.describe() for e in entries)
    prefix = f"{source}: " if source else ""
    return MetadataError(
        f"{prefix}device {describe_element(element)} matches {len(entries)} metadata entries: {names}; "
        "keep one entry per device"
    )


def double_bind(entry: Entry, first: etree._Element | str, second: etree._Element, source: str | None) -> MetadataError:
    prefix = f"{source}: " if source else ""
    described = first if isinstance(first, str) else describe_element(first)
    return MetadataError(
        f"{prefix}metadata entry {entry.describe()} matches two devices: {described} "
        f"and {describe_element(second)}; give each device its own entry"
    )
