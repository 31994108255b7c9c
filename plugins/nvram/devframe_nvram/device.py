"""The ``<nvram>`` dev_class: the NVRAM device of pseries (ppc64) guests.

Models the ``<nvram>`` child of ``<devices>`` (formatdomain "NVRAM device"), not the
firmware's ``<os><nvram>`` varstore, which is no device. libvirt 11.3's schema (and
9.0's) gives it one child and nothing else::

    <nvram>
      <address type='spapr-vio' reg='0x3000'/>
    </nvram>

An element without an address gets its ``spapr-vio`` address from libvirt
(``reg='0x3000'``); pseries is the only machine with the device.

dev_spec mapping (engine key on the left, XML place on the right):

=============== ===================================================================
``device``      always ``"nvram"`` (the element has no model or type)
``address``     the direct child ``address`` (a dict: ``{"type": "spapr-vio",
                "reg": "0x3000"}``)
``deviceId``    kept in the device's metadata: libvirt's schema has no ``<alias>``
                for ``<nvram>``, so a spec never builds one
``alias``       ``alias@name``, only when the XML has one
=============== ===================================================================

A spec whose ``device`` is anything but ``"nvram"`` is a :class:`devframe.SpecError`
naming the key. Nothing is required by the schema: a minimal spec builds ``<nvram/>``.

Identity without an alias: the guest address.
"""

from __future__ import annotations

from typing import Any, ClassVar

from devframe import Device, Identity, SpecError, address_text

__all__ = ["Nvram"]


class Nvram(Device):
    """The pseries NVRAM device. Identity: its guest address."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "nvram"
    identity_devtype: ClassVar[str | None] = "nvram"  # every identity() holds it
    tag: ClassVar[str] = "nvram"
    description: ClassVar[str] = "pseries NVRAM (<devices><nvram>)"
    # libvirt's schema has no <alias> for nvram: the engine's deviceId lives in metadata.
    has_alias: ClassVar[bool] = False
    child_order: ClassVar[tuple[str, ...]] = ("alias", "address")

    def read_spec(self, rest: dict[str, Any]) -> None:
        """Refuse a ``device`` that names something else: no field could hold it."""
        device = rest.get("device")
        if device is not None and device != self.dev_type:
            raise SpecError(f"nvram spec key 'device': expected 'nvram', got {device!r:.80}")

    def identity(self) -> Identity | None:
        """The guest address (``reg=0x3000,type=spapr-vio``); None without one."""
        address = address_text(self.raw_address())
        return {"devtype": "nvram", "address": address} if address else None

    def summary(self) -> dict[str, Any]:
        """The address is the one thing an nvram has: shown as its identity text."""
        out = super().summary()
        address = self.raw_address()
        if address:
            out["address"] = address_text(address)
        return out
