"""The ``<hub>`` dev_class: a hub that adds ports to a guest bus.

Models libvirt's ``<hub>`` element (formatdomain "Hub devices")::

    <hub type='usb'>
      <alias name='ua-...'/>
      <address type='usb' bus='0' port='1'/>
    </hub>

dev_spec mapping (engine key on the left, XML place on the right; VDSM had no hub
device, so the spec follows the general rule, ``device`` being the hub's type):

============== ===============================================================
``device``     ``@type`` (usb, the only type). An element without ``@type``
               gives ``"hub"``, which builds none, so the round trip is exact.
``alias``      ``alias@name``
``deviceId``   the ``<deviceId>`` of a ``ua-<deviceId>`` alias
``address``    the direct child ``address`` (a dict; a USB port)
============== ===============================================================

Defaults: a spec without ``device`` builds a ``usb`` hub (the schema requires the
type, and usb is its only value). A ``device`` that is not a string is a
:class:`devframe.SpecError` naming the key; another string is kept (a newer libvirt
may know it).
"""

from __future__ import annotations

from typing import ClassVar

from devframe import Choice, Device, Field, Identity, address_text

__all__ = ["HUB_TYPES", "Hub"]

#: Every hub ``@type`` of the schema.
HUB_TYPES = ("usb",)

_NO_TYPE = "hub"  # the spec ``device`` of a hub without @type (Device.spec_device)


class Hub(Device):
    """A hub. Identity without an alias: its type and guest address."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "hub"
    identity_devtype: ClassVar[str | None] = "hub"  # every identity() holds it
    tag: ClassVar[str] = "hub"
    description: ClassVar[str] = "hubs (<hub type='usb'>)"
    child_order: ClassVar[tuple[str, ...]] = ("alias", "address")

    type = Field("@type", Choice(*HUB_TYPES), spec="device", default="usb", absent_spec=_NO_TYPE, doc="hub type")

    def identity(self) -> Identity | None:
        """Type and guest address, those the element has (None when it has neither).

        Hubs without an address share their identity and pair in document order."""
        found: dict[str, str] = {}
        kind = self.element.get("type")
        if kind:
            found["type"] = kind
        address = address_text(self.raw_address())
        if address:
            found["address"] = address
        return {"devtype": "hub", **found} if found else None
