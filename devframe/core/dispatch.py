"""The dispatcher: one pass over `<devices>`, one table lookup per child.

No plugin is asked about an element it did not claim: the registry's ``by_tag`` table
(built once per registry) names the one route for each child. Comments and processing
instructions between devices are kept as *trivia* attached to the device that follows
them, so they survive edits of the dev_map.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from devframe.core.device import Device, UnknownDevice, parsed_device, plain_construction
from devframe.core.registry import Registry, Route

__all__ = ["Binder", "ParsedDevices", "parse_devices"]

#: Looks up the metadata of one new dev_object (by alias, then identity): source or None
Binder = Callable[[Device], Any]


@dataclass
class ParsedDevices:
    devices: list[Device] = field(default_factory=list)
    #: comments / PIs found before a device, keyed by that device
    leading: dict[Device, list[etree._Element]] = field(default_factory=dict)
    #: comments / PIs after the last device
    trailing: list[etree._Element] = field(default_factory=list)


def parse_devices(
    devices_el: Iterable[etree._Element], registry: Registry, binder: Binder | None = None, *, owner: object = None
) -> ParsedDevices:
    """Turn every child of ``devices_el`` into a dev_object, in document order.

    ``devices_el`` is the `<devices>` element, or some of its children in order (a
    streaming reader hands over the children complete so far). ``owner`` is stored on
    each device: the token of the Domain it belongs to.
    """
    out = ParsedDevices()
    devices = out.devices
    append = devices.append
    by_tag = registry.by_tag
    pending: list[etree._Element] = []
    # Per route of this call: whether its class is made by parsed_device (Device's own
    # __init__, no legacy hook), else by route.parse.
    plain: dict[Route, bool] = {}
    unknown_plain = plain_construction(UnknownDevice)
    for child in devices_el:
        tag = child.tag
        if not isinstance(tag, str):  # comment, processing instruction, entity
            pending.append(child)
            continue
        slot = by_tag.get(tag)
        route = slot if slot is None or isinstance(slot, Route) else slot.pick(child)
        if route is None:
            if unknown_plain:
                device: Device = parsed_device(UnknownDevice, child, None, owner)
            else:
                device = UnknownDevice(child)
                device._owner = owner
        else:
            simple = plain.get(route)
            if simple is None:
                simple = plain[route] = route.legacy_parse is None and plain_construction(route.dev_class)
            try:
                if simple:
                    device = parsed_device(route.dev_class, child, route, owner)
                else:
                    device = route.parse(child)
                    device._owner = owner
            except Exception as exc:  # noqa: BLE001 - keep the device, report the plugin
                device = registry.parse_failed(route, child, None, exc)
                device._owner = owner
        if binder is not None:
            metadata = binder(device)
            if metadata is not None and device.metadata_source is None:
                device.metadata_source = metadata  # what bind_metadata does, without the call
        if pending:
            out.leading[device] = pending
            pending = []
        append(device)
    out.trailing = pending
    return out
