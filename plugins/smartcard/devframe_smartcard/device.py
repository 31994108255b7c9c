"""The ``<smartcard>`` dev_class: a CCID smartcard reader.

libvirt's three modes (formatdomain "Smartcard devices")::

    <smartcard mode='host'/>                               <!-- the host's reader, via NSS -->
    <smartcard mode='host-certificates'>                   <!-- three certificates of an NSS db -->
      <certificate>cert1</certificate><certificate>cert2</certificate><certificate>cert3</certificate>
      <database>/etc/pki/nssdb</database>
    </smartcard>
    <smartcard mode='passthrough' type='tcp'>              <!-- a character device (usually spicevmc) -->
      <source mode='connect' host='127.0.0.1' service='2001'/>
      <protocol type='raw'/>
      <address type='ccid' controller='0' slot='0'/>
    </smartcard>

dev_spec mapping (engine key on the left, XML place on the right). VDSM's spec is
``{"type": "smartcard", "device": "smartcard", "specParams": {"mode": "passthrough",
"type": "spicevmc"}}``:

================================ =============================================================
``device``                       always ``smartcard`` (any other value is a ``SpecError``)
``alias``                        ``alias@name``
``deviceId``                     the ``<deviceId>`` of a ``ua-<deviceId>`` alias
``address``                      the direct child ``address`` (ccid)
``specParams.mode``              ``@mode`` (host, host-certificates, passthrough); default
                                 ``passthrough``
``specParams.type``              ``@type``, the chardev type of a passthrough smartcard
                                 (:data:`devframe.CHAR_TYPES`); default ``spicevmc`` there,
                                 refused for the other modes
``specParams.sources``           the passthrough chardev's ``<source>`` elements (the core's
                                 chardev source dicts, :mod:`devframe.core.chardev`)
``specParams.protocol``          ``protocol@type`` (raw, telnet, telnets, tls)
``specParams.log.file``          ``log@file``
``specParams.log.append``        ``log@append`` (bool, on/off)
``specParams.certificates``      the three ``<certificate>`` texts (host-certificates: NSS
                                 nicknames, not secrets), a list of str
``specParams.database``          ``database`` text (host-certificates: the NSS database
                                 directory; absent, libvirt uses ``/etc/pki/nssdb``)
``specParams.acpiIndex``         ``acpi@index``
``specParams.targetType``        ``target@type`` (passthrough: the schema's shared chardev
                                 target, :data:`TARGET_TYPES`)
``specParams.targetPort``        ``target@port`` (passthrough, int)
``specParams.targetModel``       ``target/model@name`` (passthrough, :data:`TARGET_MODELS`)
================================ =============================================================

Identity (without an alias): mode and ccid address; none without an address.

Nothing is secret: the certificates are names of certificates in the host's NSS
database, not key material.

A passthrough smartcard's ``<target>`` is the schema's chardev target definition shared
with serial ports and consoles (``qemucdevTgtDef``); libvirt reads no target for a
smartcard, so the values are carried as written, and a target on another mode is a
problem (the schema allows it only for passthrough).

libvirt's schema gives ``<smartcard>`` no ``<alias>``, yet libvirt reads and writes one
(``smartcard0``, the engine's ``ua-<deviceId>``): it is kept like any device's alias.
"""

from __future__ import annotations

from typing import Any, ClassVar

from lxml import etree

from devframe import (
    INT,
    SERIAL_TARGET_MODELS,
    SHARED_TARGET_TYPES,
    STR,
    AcpiIndex,
    CharSource,
    Choice,
    Device,
    Field,
    Identity,
    SpecError,
    TextList,
    address_text,
)

__all__ = ["CERTIFICATES", "MODES", "TARGET_MODELS", "TARGET_TYPES", "Smartcard"]

#: ``@mode``
MODES = ("host", "host-certificates", "passthrough")
#: how many ``<certificate>`` a host-certificates smartcard has (the schema says three)
CERTIFICATES = 3

# The schema's shared chardev target (``qemucdevTgtDef``), declared once in the core.
#: ``<target type=...>`` of a passthrough smartcard
TARGET_TYPES = SHARED_TARGET_TYPES
#: ``<target><model name=...>`` of a passthrough smartcard
TARGET_MODELS = SERIAL_TARGET_MODELS

_DEVICE = "smartcard"  # VDSM's dev_spec ``device``
_DEFAULT_TYPE = "spicevmc"  # a passthrough smartcard's usual chardev (SPICE)


def _target_key(target: etree._Element) -> str:
    """The dev_spec key of the first part a ``<target>`` has, to name it in a problem."""
    if target.get("type") is not None:
        return "specParams.targetType"
    if target.get("port") is not None:
        return "specParams.targetPort"
    return "specParams.targetModel"


class Smartcard(CharSource, AcpiIndex, Device):
    """A smartcard reader. Identity without an alias: its mode and ccid address."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "smartcard"
    identity_devtype: ClassVar[str | None] = "smartcard"  # every identity() holds it
    tag: ClassVar[str] = "smartcard"
    description: ClassVar[str] = "smartcard readers (<smartcard mode=...>)"
    char_type_spec: ClassVar[str] = "specParams.type"
    child_order: ClassVar[tuple[str, ...]] = (
        "certificate", "database", "source", "protocol", "log", "target", "alias", "acpi", "address",
    )  # fmt: skip

    mode = Field("@mode", Choice(*MODES), spec="specParams.mode", default="passthrough", doc="host, ..., passthrough")
    certificates = TextList("certificate", spec="specParams.certificates", doc="host-certificates: NSS nicknames")
    database = Field("database", STR, spec="specParams.database", doc="host-certificates: NSS database directory")
    target_type = Field("target@type", Choice(*TARGET_TYPES), spec="specParams.targetType", doc="passthrough")
    target_port = Field("target@port", INT, spec="specParams.targetPort", doc="passthrough")
    target_model = Field("target/model@name", Choice(*TARGET_MODELS), spec="specParams.targetModel")

    def rule_problem(self) -> tuple[str, str] | None:
        """(dev_spec key, reason) when the element does not fit its mode, else None."""
        element = self.element
        mode = element.get("mode")
        count = sum(1 for _ in element.iterchildren("certificate"))
        has_database = next(element.iterchildren("database"), None) is not None
        if mode is None:
            return "specParams.mode", "a smartcard needs a mode"
        if mode == "host-certificates" and count != CERTIFICATES:
            return "specParams.certificates", f"host-certificates takes {CERTIFICATES} certificates, got {count}"
        if mode in ("host", "passthrough") and count:
            return "specParams.certificates", f"certificates belong to mode 'host-certificates', not {mode!r}"
        if mode in ("host", "passthrough") and has_database:
            return "specParams.database", f"a database belongs to mode 'host-certificates', not {mode!r}"
        if mode in ("host", "host-certificates") and element.get("type") is not None:
            return "specParams.type", f"a chardev type belongs to mode 'passthrough', not {mode!r}"
        if mode in ("host", "host-certificates") and next(element.iterchildren("source"), None) is not None:
            return "specParams.sources", f"a chardev source belongs to mode 'passthrough', not {mode!r}"
        target = next(element.iterchildren("target"), None)
        if mode in ("host", "host-certificates") and target is not None:
            return _target_key(target), f"a target belongs to mode 'passthrough', not {mode!r}"
        if mode == "passthrough" and element.get("type") is None:
            return "specParams.type", "a passthrough smartcard needs a chardev type"
        return None

    def write_spec(self, spec: dict[str, Any]) -> None:
        spec["device"] = _DEVICE

    def read_spec(self, rest: dict[str, Any]) -> None:
        device = rest.get("device")
        if device is not None and device != _DEVICE:
            raise SpecError(f"dev_spec key 'device' of a smartcard must be {_DEVICE!r}, got {device!r:.60}")
        if self.mode == "passthrough" and self.char_type is None:
            self.char_type = _DEFAULT_TYPE
        self.check_rule()
        super().read_spec(rest)

    def identity(self) -> Identity | None:
        """Mode and ccid address. None without both: smartcards without an address would
        share a key, so their metadata is keyed by alias and they pair in document order."""
        mode = self.element.get("mode")
        address = address_text(self.raw_address())
        if not mode or not address:
            return None
        return {"devtype": "smartcard", "mode": mode, "address": address}

    def summary(self) -> dict[str, Any]:
        """Mode, then what that mode uses."""
        out = self.char_summary(("mode", "char_type", "database", "acpi_index"))
        certificates = [c.text or "" for c in self.element.iterchildren("certificate")]
        if certificates:
            out["certificates"] = certificates
        return out
