"""Binding ``<ovirt-vm:device>`` entries to devices through indexes built once.

An entry is found for a device by its user alias (``alias`` attribute, or ``deviceId``
/ an ``ua-<deviceId>`` alias), then by the plugin's identity (``Route.identity``:
``devtype`` + ``name`` for disks, ``mac_address`` for NICs). Every lookup is a dict
lookup: the alias indexes are built when the section is read, an identity index the
first time a plugin asks with a given set of identity attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from lxml import etree

from devframe.core.errors import MetadataError
from devframe.core.metadata.codec import Retyper, decode_map, element_path
from devframe.core.metadata.ovirt import ALIAS_KEYS, NS, identity_key, user_device_id

if TYPE_CHECKING:
    from devframe.core.device import Device

__all__ = ["Entry", "EntryIndex", "describe_element"]


class Entry:
    """One ``<ovirt-vm:device>`` element and what it is bound to."""

    __slots__ = ("attrs", "device", "element", "element_bound", "retype", "source")

    def __init__(self, element: etree._Element, source: str | None) -> None:
        self.element = element
        self.attrs: dict[str, str] = dict(element.attrib)  # type: ignore[arg-type]
        self.source = source
        #: the device element it was bound to while parsing, then the dev_object
        self.element_bound: etree._Element | None = None
        self.device: Device | None = None
        self.retype: Retyper | None = None

    def decode(self) -> dict[str, Any]:
        """A fresh dict of the entry's values (raises MetadataError naming the path)."""
        return decode_map(self.element, ns=NS, source=self.source, retype=self.retype)

    @property
    def has_values(self) -> bool:
        return len(self.element) > 0

    def describe(self) -> str:
        attrs = " ".join(f'{k}="{v}"' for k, v in self.attrs.items())
        return f"<ovirt-vm:device {attrs}> at {element_path(self.element)}"


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


def _add(index: dict[Any, list[Entry]], key: Any, entry: Entry) -> None:
    bucket = index.get(key)
    if bucket is None:
        index[key] = [entry]
    else:
        bucket.append(entry)


class EntryIndex:
    """Lookup tables over a section's device entries."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self.by_alias: dict[str, list[Entry]] = {}
        self.by_device_id: dict[str, list[Entry]] = {}
        #: entries keyed by something besides their alias (they need identity lookups)
        self.keyed: list[Entry] = []
        self._by_signature: dict[tuple[str, ...], dict[tuple[str, ...], list[Entry]]] = {}
        for entry in entries:
            attrs = entry.attrs
            alias = attrs.get("alias")
            device_id = attrs.get("deviceId") or user_device_id(alias)
            if alias:
                _add(self.by_alias, alias, entry)
            if device_id:
                _add(self.by_device_id, device_id, entry)
            if any(k not in ALIAS_KEYS and k != "devtype" for k in attrs):
                self.keyed.append(entry)

    def _signature_index(self, keys: tuple[str, ...]) -> dict[tuple[str, ...], list[Entry]]:
        table = self._by_signature.get(keys)
        if table is None:
            table = {}
            for entry in self.keyed:
                value = identity_key(entry.attrs, keys)
                if value is not None:
                    _add(table, value, entry)
            self._by_signature[keys] = table
        return table

    def lookup(
        self,
        alias: str | None,
        identity: Callable[[], Mapping[str, str] | None] | None,
    ) -> list[Entry]:
        """Every entry naming this device (more than one is the caller's error to raise)."""
        found: list[Entry] = []
        if alias:
            hits = self.by_alias.get(alias)
            if hits:
                found.extend(hits)
            device_id = user_device_id(alias)
            if device_id is not None:
                for entry in self.by_device_id.get(device_id, ()):
                    if not any(entry is seen for seen in found):
                        found.append(entry)
        if identity is not None and self.keyed:
            ident = identity()
            if ident:
                keys = tuple(sorted(k for k, v in ident.items() if k not in ALIAS_KEYS and v is not None))
                if keys and keys != ("devtype",):
                    value = identity_key(ident, keys)
                    for entry in self._signature_index(keys).get(value, ()) if value is not None else ():
                        if not any(entry is seen for seen in found):
                            found.append(entry)
        return found


def ambiguity(element: etree._Element, entries: list[Entry], source: str | None) -> MetadataError:
    names = "; ".join(e.describe() for e in entries)
    prefix = f"{source}: " if source else ""
    return MetadataError(
        f"{prefix}device {describe_element(element)} matches {len(entries)} metadata entries: {names}; "
        "keep one entry per device"
    )


def double_bind(entry: Entry, first: etree._Element, second: etree._Element, source: str | None) -> MetadataError:
    prefix = f"{source}: " if source else ""
    return MetadataError(
        f"{prefix}metadata entry {entry.describe()} matches two devices: {describe_element(first)} "
        f"and {describe_element(second)}; give each device its own entry"
    )
