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

from devframe.core.devtype import Claim, MetadataSchema
from devframe.core.errors import DevframeError, FieldValueError, PluginError, SpecError, SpecValueError
from devframe.core.fields import (
    MAX_NAME_LENGTH,
    AddressField,
    Children,
    ElementView,
    Field,
    _Base,
    put_path,
    take_path,
)
from devframe.core.identity import USER_ALIAS_PREFIX, Identity, device_id_from_alias, user_alias
from devframe.core.safexml import parse_xml

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

D = TypeVar("D", bound="Device")


def _merge_missing(target: dict[str, Any], extra: Mapping[str, Any]) -> None:
    """Add ``extra`` into ``target`` at any depth without overwriting modeled values.

    Metadata may hold part of a nested dict (``specParams`` keys no field models), so
    dicts merge key by key; the element's own value wins where both have one.
    """
    for key, value in extra.items():
        current = target.get(key)
        if current is None:
            target[key] = value
        elif isinstance(current, dict) and isinstance(value, Mapping):
            _merge_missing(current, value)


class DeviceMetadata(MutableMapping[str, Any]):
    """Per-device metadata: a mapping bound to its device, written back by the domain.

    Values are deep-copied on the way in and out, so no two devices (and no caller)
    share a mutable value by accident.
    """

    __slots__ = ("_changed", "_source", "_store")

    def __init__(self, data: Mapping[str, Any] | _MetadataSource | None = None) -> None:
        # Metadata bound from a domain's <metadata> offers ``materialize()`` (a fresh,
        # private dict): decoding waits for first use, so parsing 10k devices stays cheap.
        # The source object is kept, not its bound method: one object fewer per device
        # for the garbage collector to scan.
        source = data if callable(getattr(data, "materialize", None)) else None
        self._source: Any = source
        self._store: dict[str, Any] | None = None if source is not None else copy.deepcopy(dict(data)) if data else {}  # type: ignore[arg-type]
        # Set by every write: readers get copies, so only __setitem__/__delitem__ (and
        # the MutableMapping methods built on them) can change what is stored.
        self._changed = source is None

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
            raise DevframeError(f"metadata keys are str, got {type(key).__name__} {key!r}")
        self._data[key] = copy.deepcopy(value) if isinstance(value, (dict, list)) else value
        self._changed = True

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self._changed = True

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the whole mapping."""
        return copy.deepcopy(self._data)

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
    * ``metadata_keys``: the dev_spec keys kept in the domain's ``<metadata>``, each with
      the type it is read back as (``None``: any);
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
    #: dev_spec keys that live in the domain's <metadata>, and the type each reads back as
    metadata_keys: ClassVar[Mapping[str, type | None]] = {}
    #: ``metadata_keys`` as the metadata codec uses it (derived, never declared)
    metadata_schema: ClassVar[MetadataSchema] = MetadataSchema()

    alias: Field[str] = Field("alias@name", spec="alias", doc="libvirt alias (user aliases start with 'ua-')")
    address = AddressField()

    #: (field, its dev_spec key, its first path step or None) of every field with a key
    #: but ``device``, in declaration order: what ``to_spec`` walks (derived, never declared)
    _spec_plan: ClassVar[tuple[tuple[_Base, str, str | None], ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._spec_plan = _spec_plan(cls)
        keys = cls.__dict__.get("metadata_keys")
        if keys is not None and not isinstance(keys, Mapping):
            cls.metadata_keys = dict.fromkeys(keys)  # a plain tuple of names: any type
        cls.metadata_schema = MetadataSchema(dict(cls.metadata_keys))
        dev_type = cls.__dict__.get("dev_type", cls.dev_type)
        if "claims" not in cls.__dict__ and isinstance(dev_type, str) and dev_type:
            cls.claims = (Claim(cls.tag or dev_type),)
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
        found = device_id_from_alias(alias.get("name")) if alias is not None else None
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
        element = next(self.element.iterchildren("address"), None)
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
        elif not isinstance(metadata, DeviceMetadata):
            metadata = self.metadata_source = DeviceMetadata(metadata)
        return metadata

    def metadata_if_any(self) -> DeviceMetadata | None:
        """The device's metadata, or None when it has none (nothing is created)."""
        metadata = self.metadata_source
        if metadata is None or isinstance(metadata, DeviceMetadata):
            return metadata
        return self.metadata

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
        if etree.tostring(self.element, with_tail=False) != etree.tostring(other.element, with_tail=False):
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
        return etree.tostring(self.built_element(), encoding="unicode", with_tail=False)  # type: ignore[no-any-return]

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

    def to_spec(self) -> dict[str, Any]:
        """This device as an engine dev_spec dict: every field's spec key, then
        :meth:`write_spec`, then metadata values the spec lacks.

        Raises :class:`FieldValueError` (a DevframeError) naming the device and field
        when a stored value does not fit its type.
        """
        spec: dict[str, Any] = {"type": self.spec_type or self.dev_type, "device": self.spec_device}
        # The direct children's tags, once: a field whose path starts at an absent child
        # has no value, and most of a kind's fields are absent from any one device.
        present = {child.tag for child in self.element}
        for field, key, root in self._spec_plan:
            value = None if root is not None and root not in present else field.spec_value(self)
            if value is None:
                if isinstance(field, Field) and field.default is not None and field.default_for(self) is not None:
                    # Absent although the field has a default: say so (None), or the spec
                    # would rebuild the element with the default it never had.
                    put_path(spec, key, None)
                continue
            put_path(spec, key, value)
        device_id = self.device_id
        if device_id is not None:
            spec["deviceId"] = device_id
        spec.setdefault("specParams", {})
        try:
            self.write_spec(spec)
        except DevframeError:
            raise
        except Exception as exc:
            # A plugin bug: reported through the guard, raised as a DevframeError naming it.
            self._plugin_failed("to_spec", exc)
            raise PluginError(
                self.plugin or type(self).__module__, f"to_spec failed for {self.describe()}: {exc!r}"
            ) from exc
        metadata = self.metadata_if_any()
        if metadata:
            _merge_missing(spec, metadata.to_dict())
        return spec

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

        Fields are set in declaration order (a field's ``default`` where the spec has no
        value); then :meth:`read_spec` takes the keys no field maps; every key left
        (those of ``metadata_keys`` among them) is kept in ``metadata``, so nothing the
        engine sent is dropped.
        """
        if not isinstance(spec, Mapping):
            raise SpecError(f"a dev_spec must be a dict, got {type(spec).__name__}")
        rest: dict[str, Any] = copy.deepcopy(dict(spec))
        device = cls(cls.new_element())
        rest.pop("type", None)
        device_id = rest.pop("deviceId", None)
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
            try:
                field.apply_spec_value(device, value)
            except FieldValueError as exc:
                # A bad spec value is a bad spec: raised as a SpecError naming the key (and,
                # inside a list of items, the item's own key).
                where = key if exc.field in (key, field.name) else f"{key}.{exc.field}"
                raise SpecValueError(exc.device, where, exc.value, exc.reason) from None
            except (ValueError, TypeError) as exc:  # a field kind that raised plainly
                raise SpecValueError(device.describe(), key, field.shown(value), str(exc)) from None
        if device.alias is None and device_id:
            if cls.has_alias:
                device.alias = user_alias(str(device_id))
            else:
                rest["deviceId"] = device_id  # no <alias> in libvirt's schema: kept in metadata
        elif device_id and device.device_id != device_id:
            # Keep the engine's deviceId even when the alias says something else.
            rest["deviceId"] = device_id
        device.read_spec(rest)
        device.after_spec(spec)
        rest.pop("device", None)
        if rest.get("specParams") == {}:
            rest.pop("specParams")
        if rest:
            device.metadata.update(rest)
        return device

    def read_spec(self, rest: dict[str, Any]) -> None:
        """Apply the dev_spec keys no field maps (the one customisation of ``from_spec``).

        ``rest`` holds the keys the fields left, ``device`` and ``specParams`` included:
        pop each key you use; what is left goes to metadata. Raise a
        :class:`~devframe.SpecError` naming the key for a value that cannot be used.
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
            alias = self.element.find("alias")
            alias = alias.get("name") if alias is not None else None
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
                value = f"<invalid {value!r}>"
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


def _spec_plan(cls: type[ElementView]) -> tuple[tuple[_Base, str, str | None], ...]:
    plan = []
    for field in cls.fields.values():
        key = field.spec
        if key is None or key == "device":
            continue
        # Only the core's own kinds are known to have no value without their first
        # element; a subclass may compute one, so it is always asked.
        root: str | None = None
        if type(field) is Field or type(field) is AddressField:
            root = field.steps[0] if field.steps else None
        elif type(field) is Children:
            root = (field.container_steps or (field.tag,))[0]
        plan.append((field, key, root))
    return tuple(plan)


def valid_identity(found: Any) -> bool:
    """True for an identity: a mapping of str to str (an empty one counts as none)."""
    if not isinstance(found, Mapping):
        return False
    return all(type(k) is str and type(v) is str for k, v in found.items())


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
        return kind or self.dev_type

    def to_spec(self) -> dict[str, Any]:
        spec = super().to_spec()
        spec["xml"] = etree.tostring(self.element, encoding="unicode", with_tail=False)
        return spec

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> UnknownDevice:
        if not isinstance(spec, Mapping):
            raise SpecError(f"a dev_spec must be a dict, got {type(spec).__name__}")
        xml = spec.get("xml")
        dev_type = spec.get("type")
        if xml is not None:
            element = parse_xml(str(xml), source=f"dev_spec of type {dev_type!r}").getroot()
        else:
            if not isinstance(dev_type, str) or not dev_type:
                raise SpecError(f"a dev_spec needs a 'type' naming its dev_type, got {dev_type!r}")
            if len(dev_type) > MAX_NAME_LENGTH:  # could be written, never read back
                raise SpecError(f"dev_spec type of {len(dev_type)} characters is not a usable element name")
            try:
                element = etree.Element(dev_type)
            except ValueError:
                raise SpecError(f"dev_spec type {dev_type!r} is not a valid XML element name") from None
        device = cls(element)
        if xml is None:
            if spec.get("alias"):
                device.alias = str(spec["alias"])
            elif spec.get("deviceId"):
                device.alias = user_alias(str(spec["deviceId"]))
            if isinstance(spec.get("address"), Mapping) and spec["address"]:
                device.address = spec["address"]
        rest = {k: copy.deepcopy(v) for k, v in spec.items() if k not in _CORE_SPEC_KEYS and k != "xml"}
        if rest:
            device.metadata.update(rest)
        return device

    def describe(self) -> str:
        return super().describe()


class FailedDevice(UnknownDevice):
    """An element whose plugin failed to make its dev_object: kept verbatim like any
    unknown device, with the identity its class gave (when it could), so its metadata
    still binds and correlation still recognises it."""

    __slots__ = ("_failed_identity",)
    _failed_identity: Identity | None

    def identity(self) -> Identity | None:
        return self._failed_identity


Device._spec_plan = _spec_plan(Device)
