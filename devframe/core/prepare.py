"""Prepare an engine domain for one host: resolve its placeholders.

:func:`prepare_domain` runs in three steps: each device resolves its own placeholders
(:meth:`devframe.Device.prepare`: the drive plugin resolves ``DRIVE-PATH:`` from its
storage IDs, the lease plugin ``LEASE-PATH:``/``LEASE-OFFSET:`` through
``Resolvers.lease_value``); the core then resolves what no device kind owns:

================== ==================================== =======================================
placeholder        where                                resolved by
================== ==================================== =======================================
``PAYLOAD:``       any path (normally a cdrom source)   ``Resolvers.payload(device, metadata)``
``OS-NAME:``       ``<sysinfo>`` entry text             ``Resolvers.host.os_name``
``OS-VERSION:``    ``<sysinfo>`` entry text             ``Resolvers.host.os_version``
``HOST-SERIAL:``   ``<sysinfo>`` entry text             ``Resolvers.host.host_serial``
================== ==================================== =======================================

``Resolvers.values`` (e.g. from ``devframe run --resolve KEY=VALUE``) overrides every
resolver: a key is the exact placeholder text (``PAYLOAD:``,
``LEASE-OFFSET:lease1:sd1``) or a name a device class documents (a drive's target
name, ``vda``). Finally the whole domain is scanned and any placeholder left is an
:class:`UnresolvedPlaceholderError` naming the device and the placeholder. Every
substitution is logged (domain, dev_type, alias, placeholder).

This module is part of the core: it never talks to libvirt. The agent builds the
:class:`Resolvers` from its host and passes them in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lxml import etree

from devframe.core.device import Device
from devframe.core.log import REDACTED, get_logger
from devframe.core.resolve import (
    HOST_SERIAL,
    OS_NAME,
    OS_VERSION,
    PAYLOAD,
    HostFacts,
    PlaceholderError,
    Resolvers,
    UnresolvedPlaceholderError,
    find_placeholders,
    is_placeholder,
)

if TYPE_CHECKING:
    from devframe.core.domain import Domain

__all__ = [
    "HostFacts",
    "PlaceholderError",
    "Resolvers",
    "UnresolvedPlaceholderError",
    "find_placeholders",
    "is_placeholder",
    "prepare_domain",
]


def _set(node: etree._Element, attr: str | None, value: str) -> None:
    if attr is None:
        node.text = value
    else:
        node.set(attr, value)


def _alias(device: Device) -> str | None:
    alias = device.element.find("alias")
    return alias.get("name") if alias is not None else None


def prepare_domain(domain: Domain, resolvers: Resolvers) -> Domain:
    """Resolve every placeholder of ``domain`` in place (see the module doc). Returns it.

    Raises :class:`PlaceholderError` (a DevframeError) naming the device and placeholder
    when one cannot be resolved; a domain that leaves here has none left.
    """
    log = get_logger(domain=domain.name)
    for device in domain.devices:
        before = find_placeholders(device.element)
        device.run_prepare(resolvers)
        _log_plugin_work(device, before, log)
        _prepare_device_defaults(device, resolvers, log)
    _prepare_sysinfo(domain, resolvers, log)
    domain.devices_xml()  # brings <devices> in step: devices added since parsing are scanned too
    _check_none_left(domain)
    return domain


def _shown(device: Device | None, node: etree._Element, attr: str | None, value: str | None) -> str | None:
    """``value`` as a log line or an error may show it: never a secret's (a password
    written as a placeholder, or resolved into one), per devframe.core.secrets."""
    if device is not None and value is not None and device.secret_plan().is_secret(device.element, node, attr):
        return REDACTED
    return value


def _log_plugin_work(device: Device, before: list[tuple[etree._Element, str | None, str]], log: Any) -> None:
    """Log what the plugin's hook substituted, so no substitution goes unlogged."""
    for node, attr, value in before:
        now = node.get(attr) if attr is not None else (node.text or "").strip()
        if now != value:
            log.info(
                "placeholder resolved",
                dev_type=device.dev_type,
                alias=_alias(device),
                placeholder=_shown(device, node, attr, value),
                where=f"<{node.tag}>" + (f"@{attr}" if attr else " text"),
                value=_shown(device, node, attr, now),
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
        placeholder=_shown(device, node, attr, placeholder),
        where=f"<{node.tag}>" + (f"@{attr}" if attr else " text"),
        value=_shown(device, node, attr, value),
    )


def _prepare_device_defaults(device: Device, resolvers: Resolvers, log: Any) -> None:
    """The core's defaults for placeholders a plugin left in its device."""
    for node, attr, value in find_placeholders(device.element):
        placeholder = value.strip()
        if placeholder.startswith(PAYLOAD):
            resolved = resolvers.payload_path(device, placeholder)
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
        owner = owners.get(id(node)) if devices_el is not None else None
        where = owner.describe() if owner is not None else f"<{_path_of(node)}>"
        spot = f"{where} <{node.tag}>" + (f" attribute {attr!r}" if attr else " text")
        shown = _shown(owner, node, attr, value)
        assert shown is not None
        raise UnresolvedPlaceholderError(domain.name, spot, shown)


def _path_of(node: etree._Element) -> str:
    parts: list[str] = []
    current: etree._Element | None = node
    while current is not None:
        tag = current.tag
        parts.append(etree.QName(tag).localname if isinstance(tag, str) else "?")
        current = current.getparent()
    return "/".join(reversed(parts))
