"""libvirt's character-device source, declared once.

Every kind that talks to a host-side character device describes it the same way in
libvirt's schema (domaincommon.rng ``qemucdevSrcType`` and ``qemucdevSrcDef``): a
``type`` attribute naming the backend, zero or more ``<source>`` elements, an optional
``<protocol>`` and an optional ``<log>``::

    <serial type='tcp'>                     <!-- or console, channel, parallel, redirdev,
      <source mode='connect' host='h' service='4555' tls='yes'>  smartcard mode=passthrough,
        <reconnect enabled='yes' timeout='10'/>                   rng's <backend model='egd'> -->
        <seclabel model='dac' relabel='no'/>
      </source>
      <protocol type='telnet'/>
      <log file='/var/log/x.log' append='on'/>
      ...
    </serial>

``<source>`` also carries ``path`` (dev, file, pipe, unix, pty), ``channel`` (spiceport,
dbus), ``master``/``slave`` (nmdm), ``append`` (file), and for ``qemu-vdagent`` the
children ``<clipboard copypaste>`` and ``<mouse mode>``. A udp device has two sources:
``mode='bind'`` (the local end) and ``mode='connect'`` (the remote end).

A device class takes the model by listing :class:`CharSource` before
:class:`~devframe.Device`::

    class Serial(CharSource, Device):
        char_type_default = "pty"

and gets these fields, with these dev_spec keys, like every other kind:

================================ ========================================================
``device`` (``char_type_spec``) ``@type`` (pty, dev, file, pipe, unix, tcp, udp, null, stdio,
                                 vc, spicevmc, spiceport, nmdm, qemu-vdagent, dbus)
``specParams.sources``           every ``<source>``, a list of dicts (see below)
``specParams.protocol``          ``protocol@type`` (raw, telnet, telnets, tls)
``specParams.log.file``          ``log@file``
``specParams.log.append``        ``log@append`` (bool, on/off)
================================ ========================================================

One ``<source>`` as a dict (:class:`CharSourceElement`): ``mode`` (bind, connect),
``path``, ``host``, ``service``, ``channel``, ``master``, ``slave``, ``append`` (bool,
on/off), ``tls`` (bool, yes/no: a switch, not a secret), ``reconnect.enabled`` (bool),
``reconnect.timeout`` / ``reconnect.delay`` (seconds), ``seclabels`` (a list of
``{model, relabel, labelskip, labels}``), ``clipboard.copypaste`` (bool) and
``mouse.mode`` (server, client). Nothing here is secret: libvirt's chardev source holds
no password (TLS credentials live in the host's configured x509 directory).

Class settings (read once, when the class is made): ``char_path``, the element holding
the device when it is not the device element itself (rng's ``"backend"``);
``char_type_spec``, the dev_spec key of ``@type`` (default ``"device"``);
``char_type_default``, what a spec without it builds (None: nothing). The fields are
then declared for that place and key; the model is still described here only.

:meth:`CharSource.char_source_problem` says what libvirt refuses in a source (a file
without a path, tcp without host and service, ...); it is part of ``problems()``, and
:meth:`CharSource.check_char_source` raises it as a :class:`~devframe.SpecError` naming
``specParams.sources``, for a caller that wants libvirt's rule enforced. Building from a
spec does not: every part of a source is optional in libvirt's schema whatever the type
(``qemucdevSrcDef``, 9.0 and 11.3 alike), so ``<redirdev bus='usb' type='tcp'/>`` is a
valid element, and what the schema takes round-trips through its spec
(``device_from_spec(d.to_spec()).to_spec() == d.to_spec()``); what libvirt refuses is a
problem either way. A class overriding ``read_spec`` calls ``super().read_spec(rest)``.
Where ``device`` is the chardev type, an element without ``@type`` reports the kind's own
name (``"serial"``), and a spec with that ``device`` builds no ``@type`` again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, overload

from lxml import etree

from devframe.core.errors import FieldValueError, SpecError
from devframe.core.fields import (
    INT,
    ON_OFF,
    STR,
    YES_NO,
    Children,
    Choice,
    ElementView,
    Field,
    _Base,
    _split_path,
    is_item_list,
)

__all__ = [
    "CHAR_PROTOCOLS",
    "CHAR_SOURCE_MODES",
    "CHAR_TYPES",
    "CONSOLE_TARGET_TYPES",
    "SERIAL_TARGET_MODELS",
    "SERIAL_TARGET_TYPES",
    "SHARED_TARGET_TYPES",
    "CharSource",
    "CharSourceElement",
    "SourceSeclabel",
    "TextList",
]

#: every chardev ``type`` libvirt's schema allows (9.0 and 11.3 alike)
CHAR_TYPES = (
    "pty", "dev", "file", "pipe", "unix", "tcp", "udp", "null", "stdio", "vc",
    "spicevmc", "spiceport", "nmdm", "qemu-vdagent", "dbus",
)  # fmt: skip
#: ``<source mode=...>``: listen (bind) or connect
CHAR_SOURCE_MODES = ("bind", "connect")
#: ``<protocol type=...>`` of a tcp device
CHAR_PROTOCOLS = ("raw", "telnet", "telnets", "tls")
#: ``<mouse mode=...>`` of a qemu-vdagent source
MOUSE_MODES = ("server", "client")

# The targets of libvirt's shared chardev definition (``qemucdevTgtDef``), used by serial
# ports, consoles, parallel ports and passthrough smartcards alike: declared once here.
#: ``<serial><target type=...>``
SERIAL_TARGET_TYPES = (
    "isa-serial", "usb-serial", "pci-serial", "spapr-vio-serial", "system-serial", "sclp-serial", "isa-debug",
)  # fmt: skip
#: ``<target><model name=...>`` of a serial port (and of the shared target)
SERIAL_TARGET_MODELS = (
    "isa-serial", "usb-serial", "pci-serial", "spapr-vty", "pl011", "16550a", "sclpconsole", "sclplmconsole",
    "isa-debugcon",
)  # fmt: skip
#: ``<console><target type=...>``
CONSOLE_TARGET_TYPES = ("serial", "virtio", "xen", "uml", "lxc", "openvz", "sclp", "sclplm")
#: the shared target's ``type``: a console's or a serial port's (a parallel port, a smartcard)
SHARED_TARGET_TYPES = CONSOLE_TARGET_TYPES + SERIAL_TARGET_TYPES

if TYPE_CHECKING:
    from devframe.core.device import Device

    _MixinBase = Device
else:
    _MixinBase = object


def _text_from_spec(value: Any) -> str:
    """A chardev type from a spec: text only, as every Choice takes, and ``""`` too, which
    a kind's ``read_spec`` may give a meaning (a console without ``@type``)."""
    if not isinstance(value, str):
        raise TypeError(f"expected str, got {type(value).__name__}")
    return value


class _TextItem(ElementView):
    text = Field(".", STR, spec="text", doc="the element's own text (<label>, <certificate>)")


class TextList(_Base):
    """The texts of repeated child elements as a list of str (a seclabel's ``<label>``
    children, a smartcard's three ``<certificate>``).

    Assigning a list replaces those children (where the old ones were) and
    keeps every other child; an empty list or None removes them.
    """

    def __init__(self, path: str, *, spec: str | None = None, doc: str = "") -> None:
        steps, attr = _split_path(path)
        if attr is not None or not steps:
            raise ValueError("TextList takes an element path")
        self.path = path
        self.spec = spec
        self.doc = doc
        self._children: Children[_TextItem] = Children(path, _TextItem)

    def __set_name__(self, owner: type, name: str) -> None:
        super().__set_name__(owner, name)
        self._children.__set_name__(owner, name)

    def consumes(self) -> tuple[str, ...]:
        """Every child of the tag and its text (devframe.core.escape)."""
        return (self.path + "[*]",)

    @overload
    def __get__(self, view: None, owner: type) -> TextList: ...
    @overload
    def __get__(self, view: ElementView, owner: type) -> list[str]: ...
    def __get__(self, view: ElementView | None, owner: type) -> TextList | list[str]:
        if view is None:
            return self
        return [item.text or "" for item in self._children.__get__(view, owner)]

    def __set__(self, view: ElementView, values: Iterable[str] | None) -> None:
        texts = [] if values is None else list(values) if is_item_list(values) else None
        if texts is None or not all(isinstance(v, str) for v in texts):
            raise FieldValueError(view.describe(), self.name, self.shown(values), "expected a list of str")
        self._children.__set__(view, [{"text": text} for text in texts])

    def spec_value(self, view: ElementView) -> Any:
        texts = self.__get__(view, type(view))
        return texts or None

    def apply_spec_value(self, view: ElementView, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
            raise FieldValueError(view.describe(), self.spec or self.name, self.shown(value), "expected a list of str")
        self.__set__(view, value)


class SourceSeclabel(ElementView):
    """A ``<seclabel>`` of one ``<source>``: the host-side file's security label."""

    tag = "seclabel"
    model = Field("@model", STR, spec="model", doc="security driver (selinux, dac, apparmor)")
    relabel = Field("@relabel", YES_NO, spec="relabel")
    labelskip = Field("@labelskip", YES_NO, spec="labelskip")
    labels = TextList("label", spec="labels", doc="<label> texts")


class CharSourceElement(ElementView):
    """One ``<source>`` of a character device (see the module doc for the dict keys)."""

    tag = "source"
    mode = Field("@mode", Choice(*CHAR_SOURCE_MODES), spec="mode", doc="bind (listen) or connect")
    path = Field("@path", STR, spec="path", doc="dev/file/pipe/unix/pty path")
    host = Field("@host", STR, spec="host", doc="tcp/udp host")
    service = Field("@service", STR, spec="service", doc="tcp/udp port or service name")
    channel = Field("@channel", STR, spec="channel", doc="spiceport/dbus channel name")
    master = Field("@master", STR, spec="master", doc="nmdm master device")
    slave = Field("@slave", STR, spec="slave", doc="nmdm slave device")
    append = Field("@append", ON_OFF, spec="append", doc="file: append instead of truncating")
    tls = Field("@tls", YES_NO, spec="tls", doc="tcp: TLS on (a switch; credentials are the host's)")
    reconnect_enabled = Field("reconnect@enabled", YES_NO, spec="reconnect.enabled")
    reconnect_timeout = Field("reconnect@timeout", INT, spec="reconnect.timeout", doc="seconds")
    reconnect_delay = Field("reconnect@delay", INT, spec="reconnect.delay", doc="seconds (libvirt 11)")
    seclabels = Children("seclabel", SourceSeclabel, spec="seclabels")
    clipboard_copypaste = Field("clipboard@copypaste", YES_NO, spec="clipboard.copypaste", doc="qemu-vdagent")
    mouse_mode = Field("mouse@mode", Choice(*MOUSE_MODES), spec="mouse.mode", doc="qemu-vdagent")


def _relocated(field: _Base, prefix: str, spec: str | None, default: str | None) -> _Base:
    """``field`` declared again under ``prefix`` (an element path), with ``spec``."""
    if isinstance(field, Children):
        path = f"{prefix}/{field.path}" if prefix else field.path
        return Children(path, field.item, spec=spec, doc=field.doc)
    assert isinstance(field, Field)
    path = field.path
    if prefix:
        path = f"{prefix}{path}" if path.startswith("@") else f"{prefix}/{path}"
    return Field(
        path,
        field.kind,
        spec=spec,
        default=default,
        doc=field.doc,
        from_spec=field._from_spec,
        secret=field.secret,
        absent_spec=field.absent_spec,
        required=field.required,
    )


class CharSource(_MixinBase):
    """libvirt's character-device source: ``@type``, ``<source>``\\s, ``<protocol>``, ``<log>``.

    Mix it in before :class:`~devframe.Device`; set ``char_path``, ``char_type_spec``
    and ``char_type_default`` in the class body where the defaults do not fit (see the
    module doc).
    """

    __slots__ = ()

    #: the element holding the character device, relative to the device ("": itself)
    char_path: ClassVar[str] = ""
    #: the dev_spec key of the chardev ``type``
    char_type_spec: ClassVar[str] = "device"
    #: the chardev ``type`` a spec without one builds (None: none)
    char_type_default: ClassVar[str | None] = None

    char_type = Field(
        "@type", Choice(*CHAR_TYPES), spec="device", from_spec=_text_from_spec, doc="host side: pty, unix, tcp, ..."
    )
    sources = Children("source", CharSourceElement, spec="specParams.sources", doc="host-side ends")
    protocol = Field("protocol@type", Choice(*CHAR_PROTOCOLS), spec="specParams.protocol", doc="tcp wire protocol")
    log_file = Field("log@file", STR, spec="specParams.log.file", doc="file logging the device's output")
    log_append = Field("log@append", ON_OFF, spec="specParams.log.append")

    _CHAR_FIELDS: ClassVar[tuple[str, ...]] = ("char_type", "sources", "protocol", "log_file", "log_append")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        settings = ("char_path", "char_type_spec", "char_type_default")
        if any(name in cls.__dict__ for name in settings):
            prefix = cls.char_path.strip("/")
            for name in cls._CHAR_FIELDS:
                base = CharSource.__dict__[name]
                if name == "char_type":
                    field = _relocated(base, prefix, cls.char_type_spec, cls.char_type_default)
                else:
                    field = _relocated(base, prefix, base.spec, None)
                field.__set_name__(cls, name)
                setattr(cls, name, field)
        super().__init_subclass__(**kwargs)

    @classmethod
    def char_spec_keys(cls) -> dict[str, str]:
        """The dev_spec key of each chardev field of this class, keyed by the field's name."""
        fields: Mapping[str, _Base] = cls.fields
        return {name: fields[name].spec or name for name in cls._CHAR_FIELDS if name in fields}

    # -- reading the element directly (never raises) ----------------------------------------

    def _char_element(self) -> etree._Element | None:
        element: etree._Element | None = self.element
        for step in type(self).char_path.strip("/").split("/"):
            if step and element is not None:
                element = next(element.iterchildren(step), None)
        return element

    def char_source_problem(self) -> str | None:
        """What libvirt refuses in this device's source, or None (also when there is no
        ``type``, or one this model does not know)."""
        holder = self._char_element()
        if holder is None:
            return None
        kind = holder.get("type")
        sources = [s for s in holder.iterchildren("source")]

        def has(attr: str, only: Iterable[etree._Element] = sources) -> bool:
            return any(s.get(attr) for s in only)

        if kind in ("dev", "file", "pipe") and not has("path"):
            return f"a {kind} character device needs a <source path>"
        if kind == "tcp" and not (has("host") and has("service")):
            return "a tcp character device needs a <source> with host and service"
        if kind == "udp" and not has("service", [s for s in sources if s.get("mode") in (None, "connect")]):
            return "a udp character device needs a connect <source> with a service"
        if kind in ("spiceport", "dbus") and not has("channel"):
            return f"a {kind} character device needs a <source channel>"
        if kind == "nmdm" and has("master") != has("slave"):
            return "an nmdm character device needs both master and slave, or neither"
        return None

    def check_char_source(self) -> None:
        """Raise a :class:`SpecError` naming the sources' dev_spec key when libvirt would
        refuse the source (for ``read_spec``)."""
        problem = self.char_source_problem()
        if problem is not None:
            key = type(self).fields["sources"].spec or "sources"
            raise SpecError(f"dev_spec key {key!r} of {self.describe()}: {problem}")

    def read_spec(self, rest: dict[str, Any]) -> None:
        """The chardev's part of ``read_spec``: call it through ``super().read_spec(rest)``.

        Where ``device`` is the chardev type, a ``device`` naming the kind itself
        (``"serial"``: what an element without ``@type`` reports) builds no ``@type``, so
        such an element round-trips. A source libvirt would refuse is built as the spec
        gives it (the schema takes it) and reported by ``problems()``, as when parsed.
        """
        super().read_spec(rest)
        cls = type(self)
        names = {name for name in (cls.dev_type, cls.spec_type) if name}
        if cls.char_type_spec == "device" and rest.get("device") in names:
            self.char_type = None

    def problems(self) -> list[str]:
        found = super().problems()
        problem = self.char_source_problem()
        if problem is not None:
            found.append(problem)
        return found

    def char_source_detail(self) -> str | None:
        """:meth:`char_source_text` when it says more than the type alone (a summary's
        ``source`` line), else None. Never raises."""
        text = self.char_source_text()
        holder = self._char_element()
        return text if text and holder is not None and text != holder.get("type") else None

    def char_summary(self, names: Iterable[str | tuple[str, str]]) -> dict[str, Any]:
        """A summary of a chardev kind: the named fields as written
        (:meth:`~devframe.ElementView.shown_values`), with the ``source`` line after the
        chardev type when it says more than the type. Never raises."""
        out = self.shown_values(names)
        source = self.char_source_detail()
        if not source:
            return out
        if "char_type" not in out:
            return {**out, "source": source}
        at = list(out).index("char_type") + 1
        items = list(out.items())
        return dict([*items[:at], ("source", source), *items[at:]])

    def char_source_text(self) -> str | None:
        """The host side in one line, for summaries: ``unix bind /run/x.sock``,
        ``tcp connect host:4555``, ``spiceport org.qemu.console.0``. Never raises."""
        holder = self._char_element()
        if holder is None:
            return None
        kind = holder.get("type")
        if not kind:
            return None
        parts = [kind]
        for source in holder.iterchildren("source"):
            mode = source.get("mode")
            if mode:
                parts.append(mode)
            host, service = source.get("host"), source.get("service")
            if host or service:
                parts.append(f"{host or ''}:{service or ''}")
            for attr in ("path", "channel", "master", "slave"):
                value = source.get(attr)
                if value:
                    parts.append(value)
        return " ".join(parts)
