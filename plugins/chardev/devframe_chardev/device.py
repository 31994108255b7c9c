"""The character-device dev_classes: ``<serial>``, ``<console>``, ``<channel>``, ``<parallel>``.

All four carry libvirt's chardev source (:class:`devframe.CharSource`: ``@type``, the
``<source>`` elements, ``<protocol>``, ``<log>``), described once in the core; each adds
its own ``<target>``. Serial, console and parallel also have ``@tty`` (the pty's host
path, live XML) and ``<acpi index>``; a channel has neither::

    <serial type='tcp'>
      <source mode='bind' host='0.0.0.0' service='4555' tls='yes'/>
      <protocol type='telnet'/>
      <log file='/var/log/libvirt/qemu/vm-serial0.log' append='on'/>
      <target type='isa-serial' port='0'><model name='isa-serial'/></target>
      <alias name='serial0'/>
    </serial>
    <console type='pty' tty='/dev/pts/3'><source path='/dev/pts/3'/><target type='serial' port='0'/></console>
    <channel type='unix'>
      <source mode='bind' path='/var/lib/libvirt/qemu/channel/target/vm/org.qemu.guest_agent.0'/>
      <target type='virtio' name='org.qemu.guest_agent.0' state='connected'/>
      <address type='virtio-serial' controller='0' bus='0' port='1'/>
    </channel>
    <channel type='pipe'><source path='/tmp/fwd'/><target type='guestfwd' address='10.0.2.1' port='4600'/></channel>
    <parallel type='file'><source path='/var/spool/lpt1'/><target port='0'/></parallel>

dev_spec mapping, shared by the four kinds (engine key on the left, XML place on the
right; the source keys are the core's, :mod:`devframe.core.chardev`):

================================ =============================================================
``alias``                        ``alias@name``
``deviceId``                     the ``<deviceId>`` of a ``ua-<deviceId>`` alias
``address``                      the direct child ``address`` (isa, pci, usb, spapr-vio,
                                 virtio-serial, ccw, ...)
``specParams.sources``           every ``<source>``: a list of dicts with ``mode``, ``path``,
                                 ``host``, ``service``, ``channel``, ``master``, ``slave``,
                                 ``append``, ``tls``, ``reconnect`` (``enabled``,
                                 ``timeout``, ``delay``), ``seclabels``, ``clipboard``
                                 (``copypaste``), ``mouse`` (``mode``)
``specParams.protocol``          ``protocol@type`` (raw, telnet, telnets, tls)
``specParams.log.file``          ``log@file``
``specParams.log.append``        ``log@append`` (bool, on/off)
``specParams.tty``               ``@tty`` (serial, console, parallel)
``specParams.acpiIndex``         ``acpi@index`` (serial, console, parallel)
================================ =============================================================

``<serial>`` (dev_spec ``type`` ``serial``):

================================ =============================================================
``device``                       ``@type``, the chardev type (pty, dev, file, pipe, unix, tcp,
                                 udp, null, stdio, vc, spicevmc, spiceport, nmdm,
                                 qemu-vdagent, dbus); default ``pty``; ``serial``: an
                                 element without ``@type`` (the same for channel and
                                 parallel, with their names)
``specParams.targetType``        ``target@type`` (isa-serial, usb-serial, pci-serial,
                                 spapr-vio-serial, system-serial, sclp-serial, isa-debug)
``specParams.port``              ``target@port`` (int)
``specParams.targetModel``       ``target/model@name`` (isa-serial, usb-serial, pci-serial,
                                 spapr-vty, pl011, 16550a, sclpconsole, sclplmconsole,
                                 isa-debugcon)
================================ =============================================================

``<console>`` (dev_spec ``type`` ``console``; VDSM's spec is ``{"type": "console",
"device": "console", "specParams": {"consoleType": "serial", "enableSocket": true}}``):

================================ =============================================================
``device``                       always ``console`` (VDSM's word; any other value is a
                                 ``SpecError``)
``specParams.type``              ``@type``, the chardev type; default ``pty``; ``""``: no
                                 ``@type`` (the schema's tty-only console; libvirt reads pty)
``specParams.enableSocket``      VDSM's switch for a unix socket console: true when ``@type``
                                 is ``unix``. From a spec without ``specParams.type``, true
                                 builds ``type='unix'`` with ``<source mode='bind'/>``
                                 unless ``specParams.sources`` names the socket (VDSM used
                                 ``/var/run/ovirt-vmconsole-console/<vmId>.sock``); without a
                                 path, libvirt's QEMU driver makes one. The socket is the
                                 source path: there is no other key for it.
``specParams.consoleType``       ``target@type`` (serial, virtio, xen, uml, lxc, openvz,
                                 sclp, sclplm)
``specParams.port``              ``target@port`` (int)
``specParams.targetModel``       ``target/model@name`` (the serial models: the schema shares
                                 one target definition among serial, console and parallel)
================================ =============================================================

A console's target has no ``state`` (that is a virtio channel's): the schema gives it
type, port and model only.

``<channel>`` (dev_spec ``type`` ``channel``; VDSM: ``{"type": "channel", "device":
"unix", ...}``):

================================ =============================================================
``device``                       ``@type``, the chardev type; default ``unix`` (libvirt makes
                                 the socket of a virtio channel without a source)
``specParams.targetType``        ``target@type`` (virtio, guestfwd, xen); default ``virtio``
``specParams.name``              ``target@name`` (virtio, xen: ``org.qemu.guest_agent.0``,
                                 ``com.redhat.spice.0``, ...)
``specParams.state``             ``target@state`` (connected, disconnected; virtio, live)
``specParams.targetAddress``     ``target@address`` (guestfwd: the guest-side IP)
``specParams.targetPort``        ``target@port`` (guestfwd: the guest-side TCP port, int)
================================ =============================================================

The socket path of a VDSM channel is its source's ``path``
(``specParams.sources[0].path``, with ``mode`` ``bind``).

``<parallel>`` (dev_spec ``type`` ``parallel``):

================================ =============================================================
``device``                       ``@type``, the chardev type; default ``pty``
``specParams.port``              ``target@port`` (int)
``specParams.targetType``        ``target@type`` (:data:`PARALLEL_TARGET_TYPES`: the schema's
                                 console and serial target types)
``specParams.targetModel``       ``target/model@name`` (the serial models)
================================ =============================================================

Identity (without an alias): serial, console, parallel by target type (when written) and
port; a channel by target type and name (virtio, xen) or guest address and port
(guestfwd). A device without them has none (keyed by alias, paired in order).

Defaults: libvirt chooses a serial's or console's target type and port, and a
channel's virtio-serial port, for the guest's machine; a spec without them leaves them to
it. Refused from a spec (``SpecError`` naming the key): a guestfwd channel without
address and port or a virtio/xen channel with them, a console ``device`` other than
``console``, ``enableSocket`` with a type other than unix. Read from XML, the same (and a
channel without a target type) are ``problems()``. A source libvirt refuses (a file
without a path, tcp without host or service, ...) is valid in its schema: built from a
spec as read from XML, and reported by ``problems()`` both ways, so it round-trips.

A parallel port's target ``type`` and ``<model>``, and a console's ``<model>``, exist
because the schema shares one target definition (``qemucdevTgtDef``) among serial,
console and parallel; libvirt documents no values for them there, so they are carried as
written with the schema's value sets.
"""

from __future__ import annotations

from typing import Any, ClassVar

from lxml import etree

from devframe import (
    CONSOLE_TARGET_TYPES,
    INT,
    SERIAL_TARGET_MODELS,
    SERIAL_TARGET_TYPES,
    SHARED_TARGET_TYPES,
    STR,
    YES_NO,
    AcpiIndex,
    CharSource,
    Choice,
    Device,
    Field,
    Identity,
    SpecError,
    first_child,
)

__all__ = [
    "CHANNEL_STATES",
    "CHANNEL_TARGET_TYPES",
    "CONSOLE_TARGET_TYPES",
    "PARALLEL_TARGET_TYPES",
    "SERIAL_TARGET_MODELS",
    "SERIAL_TARGET_TYPES",
    "Channel",
    "Console",
    "Parallel",
    "Serial",
]

#: ``<parallel><target type=...>``: the schema's shared target takes a console's or a serial port's
PARALLEL_TARGET_TYPES = SHARED_TARGET_TYPES
#: ``<channel><target type=...>``
CHANNEL_TARGET_TYPES = ("virtio", "guestfwd", "xen")
#: ``<channel><target state=...>`` (virtio)
CHANNEL_STATES = ("connected", "disconnected")

_CONSOLE_DEVICE = "console"  # VDSM's dev_spec ``device`` of a console


def _number_text(raw: str) -> str:
    """A port as identity text: decimal when it reads as a number, else as written."""
    try:
        return str(INT.parse(raw))
    except ValueError:
        return raw


def _target(element: etree._Element) -> etree._Element | None:
    # libvirt writes <source>s (a log, a protocol) before <target>: looked at directly
    return first_child(element, "target", near=3)


class _QemuCharDevice(CharSource, AcpiIndex, Device):
    """What serial, console and parallel share (libvirt's ``qemucdev``): ``@tty``, ACPI."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    char_type_default: ClassVar[str | None] = "pty"
    child_order: ClassVar[tuple[str, ...]] = ("source", "protocol", "log", "target", "alias", "acpi", "address")

    tty = Field("@tty", STR, spec="specParams.tty", doc="the pty's host path (live XML)")

    def identity(self) -> Identity | None:
        """Target type (when written) and port, what libvirt numbers these devices by.

        None without a port: two such devices would share a key, so their metadata is
        keyed by alias and they pair in document order.
        """
        target = _target(self.element)
        port = target.get("port") if target is not None else None
        if target is None or not port:
            return None
        found = {"devtype": self.dev_type}
        kind = target.get("type")
        if kind:
            found["target_type"] = kind
        found["port"] = _number_text(port)
        return found


class Serial(_QemuCharDevice):
    """A serial port."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "serial"
    identity_devtype: ClassVar[str | None] = "serial"  # every identity() holds it
    tag: ClassVar[str] = "serial"
    description: ClassVar[str] = "serial ports (<serial type=...>)"

    target_type = Field("target@type", Choice(*SERIAL_TARGET_TYPES), spec="specParams.targetType")
    port = Field("target@port", INT, spec="specParams.port", doc="the guest's port number")
    target_model = Field("target/model@name", Choice(*SERIAL_TARGET_MODELS), spec="specParams.targetModel")

    def summary(self) -> dict[str, Any]:
        names = ("char_type", "target_type", "port", "target_model", "protocol", "log_file", "tty", "acpi_index")
        return self.char_summary(names)


class Console(_QemuCharDevice):
    """A text console (VDSM's ``console`` device)."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "console"
    identity_devtype: ClassVar[str | None] = "console"  # every identity() holds it
    tag: ClassVar[str] = "console"
    description: ClassVar[str] = "text consoles (<console type=...>)"
    char_type_spec: ClassVar[str] = "specParams.type"
    char_type_default: ClassVar[str | None] = None  # read_spec: unix for enableSocket, else pty

    console_type = Field("target@type", Choice(*CONSOLE_TARGET_TYPES), spec="specParams.consoleType")
    port = Field("target@port", INT, spec="specParams.port", doc="the guest's console number")
    target_model = Field("target/model@name", Choice(*SERIAL_TARGET_MODELS), spec="specParams.targetModel")

    def write_spec(self, spec: dict[str, Any]) -> None:
        spec["device"] = _CONSOLE_DEVICE
        kind = self.element.get("type")
        if kind == "unix":
            spec["specParams"]["enableSocket"] = True
        elif kind is None:
            spec["specParams"]["type"] = ""  # no @type (libvirt reads pty): built again without one

    def read_spec(self, rest: dict[str, Any]) -> None:
        device = rest.get("device")
        if device is not None and device != _CONSOLE_DEVICE:
            raise SpecError(f"dev_spec key 'device' of a console must be {_CONSOLE_DEVICE!r}, got {device!r}")
        params = rest.get("specParams")
        raw = params.pop("enableSocket", None) if isinstance(params, dict) else None
        enable = None
        if raw is not None:
            try:
                enable = YES_NO.coerce(raw)
            except (TypeError, ValueError):
                raise SpecError(f"dev_spec key 'specParams.enableSocket': expected a bool, got {raw!r:.60}") from None
        kind = self.char_type
        if enable and kind not in (None, "unix"):
            raise SpecError(f"dev_spec key 'specParams.enableSocket': a socket console is type 'unix', not {kind!r}")
        if enable is False and kind == "unix":
            raise SpecError("dev_spec key 'specParams.enableSocket' is false for a console of type 'unix'")
        if kind is None:
            self.char_type = "unix" if enable else "pty"
            if enable and not self.sources:
                self.sources = [{"mode": "bind"}]  # VDSM's socket console: QEMU names the socket
        elif kind == "":
            self.char_type = None  # the spec of a console without @type
        super().read_spec(rest)

    def summary(self) -> dict[str, Any]:
        names = ("char_type", "console_type", "port", "target_model", "log_file", "tty", "acpi_index")
        return self.char_summary(names)


class Channel(CharSource, Device):
    """A host-guest channel: virtio-serial port, guest forward, or xen channel."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "channel"
    identity_devtype: ClassVar[str | None] = "channel"  # every identity() holds it
    tag: ClassVar[str] = "channel"
    description: ClassVar[str] = "host-guest channels (<channel type=...><target type='virtio' name=...>)"
    char_type_default: ClassVar[str | None] = "unix"
    child_order: ClassVar[tuple[str, ...]] = ("source", "protocol", "log", "target", "alias", "address")

    target_type = Field(
        "target@type", Choice(*CHANNEL_TARGET_TYPES), spec="specParams.targetType", default="virtio",
        doc="virtio (virtio-serial port), guestfwd (slirp forward), xen",
    )  # fmt: skip
    name = Field("target@name", STR, spec="specParams.name", doc="port name (virtio, xen)")
    state = Field("target@state", Choice(*CHANNEL_STATES), spec="specParams.state", doc="guest side open (live)")
    target_address = Field("target@address", STR, spec="specParams.targetAddress", doc="guestfwd: guest IP")
    target_port = Field("target@port", INT, spec="specParams.targetPort", doc="guestfwd: guest TCP port")

    def target_problem(self) -> tuple[str, str] | None:
        """(field name, reason) when the target does not fit its type, else None."""
        target = _target(self.element)
        kind = target.get("type") if target is not None else None
        if kind is None:
            return "target_type", "a channel needs a <target type>"
        if kind == "guestfwd":
            for name, attr in (("target_address", "address"), ("target_port", "port")):
                if target is not None and target.get(attr) is None:
                    return name, f"a guestfwd channel needs a target {attr}"
            for name, attr in (("name", "name"), ("state", "state")):
                if target is not None and target.get(attr) is not None:
                    return name, f"a guestfwd channel has no target {attr}"
        elif kind in ("virtio", "xen"):
            for name, attr in (("target_address", "address"), ("target_port", "port")):
                if target is not None and target.get(attr) is not None:
                    return name, f"a {kind} channel has no target {attr} (guestfwd only)"
            if kind == "xen" and target is not None and target.get("state") is not None:
                return "state", "a xen channel has no target state"
        return None

    def rule_problem(self) -> tuple[str, str] | None:
        """The target's problem (:meth:`target_problem`), named by its dev_spec key."""
        problem = self.target_problem()
        if problem is None:
            return None
        name, reason = problem
        return self.fields[name].spec or name, reason

    def read_spec(self, rest: dict[str, Any]) -> None:
        self.check_rule()
        super().read_spec(rest)

    def identity(self) -> Identity | None:
        """Target type and name (virtio, xen) or guest address and port (guestfwd).

        None when the target lacks them (an unnamed virtio port): such channels are keyed
        by alias and pair in document order.
        """
        target = _target(self.element)
        kind = target.get("type") if target is not None else None
        if target is None or not kind:
            return None
        if kind == "guestfwd":
            address, port = target.get("address"), target.get("port")
            if not address or not port:
                return None
            return {"devtype": "channel", "target_type": kind, "address": address, "port": _number_text(port)}
        name = target.get("name")
        return {"devtype": "channel", "target_type": kind, "name": name} if name else None

    def summary(self) -> dict[str, Any]:
        names = ("char_type", "target_type", "name", "state", "target_address", "target_port", "protocol", "log_file")
        return self.char_summary(names)


class Parallel(_QemuCharDevice):
    """A parallel port."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "parallel"
    identity_devtype: ClassVar[str | None] = "parallel"  # every identity() holds it
    tag: ClassVar[str] = "parallel"
    description: ClassVar[str] = "parallel ports (<parallel type=...>)"

    target_type = Field("target@type", Choice(*PARALLEL_TARGET_TYPES), spec="specParams.targetType")
    port = Field("target@port", INT, spec="specParams.port", doc="the guest's port number")
    target_model = Field("target/model@name", Choice(*SERIAL_TARGET_MODELS), spec="specParams.targetModel")

    def summary(self) -> dict[str, Any]:
        return self.char_summary(("char_type", "target_type", "port", "target_model", "log_file", "tty", "acpi_index"))
