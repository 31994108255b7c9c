"""libvirt's storage source, declared once.

A ``<disk>`` reads its data from a *storage source*: a ``type`` (file, block, dir,
network, volume, nvme, vhostuser, vhostvdpa), an image format and a ``<source>``
element. The same description appears again in each layer of the disk's backing chain
(``<backingStore>``), in the target of a block job (``<mirror>``) and in a qcow2 image's
external data file (``<dataStore>``). The views here model it once (domaincommon.rng
``diskSource``, ``diskSourceCommon``, ``diskFormat``; storagecommon.rng ``encryption``,
``reservations``, ``secret``, ``reconnect``, ``initiatorinfo``).

A storage source as a dict (a backing layer, the mirror, a dataStore), keys as in a disk
spec (:mod:`devframe_drive.device`) without the ``specParams`` level:

================== ==============================================================
``diskType``       ``@type``
``path``           the source attribute of that type (file -> ``file``, block and
                   vhostvdpa -> ``dev``, dir -> ``dir``, network -> ``name``,
                   vhostuser -> ``path``; volume and nvme have none)
``format``         ``<format type>`` (``driver@type`` on the disk itself) in VDSM's
                   words: ``cow`` is qcow2, every other format as libvirt names it
``libvirtFormat``  libvirt's own ``cow`` format (which ``format`` cannot say, its
                   ``cow`` being qcow2); only ever ``'cow'`` in what devframe
                   writes, any libvirt format name accepted; contradicting
                   ``format`` is an error
``metadataCache``  ``format/metadata_cache`` as ``{maxSize, unit}``
``protocol``       ``source@protocol`` (network)
``hosts``          ``source/host`` list of ``{name, port, transport, socket}``
``fdgroup``, ``query``, ``tls`` (bool), ``tlsHostname``, ``pool``, ``volume``,
``volumeMode``, ``sourceType``, ``nvmeNamespace``, ``nvmeManaged`` (bool),
``startupPolicy``, ``sourceIndex``: the ``<source>`` attributes of those names
(``sourceType`` = ``@type``, ``sourceIndex`` = ``@index``, ``volumeMode`` =
``@mode``, ``nvmeNamespace``/``nvmeManaged`` = ``@namespace``/``@managed``)
``nvmeAddress``    ``source/address``: the nvme controller's host PCI address
``snapshotName``   ``source/snapshot@name`` (rbd)
``configFile``     ``source/config@file`` (rbd)
``initiator``      ``source/initiator/iqn@name`` (iscsi)
``sslVerify``      ``source/ssl@verify`` (bool; https, ftps)
``cookies``        ``source/cookies/cookie`` list of ``{name, value}`` (http, https).
                   Cookie values are secrets: never in logs, errors, ``repr`` or
                   ``devframe inspect`` (the whole list is redacted there)
``readahead``      ``source/readahead@size`` (bytes), ``timeout``
                   ``source/timeout@seconds``
``knownHosts``     ``source/knownHosts@path`` (ssh)
``identity``       ``source/identity``: ``{user, group}`` (nfs) or ``{username,
                   keyfile | agentsock}`` (ssh)
``reconnect``      ``source/reconnect`` as ``{enabled (bool), timeout, delay}``
``slices``         ``source/slices/slice`` list of ``{type, offset, size}``
``seclabels``      ``source/seclabel`` list of ``{model, relabel, labelskip, labels}``
``auth``           ``source/auth`` as ``{username, secret: {type, uuid | usage}}``
``encryption``     ``source/encryption`` as ``{format, engine, secrets: [{type,
                   uuid | usage}], cipher: {name, size, mode, hash}, ivgen: {name,
                   hash}}``
``reservations``   ``source/reservations`` as ``{managed (bool), source: {type,
                   path, mode, reconnect}}`` (SCSI persistent reservations)
``dataStore``      ``source/dataStore``: a storage source dict (``diskType``,
                   ``path``, ``format``, ...) of its own
================== ==============================================================

A backing layer adds ``index`` (``backingStore@index``); the mirror adds ``job``,
``ready``, ``backingChain`` and the old block-copy attributes ``file`` / ``fileFormat``.

Secrets (:mod:`devframe.core.secrets`, the one list): the cookies are, so the list is
declared ``secret=True`` (left out of a default ``to_spec``, redacted in logs and
errors; ``to_spec(secrets=True)`` carries them). libvirt's ``<secret uuid|usage>`` of an
``<auth>`` or ``<encryption>`` only names a secret object libvirt holds: a spec carries it
(the device needs it), and text written to logs still masks a ``<secret>`` element's
attributes.

A dict key no field maps is refused (a :class:`~devframe.FieldValueError` naming it,
raised as a SpecError naming the whole key from a dev_spec): nothing is dropped silently.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, ClassVar

from devframe import (
    REDACTED,
    STR,
    UINT,
    YES_NO,
    AddressField,
    Chain,
    Child,
    Children,
    Choice,
    ElementView,
    Field,
    FieldValueError,
    Pattern,
    SourceSeclabel,
)

__all__ = [
    "DISK_TYPES",
    "FORMATS",
    "PATH_ATTR",
    "PROTOCOLS",
    "Auth",
    "BackingLayer",
    "ChainFields",
    "DataStore",
    "Encryption",
    "FormatFields",
    "Host",
    "IoThread",
    "MetadataCache",
    "Mirror",
    "Reservations",
    "SourceFields",
    "StorageFields",
    "StrictView",
    "format_from_spec",
    "format_to_spec",
    "literal_format",
]

DISK_TYPES = ("file", "block", "dir", "network", "volume", "nvme", "vhostuser", "vhostvdpa")
PROTOCOLS = (
    "nbd", "gluster", "rbd", "iscsi", "http", "https", "ftp", "ftps", "tftp", "ssh", "sheepdog", "vxhs", "nfs",
)  # fmt: skip
FORMATS = (
    "raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi", "fat", "vhd", "ploop", "luks",
    "cow", "qcow", "qcow2", "qed", "vmdk", "aio",
)  # fmt: skip
#: the ``<source>`` attribute that holds a spec's ``path``, per disk type
PATH_ATTR: Mapping[str, str] = {
    "file": "file",
    "block": "dev",
    "dir": "dir",
    "network": "name",
    "vhostuser": "path",
    "vhostvdpa": "dev",
}
_PATH_FIELD = {
    "file": "source_file",
    "dev": "source_dev",
    "dir": "source_dir",
    "name": "source_name",
    "path": "source_path",
}

UUID = Pattern("UUID", r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# RFC 6265's token and cookie-octet characters, as libvirt's schema spells them.
COOKIE_NAME = Pattern("cookie name", r"[!#$%&'*+\-.0-9A-Z^_`a-z|~]+")
COOKIE_VALUE = Pattern("cookie value", r"\"?[!#$%&'()*+\-./0-9:>=<?@A-Z^_`\[\]a-z|~]+\"?")


# -- format: VDSM's words, and libvirt's literal cow --------------------------------------


def format_to_spec(value: str) -> str | None:
    """A driver/format type as a spec's ``format``: qcow2 is VDSM's ``cow``; libvirt's own
    ``cow`` cannot be said there (None: it goes to ``libvirtFormat``)."""
    if value == "cow":
        return None
    return "cow" if value == "qcow2" else value


def format_from_spec(value: Any) -> str:
    """A spec's ``format`` as libvirt's type: VDSM's ``cow`` is qcow2."""
    if not isinstance(value, str) or not value:
        raise ValueError("format is a non-empty str ('raw', 'cow', ...)")
    return "qcow2" if value == "cow" else value


def literal_format(view: ElementView, field: Field[str], data: Mapping[str, Any], key: str, literal: Any) -> None:
    """Apply ``libvirtFormat`` (``literal``) to ``field``: libvirt's format name as is.

    ``data`` is the dict (or spec) it came from, ``key`` the key of ``field`` there: a
    ``format`` naming another type is refused.
    """
    if not isinstance(literal, str) or not literal:
        raise FieldValueError(view.describe(), "libvirtFormat", literal, "expected a libvirt format name ('cow', ...)")
    given = data.get(key) if isinstance(data, Mapping) else None
    if given is not None and field.raw(view) != literal:
        raise FieldValueError(
            view.describe(), "libvirtFormat", literal, f"contradicts format {given!r} (VDSM's 'cow' is qcow2)"
        )
    field.__set__(view, literal)


# -- small views ------------------------------------------------------------------------


class StrictView(ElementView):
    """A view whose dict refuses keys no field maps (a typo must not vanish).

    ``extra_keys`` names the keys a subclass handles itself in ``apply_dict``.
    """

    __slots__ = ()

    extra_keys: ClassVar[tuple[str, ...]] = ()
    _known: ClassVar[frozenset[str]] = frozenset()
    _unkeyed: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        extra = {key for klass in cls.__mro__ for key in vars(klass).get("extra_keys", ())}
        cls._known = frozenset({f.spec.split(".", 1)[0] for f in cls.fields.values() if f.spec} | extra)
        cls._unkeyed = tuple(name for name, f in cls.fields.items() if not f.spec)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        for name in self._unkeyed:
            out.pop(name, None)  # fields without a key (the path attributes) are not dict entries
        return out

    def apply_dict(self, data: Mapping[str, Any]) -> None:
        for key, value in data.items():
            if key not in self._known:
                shown = f"<{type(value).__name__}>"  # not the value: a misspelt key may hold a secret
                raise FieldValueError(
                    self.describe(),
                    str(key),
                    shown,
                    f"not a key of <{self.element.tag}> ({', '.join(sorted(self._known))})",
                )
        super().apply_dict(data)


class Host(StrictView):
    """One ``<host>`` of a network disk's source (a server, or a unix socket)."""

    __slots__ = ()

    tag = "host"
    name = Field("@name", spec="name", doc="server name or IP")
    port = Field("@port", UINT, spec="port")
    transport = Field("@transport", Choice("tcp", "rdma", "unix"), spec="transport")
    socket = Field("@socket", spec="socket", doc="unix socket path (transport unix)")


class SecretRef(Field[str]):
    """A ``<secret uuid|usage>`` attribute: it names a libvirt secret object, so a spec
    carries it (:mod:`devframe.core.secrets`: no secret), but an error never quotes it,
    as log text masks a ``<secret>`` element's attributes."""

    def shown(self, value: object) -> object:
        return REDACTED if value is not None else value


class Auth(StrictView):
    """``<auth username><secret type uuid|usage/></auth>``: the login of a network source."""

    __slots__ = ()

    username = Field("@username", spec="username")
    secret_type = Field("secret@type", Choice("ceph", "iscsi"), spec="secret.type")
    secret_uuid = SecretRef("secret@uuid", UUID, spec="secret.uuid", doc="libvirt secret object")
    secret_usage = SecretRef("secret@usage", STR, spec="secret.usage", doc="libvirt secret object")


class EncryptionSecret(StrictView):
    """One ``<secret type='passphrase' uuid|usage/>`` of an ``<encryption>``."""

    __slots__ = ()

    secret_type = Field("@type", Choice("passphrase"), spec="type")
    uuid = SecretRef("@uuid", UUID, spec="uuid")
    usage = SecretRef("@usage", STR, spec="usage")


class Encryption(StrictView):
    """``<encryption format engine>``: an encrypted image (LUKS, old qcow) and its key."""

    __slots__ = ()

    child_order: ClassVar[tuple[str, ...]] = ("secret", "cipher", "ivgen")
    format = Field("@format", Choice("default", "qcow", "luks", "luks2", "luks-any"), spec="format")
    engine = Field("@engine", Choice("qemu", "librbd"), spec="engine")
    secrets = Children("secret", EncryptionSecret, spec="secrets")
    cipher_name = Field("cipher@name", spec="cipher.name")
    cipher_size = Field("cipher@size", UINT, spec="cipher.size")
    cipher_mode = Field("cipher@mode", spec="cipher.mode")
    cipher_hash = Field("cipher@hash", spec="cipher.hash")
    ivgen_name = Field("ivgen@name", spec="ivgen.name")
    ivgen_hash = Field("ivgen@hash", spec="ivgen.hash")


class Reconnect(StrictView):
    """``<reconnect enabled timeout/>`` or ``<reconnect delay/>`` (seconds)."""

    __slots__ = ()

    enabled = Field("@enabled", YES_NO, spec="enabled")
    timeout = Field("@timeout", UINT, spec="timeout")
    delay = Field("@delay", UINT, spec="delay")


class Reservations(StrictView):
    """``<reservations managed>``: SCSI persistent reservations through a helper socket."""

    __slots__ = ()

    managed = Field("@managed", YES_NO, spec="managed", doc="libvirt runs the pr-helper")
    source_type = Field("source@type", Choice("unix"), spec="source.type")
    source_path = Field("source@path", spec="source.path")
    source_mode = Field("source@mode", Choice("server", "client"), spec="source.mode")
    reconnect = Child("source/reconnect", Reconnect, spec="source.reconnect")


class Slice(StrictView):
    """``<slice type='storage' offset size/>``: the part of the image the guest sees."""

    __slots__ = ()

    slice_type = Field("@type", Choice("storage"), spec="type")
    offset = Field("@offset", UINT, spec="offset")
    size = Field("@size", UINT, spec="size")


class Cookie(StrictView):
    """``<cookie name='...'>value</cookie>``; the value is a secret."""

    __slots__ = ()

    name = Field("@name", COOKIE_NAME, spec="name")
    value = Field(".", COOKIE_VALUE, spec="value", doc="secret: its list is declared secret")


class SourceIdentity(StrictView):
    """``<identity>``: the user of an nfs source, or the login of an ssh one."""

    __slots__ = ()

    user = Field("@user", spec="user", doc="nfs")
    group = Field("@group", spec="group", doc="nfs")
    username = Field("@username", spec="username", doc="ssh")
    keyfile = Field("@keyfile", spec="keyfile", doc="ssh")
    agentsock = Field("@agentsock", spec="agentsock", doc="ssh")


class MetadataCache(StrictView):
    """``<metadata_cache><max_size unit>N</max_size></metadata_cache>`` (qcow2 cache)."""

    __slots__ = ()

    max_size = Field("max_size", UINT, spec="maxSize")
    unit = Field("max_size@unit", spec="unit")


class IoThreadQueue(StrictView):
    """``<queue id/>`` of an ``<iothread>``: a virtqueue it serves."""

    __slots__ = ()

    queue_id = Field("@id", UINT, spec="id")


class IoThread(StrictView):
    """``<iothread id>`` of ``driver/iothreads`` (libvirt 10.0): which thread serves which queues."""

    __slots__ = ()

    thread_id = Field("@id", UINT, spec="id")
    queues = Children("queue", IoThreadQueue, spec="queues")


# -- the storage source ----------------------------------------------------------------


def removable_media(disk: Any) -> bool:
    """A cdrom's or floppy's medium changes on a running domain; a disk's source cannot
    (``live=`` of the source's fields: :meth:`devframe.Guest.update` asks it)."""
    return disk.element.get("device") in ("cdrom", "floppy")


class SourceFields(StrictView):
    """A storage source's type and ``<source>`` (the module doc lists the dict keys).

    The fields sit where libvirt writes them relative to the element holding ``@type``
    (``<disk>``, ``<backingStore>``, ``<mirror>``, ``<dataStore>``), declared in the
    order libvirt formats a ``<source>``'s children. A subclass setting
    ``inherited_spec_prefix`` gets them again under prefixed keys (the disk's
    ``specParams.``), except the keys in its ``top_level_keys``.
    """

    __slots__ = ()

    extra_keys: ClassVar[tuple[str, ...]] = ("path",)
    inherited_spec_prefix: ClassVar[str] = ""
    top_level_keys: ClassVar[frozenset[str]] = frozenset()

    disk_type = Field("@type", Choice(*DISK_TYPES), spec="diskType", doc="where the data comes from")
    # the path attribute per type (dict key 'path', see PATH_ATTR)
    source_file = Field("source@file", doc="type file", live=removable_media)
    fdgroup = Field("source@fdgroup", spec="fdgroup", doc="file: passed in by the client")
    source_dev = Field("source@dev", doc="type block, vhostvdpa", live=removable_media)
    source_dir = Field("source@dir", doc="type dir", live=removable_media)
    protocol = Field("source@protocol", Choice(*PROTOCOLS), spec="protocol", live=removable_media)
    source_name = Field("source@name", doc="type network: image/volume/export name", live=removable_media)
    query = Field("source@query", spec="query", doc="http(s) query string")
    tls = Field("source@tls", YES_NO, spec="tls")
    tls_hostname = Field("source@tlsHostname", spec="tlsHostname")
    source_path = Field("source@path", doc="type vhostuser: socket path")
    pool = Field("source@pool", spec="pool", live=removable_media)
    volume = Field("source@volume", spec="volume", live=removable_media)
    volume_mode = Field("source@mode", Choice("host", "direct"), spec="volumeMode")
    source_type = Field("source@type", Choice("pci", "unix"), spec="sourceType", doc="nvme: pci, vhostuser: unix")
    nvme_namespace = Field("source@namespace", UINT, spec="nvmeNamespace")
    nvme_managed = Field("source@managed", YES_NO, spec="nvmeManaged")
    startup_policy = Field(
        "source@startupPolicy", Choice("mandatory", "requisite", "optional"), spec="startupPolicy",
        live=removable_media,
    )  # fmt: skip
    source_index = Field("source@index", UINT, spec="sourceIndex", doc="libvirt's index of this source")
    hosts = Children("source/host", Host, spec="hosts", doc="network servers", live=removable_media)
    snapshot_name = Field("source/snapshot@name", spec="snapshotName", doc="rbd snapshot")
    config_file = Field("source/config@file", spec="configFile", doc="rbd configuration file")
    initiator = Field("source/initiator/iqn@name", spec="initiator", doc="iscsi initiator IQN")
    ssl_verify = Field("source/ssl@verify", YES_NO, spec="sslVerify", doc="https/ftps certificate check")
    cookies = Children("source/cookies/cookie", Cookie, spec="cookies", secret=True, doc="http(s) cookies")
    readahead = Field("source/readahead@size", UINT, spec="readahead", doc="bytes")
    timeout = Field("source/timeout@seconds", UINT, spec="timeout", doc="seconds")
    known_hosts = Field("source/knownHosts@path", spec="knownHosts", doc="ssh known_hosts file")
    source_identity = Child("source/identity", SourceIdentity, spec="identity", doc="nfs user / ssh login")
    reconnect = Child("source/reconnect", Reconnect, spec="reconnect", doc="nbd, vhostuser")
    nvme_address = AddressField("source/address", spec="nvmeAddress")
    slices = Children("source/slices/slice", Slice, spec="slices")
    seclabels = Children("source/seclabel", SourceSeclabel, spec="seclabels")
    auth = Child("source/auth", Auth, spec="auth")
    encryption = Child("source/encryption", Encryption, spec="encryption")
    reservations = Child("source/reservations", Reservations, spec="reservations")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        prefix = cls.__dict__.get("inherited_spec_prefix")
        if prefix:
            top = cls.top_level_keys
            for klass in reversed(cls.__mro__[1:]):
                if not issubclass(klass, StrictView):  # the storage source views
                    continue
                for name, field in vars(klass).items():
                    spec = getattr(field, "spec", None)
                    if name in cls.__dict__ or not isinstance(spec, str) or spec in top:
                        continue
                    rekeyed = copy.copy(field)
                    rekeyed.spec = prefix + spec
                    setattr(cls, name, rekeyed)
        super().__init_subclass__(**kwargs)

    # -- path: one key for the attribute of the source's type ---------------------------

    @property
    def path(self) -> str | None:
        """The source path of this source's type (file, dev, dir, network name, socket)."""
        attr = PATH_ATTR.get(self.element.get("type") or "file")
        source = next(self.element.iterchildren("source"), None)
        return None if attr is None or source is None else source.get(attr)

    @path.setter
    def path(self, value: str | None) -> None:
        kind = self.element.get("type") or "file"
        attr = PATH_ATTR.get(kind)
        if attr is None and not value:
            return
        if attr is None:
            raise FieldValueError(self.describe(), "path", value, f"diskType {kind!r} has no path")
        if value is not None and not isinstance(value, str):
            raise FieldValueError(self.describe(), "path", value, f"expected str, got {type(value).__name__}")
        field = type(self).fields[_PATH_FIELD[attr]]
        assert isinstance(field, Field)
        field.__set__(self, value or None)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        path = self.path
        if path is not None:
            out["path"] = path
        return out

    def apply_dict(self, data: Mapping[str, Any]) -> None:
        super().apply_dict(data)
        if data.get("path") is not None:
            self.path = data["path"]


class FormatFields(StrictView):
    """``<format type>`` of a backing layer, mirror or dataStore (VDSM's words, see the
    module doc for ``format`` and ``libvirtFormat``)."""

    __slots__ = ()

    extra_keys: ClassVar[tuple[str, ...]] = ("libvirtFormat",)

    format = Field(
        "format@type", Choice(*FORMATS), spec="format", to_spec=format_to_spec, from_spec=format_from_spec,
        doc="image format ('cow' is qcow2)",
    )  # fmt: skip
    metadata_cache = Child("format/metadata_cache", MetadataCache, spec="metadataCache")

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if type(self).format.raw(self) == "cow":
            out["libvirtFormat"] = "cow"
        return out

    def apply_dict(self, data: Mapping[str, Any]) -> None:
        super().apply_dict(data)
        if data.get("libvirtFormat") is not None:
            literal_format(self, type(self).format, data, "format", data["libvirtFormat"])


class DataStore(FormatFields, SourceFields):
    """``<dataStore type>``: the external data file of a qcow2 image (libvirt 10.10).

    A dataStore inside a dataStore's own source is not modeled."""

    __slots__ = ()

    tag = "dataStore"
    child_order: ClassVar[tuple[str, ...]] = ("format", "source")


class StorageFields(SourceFields):
    """:class:`SourceFields` and the ``<dataStore>`` a source may carry."""

    __slots__ = ()

    data_store = Child("source/dataStore", DataStore, spec="dataStore", doc="qcow2 external data file")


class BackingLayer(FormatFields, StorageFields):
    """One ``<backingStore>`` of a backing chain, without the layers below it."""

    __slots__ = ()

    tag = "backingStore"
    child_order: ClassVar[tuple[str, ...]] = ("format", "source", "backingStore")
    index = Field("@index", UINT, spec="index", doc="libvirt's index of the layer (vda[index])")


class ChainFields(StrictView):
    """The backing chain below an image: its ``<backingStore>`` links, top first."""

    __slots__ = ()

    backing_chain = Chain("backingStore", BackingLayer, spec="backingChain", doc="top first; {} closes the chain")


class Mirror(FormatFields, ChainFields, StorageFields):
    """``<mirror type job ready>``: where a running block copy or active commit writes."""

    __slots__ = ()

    tag = "mirror"
    child_order: ClassVar[tuple[str, ...]] = ("format", "source", "backingStore")
    job = Field("@job", Choice("copy", "active-commit"), spec="job")
    ready = Field("@ready", Choice("yes", "abort", "pivot"), spec="ready")
    file = Field("@file", spec="file", doc="old block-copy form: the target file")
    file_format = Field("@format", Choice(*FORMATS), spec="fileFormat", doc="old block-copy form: its format")
