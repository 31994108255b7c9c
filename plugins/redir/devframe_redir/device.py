"""The USB redirection dev_classes: ``<redirdev>`` and ``<redirfilter>``.

::

    <redirdev bus='usb' type='spicevmc'>                 <!-- a SPICE client's USB device -->
      <boot order='2'/>
      <alias name='ua-...'/>
      <address type='usb' bus='0' port='3'/>
    </redirdev>
    <redirdev bus='usb' type='tcp'>                      <!-- a usbredir server over TCP -->
      <source mode='connect' host='usbserver.example.net' service='4000'/>
    </redirdev>
    <redirfilter>                                        <!-- which devices may be redirected -->
      <usbdev class='0x08' vendor='0x15E1' product='0x2007' version='1.10' allow='yes'/>
      <usbdev allow='no'/>
    </redirfilter>

``<redirdev>`` dev_spec mapping (dev_spec ``type`` ``redir``, VDSM's name; a spec of type
``redirdev`` builds it too). VDSM's spec is ``{"type": "redir", "device": "spicevmc",
"specParams": {}}``:

================================ =============================================================
``device``                       ``@type``, the chardev type (:data:`devframe.CHAR_TYPES`;
                                 spicevmc or tcp in practice); default ``spicevmc``;
                                 ``redirdev``: an element without ``@type``
``alias``                        ``alias@name``
``deviceId``                     the ``<deviceId>`` of a ``ua-<deviceId>`` alias
``address``                      the direct child ``address`` (usb)
``bootOrder``                    ``boot@order`` (the core's Bootable)
``specParams.bootLoadparm``      ``boot@loadparm``
``specParams.bus``               ``@bus`` (usb, the only one): written only when it is
                                 not ``usb``, so VDSM's spec round-trips as it is; default
                                 ``usb``
``specParams.sources``           the chardev's ``<source>`` elements (the core's chardev
                                 source dicts, :mod:`devframe.core.chardev`)
``specParams.protocol``          ``protocol@type`` (raw, telnet, telnets, tls)
``specParams.log.file``          ``log@file``
``specParams.log.append``        ``log@append`` (bool, on/off)
================================ =============================================================

``<redirfilter>`` dev_spec mapping (dev_spec ``type`` ``redirfilter``; libvirt gives it no
``<alias>``, so a deviceId is kept in metadata):

================================ =============================================================
``device``                       always ``redirfilter``
``specParams.usbdevs``           every ``<usbdev>``, in order (the first match wins), a list
                                 of dicts: ``class``, ``vendor``, ``product`` (hex text such
                                 as ``0x08``, ``0x15E1``, or ``-1`` for any), ``version``
                                 (``1.10``, or ``-1``), ``allow`` (bool, yes/no, required)
================================ =============================================================

Identity (without an alias): a redirdev by chardev type and USB address (none without an
address); the redirfilter has none (one per domain, matched by its place).

A redirdev whose source libvirt refuses (``<redirdev bus='usb' type='tcp'/>``: tcp
without host and service) is valid in libvirt's schema, so it is built from a spec as it
is read from XML, round-trips, and is reported by ``problems()`` either way. A usbdev
without ``allow`` is refused from a spec (``SpecError`` naming the key) and a problem
when read. Nothing here is secret.
"""

from __future__ import annotations

from typing import Any, ClassVar

from lxml import etree

from devframe import (
    STR,
    YES_NO,
    Bootable,
    CharSource,
    Children,
    Choice,
    Device,
    ElementView,
    Field,
    Identity,
    SpecError,
    address_text,
)

__all__ = ["BUSES", "Redirdev", "Redirfilter", "UsbDevRule"]

#: ``<redirdev bus=...>``
BUSES = ("usb",)
_BUS = "usb"  # the one bus, libvirt's requirement


class Redirdev(CharSource, Bootable, Device):
    """A redirected USB device. Identity without an alias: its chardev type and address."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "redirdev"
    identity_devtype: ClassVar[str | None] = "redirdev"  # every identity() holds it
    tag: ClassVar[str] = "redirdev"
    spec_type: ClassVar[str] = "redir"
    description: ClassVar[str] = "redirected USB devices (<redirdev bus='usb' type=...>)"
    char_type_default: ClassVar[str | None] = "spicevmc"
    child_order: ClassVar[tuple[str, ...]] = ("source", "protocol", "log", "boot", "alias", "address")

    bus = Field("@bus", Choice(*BUSES), doc="always usb (spec: specParams.bus, written when not usb)")

    def write_spec(self, spec: dict[str, Any]) -> None:
        bus = self.bus
        if bus is not None and bus != _BUS:
            spec["specParams"]["bus"] = bus

    def read_spec(self, rest: dict[str, Any]) -> None:
        params = rest.get("specParams")
        bus = params.pop("bus", None) if isinstance(params, dict) else None
        if bus is not None and not isinstance(bus, str):
            raise SpecError(f"dev_spec key 'specParams.bus' of a redirdev: expected a bus name, got {bus!r:.60}")
        self.bus = _BUS if bus is None else bus
        # libvirt writes bus before type; the type field was set first.
        attrs = {str(k): str(v) for k, v in self.element.attrib.items()}
        self.element.attrib.clear()
        self.element.set("bus", attrs.pop("bus"))
        for name, value in attrs.items():
            self.element.set(name, value)
        super().read_spec(rest)

    def identity(self) -> Identity | None:
        """Chardev type and USB address. None without both: an engine's redirdevs are
        alike (several spicevmc ones) until libvirt gives them addresses, so they are
        keyed by alias and pair in document order."""
        kind = self.element.get("type")
        address = address_text(self.raw_address())
        if not kind or not address:
            return None
        return {"devtype": "redirdev", "type": kind, "address": address}

    def summary(self) -> dict[str, Any]:
        return self.char_summary(("char_type", "boot_order"))


class UsbDevRule(ElementView):
    """One ``<usbdev>`` rule of a redirection filter."""

    tag = "usbdev"
    usb_class = Field("@class", STR, spec="class", doc="USB class (0x08), -1: any")
    vendor = Field("@vendor", STR, spec="vendor", doc="vendor id (0x15E1), -1: any")
    product = Field("@product", STR, spec="product", doc="product id (0x2007), -1: any")
    version = Field("@version", STR, spec="version", doc="device version (1.10), -1: any")
    allow = Field("@allow", YES_NO, spec="allow", doc="redirect matching devices")


class Redirfilter(Device):
    """The USB redirection filter. No identity: it is matched by its place."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "redirfilter"
    tag: ClassVar[str] = "redirfilter"
    description: ClassVar[str] = "USB redirection filters (<redirfilter><usbdev .../>)"
    has_alias: ClassVar[bool] = False

    usbdevs = Children("usbdev", UsbDevRule, spec="specParams.usbdevs", doc="rules, first match wins")

    def rule_problem(self) -> tuple[str, str] | None:
        """A usbdev rule without ``allow`` (libvirt requires it)."""
        for index, rule in enumerate(self.element.iterchildren("usbdev")):
            if rule.get("allow") is None:
                return "specParams.usbdevs", f"usbdev {index} has no allow"
        return None

    def read_spec(self, rest: dict[str, Any]) -> None:
        device = rest.get("device")
        if device is not None and device != self.dev_type:
            raise SpecError(f"dev_spec key 'device' of a redirfilter must be 'redirfilter', got {device!r:.60}")
        self.check_rule()

    def summary(self) -> dict[str, Any]:
        rules = [_rule_text(rule) for rule in self.element.iterchildren("usbdev")]
        return {"usbdevs": rules} if rules else {}


def _rule_text(rule: etree._Element) -> str:
    """``allow class=0x08 vendor=0x15E1`` (attributes as written)."""
    verdict = {"yes": "allow", "no": "deny"}.get(rule.get("allow") or "", f"allow={rule.get('allow')!r}")
    parts = [verdict] + [
        f"{attr}={rule.get(attr)}" for attr in ("class", "vendor", "product", "version") if rule.get(attr)
    ]
    return " ".join(parts)
