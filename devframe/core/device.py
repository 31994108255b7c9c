"""The device model: one dev_object per `<devices>` child.

A dev_object wraps its own lxml element and reads and writes it through fields declared
once on its class (:mod:`devframe.core.fields`). The element *is* the device's state:
there is no second copy to fall out of step, nothing unmodeled can be lost, and a
dev_object is cheap to make (parsing a domain creates one small Python object per
device and touches no field until asked).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from lxml import etree

from devframe.core.devtype import Claim, MetadataSchema, SpecAlias
from devframe.core.errors import (
    DevframeError,
    FieldValueError,
    MetadataError,
    PluginError,
    SpecError,
    SpecValueError,
    describe_exception,
    quoted,
)
from devframe.core.escape import ESCAPE_KEY, Consumed, apply_escape, consumed_for, escape_of
from devframe.core.fields import (
    MAX_NAME_LENGTH,
    AddressField,
    ElementView,
    Field,
    get_path,
    has_path,
    pop_path,
    put_path,
    redact_fields,
    take_path,
)
from devframe.core.identity import USER_ALIAS_PREFIX, Identity, device_id_from_alias, user_alias
from devframe.core.limits import DEVICE_DEPTH, ENTRY_DEPTH, MAX_DEPTH, value_problem
from devframe.core.log import REDACTED, get_logger, is_secret_key, redact_value, secret_key_answers
from devframe.core.safexml import parse_xml
from devframe.core.secrets import PLACES_VERSION, SecretPlace, SecretPlan, register_secret, register_secret_key
from devframe.core.secrets import plan_for as secret_plan_for
from devframe.core.specread import plan_for
from devframe.core.xmledit import first_child, subtree_xml

if TYPE_CHECKING:
    from collections.abc import Iterator

    from devframe.core.resolve import Resolvers


class PluginGuard(Protocol):
    """Isolation around calls into a plugin's device class (the registry's route).

    ``failed`` logs the failure with the device and plugin and, in strict mode, raises
    it as a :class:`PluginError`; otherwise the caller goes on with a safe fallback.
    """

    @property
    def plugin(self) -> str: ...

    def failed(self, operation: str, device: Device, exc: Exception) -> None: ...


class _MetadataSource(Protocol):
    """Metadata bound while parsing, decoded on first use (a metadata ``Entry``)."""

    def materialize(self) -> dict[str, Any]: ...


__all__ = [
    "USER_ALIAS_PREFIX",
    "Device",
    "FailedDevice",
    "PluginGuard",
    "UnknownDevice",
    "device_id_from_alias",
    "valid_identity",
]

# Keys every dev_spec may carry that the core handles itself, for every dev_type.
_CORE_SPEC_KEYS = ("type", "device", "alias", "deviceId", "address", "specParams")
# Metadata keys the core itself writes (a deviceId no <alias> can carry): never unmapped.
_CORE_METADATA_KEYS = frozenset({"deviceId"})

D = TypeVar("D", bound="Device")


def _merge_missing(target: dict[str, Any], extra: Mapping[str, Any], secrets: bool = True) -> None:
    """Add a copy of ``extra`` into ``target`` at any depth without overwriting modeled
    values; without ``secrets``, the keys named as secrets are left out at any depth.

    Metadata may hold part of a nested dict (``specParams`` keys no field models), so
    dicts merge key by key; the element's own value wins where both have one. Only what
    is added is copied (``extra`` is the device's own store: to_spec asks every device).
    """
    _merge_into(target, extra, None if secrets else secret_key_answers())


def _spec_secrets(device: Device, plan: Any) -> tuple[SecretPlan, tuple[tuple[str, ...], ...] | None]:
    """``device``'s secret plan and _deep_check_deferral's answer, kept on its class when
    both follow from the class alone (its dev_type and secret_plan are Device's kind)."""
    cls = type(device)
    secret_plan = device.secret_plan()
    deferred = _deep_check_deferral(cls, plan, secret_plan.deep_tags)
    if type(getattr(cls, "dev_type", None)) is str and cls.secret_plan is Device.secret_plan:
        setup = (plan, PLACES_VERSION[0], cls.own_secrets, secret_plan, deferred)
        type.__setattr__(cls, "_spec_secrets", setup)
    return secret_plan, deferred


def _deep_check_deferral(
    cls: type[Device], plan: Any, deep_tags: tuple[str, ...]
) -> tuple[tuple[str, ...], ...] | None:
    """The spec keys of the class's guest-address-like fields when to_spec may leave the
    check for elements of ``deep_tags`` to the compiled reader's pass, else None.

    The reader says "clean" only when every element it passes is carried (the escape's
    check, :mod:`devframe.core.escape`). Where the class's :class:`Consumed` tree has no
    node of a deep tag, such an element is carried only as a child of an address
    (``Consumed.other``: any child, as a dict of its attributes under its tag), so it
    shows as a key of that address's spec value. Anything else (a deep tag carried, an
    ``other`` not from a plain :class:`AddressField` with a spec key, no reader check):
    None, and to_spec checks first as before. Kept per class (fields and tags)."""
    cached = cls.__dict__.get("_deep_check_deferral")
    if cached is not None and cached[0] is cls.fields and cached[1] is plan and cached[2] == deep_tags:
        return cached[3]  # type: ignore[no-any-return]
    keys: tuple[tuple[str, ...], ...] | None = None
    if deep_tags and plan.check is not None:
        keys = _address_keys(plan.check, frozenset(deep_tags), cls.fields)
    type.__setattr__(cls, "_deep_check_deferral", (cls.fields, plan, deep_tags, keys))
    return keys


def _address_keys(
    consumed: Consumed, tags: frozenset[str], fields: Mapping[str, Any]
) -> tuple[tuple[str, ...], ...] | None:
    addresses = {
        field.steps: tuple(field.spec.split("."))
        for field in fields.values()
        if type(field) is AddressField and field.spec
    }
    keys: list[tuple[str, ...]] = []
    seen: set[int] = set()
    stack: list[tuple[tuple[str, ...], Consumed]] = [((), consumed)]
    while stack:
        path, node = stack.pop()
        if id(node) in seen:
            continue  # a chain's link holds itself
        seen.add(id(node))
        for tag, child in node.children.items():
            if tag in tags:
                return None
            stack.append(((*path, tag), child))
        other = node.other
        if other is not None:
            if other.children or other.other is not None or path not in addresses:
                return None
            keys.append(addresses[path])
    return _GUEST_ADDRESS if keys == [("address",)] else tuple(keys)


#: _address_keys' answer for a class whose one address is the guest address
_GUEST_ADDRESS: tuple[tuple[str, ...], ...] = (("address",),)


def _holds_tag(spec: Mapping[str, Any], keys: tuple[tuple[str, ...], ...], tags: tuple[str, ...]) -> bool:
    """Whether an address's spec value (at one of ``keys``) has a key of ``tags``: an
    address child of a deep tag, which the reader carries (see _deep_check_deferral)."""
    for key in keys:
        value: Any = spec
        for part in key:
            value = value.get(part) if isinstance(value, dict) else None
        if value and isinstance(value, dict):
            for tag in tags:
                if tag in value:
                    return True
    return False


def _hidden(key: Any, answers: Mapping[str, bool]) -> bool:
    """Whether a key is named as a secret: the remembered answer, else is_secret_key's."""
    found = answers.get(key) if type(key) is str else None
    return is_secret_key(key) if found is None else found


#: values _copied returns as they are (immutable)
_PLAIN = frozenset({str, int, bool, float, type(None)})


def _merge_into(target: dict[str, Any], extra: Mapping[str, Any], answers: Mapping[str, bool] | None) -> None:
    # answers: None keeps secrets; else is_secret_key's remembered answers (log.secret_key_answers).
    # A plain str key remembered as no secret is the common case: one lookup, no call.
    for key, value in extra.items():
        if answers is not None and (type(key) is not str or answers.get(key) is not False) and _hidden(key, answers):
            continue
        current = target.get(key)
        if current is None:
            target[key] = value if type(value) in _PLAIN else _copied(value, answers)
        elif isinstance(current, dict) and (type(value) is dict or isinstance(value, Mapping)):
            _merge_into(current, value, answers)


def _copied(value: Any, answers: Mapping[str, bool] | None) -> Any:
    """A deep copy of a metadata value (with ``answers``: without the keys named as
    secrets, at any depth); plain dicts, lists and scalars without copy.deepcopy's memo."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        out = {}
        for key, item in value.items():
            if (
                answers is not None
                and (type(key) is not str or answers.get(key) is not False)
                and _hidden(key, answers)
            ):
                continue
            out[key] = item if type(item) in _PLAIN else _copied(item, answers)
        return out
    if kind is list:
        return [item if type(item) in _PLAIN else _copied(item, answers) for item in value]
    copied = copy.deepcopy(value)
    return copied if answers is None else _without_secret_keys(copied)


def _prefixes_of(keys: list[str]) -> frozenset[str]:
    """Every proper dotted prefix of ``keys`` (``a.b.c`` gives ``a`` and ``a.b``)."""
    found: set[str] = set()
    for key in keys:
        parts = key.split(".")
        found.update(".".join(parts[:depth]) for depth in range(1, len(parts)))
    return frozenset(found)


def _unmapped_paths(cls: type[Device], data: Mapping[str, Any]) -> tuple[str, ...]:
    """The dotted paths of ``data`` (a device's metadata, or the spec keys its class
    left) that are neither metadata by design nor kept by the core.

    A dict is looked into only at a path the class maps keys under (``specParams``,
    ``specParams.driver``): elsewhere the dict is one value of one unmapped key. A
    metadata value at a key a field maps is no unmapped key: it only fills in a value
    the element lacks (``to_spec``).
    """
    quiet = cls.metadata_schema.keys
    if quiet.keys() >= data.keys():
        return ()  # every key metadata by design (an oVirt disk's storage IDs): one set test
    prefixes = cls._spec_prefixes
    mapped = cls._mapped_spec_keys
    found: list[str] = []

    def walk(items: Mapping[str, Any], base: str) -> None:
        for key, value in items.items():
            path = f"{base}{key}"
            if path in quiet or path in mapped or (not base and path in _CORE_METADATA_KEYS):
                continue
            if isinstance(value, Mapping) and path in prefixes:
                walk(value, path + ".")
            else:
                found.append(path)

    walk(data, "")
    return tuple(found)


def _same_spec_value(field: object, first: Any, second: Any) -> bool:
    """True when two dev_spec values say the same (``'4'`` and ``4`` for an int field)."""
    if first == second:
        return True
    if isinstance(field, Field):
        try:
            return bool(field.kind.coerce(first) == field.kind.coerce(second))
        except (ValueError, TypeError):
            return False
    return False


def _apply_spec_aliases(cls: type[Device], device: Device, rest: dict[str, Any]) -> dict[str, str]:
    """Move each alias key of ``rest`` to its canonical key (``cls.spec_aliases``),
    converting its value first when the alias is a :class:`SpecAlias` with ``convert``.

    Returns ``{canonical: alias}`` for the values that came under an alias, so an error
    names the key the engine sent. An alias and its canonical key that both hold values
    must agree, else a :class:`SpecValueError` names the alias.
    """
    spelled: dict[str, str] = {}
    if not cls.spec_aliases:
        return spelled
    by_key: dict[str, Any] = {f.spec: f for f in cls.fields.values() if f.spec}
    for alias, target in cls.spec_aliases.items():
        if not has_path(rest, alias):
            continue
        value = pop_path(rest, alias)
        canonical, convert = (target, None) if isinstance(target, str) else (target.key, target.convert)
        field = by_key.get(canonical)
        if convert is not None and value is not None:
            try:
                value = convert(value)
            except (ValueError, TypeError) as exc:
                secret = (field is not None and field.secret) or is_secret_key(alias.rsplit(".", 1)[-1])
                shown = REDACTED if secret else value
                said = "not a valid value" if secret else str(exc)[:300]
                reason = f"{said} (the engine's spelling of {canonical!r})"
                raise SpecValueError(device.describe(), alias, shown, reason) from None
        if value is None:
            continue
        current = get_path(rest, canonical)
        if current is not None:
            if not _same_spec_value(field, current, value):
                shown = field.shown(value) if field is not None else value
                reason = f"contradicts {canonical!r}, which the spec gives too (it is an alias of that key)"
                raise SpecValueError(device.describe(), alias, shown, reason)
            continue
        try:
            put_path(rest, canonical, value)
        except (AttributeError, TypeError):  # a parent of the canonical key is not a dict
            raise SpecValueError(
                device.describe(), alias, None, f"its canonical key {canonical!r} has no dict to go into"
            ) from None
        spelled[canonical] = alias
    return spelled


class DeviceMetadata(MutableMapping[str, Any]):
    """Per-device metadata: a mapping bound to its device, written back by the domain.

    Values are deep-copied on the way in and out, so no two devices (and no caller)
    share a mutable value by accident. A value the domain could not write and read
    back (nested past the XML depth limit, holding itself, an integer or text past
    :mod:`devframe.core.limits`) is a :class:`MetadataError` when it is set.
    """

    __slots__ = ("_changed", "_edits", "_source", "_store")

    #: the depth of a key's element: <domain><metadata><ovirt-vm:vm><ovirt-vm:device><key>
    key_depth = ENTRY_DEPTH + 1

    def __init__(self, data: Mapping[str, Any] | _MetadataSource | None = None) -> None:
        # Metadata bound from a domain's <metadata> offers ``materialize()`` (a fresh,
        # private dict): decoding waits for first use, so parsing 10k devices stays cheap.
        # The source object is kept, not its bound method: one object fewer per device
        # for the garbage collector to scan.
        source = data if callable(getattr(data, "materialize", None)) else None
        self._source: Any = source
        if source is None and data:
            self._check(dict(data))  # type: ignore[arg-type]
        self._store: dict[str, Any] | None = None if source is not None else copy.deepcopy(dict(data)) if data else {}  # type: ignore[arg-type]
        # Set by every write: readers get copies, so only __setitem__/__delitem__ (and
        # the MutableMapping methods built on them) can change what is stored.
        self._changed = source is None
        self._edits = 0

    @property
    def edits(self) -> int:
        """How many writes the mapping has had since it was made (a save does not reset
        it): whoever keeps something derived from the values can tell whether it holds."""
        return self._edits

    @property
    def changed(self) -> bool:
        """True when the mapping was written to since it was bound (or last saved)."""
        return self._changed

    @property
    def _data(self) -> dict[str, Any]:
        store = self._store
        if store is None:
            store = self._store = self._source.materialize()
            self._source = None
        return store

    @property
    def pending(self) -> bool:
        """True while bound metadata has not been decoded (so it is unchanged)."""
        return self._store is None

    def __bool__(self) -> bool:
        if self._store is None:
            # Undecoded: the source says whether it holds values (an entry with child
            # elements), without decoding them.
            has_values = getattr(self._source, "has_values", None)
            if isinstance(has_values, bool):
                return has_values
        return len(self._data) > 0

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        if isinstance(value, (dict, list)):
            return copy.deepcopy(value)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise DevframeError(f"metadata keys are str, got {type(key).__name__} {quoted(key)}")
        self._check({key: value})
        self._data[key] = copy.deepcopy(value) if isinstance(value, (dict, list)) else value
        self._changed = True
        self._edits += 1

    def _check(self, values: dict[str, Any]) -> None:
        """Refuse, before it is stored, a value the domain could not write and read back."""
        problem = value_problem(values, max_depth=MAX_DEPTH - self.key_depth + 1)
        if problem:
            where, reason = problem
            raise MetadataError(f"metadata value at {where}: {reason}")

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self._changed = True
        self._edits += 1

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the whole mapping."""
        return copy.deepcopy(self._data)

    def values_view(self) -> Mapping[str, Any]:
        """The stored values themselves, not a copy: read, never modify (``to_spec``
        copies what it takes)."""
        return self._data

    def take_changes(self) -> dict[str, Any] | None:
        """The stored values when written since the last call (else None), now marked as
        saved: the metadata section's write-back. The live store: read, never modify."""
        if not self._changed:
            return None
        self._changed = False
        return self._data

    def note_changed(self) -> None:
        """Mark the values as not yet saved (a write-back that must happen again)."""
        self._changed = True

    def raw_xml(self) -> bytes | None:
        """The XML the values will be decoded from while still undecoded, else None:
        equal bytes mean equal values, so comparisons need not decode."""
        return self._raw()

    @property
    def source(self) -> Any:
        """What the values will be decoded from while still undecoded (else None)."""
        return self._source

    def same_as(self, other: DeviceMetadata) -> bool:
        """True when both hold the same values.

        While both are still as bound from a domain (undecoded), their stored XML is
        compared instead: correlating thousands of devices then decodes nothing.
        """
        mine, theirs = self._raw(), other._raw()
        if mine is not None and theirs is not None and mine == theirs:
            return True
        return self._data == other._data

    def _raw(self) -> bytes | None:
        if self._store is not None:
            return None
        raw = getattr(self._source, "raw", None)
        return raw() if callable(raw) else None

    def __repr__(self) -> str:
        return f"DeviceMetadata({sorted(self._data)})"


class Device(ElementView):
    """Base class of every dev_class: one class describes one device type.

    A subclass declares, once:

    * ``dev_type`` (the dev_map key, normally the libvirt tag) and ``tag`` (the element
      it builds); ``claims``, the ``<devices>`` children it parses (default: its tag);
      ``description``, one line for ``devframe plugins``;
    * its fields (``Field(...)`` lines: XML place, type, dev_spec key);
    * ``metadata_keys``: the dev_spec keys kept in the domain's ``<metadata>`` by design,
      each with the type it is read back as (``None``: any); any other key no field maps
      is kept there too, but reported (:attr:`unmapped_spec_keys`, a warning);
    * ``spec_aliases``: the engine's other spellings of a dev_spec key, each read as the
      canonical key it names;
    * ``has_alias``: False for kinds libvirt gives no ``<alias>`` (graphics): their
      deviceId is kept in metadata;

    and overrides, where the generic behaviour does not fit:

    * :meth:`identity`: what makes it this device without an alias (used by metadata
      binding, correlation and ``Guest`` alike);
    * :meth:`read_spec` / :meth:`write_spec`: the dev_spec keys no field maps, the one
      way to customise spec conversion (``from_spec`` and ``to_spec`` stay generic);
    * :meth:`prepare`: resolve this kind's host placeholders;
    * :meth:`build`: the element to serialize (rarely: the element is always current).

    ``alias`` and ``address`` are shared by all devices. The plugin registers the class
    (``devframe_register_device_types``); every call the core makes into it is guarded
    (a failure is logged with the plugin, the device is kept, strict mode raises).
    """

    __slots__ = ("_owner", "_route", "error", "metadata_source")

    dev_type: ClassVar[str] = ""
    #: the `<devices>` children this class parses (default: ``Claim(tag or dev_type)``)
    claims: ClassVar[tuple[Claim, ...]] = ()
    #: one line for ``devframe plugins``
    description: ClassVar[str] = ""
    #: the dev_spec ``type`` when the engine names the kind otherwise than libvirt's tag
    #: (VDSM's ``balloon`` for ``<memballoon>``); empty: the dev_type. Specs of either
    #: name build the class; ``to_spec`` writes this one.
    spec_type: ClassVar[str] = ""
    #: False when libvirt gives this kind no <alias>: its deviceId then lives in metadata
    has_alias: ClassVar[bool] = True
    #: the ``devtype`` value every identity of the class carries, when each one carries
    #: one (``{"devtype": "controller", ...}``), else None. Such an identity can key only
    #: a metadata entry with that ``devtype`` and more attributes, so binding asks no
    #: device of the class for its identity when the domain's metadata has no such entry
    #: (then identity() is not called while parsing, nor a failure in it reported).
    identity_devtype: ClassVar[str | None] = None
    #: dev_spec keys that live in the domain's <metadata>, and the type each reads back as
    metadata_keys: ClassVar[Mapping[str, type | None]] = {}
    #: ``metadata_keys`` as the metadata codec uses it (derived, never declared)
    metadata_schema: ClassVar[MetadataSchema] = MetadataSchema()
    #: the secret places of the class's own fields (derived, never declared; see
    #: :mod:`devframe.core.secrets` for a secret no field declares)
    own_secrets: ClassVar[tuple[SecretPlace, ...]] = ()
    #: the engine's other spellings of a dev_spec key: ``{alias: canonical key}`` (dotted
    #: paths), the canonical key a str or a :class:`SpecAlias` that converts the value
    #: too. ``from_spec`` reads an alias as its canonical key (both given and different:
    #: a SpecError naming the alias); ``to_spec`` writes the canonical key only.
    spec_aliases: ClassVar[Mapping[str, str | SpecAlias]] = {}
    #: places of the element ``write_spec`` reads beyond the fields (field paths; ``tag[*]``
    #: every child of a tag, ``@*`` every attribute): carried, so never escaped
    #: (:mod:`devframe.core.escape`)
    spec_consumes: ClassVar[tuple[str, ...]] = ()
    #: dotted dev_spec paths whose dict values hold mapped keys (``specParams``,
    #: ``specParams.driver``, ...): an unmapped key is reported inside them (derived)
    _spec_prefixes: ClassVar[frozenset[str]] = frozenset({"specParams"})
    #: the dotted dev_spec keys fields and aliases map (derived)
    _mapped_spec_keys: ClassVar[frozenset[str]] = frozenset()

    alias: Field[str] = Field("alias@name", spec="alias", doc="libvirt alias (user aliases start with 'ua-')")
    address = AddressField()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        keys = cls.__dict__.get("metadata_keys")
        if keys is not None and not isinstance(keys, Mapping):
            cls.metadata_keys = dict.fromkeys(keys)  # a plain tuple of names: any type
        cls.metadata_schema = MetadataSchema(dict(cls.metadata_keys))
        mapped = [*(f.spec for f in cls.fields.values() if f.spec), *cls.spec_aliases]
        cls._mapped_spec_keys = frozenset(mapped)
        cls._spec_prefixes = _prefixes_of(mapped) | {"specParams"}
        dev_type = cls.__dict__.get("dev_type", cls.dev_type)
        if "claims" not in cls.__dict__ and isinstance(dev_type, str) and dev_type:
            cls.claims = (Claim(cls.tag or dev_type),)
        _register_secrets(cls, dev_type)
        if "identity" in cls.__dict__ and "identity_devtype" not in cls.__dict__:
            cls.identity_devtype = None  # a new identity() keeps no promise made for the one it overrides
        for old in ("after_spec", "from_spec", "to_spec"):
            if old in cls.__dict__ and not cls.__module__.startswith("devframe.core."):
                warnings.warn(
                    f"{cls.__module__}.{cls.__qualname__} overrides {old}(); override read_spec() / "
                    "write_spec() instead (the one way to customise dev_spec conversion). "
                    "The override still works in this release.",
                    DeprecationWarning,
                    stacklevel=2,
                )

    def __init__(
        self,
        element: etree._Element,
        *,
        metadata: Mapping[str, Any] | None = None,
        parent: ElementView | None = None,
    ) -> None:
        self.element = element
        self._parent = parent
        self._edited = False
        # Metadata bound while parsing (an object with ``materialize()``) is kept as is and
        # wrapped in a DeviceMetadata on first use: parsing makes one object per device.
        #: what holds this device's metadata now: a DeviceMetadata, the bound entry it is
        #: decoded from on first use, or None. Read it to compare without decoding (the
        #: metadata section and correlate do); assign through bind_metadata / metadata.
        self.metadata_source: DeviceMetadata | _MetadataSource | None = None
        if metadata is not None:
            source: Any = metadata
            if hasattr(source, "materialize"):
                self.metadata_source = source
            elif metadata:
                self.metadata_source = DeviceMetadata(metadata)
        #: the registry's route for this device's dev_type (set by the registry): its guard
        self._route: PluginGuard | None = None
        #: the Domain holding this device, as a weak reference (devframe.core.domain): no cycle
        self._owner: Any = None
        #: why this device is unknown / what went wrong in its plugin, if anything
        self.error: str | None = None

    @property
    def plugin(self) -> str | None:
        """Name of the plugin that owns this device (None: no plugin, or built by hand)."""
        route = self._route
        return route.plugin if route is not None else None

    # -- identity -----------------------------------------------------------------

    @property
    def device_id(self) -> str | None:
        """The engine's deviceId: from a ``ua-<deviceId>`` alias, else (kinds without an
        alias) from metadata."""
        # Read directly (the alias field's own path): correlate asks every device.
        alias = next(self.element.iterchildren("alias"), None)
        return self._device_id_from(alias.get("name") if alias is not None else None)

    def _device_id_from(self, alias_name: str | None) -> str | None:
        found = device_id_from_alias(alias_name)
        if found is None and not self.has_alias and self.metadata_source is not None:
            value = self.metadata.get("deviceId")
            return str(value) if value is not None else None
        return found

    def identity(self) -> Identity | None:
        """What makes this device itself within its dev_type when aliases do not tell
        (None: nothing; it is then matched by order among its kind).

        A mapping of attribute-like names to str values, e.g. ``{"devtype": "disk",
        "name": "vda"}``: it keys the device's ``<ovirt-vm:device>`` metadata entry, and
        correlation, ``Guest`` and ``Domain.find_device`` match on it. Leave out what the
        element does not have (no empty values: an identity must read back the same from
        the metadata entry it keys). Read the element only (never sibling devices); never
        raise for a bad value, use the raw text.
        """
        return None

    def raw_address(self) -> Mapping[str, str] | None:
        """The guest address's attributes as written, a read-only view (None without one);
        never raises, unlike :attr:`address`, which parses them: for identities."""
        # libvirt writes the address last, after few children where identities ask it
        # (sound, video, input: <model>/<codec>, <alias>): looked at directly up to the third
        element = first_child(self.element, "address", near=3)
        return element.attrib if element is not None else None  # type: ignore[return-value]

    def checked_identity(self) -> Identity | None:
        """:meth:`identity`, guarded: a plugin failure or a wrong answer is reported
        through the plugin guard (strict mode raises) and counts as no identity."""
        try:
            found = self.identity()
        except Exception as exc:  # noqa: BLE001 - a plugin error must not lose the device
            self._plugin_failed("identity", exc)
            return None
        if found is None:
            return None
        if type(found) is dict:
            # The common answer, checked inline: binding asks every device without an alias.
            for key, value in found.items():
                if type(key) is not str or type(value) is not str:
                    break
            else:
                return found or None
        elif valid_identity(found):
            return found or None
        if isinstance(found, tuple):
            # The form before identities were mappings: still understood for one release.
            return {"identity": "/".join(str(part) for part in found)}
        self._plugin_failed(
            "identity",
            PluginError(
                self.plugin or "?",
                f"{type(self).__name__}.identity() returned {type(found).__name__} {found!r:.200}, "
                "expected a mapping of str to str (or None)",
            ),
        )
        return None

    def _plugin_failed(self, operation: str, exc: Exception) -> None:
        route = self._route
        if route is None:
            # Made by hand, not through a registry: no plugin to isolate, so no guard.
            raise exc
        route.failed(operation, self, exc)

    # -- metadata -------------------------------------------------------------------

    @property
    def metadata(self) -> DeviceMetadata:
        """Per-device metadata, written into the domain's <metadata> by ``to_xml``."""
        metadata = self.metadata_source
        if metadata is None:
            metadata = self.metadata_source = DeviceMetadata()
        elif type(metadata) is not DeviceMetadata and not isinstance(metadata, DeviceMetadata):
            metadata = self.metadata_source = DeviceMetadata(metadata)
        return metadata

    def metadata_if_any(self) -> DeviceMetadata | None:
        """The device's metadata, or None when it has none (nothing is created)."""
        metadata = self.metadata_source
        # type() first: isinstance against an ABC (DeviceMetadata is a MutableMapping)
        # runs abc's Python-level check, and to_spec asks of every device
        if metadata is None or type(metadata) is DeviceMetadata or isinstance(metadata, DeviceMetadata):
            return metadata
        metadata = self.metadata_source = DeviceMetadata(metadata)  # what .metadata does, asked once
        return metadata

    @property
    def has_metadata(self) -> bool:
        return bool(self.metadata_if_any())

    def bind_metadata(self, source: _MetadataSource) -> None:
        """Bind metadata read from the domain's ``<metadata>`` (decoded on first use).

        Called by the metadata section while parsing; a device that already holds
        metadata keeps it.
        """
        if self.metadata_source is None:
            self.metadata_source = source

    def take_edited(self) -> bool:
        """True when a field wrote the element since the last call (and reset that)."""
        edited = self._edited
        self._edited = False
        return edited

    def same_as(self, other: Device) -> bool:
        """True when both devices hold the same XML and the same metadata (so the same
        dev_spec). Cheap: serialized elements are compared in C, metadata undecoded."""
        if type(self) is not type(other):
            return False
        if subtree_xml(self.element, as_bytes=True) != subtree_xml(other.element, as_bytes=True):
            return False
        mine, theirs = self.metadata_if_any(), other.metadata_if_any()
        if mine is None and theirs is None:
            return True
        if mine is None or theirs is None:
            present = mine if mine is not None else theirs
            return present is not None and len(present) == 0
        return mine.same_as(theirs)

    # -- host placeholders -----------------------------------------------------------------

    def prepare(self, resolvers: Resolvers) -> None:
        """Resolve this kind's host-specific placeholders in place (default: none).

        Edit through fields (they write the element); raise a ``DevframeError`` naming
        the device and placeholder when one cannot be resolved. The core logs what
        changed, and resolves the placeholders no kind owns afterwards.
        """

    def run_prepare(self, resolvers: Resolvers) -> None:
        """:meth:`prepare`, guarded: a DevframeError passes, any other failure is logged
        with the plugin and raised as a :class:`PluginError` naming the plugin and device."""
        try:
            self.prepare(resolvers)
        except DevframeError:
            raise
        except Exception as exc:
            # Logged through the guard (strict mode raises there); the domain cannot go to
            # libvirt with a placeholder left, so it is an error in either mode.
            if self._route is not None:
                self._route.failed("prepare", self, exc)
            raise PluginError(
                self.plugin or type(self).__module__, f"prepare failed for {self.describe()}: {exc!r}"
            ) from exc

    # -- XML ----------------------------------------------------------------------------

    def build(self) -> etree._Element:
        """The element to serialize for this device (default: its own element, which
        fields keep current)."""
        return self.element

    def built_element(self) -> etree._Element:
        """:meth:`build`, guarded: on a plugin failure the element is used as it stands."""
        if type(self).build is Device.build:
            return self.element
        try:
            element = self.build()
        except Exception as exc:  # noqa: BLE001 - a plugin error must not lose the device
            self.error = f"plugin {self.plugin!r} failed to build: {exc!r}"
            self._plugin_failed("build", exc)
            return self.element
        if not isinstance(element, etree._Element):
            problem = PluginError(
                self.plugin or "?",
                f"build() of {self.describe()} returned {type(element).__name__}, expected an lxml element",
            )
            self.error = f"plugin {self.plugin!r} failed to build: {problem}"
            self._plugin_failed("build", problem)
            return self.element
        return element

    def to_xml(self) -> str:
        """This device's element as a string."""
        return subtree_xml(self.built_element())

    # -- dev_spec ---------------------------------------------------------------------

    @property
    def spec_device(self) -> str:
        """The dev_spec ``device`` value (disk: disk/cdrom/..., interface: its type)."""
        for field in self.fields.values():
            if field.spec == "device":
                value = field.spec_value(self)
                if value is not None:
                    return str(value)
        return self.dev_type

    @classmethod
    def spec_carried(cls) -> Consumed:
        """What the class's fields (and ``spec_consumes``) carry through a dev_spec: the
        raw-XML escape's rule (:func:`devframe.core.escape.consumed_for`), which the
        compiled ``to_spec`` reader checks in its pass."""
        return consumed_for(cls)

    def to_spec(self, *, secrets: bool = False) -> dict[str, Any]:
        """This device as an engine dev_spec dict: every field's spec key, then
        :meth:`write_spec`, then metadata values the spec lacks.

        Secrets (:mod:`devframe.core.secrets`: passwords, cookies, fields declared
        ``secret=True``, what a plugin registers, metadata keys named as secrets) are
        left out unless ``secrets=True``: a spec for display, a log or an engine report
        never carries them; ask for them to rebuild the device elsewhere.

        Raises :class:`FieldValueError` (a DevframeError) naming the device and field
        when a stored value does not fit its type.
        """
        cls = type(self)
        view = self
        plans = cls.__dict__.get("_read_plans")  # plan_for's cache, looked at without the call
        plan = plans.get("spec") if plans else None
        if plan is None or plan.fields is not cls.fields:
            plan = plan_for(cls, "spec")
        plain_device = cls.spec_device is _SPEC_DEVICE
        deferred: tuple[tuple[str, ...], ...] | None = None
        if not secrets:
            # The secret plan and what the reader may check for it, kept per class (asked of
            # every device); kinds whose dev_type or secret_plan is their own are asked each time.
            setup = cls.__dict__.get("_spec_secrets")
            if setup is not None and setup[0] is plan and setup[1] == PLACES_VERSION[0] and setup[2] is cls.own_secrets:
                secret_plan, deferred = setup[3], setup[4]
            else:
                secret_plan, deferred = _spec_secrets(self, plan)
            # Where the class carries no element of a deep secret place's tag (a <cookies>),
            # the reader's own walk answers "none here" (see _deep_check_deferral): only
            # the shallow places are looked at before it.
            if deferred is None or (secret_plan.shallow_outside and secret_plan.holds_shallow_secrets(self.element)):
                deferred = None
                hidden = secret_plan.without_secrets(self.element)
                if hidden is not None:
                    view = copy.copy(self)  # the same device reading a copy without its secrets
                    view.element = hidden
        # One call reads every field, the device field and the alias (devframe.core.specgen).
        spec: dict[str, Any] = {
            "type": self.spec_type or self.dev_type,
            "device": None if plain_device else view.spec_device,
        }
        # ... and notes whether the element may hold what no field carries (the escape's check)
        alias_name, maybe_escaped = plan.reader(view, view.element, spec, plain_device)
        if deferred is None:
            recheck = False
        elif deferred is _GUEST_ADDRESS:  # most kinds: one address, inline
            address = spec.get("address")
            recheck = maybe_escaped or bool(address and not secret_plan.deep_tag_set.isdisjoint(address))
        else:
            recheck = maybe_escaped or _holds_tag(spec, deferred, secret_plan.deep_tags)
        if recheck:
            # Something not carried (maybe a secret), or an address holding a child of a
            # deep tag: the full check, and the reading again from a copy if it finds one.
            hidden = secret_plan.without_secrets(self.element)
            if hidden is not None:
                view = copy.copy(self)
                view.element = hidden
                spec = {"type": self.spec_type or self.dev_type, "device": None if plain_device else view.spec_device}
                alias_name, maybe_escaped = plan.reader(view, hidden, spec, plain_device)
        if cls.device_id is not _DEVICE_ID:
            device_id = view.device_id
        elif alias_name and alias_name.startswith(USER_ALIAS_PREFIX) and len(alias_name) > _PREFIX_LENGTH:
            device_id = alias_name[_PREFIX_LENGTH:]  # device_id_from_alias inline: nearly every device
        else:
            device_id = view._device_id_from(alias_name)
        if device_id is not None:
            spec["deviceId"] = device_id
        if "specParams" not in spec:  # (setdefault would make a dict for every device)
            spec["specParams"] = {}
        if cls.write_spec is not _WRITE_SPEC:  # (Device's adds nothing: not called)
            try:
                view.write_spec(spec)
            except DevframeError:
                raise
            except Exception as exc:
                # A plugin bug: reported through the guard, raised as a DevframeError naming it.
                self._plugin_failed("to_spec", exc)
                raise PluginError(
                    self.plugin or type(self).__module__,
                    f"to_spec failed for {self.describe()}: {describe_exception(exc)}",
                ) from exc
        if maybe_escaped and "xml" not in spec:  # (an unknown device's spec carries its whole element)
            escaped = escape_of(cls, view.element)  # what no field carries (devframe.core.escape)
            if escaped is not None:
                spec["specParams"][ESCAPE_KEY] = escaped
        metadata = self.metadata_source
        if metadata is None:
            return spec
        # A decoded DeviceMetadata's store read directly (bool() and values_view(): two
        # calls); anything else as before: a bound entry wrapped on first use, and asked
        # whether it holds values before it is decoded.
        store: Mapping[str, Any] | None = metadata._store if type(metadata) is DeviceMetadata else None
        if store is None:
            metadata = self.metadata_if_any()
            if not metadata:
                return spec
            store = metadata.values_view()
        if store:
            _merge_into(spec, store, None if secrets else secret_key_answers())  # _merge_missing
        return spec

    def secret_plan(self) -> SecretPlan:
        """Where this device keeps secrets (:mod:`devframe.core.secrets`)."""
        return secret_plan_for(self.dev_type, type(self).own_secrets)

    def redacted_spec(self, spec: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """:meth:`to_spec` as it may leave the process (events, reports): the values of
        fields declared ``secret`` and of keys named like secrets (the log's rule,
        :func:`devframe.core.log.redact_value`, XML text included) are ``***``.

        ``spec``: this device's to_spec() when the caller has it already (left as is).
        Built here, it is taken with its secrets, each then shown as ``***``: a report
        says that a password is set, never what it is.
        """
        out: dict[str, Any] = redact_value(self.to_spec(secrets=True) if spec is None else spec)  # a copy
        redact_fields(type(self), out)
        return out

    def write_spec(self, spec: dict[str, Any]) -> None:
        """Add to ``spec`` what no field maps (the counterpart of :meth:`read_spec`).

        ``spec`` holds every field's value already (``specParams`` is a dict); metadata
        values are added after this, where the spec has none.
        """

    @classmethod
    def new_element(cls) -> etree._Element:
        """An empty element to build a device from a spec."""
        return etree.Element(cls.tag or cls.dev_type)

    @classmethod
    def from_spec(cls: type[D], spec: Mapping[str, Any]) -> D:
        """Build a device from an engine dev_spec.

        Keys named in ``spec_aliases`` are read as their canonical keys first. Fields are
        set in declaration order (a field's ``default`` where the spec has no value); then
        :meth:`read_spec` takes the keys no field maps. Every key left is kept in
        ``metadata``, so nothing the engine sent is dropped: those of ``metadata_keys``
        quietly, any other one logged as a warning and listed in
        :attr:`unmapped_spec_keys`.
        """
        check_spec(spec)
        rest: dict[str, Any] = copy.deepcopy(dict(spec))
        device = cls(cls.new_element())
        rest.pop("type", None)
        device_id = rest.pop("deviceId", None)
        spelled = _apply_spec_aliases(cls, device, rest)
        for field in cls.fields.values():
            key = field.spec
            if key is None:
                continue
            # 'device' stays for read_spec, which may need the engine's word as given.
            if key == "device":
                given, value = key in rest, rest.get(key)
            else:
                given, value = take_path(rest, key)
            default = None
            if value is None and not given and isinstance(field, Field) and field.default is not None:
                default = field.default_for(device)
            if default is not None and isinstance(field, Field):
                # Missing: the default. A key given as None asks for no value at all.
                field.__set__(device, default)
                continue
            if value is None:
                continue
            named = spelled.get(key, key)  # the key as the engine spelled it
            try:
                field.apply_spec_value(device, value)
            except FieldValueError as exc:
                # A bad spec value is a bad spec: raised as a SpecError naming the key (and,
                # inside a list of items, the item's own key).
                where = named if exc.field in (key, field.name) else f"{named}.{exc.field}"
                raise SpecValueError(exc.device, where, exc.value, exc.reason) from None
            except DevframeError:
                raise
            except Exception as exc:  # noqa: BLE001 - a field kind that raised plainly: the key is named
                reason = "not a valid value" if field.secret else describe_exception(exc)
                raise SpecValueError(device.describe(), named, field.shown(value), reason) from None
        if device.alias is None and device_id:
            if cls.has_alias:
                device.alias = user_alias(str(device_id))
            else:
                rest["deviceId"] = device_id  # no <alias> in libvirt's schema: kept in metadata
        elif device_id and device.device_id != device_id:
            # Keep the engine's deviceId even when the alias says something else.
            rest["deviceId"] = device_id
        params = rest.get("specParams")
        escape = params.pop(ESCAPE_KEY, None) if isinstance(params, dict) else None
        read_keys = sorted(str(key) for key in rest)
        try:
            device.read_spec(rest)
            device.after_spec(spec)
            if escape is not None:
                apply_escape(cls, device.element, escape, device.describe())
        except DevframeError:
            raise
        except Exception as exc:
            # The keys the class read itself could not be used: a bad spec (or a plugin bug,
            # which the registry reports through its guard too).
            raise SpecReadError(device.describe(), read_keys, exc) from exc
        rest.pop("device", None)
        if rest.get("specParams") == {}:
            rest.pop("specParams")
        if rest:
            device.metadata.update(rest)
            unmapped = _unmapped_paths(cls, rest)
            if unmapped:
                log = get_logger(dev_type=device.dev_type, alias=device.alias, dev_class=cls.__qualname__)
                for path in unmapped:
                    # The key, never its value (an unmapped value may be a secret); a field named
                    # "key" would be redacted itself, as an encryption key is.
                    log.warning("dev_spec key mapped by no plugin, kept in metadata", spec_key=path)
        return device

    @property
    def unmapped_spec_keys(self) -> tuple[str, ...]:
        """The dev_spec keys this device holds that its plugin maps nowhere, as dotted
        paths (``"guestName"``, ``"specParams.foo"``), in the order they were given.

        They are kept in :attr:`metadata` (``to_spec`` returns them, the domain's
        ``<metadata>`` stores them), so the list is derived from the metadata: it
        survives ``to_xml`` and parsing, and it is empty again once the value is
        removed from the metadata. Keys the class lists in ``metadata_keys`` (metadata by
        design) and the deviceId the core keeps are not listed. Read only.
        """
        metadata = self.metadata_if_any()
        if not metadata:
            return ()
        return _unmapped_paths(type(self), metadata.values_view())  # read only: no copy

    def read_spec(self, rest: dict[str, Any]) -> None:
        """Apply the dev_spec keys no field maps (the one customisation of ``from_spec``).

        ``rest`` holds the keys the fields left, ``device`` and ``specParams`` included
        (alias keys already moved to their canonical keys): pop each key you use; what is
        left goes to metadata, reported as unmapped unless ``metadata_keys`` lists it.
        Raise a :class:`~devframe.SpecError` naming the key for a value that cannot be used.
        """

    def after_spec(self, spec: Mapping[str, Any]) -> None:
        """Deprecated: override :meth:`read_spec` instead (still called in this release)."""

    # -- validation and display -----------------------------------------------------------

    def validate(self) -> None:
        """Raise :class:`FieldValueError` listing every value that does not fit its field."""
        problems = self.problems()
        if problems:
            raise FieldValueError(self.describe(), "*", None, "; ".join(problems))

    def describe(self) -> str:
        alias = None
        try:
            found = self.element.find("alias")
            alias = found.get("name") if found is not None else None
        except Exception:  # noqa: BLE001 - describe() is used in error paths
            alias = None
        tag = self.element.tag if isinstance(self.element.tag, str) else "?"
        return f"{self.dev_type or tag} alias={alias!r}" if alias else f"{self.dev_type or tag}"

    def summary(self) -> dict[str, Any]:
        """Key fields for display (``inspect``), secrets redacted. Never raises."""
        out: dict[str, Any] = {}
        for name, field in self.fields.items():
            if name in ("alias", "address"):
                continue
            try:
                value = field.spec_value(self)
            except DevframeError:
                value = getattr(field, "raw", lambda v: None)(self)
                value = f"<invalid {quoted(value, 60)}>"
            if value is None or value == [] or value is False:
                continue
            out[name] = "***" if field.secret else value
        return out

    def __repr__(self) -> str:
        try:
            parts = [type(self).__name__, self.dev_type or str(self.element.tag)]
            alias = Field.raw(type(self).__dict__.get("alias") or Device.alias, self)
            if alias:
                parts.append(f"alias={alias!r}")
            identity = None
            try:
                identity = self.identity()
            except Exception:  # noqa: BLE001 - repr must never raise
                identity = None
            if identity and isinstance(identity, Mapping):
                parts.append("id=" + ",".join(f"{k}={v}" for k, v in identity.items() if k != "devtype"))
            if self.error:
                parts.append("error")
            return "<" + " ".join(parts) + ">"
        except Exception:  # noqa: BLE001 - repr must never raise
            return f"<{type(self).__name__} (unprintable)>"


def plain_construction(cls: type[Device]) -> bool:
    """Whether ``cls(element)`` runs Device's own ``__init__`` on a plain ``object.__new__``,
    so :func:`parsed_device` makes the same object."""
    return cls.__init__ is Device.__init__ and cls.__new__ is object.__new__ and type(cls).__call__ is type.__call__


_new_object = object.__new__


def parsed_device(cls: type[D], element: etree._Element, route: PluginGuard | None, owner: object) -> D:
    """What ``cls(element)`` makes, with its route and owner set: the slots Device.__init__
    sets, without the calls through type.__call__ and __init__ (parse_devices makes one
    per device; the calls cost more than the stores). Only for a class of which
    :func:`plain_construction` is True; a test compares every slot with ``cls(element)``'s.
    """
    device: D = _new_object(cls)
    device.element = element
    device._parent = None
    device._edited = False
    device.metadata_source = None
    device._route = route
    device._owner = owner
    device.error = None
    return device


class SpecReadError(SpecError):
    """A device class's :meth:`Device.read_spec` raised something other than a
    DevframeError on a dev_spec: the spec is refused (naming the keys the class was
    reading), and the registry reports the plugin's failure through its guard."""

    def __init__(self, device: str, keys: list[str], cause: Exception) -> None:
        self.device = device
        self.keys = keys
        self.cause = cause
        super().__init__(f"{device}: the dev_spec keys {keys} cannot be used: {describe_exception(cause)}")


def _register_secrets(cls: type[Device], dev_type: object) -> None:
    """Record the secret places and spec keys of a new device class's fields."""
    paths = tuple(dict.fromkeys(path for field in cls.fields.values() for path in field.secret_paths()))
    cls.own_secrets = tuple(SecretPlace.parse(path) for path in paths)
    if paths and isinstance(dev_type, str) and dev_type:
        register_secret(dev_type, *paths)  # an unknown device of the same tag keeps them hidden too
    for field in cls.fields.values():
        for key in field.secret_spec_keys():
            register_secret_key(key)


def _without_secret_keys(value: Any) -> Any:
    """A copy of metadata values without the keys named as secrets (at any depth)."""
    if isinstance(value, dict):
        return {k: _without_secret_keys(v) for k, v in value.items() if not is_secret_key(k)}
    if isinstance(value, list):
        return [_without_secret_keys(v) for v in value]
    return value


def check_spec(spec: object) -> None:
    """Refuse a dev_spec devframe could not write and read back: not a dict, nested past
    the XML depth limit (its keys become a metadata entry's), holding itself, more than
    :data:`~devframe.core.limits.MAX_VALUE_ITEMS` items, or an integer, text or key past
    :mod:`devframe.core.limits`. A :class:`SpecError` names the key path."""
    if not isinstance(spec, Mapping):
        raise SpecError(f"a dev_spec must be a dict, got {type(spec).__name__}")
    problem = value_problem(spec, max_depth=MAX_DEPTH - ENTRY_DEPTH)
    if problem:
        where, reason = problem
        raise SpecError(f"dev_spec of type {quoted(spec.get('type'), 60)}: key {where}: {reason}")


def valid_identity(found: Any) -> bool:
    """True for an identity: a mapping of str to str (an empty one counts as none)."""
    if not isinstance(found, Mapping):
        return False
    return all(type(k) is str and type(v) is str for k, v in found.items())


#: the base class's readers: to_spec reads in one pass where a class keeps them
_SPEC_DEVICE = Device.spec_device
_DEVICE_ID = Device.device_id
_WRITE_SPEC = Device.write_spec
_PREFIX_LENGTH = len(USER_ALIAS_PREFIX)


class UnknownDevice(Device):
    """A `<devices>` child no plugin claims (or whose plugin failed), kept verbatim.

    Its dev_type is its tag (``memballoon``, ``channel``, ...). Its dev_spec carries the
    element's XML under ``xml`` so it round-trips through specs too.
    """

    __slots__ = ()

    @property
    def dev_type(self) -> str:  # type: ignore[override]
        tag = self.element.tag
        if not isinstance(tag, str):
            return "#comment"
        return etree.QName(tag).localname if tag.startswith("{") else tag

    @property
    def spec_device(self) -> str:
        kind = self.element.get("type") or self.element.get("model")
        if kind:
            return kind
        # A spec's own 'device' word that the element cannot carry is kept in metadata.
        metadata = self.metadata_if_any()
        given = metadata.get("device") if metadata else None
        return given if isinstance(given, str) and given else self.dev_type

    def write_spec(self, spec: dict[str, Any]) -> None:
        # The element itself, so the device round-trips through specs too.
        spec["xml"] = subtree_xml(self.element)

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> UnknownDevice:
        """An unknown kind's device from its dev_spec: the element its ``xml`` holds (one
        element of the spec's ``type``: a device, never a ``<domain>`` or another kind),
        or one built from ``type``, ``alias``/``deviceId`` and ``address``."""
        check_spec(spec)
        xml = spec.get("xml")
        dev_type = spec.get("type")
        if not isinstance(dev_type, str) or not dev_type:
            raise SpecError(f"a dev_spec needs a 'type' naming its dev_type, got {quoted(dev_type, 60)}")
        if len(dev_type) > MAX_NAME_LENGTH:  # could be written, never read back
            raise SpecError(f"dev_spec type of {len(dev_type)} characters is not a usable element name")
        if dev_type in NOT_DEVICES:
            raise SpecError(f"dev_spec type {dev_type!r} names a part of the domain, not a device")
        if xml is not None:
            element = _spec_element(dev_type, xml)
        else:
            try:
                element = etree.Element(dev_type)
            except ValueError:
                raise SpecError(f"dev_spec type {quoted(dev_type, 80)} is not a valid XML element name") from None
        device = cls(element)
        if xml is None:
            if spec.get("alias"):
                device.alias = str(spec["alias"])
            elif spec.get("deviceId"):
                device.alias = user_alias(str(spec["deviceId"]))
            if isinstance(spec.get("address"), Mapping) and spec["address"]:
                device.address = spec["address"]
        rest = {k: copy.deepcopy(v) for k, v in spec.items() if k not in _CORE_SPEC_KEYS and k != "xml"}
        # No plugin maps anything of this kind: its specParams, and a 'device' word the
        # element does not say itself, are kept too (and listed in unmapped_spec_keys).
        if spec.get("specParams"):
            rest["specParams"] = copy.deepcopy(spec["specParams"])
        if spec.get("device") is not None and spec["device"] != device.spec_device:
            rest["device"] = copy.deepcopy(spec["device"])
        if rest:
            device.metadata.update(rest)
        return device

    def describe(self) -> str:
        return super().describe()


#: Children of libvirt's <domain> that are not devices (domaincommon.rng's domain
#: contents): a dev_spec never makes one of these (<memory> is a device too: not here).
NOT_DEVICES = frozenset(
    {
        "domain", "devices", "name", "uuid", "genid", "title", "description", "metadata", "os",
        "bootloader", "bootloader_args", "sysinfo", "idmap", "currentMemory", "maxMemory",
        "memoryBacking", "memtune", "blkiotune", "numatune", "vcpu", "vcpus", "iothreads",
        "iothreadids", "defaultiothread", "cputune", "cpu", "resource", "features", "clock",
        "on_poweroff", "on_reboot", "on_crash", "on_lockfailure", "pm", "perf", "seclabel",
        "keywrap", "launchSecurity", "throttlegroups", "commandline", "capabilities",
        "deprecation", "override",
    }
)  # fmt: skip


def _spec_element(dev_type: str, xml: object) -> etree._Element:
    """The element a dev_spec's ``xml`` holds, checked: one element named ``dev_type`` (its
    local name), nothing beside it, and shallow enough to read back inside a domain."""
    where = f"dev_spec of type {dev_type!r}"
    if not isinstance(xml, str):
        raise SpecError(f"{where}: key 'xml' must be a str of XML, got {type(xml).__name__}")
    element = parse_xml(xml, source=f"{where}, key 'xml'").getroot()
    tag = element.tag
    local = etree.QName(tag).localname if isinstance(tag, str) else None
    if local != dev_type:
        shown = f"<{local}>" if local else "no element"
        raise SpecError(f"{where}: key 'xml' holds {shown}, not a <{dev_type}> device")
    if element.getprevious() is not None or element.getnext() is not None:
        raise SpecError(f"{where}: key 'xml' holds something beside its <{dev_type}> element (comment, instruction)")
    depth = _subtree_depth(element)
    if DEVICE_DEPTH - 1 + depth > MAX_DEPTH:
        raise SpecError(
            f"{where}: key 'xml' nests {depth} elements deep; inside a domain that is past the XML reader's "
            f"depth limit of {MAX_DEPTH} (at most {MAX_DEPTH - DEVICE_DEPTH + 1})"
        )
    return element


def _subtree_depth(element: etree._Element) -> int:
    """How many elements deep ``element``'s subtree goes (1: no child elements)."""
    depth = deepest = 0
    for event, _ in etree.iterwalk(element, events=("start", "end")):
        if event == "start":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class FailedDevice(UnknownDevice):
    """An element whose plugin failed to make its dev_object: kept verbatim like any
    unknown device, with the identity its class gave (when it could), so its metadata
    still binds and correlation still recognises it."""

    __slots__ = ("_failed_identity",)
    _failed_identity: Identity | None

    def identity(self) -> Identity | None:
        return self._failed_identity
