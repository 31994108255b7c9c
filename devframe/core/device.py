"""The device model: one dev_object per `<devices>` child.

A dev_object wraps its own lxml element and reads and writes it through fields declared
once on its class (:mod:`devframe.core.fields`). The element *is* the device's state:
there is no second copy to fall out of step, nothing unmodeled can be lost, and a
dev_object is cheap to make (parsing a domain creates one small Python object per
device and touches no field until asked).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from lxml import etree

from devframe.core.errors import DevframeError, FieldValueError, SpecError
from devframe.core.fields import MAX_NAME_LENGTH, AddressField, ElementView, Field, pop_path, put_path

if TYPE_CHECKING:
    from collections.abc import Iterator

    from devframe.core.registry import Route as _Route


class _MetadataSource(Protocol):
    """Metadata bound while parsing, decoded on first use (a metadata ``Entry``)."""

    def materialize(self) -> dict[str, Any]: ...


__all__ = ["USER_ALIAS_PREFIX", "Device", "UnknownDevice", "device_id_from_alias"]

USER_ALIAS_PREFIX = "ua-"

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


def device_id_from_alias(alias: str | None) -> str | None:
    """The engine's deviceId inside a user alias ``ua-<deviceId>``, else None."""
    if alias and alias.startswith(USER_ALIAS_PREFIX) and len(alias) > len(USER_ALIAS_PREFIX):
        return alias[len(USER_ALIAS_PREFIX) :]
    return None


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
    """Base class of every dev_class.

    Subclasses set ``dev_type`` (the libvirt tag, e.g. ``"disk"``), ``tag`` (the element
    they build, normally the same), and declare their fields. ``alias`` and ``address``
    are shared by all devices.
    """

    __slots__ = ("_metadata", "_owner", "_route", "error")

    dev_type: ClassVar[str] = ""
    #: keys of the dev_spec that live in the domain's <metadata>, not in the element
    metadata_keys: ClassVar[tuple[str, ...]] = ()

    alias: Field[str] = Field("alias@name", spec="alias", doc="libvirt alias (user aliases start with 'ua-')")
    address = AddressField()

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
        self._owner: Any = None  # the token of the Domain holding this device (devframe.core.domain)
        # Metadata bound while parsing (an object with ``materialize()``) is kept as is and
        # wrapped in a DeviceMetadata on first use: parsing makes one object per device.
        self._metadata: DeviceMetadata | _MetadataSource | None = None
        if metadata is not None:
            source: Any = metadata
            if hasattr(source, "materialize"):
                self._metadata = source
            elif metadata:
                self._metadata = DeviceMetadata(metadata)
        #: the registry's route for this device's dev_type (set by the registry)
        self._route: _Route | None = None
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
        """The engine's deviceId, from a ``ua-<deviceId>`` alias."""
        # Read directly (the alias field's own path): correlate asks every device.
        alias = next(self.element.iterchildren("alias"), None)
        return device_id_from_alias(alias.get("name")) if alias is not None else None

    def identity(self) -> tuple[Any, ...] | None:
        """How this device is recognised when aliases are missing (None: not at all).

        Plugins override this with their dev_type's identity (disk: target dev, ...).
        """
        return None

    # -- metadata -------------------------------------------------------------------

    @property
    def metadata(self) -> DeviceMetadata:
        """Per-device metadata, written into the domain's <metadata> by ``to_xml``."""
        metadata = self._metadata
        if metadata is None:
            metadata = self._metadata = DeviceMetadata()
        elif not isinstance(metadata, DeviceMetadata):
            metadata = self._metadata = DeviceMetadata(metadata)
        return metadata

    def metadata_if_any(self) -> DeviceMetadata | None:
        """The device's metadata, or None when it has none (nothing is created)."""
        metadata = self._metadata
        if metadata is None or isinstance(metadata, DeviceMetadata):
            return metadata
        return self.metadata

    @property
    def has_metadata(self) -> bool:
        return bool(self.metadata_if_any())

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

    # -- XML ----------------------------------------------------------------------------

    def build(self) -> etree._Element:
        """The element for this device, through its plugin's build hook when it has one."""
        route = self._route
        if route is not None and route.build_impl is not None:
            return route.build(self)
        return self.element

    def to_xml(self) -> str:
        """This device's element as a string."""
        return etree.tostring(self.build(), encoding="unicode", with_tail=False)  # type: ignore[no-any-return]

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
        """This device as an engine dev_spec dict.

        Raises :class:`FieldValueError` (a DevframeError) naming the device and field
        when a stored value does not fit its type.
        """
        spec: dict[str, Any] = {"type": self.dev_type, "device": self.spec_device}
        for field in self.fields.values():
            if field.spec in (None, "device"):
                continue
            value = field.spec_value(self)
            if value is None:
                continue
            put_path(spec, field.spec, value)
        device_id = self.device_id
        if device_id is not None:
            spec["deviceId"] = device_id
        spec.setdefault("specParams", {})
        metadata = self.metadata_if_any()
        if metadata:
            _merge_missing(spec, metadata.to_dict())
        return spec

    @classmethod
    def new_element(cls) -> etree._Element:
        """An empty element to build a device from a spec."""
        return etree.Element(cls.tag or cls.dev_type)

    @classmethod
    def from_spec(cls: type[D], spec: Mapping[str, Any]) -> D:
        """Build a device from an engine dev_spec.

        Fields are set in declaration order; keys listed in ``metadata_keys`` go to
        ``metadata``; any other key the class does not model is kept in ``metadata``
        too, so nothing the engine sent is dropped.
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
            value = pop_path(rest, key)
            if value is None and isinstance(field, Field) and field.default is not None:
                field.__set__(device, field.default)
                continue
            if value is None:
                continue
            field.apply_spec_value(device, value)
        if device.alias is None and device_id:
            device.alias = f"{USER_ALIAS_PREFIX}{device_id}"
        elif device_id and device.device_id != device_id:
            # Keep the engine's deviceId even when the alias says something else.
            rest["deviceId"] = device_id
        rest.pop("device", None)
        if rest.get("specParams") == {}:
            rest.pop("specParams")
        metadata: dict[str, Any] = {}
        for key in list(rest):
            metadata[key] = rest.pop(key)
        if metadata:
            device.metadata.update(metadata)
        device.after_spec(spec)
        return device

    def after_spec(self, spec: Mapping[str, Any]) -> None:
        """Hook for subclasses: fix up what generic field mapping cannot express."""

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
            if identity:
                parts.append("id=" + "/".join(str(p) for p in identity if p is not None))
            if self.error:
                parts.append("error")
            return "<" + " ".join(parts) + ">"
        except Exception:  # noqa: BLE001 - repr must never raise
            return f"<{type(self).__name__} (unprintable)>"


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
            from devframe.core.safexml import parse_xml  # local: avoids an import cycle

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
                device.alias = f"{USER_ALIAS_PREFIX}{spec['deviceId']}"
            if isinstance(spec.get("address"), Mapping) and spec["address"]:
                device.address = spec["address"]
        rest = {k: copy.deepcopy(v) for k, v in spec.items() if k not in _CORE_SPEC_KEYS and k != "xml"}
        if rest:
            device.metadata.update(rest)
        return device

    def describe(self) -> str:
        return super().describe()
