"""Prepare an engine domain for one host: resolve its placeholders.

The engine writes domain XML without knowing host-specific values; it leaves
*placeholders* that the agent on the host replaces before handing the XML to libvirt.
A placeholder is a whole attribute value or element text that starts with one of the
prefixes below (a prefix may be followed by arguments separated by ``:``):

================== ==================================== =======================================
placeholder        where                                resolved by
================== ==================================== =======================================
``DRIVE-PATH:``    ``<disk><source file|dev=...>``      ``Resolvers.storage_path(metadata)``,
                                                        the drive's storage IDs
                                                        (``domainID``, ``poolID``, ``imageID``,
                                                        ``volumeID``) from its metadata
``PAYLOAD:``       any path (normally a cdrom source)   ``Resolvers.payload(device, metadata)``
``LEASE-PATH:L:S`` ``<lease><target path=...>``         ``Resolvers.lease(L, S)`` (lease id,
``LEASE-OFFSET:L:S`` ``<lease><target offset=...>``     storage domain id) -> (path, offset)
``OS-NAME:``       ``<sysinfo>`` entry text             ``Resolvers.host.os_name``
``OS-VERSION:``    ``<sysinfo>`` entry text             ``Resolvers.host.os_version``
``HOST-SERIAL:``   ``<sysinfo>`` entry text             ``Resolvers.host.host_serial``
================== ==================================== =======================================

``Resolvers.values`` (e.g. from ``devframe run --resolve KEY=VALUE``) overrides every
resolver: a key is either the exact placeholder text (``PAYLOAD:``,
``LEASE-OFFSET:lease1:sd1``) or, for a drive, its target name (``vda``).

:func:`prepare_domain` runs in three steps: each device's plugin resolves its own
placeholders through the routed ``devframe_prepare_device`` hook; the core then resolves
what no plugin owns (sysinfo, ``<lease>``, ``PAYLOAD:`` anywhere); ``DRIVE-PATH:`` is the
drive plugin's (through ``Resolvers.drive_path``); finally the whole domain is scanned and any
placeholder left
is a :class:`UnresolvedPlaceholderError` naming the device and the placeholder. Every
substitution is logged (domain, dev_type, alias, placeholder).

This module is part of the core: it never talks to libvirt. The agent builds the
:class:`Resolvers` from its host and passes them in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lxml import etree

from devframe.core.errors import DevframeError, PluginError
from devframe.core.log import get_logger

if TYPE_CHECKING:
    from devframe.core.device import Device
    from devframe.core.domain import Domain

__all__ = [
    "DRIVE_PATH",
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
    "find_placeholders",
    "is_placeholder",
    "prepare_domain",
    "storage_layout",
]

DRIVE_PATH = "DRIVE-PATH:"
PAYLOAD = "PAYLOAD:"
LEASE_PATH = "LEASE-PATH:"
LEASE_OFFSET = "LEASE-OFFSET:"
OS_NAME = "OS-NAME:"
OS_VERSION = "OS-VERSION:"
HOST_SERIAL = "HOST-SERIAL:"

PLACEHOLDER_PREFIXES = (DRIVE_PATH, PAYLOAD, LEASE_PATH, LEASE_OFFSET, OS_NAME, OS_VERSION, HOST_SERIAL)

# Known prefixes, or any UPPER-CASE-DASHED word followed by ':' (a placeholder from a
# newer engine that nobody here knows must still be caught, not passed to libvirt).
_PLACEHOLDER_RE = re.compile(
    "^(?:" + "|".join(re.escape(p) for p in PLACEHOLDER_PREFIXES) + r"|[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+:)"
)

#: metadata keys of a drive that name its volume
STORAGE_KEYS = ("domainID", "poolID", "imageID", "volumeID")

StoragePathResolver = Callable[[Mapping[str, Any]], str]
PayloadResolver = Callable[["Device", Mapping[str, Any]], str]
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
    """Host-side resolvers the agent passes to :func:`prepare_domain` and the plugins.

    ``storage_path(metadata) -> path``: a drive's path from its storage IDs.
    ``payload(device, metadata) -> path``: the image holding a payload device's files.
    ``lease(lease_id, sd_id) -> (path, offset)``: where a VM lease lives.
    ``host``: facts for sysinfo. ``values``: explicit answers that override every
    resolver (keys: the exact placeholder text, or a drive's target name).
    """

    storage_path: StoragePathResolver | None = None
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

    def drive_path(self, device: Device, placeholder: str) -> str:
        """The path for a drive whose source is a ``DRIVE-PATH:`` placeholder."""
        target = device.element.find("target")
        name = target.get("dev") if target is not None else None
        value = self.explicit(placeholder, name)
        if value is not None:
            return value
        metadata = device.metadata if device.has_metadata else {}
        missing = [key for key in STORAGE_KEYS if not metadata.get(key)]
        if missing:
            raise PlaceholderError(
                f"{device.describe()} (target {name!r}): {placeholder!r} needs storage IDs "
                f"{', '.join(missing)} in its metadata, or --resolve {name or placeholder}=PATH"
            )
        if self.storage_path is None:
            raise PlaceholderError(
                f"{device.describe()} (target {name!r}): no storage path resolver for {placeholder!r}"
            )
        return _checked_path(self.storage_path(dict(metadata)), device.describe(), placeholder)

    def payload_path(self, device: Device, placeholder: str) -> str:
        value = self.explicit(placeholder)
        if value is not None:
            return value
        if self.payload is None:
            raise PlaceholderError(f"{device.describe()}: no payload resolver for {placeholder!r}")
        metadata = device.metadata if device.has_metadata else {}
        return _checked_path(self.payload(device, dict(metadata)), device.describe(), placeholder)

    def lease_value(self, placeholder: str, where: str) -> str:
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
        value = self.explicit(placeholder)
        if value is not None:
            return value
        facts = {OS_NAME: self.host.os_name, OS_VERSION: self.host.os_version, HOST_SERIAL: self.host.host_serial}
        fact = facts.get(placeholder)
        if not fact:
            raise PlaceholderError(f"{where}: the host facts give no value for {placeholder!r}")
        return fact


def storage_layout(root: str) -> StoragePathResolver:
    """A storage path resolver for a file layout ``root/poolID/domainID/images/imageID/volumeID``.

    Agents with a real storage layer pass their own resolver instead.
    """

    def resolve(metadata: Mapping[str, Any]) -> str:
        parts = [str(metadata[key]) for key in ("poolID", "domainID")]
        for part in (*parts, str(metadata["imageID"]), str(metadata["volumeID"])):
            if "/" in part or part in (".", ".."):
                raise PlaceholderError(f"storage ID {part!r} is not a plain name")
        return "/".join([root.rstrip("/") or "", *parts, "images", str(metadata["imageID"]), str(metadata["volumeID"])])

    return resolve


def _checked_path(value: Any, where: str, placeholder: str) -> str:
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
            if is_placeholder(value):
                found.append((node, str(name), str(value)))
        if node.text is not None and is_placeholder(node.text):
            found.append((node, None, node.text.strip()))
    return found


def _set(node: etree._Element, attr: str | None, value: str) -> None:
    if attr is None:
        node.text = value
    else:
        node.set(attr, value)


def _alias(device: Device) -> str | None:
    alias = device.element.find("alias")
    return alias.get("name") if alias is not None else None


def _call_plugin_hook(domain: Domain, device: Device, resolvers: Resolvers) -> None:
    route = domain.registry.routes.get(device.dev_type)
    if route is None or route.prepare_impl is None:
        return
    try:
        route.prepare_impl(device, resolvers)
    except DevframeError:
        raise
    except Exception as exc:
        raise PluginError(route.plugin, f"devframe_prepare_device failed for {device.describe()}: {exc!r}") from exc


def prepare_domain(domain: Domain, resolvers: Resolvers) -> Domain:
    """Resolve every placeholder of ``domain`` in place (see the module doc). Returns it.

    Raises :class:`PlaceholderError` (a DevframeError) naming the device and placeholder
    when one cannot be resolved; a domain that leaves here has none left.
    """
    log = get_logger(domain=domain.name)
    for device in domain.devices:
        before = find_placeholders(device.element)
        _call_plugin_hook(domain, device, resolvers)
        _log_plugin_work(device, before, log)
        _prepare_device_defaults(device, resolvers, log)
    _prepare_sysinfo(domain, resolvers, log)
    domain._sync_devices()  # devices added since parsing are scanned in the tree too
    _check_none_left(domain)
    return domain


def _log_plugin_work(device: Device, before: list[tuple[etree._Element, str | None, str]], log: Any) -> None:
    """Log what the plugin's hook substituted, so no substitution goes unlogged."""
    for node, attr, value in before:
        now = node.get(attr) if attr is not None else (node.text or "").strip()
        if now != value:
            log.info(
                "placeholder resolved",
                dev_type=device.dev_type,
                alias=_alias(device),
                placeholder=value,
                where=f"<{node.tag}>" + (f"@{attr}" if attr else " text"),
                value=now,
                by=f"plugin {device.plugin}",
            )


def _substitute(
    log: Any, device: Device | None, node: etree._Element, attr: str | None, placeholder: str, value: str
) -> None:
    _set(node, attr, value)
    log.info(
        "placeholder resolved",
        dev_type=device.dev_type if device is not None else None,
        alias=_alias(device) if device is not None else None,
        placeholder=placeholder,
        where=f"<{node.tag}>" + (f"@{attr}" if attr else " text"),
        value=value,
    )


def _prepare_device_defaults(device: Device, resolvers: Resolvers, log: Any) -> None:
    """The core's defaults for placeholders a plugin left in its device."""
    for node, attr, value in find_placeholders(device.element):
        placeholder = value.strip()
        if placeholder.startswith(PAYLOAD):
            resolved = resolvers.payload_path(device, placeholder)
        elif placeholder.startswith((LEASE_PATH, LEASE_OFFSET)) and device.dev_type == "lease":
            resolved = resolvers.lease_value(placeholder, device.describe())
        else:
            continue  # left for the final check, which names it
        _substitute(log, device, node, attr, placeholder, resolved)


def _prepare_sysinfo(domain: Domain, resolvers: Resolvers, log: Any) -> None:
    for sysinfo in domain.root.iterfind("sysinfo"):
        for node, attr, value in find_placeholders(sysinfo):
            placeholder = value.strip()
            if placeholder in (OS_NAME, OS_VERSION, HOST_SERIAL):
                name = node.get("name") or node.tag
                resolved = resolvers.host_value(placeholder, f"<sysinfo> entry {name!r}")
                _substitute(log, None, node, attr, placeholder, resolved)


def _check_none_left(domain: Domain) -> None:
    devices_el = domain.root.find("devices")
    owners: dict[int, Device] = {}
    for device in domain.devices:
        for node in device.element.iter():
            owners[id(node)] = device
    for node, attr, value in find_placeholders(domain.root):
        if devices_el is not None and id(node) in owners:
            where = owners[id(node)].describe()
        else:
            where = f"<{_path_of(node)}>"
        spot = f"{where} <{node.tag}>" + (f" attribute {attr!r}" if attr else " text")
        raise UnresolvedPlaceholderError(domain.name, spot, value)


def _path_of(node: etree._Element) -> str:
    parts: list[str] = []
    current: etree._Element | None = node
    while current is not None:
        tag = current.tag
        parts.append(etree.QName(tag).localname if isinstance(tag, str) else "?")
        current = current.getparent()
    return "/".join(reversed(parts))
