"""Placeholders and the host-side resolvers that fill them.

The engine writes domain XML without knowing host-specific values; it leaves
*placeholders* that the agent on the host replaces before handing the XML to libvirt.
A placeholder is a whole attribute value or element text that starts with a prefix
such as ``PAYLOAD:``; any UPPER-CASE-DASHED word followed by ``:`` counts, so one from
a newer engine is caught rather than passed to libvirt.

Which placeholders a device kind resolves, and how, belongs to its device class
(:meth:`devframe.Device.prepare`; the drive plugin resolves ``DRIVE-PATH:`` from its
storage IDs). The core resolves the ones no device kind owns
(:mod:`devframe.core.prepare`). This module is the bottom of both: the
:class:`Resolvers` an agent builds for its host, the placeholder syntax, its errors.
It knows no device kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from devframe.core.errors import DevframeError

__all__ = [
    "HOST_SERIAL",
    "LEASE_OFFSET",
    "LEASE_PATH",
    "OS_NAME",
    "OS_VERSION",
    "PAYLOAD",
    "PLACEHOLDER_PREFIXES",
    "HostFacts",
    "PlaceholderError",
    "Resolvers",
    "UnresolvedPlaceholderError",
    "checked_path",
    "find_placeholders",
    "is_placeholder",
]

PAYLOAD = "PAYLOAD:"
LEASE_PATH = "LEASE-PATH:"
LEASE_OFFSET = "LEASE-OFFSET:"
OS_NAME = "OS-NAME:"
OS_VERSION = "OS-VERSION:"
HOST_SERIAL = "HOST-SERIAL:"

#: the placeholders the core itself resolves (device classes add their own)
PLACEHOLDER_PREFIXES = (PAYLOAD, LEASE_PATH, LEASE_OFFSET, OS_NAME, OS_VERSION, HOST_SERIAL)

# The known prefixes, or any UPPER-CASE-DASHED word followed by ':' (a placeholder from
# a newer engine, or one a device class owns such as DRIVE-PATH:).
_PLACEHOLDER_RE = re.compile(
    "^(?:" + "|".join(re.escape(p) for p in PLACEHOLDER_PREFIXES) + r"|[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+:)"
)


#: ``(storage IDs) -> path``: a volume's path from the storage IDs a device keeps in metadata
StoragePathResolver = Callable[[Mapping[str, Any]], str]
#: ``(device, its metadata) -> path`` of the image holding a payload device's files
PayloadResolver = Callable[[Any, Mapping[str, Any]], str]
#: ``(lease id, storage domain id) -> (path, offset)``
LeaseResolver = Callable[[str, str], tuple[str, int]]


class PlaceholderError(DevframeError):
    """A placeholder that could not be resolved (no resolver, missing IDs, bad value)."""


class UnresolvedPlaceholderError(PlaceholderError):
    """A placeholder still in the domain after every resolver ran."""

    def __init__(self, domain: str | None, where: str, placeholder: str) -> None:
        self.domain = domain
        self.where = where
        self.placeholder = placeholder
        super().__init__(f"domain {domain!r}: {where}: unresolved placeholder {placeholder!r}")


@dataclass(frozen=True)
class HostFacts:
    """What the sysinfo placeholders need to know about the host."""

    os_name: str | None = None
    os_version: str | None = None
    host_serial: str | None = None


@dataclass
class Resolvers:
    """Host-side resolvers the agent passes to :func:`devframe.prepare_domain`.

    ``storage_path(ids) -> path``: a volume's path from its storage IDs (the drive
    plugin passes a drive's IDs); ``storage_root``: where a plugin's default storage
    layout lives when no ``storage_path`` is given. ``payload(device, metadata) ->
    path``: the image holding a payload device's files. ``lease(lease_id, sd_id) ->
    (path, offset)``: where a VM lease lives. ``host``: facts for sysinfo. ``values``:
    explicit answers that override every resolver (keys: the exact placeholder text, or
    a name a device class documents, such as a drive's target name).
    """

    storage_path: StoragePathResolver | None = None
    storage_root: str | None = None
    payload: PayloadResolver | None = None
    lease: LeaseResolver | None = None
    host: HostFacts = field(default_factory=HostFacts)
    values: Mapping[str, str] = field(default_factory=dict)

    def explicit(self, *keys: str | None) -> str | None:
        """The first explicit value for any of ``keys``, else None."""
        for key in keys:
            if key is not None and key in self.values:
                return self.values[key]
        return None

    def payload_path(self, device: Any, placeholder: str) -> str:
        """The path for a ``PAYLOAD:`` placeholder of ``device``."""
        value = self.explicit(placeholder)
        if value is not None:
            return value
        if self.payload is None:
            raise PlaceholderError(f"{device.describe()}: no payload resolver for {placeholder!r}")
        metadata = device.metadata if device.has_metadata else {}
        return checked_path(self.payload(device, dict(metadata)), device.describe(), placeholder)

    def lease_value(self, placeholder: str, where: str) -> str:
        """The path or offset for a ``LEASE-PATH:`` / ``LEASE-OFFSET:`` placeholder."""
        value = self.explicit(placeholder)
        if value is not None:
            return value
        prefix = LEASE_PATH if placeholder.startswith(LEASE_PATH) else LEASE_OFFSET
        args = placeholder[len(prefix) :].split(":")
        if len(args) != 2 or not all(args):
            raise PlaceholderError(f"{where}: {placeholder!r} must be {prefix}<lease id>:<storage domain id>")
        if self.lease is None:
            raise PlaceholderError(f"{where}: no lease resolver for {placeholder!r}")
        path, offset = self.lease(args[0], args[1])
        return str(path) if prefix == LEASE_PATH else str(int(offset))

    def host_value(self, placeholder: str, where: str) -> str:
        """The host fact a sysinfo placeholder stands for."""
        value = self.explicit(placeholder)
        if value is not None:
            return value
        facts = {OS_NAME: self.host.os_name, OS_VERSION: self.host.os_version, HOST_SERIAL: self.host.host_serial}
        fact = facts.get(placeholder)
        if not fact:
            raise PlaceholderError(f"{where}: the host facts give no value for {placeholder!r}")
        return fact


def checked_path(value: Any, where: str, placeholder: str) -> str:
    """``value`` when it is a usable path (a non-empty str that is no placeholder)."""
    if not isinstance(value, str) or not value or is_placeholder(value):
        raise PlaceholderError(f"{where}: resolver for {placeholder!r} returned {value!r}, expected a path")
    return value


def is_placeholder(value: str | None) -> bool:
    """Whether a whole attribute value or text is a placeholder."""
    return bool(value) and _PLACEHOLDER_RE.match(value.strip()) is not None  # type: ignore[union-attr]


def find_placeholders(element: etree._Element) -> list[tuple[etree._Element, str | None, str]]:
    """Every placeholder under ``element``: (element, attribute name or None for text, value)."""
    found: list[tuple[etree._Element, str | None, str]] = []
    for node in element.iter():
        if not isinstance(node.tag, str):
            continue
        for name, value in node.attrib.items():
            if is_placeholder(str(value)):
                found.append((node, str(name), str(value)))
        if node.text is not None and is_placeholder(node.text):
            found.append((node, None, node.text.strip()))
    return found
