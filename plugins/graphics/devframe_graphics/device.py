"""The ``<graphics>`` dev_class: how the guest's display is exported.

libvirt graphics types (libvirt.org formatdomain, "Graphical framebuffers"): ``vnc``,
``spice``, ``sdl``, ``rdp``, ``desktop``, ``egl-headless`` and ``dbus``. Every field is
declared once below; a field that only one type uses is simply absent on the others.
libvirt gives graphics no alias and no guest address, and its schema has no place for
either, so a graphics device built from a spec never gets an ``<alias>`` element: the
engine's ``deviceId`` is kept in the device's metadata instead (see ``deviceId`` below).

dev_spec mapping (engine key on the left; ``specParams.`` keys are nested there):

===================================== ===================================================
``device``                            ``@type`` (vnc, spice, sdl, rdp, desktop,
                                      egl-headless, dbus); default ``vnc``
``port``                              ``@port`` (int, -1..65535; -1 = libvirt picks)
``tlsPort``                           ``@tlsPort`` (spice; int, -1 kept as is)
``alias``                             ``alias@name``, only when the XML has one
``deviceId``                          from a ``ua-<deviceId>`` alias when there is one,
                                      else kept in ``Device.metadata['deviceId']``
``specParams.autoport``               ``@autoport`` (bool)
``specParams.websocket``              ``@websocket`` (vnc; int port)
``specParams.sharePolicy``            ``@sharePolicy`` (vnc)
``specParams.powerControl``           ``@powerControl`` (vnc; bool)
``specParams.socket``                 ``@socket`` (vnc UNIX socket)
``specParams.keyMap``                 ``@keymap``
``specParams.passwdValidTo``          ``@passwdValidTo``
``specParams.connected``              ``@connected`` (keep, fail, disconnect)
``specParams.defaultMode``            ``@defaultMode`` (spice; any, secure, insecure)
``specParams.listen``                 ``@listen`` (the legacy listen attribute)
``specParams.listens``                every ``<listen>`` child as ``{type, address,
                                      network, socket}``, in order
``specParams.displayNetwork``         derived: ``network`` of the first ``<listen>``
                                      when it is of type network
``specParams.displayIp``              derived: ``address`` of the first ``<listen>``
                                      (type address or network); without ``<listen>``
                                      children, the ``@listen`` attribute
``specParams.spiceSecureChannels``    the ``<channel>`` children with mode ``secure``,
                                      comma-separated, each name with the engine's
                                      ``s`` prefix in document order: ``"smain,sinputs"``
``specParams.spiceChannels``          every other ``<channel>`` as ``{name, mode}``
``specParams.imageCompression``       ``image@compression`` (spice)
``specParams.jpegCompression``        ``jpeg@compression`` (spice)
``specParams.zlibCompression``        ``zlib@compression`` (spice)
``specParams.playbackCompression``    ``playback@compression`` (spice; bool)
``specParams.streamingMode``          ``streaming@mode`` (spice)
``specParams.copyPasteEnable``        ``clipboard@copypaste`` (spice): ``'true'``/``'false'``
``specParams.mouseMode``              ``mouse@mode`` (spice; server, client)
``specParams.fileTransferEnable``     ``filetransfer@enable`` (spice): ``'true'``/``'false'``
``specParams.glEnable``               ``gl@enable`` (spice, sdl, dbus; bool)
``specParams.glRendernode``           ``gl@rendernode`` (spice, dbus, egl-headless)
``specParams.audioId``                ``audio@id`` (vnc, dbus; int)
``specParams.display``                ``@display`` (sdl, desktop)
``specParams.xauth``                  ``@xauth`` (sdl)
``specParams.fullscreen``             ``@fullscreen`` (sdl, desktop; bool)
``specParams.multiUser``              ``@multiUser`` (rdp; bool)
``specParams.replaceUser``            ``@replaceUser`` (rdp; bool)
``specParams.username``               ``@username`` (rdp; the password is ``passwd``)
``specParams.dbusAddress``            ``@address`` (dbus bus address)
``specParams.p2p``                    ``@p2p`` (dbus; bool)
===================================== ===================================================

Conventions:

* ``copyPasteEnable`` and ``fileTransferEnable`` come out as the strings ``'true'`` /
  ``'false'``, the way the engine sends them; specs may give bools or any yes/no word.
* ``spiceSecureChannels`` is read leniently: names with or without the ``s`` prefix
  (``"smain,inputs"``), blanks around commas ignored. A known channel name is taken as
  is, any other name must carry the ``s`` prefix (so ``smartcard`` is the smartcard
  channel, ``ssmartcard`` too).
* ``displayIp`` / ``displayNetwork`` are conveniences derived from the listen children.
  A spec without ``listens`` gets a ``<listen type='network'>`` from ``displayNetwork``
  (with ``displayIp`` as its address) or a ``<listen type='address'>`` from
  ``displayIp``; a spec whose keys contradict each other is a :class:`devframe.SpecError`
  naming the key. Network names are libvirt's, verbatim (no agent-specific prefixes).
* The password (``@passwd``) is secret: ``to_spec()`` leaves it out (the engine sets it
  through a separate call, as VDSM did); ``to_spec(secrets=True)`` carries it as the
  top-level ``passwd``, so a device rebuilt elsewhere keeps it. A spec that carries
  ``passwd`` (top level or in ``specParams``) has it written to the element, never to
  metadata. It never appears in ``repr``, ``summary``, logs or error messages.
* Unmodeled ``specParams`` keys are kept in ``Device.metadata['specParams']`` and come
  back in ``to_spec``.

Identity without an alias: the graphics type (a VM has at most one device per type). The
oVirt metadata entry is keyed ``devtype="graphics" name="<type>"``, as VDSM keyed it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from devframe import (
    LIVE,
    ON_OFF,
    STR,
    UINT8,
    YES_NO,
    Children,
    Choice,
    Device,
    ElementView,
    Field,
    FieldValueError,
    Identity,
    IntRange,
    SpecError,
)

__all__ = [
    "CHANNEL_NAMES",
    "GRAPHICS_TYPES",
    "Channel",
    "Graphics",
    "Listen",
    "SecretField",
    "format_secure_channels",
    "parse_secure_channels",
]

GRAPHICS_TYPES = ("vnc", "spice", "sdl", "rdp", "desktop", "egl-headless", "dbus")
CHANNEL_NAMES = ("main", "display", "inputs", "cursor", "playback", "record", "smartcard", "usbredir")
CHANNEL_MODES = ("any", "secure", "insecure")
LISTEN_TYPES = ("address", "network", "socket", "none")
REDACTED = "***"


#: libvirt's PortNumber (-1: libvirt allocates one)
PORT = IntRange(-1, 65535)


class SecretField(Field[str]):
    """A string field whose value never reaches an error message (the password).

    :class:`devframe.Field` quotes the offending value in ``FieldValueError``; this
    subclass raises the same error with the value redacted.
    """

    def __init__(self, path: str, *, doc: str = "", live: bool = False) -> None:
        super().__init__(path, STR, secret=True, doc=doc, live=live)

    def __set__(self, view: ElementView, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise FieldValueError(view.describe(), self.name, REDACTED, f"expected str, got {type(value).__name__}")
        super().__set__(view, value)

    def apply_spec_value(self, view: ElementView, value: Any) -> None:
        self.__set__(view, value)


def _bool_to_engine(value: bool) -> str:
    return "true" if value else "false"


class Listen(ElementView):
    """One ``<listen>`` child: where a vnc/spice/rdp server listens."""

    tag: ClassVar[str] = "listen"

    type = Field("@type", Choice(*LISTEN_TYPES), spec="type", doc="address, network, socket or none")
    address = Field("@address", STR, spec="address", doc="IP address or host name")
    network = Field("@network", STR, spec="network", doc="libvirt network to listen on")
    socket = Field("@socket", STR, spec="socket", doc="UNIX socket path")


class Channel(ElementView):
    """One spice ``<channel name=... mode=...>``."""

    tag: ClassVar[str] = "channel"

    name = Field("@name", Choice(*CHANNEL_NAMES), spec="name")
    mode = Field("@mode", Choice(*CHANNEL_MODES), spec="mode")


def parse_secure_channels(value: object, *, where: str = "graphics") -> list[str]:
    """Channel names of an engine ``spiceSecureChannels`` string (``"smain,sinputs"``).

    Raises :class:`devframe.SpecError` naming the key for a value that is not a string
    or a name that is neither a channel name nor ``s``-prefixed.
    """
    if not isinstance(value, str):
        raise SpecError(
            f"{where}: specParams 'spiceSecureChannels' must be a comma-separated string, got {type(value).__name__}"
        )
    names = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        if item in CHANNEL_NAMES:
            names.append(item)
        elif item.startswith("s") and len(item) > 1:
            names.append(item[1:])
        else:
            raise SpecError(
                f"{where}: specParams 'spiceSecureChannels': unknown channel {item!r} "
                f"(expected one of {', '.join(CHANNEL_NAMES)}, optionally 's'-prefixed)"
            )
    return names


def format_secure_channels(names: list[str]) -> str:
    """The engine form of secure channel names: ``s``-prefixed, comma-separated."""
    return ",".join("s" + name for name in names)


def _is_list_name(name: str | None) -> bool:
    # Only names that survive the comma-separated engine form go into it.
    return bool(name) and name is not None and "," not in name and name.strip() == name


class Graphics(Device):
    """A graphical framebuffer (``<graphics type=...>``); see the module docstring."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "graphics"
    identity_devtype: ClassVar[str | None] = "graphics"  # every identity() holds it
    tag: ClassVar[str] = "graphics"
    description: ClassVar[str] = "graphical framebuffers (<graphics type=...>)"
    # libvirt's schema has no <alias> for graphics: the engine's deviceId lives in metadata.
    has_alias: ClassVar[bool] = False
    # deviceId: no <alias> to carry it. display_network: the engine's name of the display
    # network, which VDSM kept in metadata. custom: the engine's device custom properties.
    metadata_keys: ClassVar[Mapping[str, type | None]] = {"deviceId": str, "display_network": str, "custom": dict}
    # libvirt's order when it formats a graphics element.
    child_order: ClassVar[tuple[str, ...]] = (
        "listen",
        "channel",
        "image",
        "jpeg",
        "zlib",
        "playback",
        "streaming",
        "clipboard",
        "mouse",
        "filetransfer",
        "gl",
        "audio",
        "alias",
        "address",
    )

    type = Field("@type", Choice(*GRAPHICS_TYPES), spec="device", default="vnc", doc="graphics type")
    port = Field("@port", PORT, spec="port", doc="server port (-1: allocated by libvirt)")
    tls_port = Field("@tlsPort", PORT, spec="tlsPort", doc="spice TLS port (-1: allocated)")
    autoport = Field("@autoport", YES_NO, spec="specParams.autoport", doc="let libvirt pick the ports")
    websocket = Field("@websocket", PORT, spec="specParams.websocket", doc="vnc websocket port")
    share_policy = Field(
        "@sharePolicy",
        Choice("allow-exclusive", "force-shared", "ignore"),
        spec="specParams.sharePolicy",
    )
    power_control = Field("@powerControl", YES_NO, spec="specParams.powerControl")
    socket = Field("@socket", STR, spec="specParams.socket", doc="vnc UNIX socket")
    keymap = Field("@keymap", STR, spec="specParams.keyMap", doc="keyboard layout, e.g. en-us")
    passwd = SecretField("@passwd", doc="console password (secret: never in specs, logs or repr)", live=LIVE)
    passwd_valid_to = Field(
        "@passwdValidTo", STR, spec="specParams.passwdValidTo", doc="password expiry (UTC)", live=LIVE
    )
    connected = Field("@connected", Choice("keep", "fail", "disconnect"), spec="specParams.connected", live=LIVE)
    default_mode = Field("@defaultMode", Choice(*CHANNEL_MODES), spec="specParams.defaultMode")
    listen = Field("@listen", STR, spec="specParams.listen", doc="legacy listen address attribute")
    listens = Children("listen", Listen, spec="specParams.listens", doc="listen children, in order")
    # sdl / desktop
    display = Field("@display", STR, spec="specParams.display", doc="X display (sdl, desktop)")
    xauth = Field("@xauth", STR, spec="specParams.xauth")
    fullscreen = Field("@fullscreen", YES_NO, spec="specParams.fullscreen")
    # rdp (its ``passwd`` is the field above)
    multi_user = Field("@multiUser", YES_NO, spec="specParams.multiUser")
    replace_user = Field("@replaceUser", YES_NO, spec="specParams.replaceUser")
    username = Field("@username", STR, spec="specParams.username", doc="rdp user name (newer than libvirt 9.0)")
    # dbus (``address`` is taken by the guest address every device has)
    dbus_address = Field("@address", STR, spec="specParams.dbusAddress", doc="D-Bus address (dbus)")
    p2p = Field("@p2p", YES_NO, spec="specParams.p2p")
    # spice channels and options; channels are mapped by to_spec/from_spec below
    channels = Children("channel", Channel, doc="spice channel modes")
    #: children whose order carries nothing: libvirt keys a spice channel by its name (and
    #: writes them in its own order), and the engine's spec lists secure ones apart
    unordered_children: ClassVar[tuple[str, ...]] = ("channel",)
    image_compression = Field(
        "image@compression",
        Choice("auto_glz", "auto_lz", "quic", "glz", "lz", "off"),
        spec="specParams.imageCompression",
    )
    jpeg_compression = Field("jpeg@compression", Choice("auto", "never", "always"), spec="specParams.jpegCompression")
    zlib_compression = Field("zlib@compression", Choice("auto", "never", "always"), spec="specParams.zlibCompression")
    playback_compression = Field("playback@compression", ON_OFF, spec="specParams.playbackCompression")
    streaming_mode = Field("streaming@mode", Choice("filter", "all", "off"), spec="specParams.streamingMode")
    copy_paste = Field("clipboard@copypaste", YES_NO, spec="specParams.copyPasteEnable", to_spec=_bool_to_engine)
    mouse_mode = Field("mouse@mode", Choice("server", "client"), spec="specParams.mouseMode")
    file_transfer = Field("filetransfer@enable", YES_NO, spec="specParams.fileTransferEnable", to_spec=_bool_to_engine)
    # gl: spice, sdl, dbus (enable) and spice, dbus, egl-headless (rendernode)
    gl_enable = Field("gl@enable", YES_NO, spec="specParams.glEnable")
    gl_rendernode = Field("gl@rendernode", STR, spec="specParams.glRendernode")
    audio_id = Field("audio@id", UINT8, spec="specParams.audioId", doc="the <audio> backend (vnc, dbus)")

    # -- identity -----------------------------------------------------------------------

    def identity(self) -> Identity | None:
        """Graphics are recognised by type (oVirt keys their metadata ``devtype``/``name``):
        a VM normally has one of each; identical ones pair in document order."""
        kind = self.element.get("type")
        return {"devtype": "graphics", "name": kind} if kind else None

    # -- dev_spec -----------------------------------------------------------------------

    def display_values(self) -> tuple[str | None, str | None]:
        """``(displayIp, displayNetwork)`` as the engine sees them (see module docs)."""
        # The first <listen> only: iterchildren runs in C, findall goes through ElementPath
        # (to_spec asks every graphics device)
        first = next(self.element.iterchildren("listen"), None)
        if first is not None:
            kind = first.get("type")
            network = first.get("network") if kind == "network" else None
            ip = first.get("address") if kind in ("address", "network") else None
            return ip, network
        return self.element.get("listen"), None

    def write_spec(self, spec: dict[str, Any]) -> None:
        """Channels as the engine lists them, displayIp/displayNetwork; the password
        (top-level ``passwd``) only in ``to_spec(secrets=True)``."""
        params: dict[str, Any] = spec["specParams"]
        # A default to_spec reads an element without its secrets: the password is there
        # only when the caller asked for secrets.
        password = Field.raw(type(self).passwd, self)
        if password is not None:
            spec["passwd"] = password
        secure: list[str] = []
        others: list[dict[str, Any]] = []
        for channel in self.channels:
            name = Field.raw(Channel.name, channel)
            if Field.raw(Channel.mode, channel) == "secure" and _is_list_name(name):
                secure.append(name)  # type: ignore[arg-type]
            else:
                others.append(channel.to_dict())
        if secure:
            params["spiceSecureChannels"] = format_secure_channels(secure)
        if others:
            params["spiceChannels"] = others
        ip, network = self.display_values()
        if ip is not None:
            params["displayIp"] = ip
        if network is not None:
            params["displayNetwork"] = network

    def read_spec(self, rest: dict[str, Any]) -> None:
        """The keys no field maps: channels, displayIp/displayNetwork, the password."""
        where = f"graphics dev_spec (device={rest.get('device')!r})"
        params = rest.get("specParams")
        if params is None:
            params = rest["specParams"] = {}
        if not isinstance(params, dict):
            raise SpecError(f"{where}: 'specParams' must be a dict, got {type(params).__name__}")
        secure_raw = params.pop("spiceSecureChannels", None)
        others_raw = params.pop("spiceChannels", None)
        display_ip = params.pop("displayIp", None)
        display_network = params.pop("displayNetwork", None)
        password = rest.pop("passwd", None)
        if password is None:
            password = params.pop("passwd", None)
        else:
            params.pop("passwd", None)
        for key, value in (("displayIp", display_ip), ("displayNetwork", display_network)):
            if value is not None and not isinstance(value, str):
                raise SpecError(f"{where}: specParams {key!r} must be a string, got {type(value).__name__}")
        if password is not None and not isinstance(password, str):
            raise SpecError(f"{where}: 'passwd' must be a string, got {type(password).__name__}")
        channels: list[dict[str, Any]] = []
        if secure_raw is not None:
            channels.extend({"name": name, "mode": "secure"} for name in parse_secure_channels(secure_raw, where=where))
        if others_raw is not None:
            if not isinstance(others_raw, list) or not all(isinstance(c, Mapping) for c in others_raw):
                raise SpecError(f"{where}: specParams 'spiceChannels' must be a list of {{name, mode}} dicts")
            channels.extend(dict(c) for c in others_raw)
        if channels:
            self.channels = channels
        if next(self.element.iterchildren("listen"), None) is None:
            if display_network is not None:
                listen: dict[str, Any] = {"type": "network", "network": display_network}
                if display_ip is not None:
                    listen["address"] = display_ip
                self.listens = [listen]
            elif display_ip is not None and self.element.get("listen") is None:
                self.listens = [{"type": "address", "address": display_ip}]
        derived_ip, derived_network = self.display_values()
        if display_network is not None and display_network != derived_network:
            raise SpecError(
                f"{where}: specParams 'displayNetwork' {display_network!r} contradicts the listens "
                f"(first listen network: {derived_network!r})"
            )
        if display_ip is not None and display_ip != derived_ip:
            raise SpecError(
                f"{where}: specParams 'displayIp' {display_ip!r} contradicts the listen address {derived_ip!r}"
            )
        if password is not None:
            self.passwd = password

    # -- display ------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Key fields for ``devframe inspect``; the password shows as ``***``. Never raises."""
        out: dict[str, Any] = {}
        for name in ("type", "port", "tls_port", "websocket", "autoport", "socket", "keymap", "default_mode"):
            field = type(self).fields[name]
            try:
                value = field.spec_value(self)
            except FieldValueError:
                value = f"<invalid {Field.raw(field, self)!r}>"  # type: ignore[arg-type]
            if value is not None:
                out[name] = value
        try:
            ip, network = self.display_values()
        except Exception:  # noqa: BLE001 - summary never raises
            ip, network = None, None
        if network is not None:
            out["listen_network"] = network
        if ip is not None:
            out["listen"] = ip
        kinds = [Field.raw(Listen.type, item) for item in self.listens]
        if kinds and kinds != ["address"] and kinds != ["network"]:
            out["listen_types"] = kinds
        if Field.raw(type(self).passwd, self) is not None:
            out["passwd"] = REDACTED
        secure = [Field.raw(Channel.name, c) for c in self.channels if Field.raw(Channel.mode, c) == "secure"]
        if secure:
            out["secure_channels"] = secure
        if self.element.find("gl") is not None:
            out["gl"] = Field.raw(type(self).gl_rendernode, self) or Field.raw(type(self).gl_enable, self) or "yes"
        return out
