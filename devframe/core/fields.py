"""Device fields, declared once.

A field names a place in a device's XML element (``"target@dev"``: the ``dev``
attribute of the direct child ``target``; ``"serial"``: the text of the direct child
``serial``; ``"@type"``: an attribute of the device element itself), a :class:`Kind`
that converts between the XML text and a Python value, and optionally the dev_spec key
it maps to. Reading, writing, parsing and building all go through that one
declaration, so they cannot drift apart.

Fields read and write the element directly: the element is the single source of truth,
so everything the field does not model (unknown attributes, children, comments,
namespaced extensions) is still there when the device is serialized, and setting one
field changes exactly that field's XML.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar, overload

from lxml import etree

from devframe.core.errors import FieldValueError

__all__ = [
    "INT",
    "ON_OFF",
    "STR",
    "UINT",
    "YES_NO",
    "AddressField",
    "Children",
    "Choice",
    "ElementView",
    "EmptyElements",
    "Field",
    "Flag",
    "IntRange",
    "Kind",
    "Pattern",
]

T = TypeVar("T")
V = TypeVar("V", bound="ElementView")


class Kind(Generic[T]):
    """Converts between XML text and a typed Python value.

    ``parse`` reads XML text (raises ``ValueError`` with the reason), ``format`` writes
    a Python value as XML text (raises ``ValueError``/``TypeError``), ``coerce`` accepts
    a dev_spec value, which engines send as text as often as typed.
    """

    name = "str"
    python_type: type = str

    def parse(self, raw: str) -> T:
        return raw  # type: ignore[return-value]

    def format(self, value: T) -> str:
        if not isinstance(value, str):
            raise TypeError(f"expected str, got {type(value).__name__}")
        return value

    def coerce(self, value: object) -> T:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)  # type: ignore[return-value]
        if isinstance(value, str):
            return value  # type: ignore[return-value]
        raise TypeError(f"expected str, got {type(value).__name__}")

    def __repr__(self) -> str:
        return f"<Kind {self.name}>"


class _Str(Kind[str]):
    pass


class _Int(Kind[int]):
    name = "int"
    python_type = int

    def parse(self, raw: str) -> int:
        text = raw.strip()
        if text[:2].lower() == "0x":
            return int(text, 16)
        return int(text, 10)

    def format(self, value: int) -> str:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected int, got {type(value).__name__}")
        return str(value)

    def coerce(self, value: object) -> int:
        if isinstance(value, bool):
            raise TypeError("expected int, got bool")
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            return self.parse(value)
        raise TypeError(f"expected int, got {type(value).__name__}")


class _Bool(Kind[bool]):
    """A boolean written as one of two words (libvirt uses yes/no and on/off)."""

    python_type = bool
    _TRUE = frozenset({"yes", "on", "true", "1"})
    _FALSE = frozenset({"no", "off", "false", "0"})

    def __init__(self, true: str, false: str) -> None:
        self.true = true
        self.false = false
        self.name = f"{true}/{false}"

    def parse(self, raw: str) -> bool:
        text = raw.strip().lower()
        if text in self._TRUE:
            return True
        if text in self._FALSE:
            return False
        raise ValueError(f"expected {self.true!r} or {self.false!r}")

    def format(self, value: bool) -> str:
        if not isinstance(value, bool):
            raise TypeError(f"expected bool, got {type(value).__name__}")
        return self.true if value else self.false

    def coerce(self, value: object) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return self.parse(value)
        raise TypeError(f"expected bool, got {type(value).__name__}")


class Choice(_Str):
    """A string from a documented set of values.

    Reading never rejects a value outside ``values``: libvirt keeps adding values, and
    devframe keeps what it does not know. :meth:`ElementView.problems` reports it.
    """

    def __init__(self, *values: str) -> None:
        self.values = frozenset(values)
        self.name = "choice(" + "|".join(values) + ")"


class IntRange(_Int):
    """An int within bounds (``None``: unbounded on that side); decimal or ``0x`` hex."""

    def __init__(self, low: int | None = None, high: int | None = None, *, name: str | None = None) -> None:
        self.low = low
        self.high = high
        self._bounds = f"{'' if low is None else low}..{'' if high is None else high}"
        self.name = name or f"int({self._bounds})"

    def _checked(self, value: int) -> int:
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise ValueError(f"out of range {self._bounds}")
        return value

    def parse(self, raw: str) -> int:
        return self._checked(super().parse(raw))

    def format(self, value: int) -> str:
        return super().format(self._checked(value) if isinstance(value, int) and not isinstance(value, bool) else value)

    def coerce(self, value: object) -> int:
        return self._checked(super().coerce(value))


class Pattern(Kind[str]):
    """A string that must match a pattern of libvirt's schema (a unit, a UUID, a mode)."""

    def __init__(self, name: str, pattern: str) -> None:
        self.name = name
        self._pattern = re.compile(pattern)

    def parse(self, raw: str) -> str:
        if self._pattern.fullmatch(raw) is None:
            raise ValueError(f"not a valid {self.name}")
        return raw

    def format(self, value: str) -> str:
        if not isinstance(value, str):
            raise TypeError(f"expected str, got {type(value).__name__}")
        return self.parse(value)

    def coerce(self, value: object) -> str:
        if not isinstance(value, str):
            raise TypeError(f"expected str, got {type(value).__name__}")
        return value


STR: Kind[str] = _Str()
INT: Kind[int] = _Int()
#: an unsigned int (libvirt's unsignedInt, unsignedLong, sizes, counts)
UINT: Kind[int] = IntRange(0)
YES_NO: Kind[bool] = _Bool("yes", "no")
ON_OFF: Kind[bool] = _Bool("on", "off")


def _split_path(path: str) -> tuple[tuple[str, ...], str | None]:
    if "@" in path:
        elems, attr = path.split("@", 1)
    else:
        elems, attr = path, None
    steps = tuple(s for s in elems.split("/") if s)
    if attr is None and not steps:
        raise ValueError(f"field path {path!r} names neither an element nor an attribute")
    return steps, attr


def _find_child(element: etree._Element, tag: str) -> etree._Element | None:
    # Direct children only: a recursive search would confuse <address> with
    # <source><address> (hostdev), the mistake the brief warns about. iterchildren
    # runs in C; find() goes through ElementPath and costs twice as much.
    return next(element.iterchildren(tag), None)


def _is_empty(element: etree._Element) -> bool:
    return not element.attrib and len(element) == 0 and (element.text is None or not element.text.strip())


def _remove_keeping_tail(element: etree._Element) -> None:
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail and tail.strip():
        prev = element.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


#: Longest element or attribute name devframe writes. libxml2 refuses to read names
#: over 50,000 characters, so anything longer could be written but never parsed back.
MAX_NAME_LENGTH = 40_000

#: What a secret field's value is shown as in errors, ``repr``, logs and ``inspect``.
REDACTED = "***"


def _xml_text_error(raw: str) -> str | None:
    """Why XML cannot hold ``raw`` as text or attribute value (control characters,
    surrogates), or None. Checked before anything is created, so a refused value
    leaves the element as it was."""
    try:
        etree.Element("x").set("v", raw)
    except (ValueError, TypeError) as exc:
        return f"XML cannot hold this text ({exc})"
    return None


class _Base:
    """Shared bookkeeping of every declared field."""

    name: str = "?"
    spec: str | None = None
    secret: bool = False
    doc: str = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def shown(self, value: object) -> object:
        """``value`` as errors may quote it: a secret field's value is never quoted."""
        return REDACTED if self.secret and value is not None else value

    def reason(self, exc: Exception, kind_name: str) -> str:
        """Why a value was refused; for a secret field without the parser's words,
        which quote the value (``invalid literal for int(): '...'``)."""
        return f"not a valid {kind_name}" if self.secret else str(exc)

    def spec_value(self, view: ElementView) -> Any:
        """The value as it appears in a dev_spec (None when absent)."""
        raise NotImplementedError

    def apply_spec_value(self, view: ElementView, value: Any) -> None:
        """Set the field from a dev_spec value."""
        raise NotImplementedError

    def check(self, view: ElementView) -> str | None:
        """A problem with the stored value, or None."""
        return None


class Field(_Base, Generic[T]):
    """A typed value at one place of the device element.

    ``Field("target@dev")`` is the attribute ``dev`` of the direct child ``target``;
    ``Field("serial")`` the text of the direct child ``serial``; ``Field("@type")`` an
    attribute of the device element itself. ``spec`` is the dev_spec key
    (``"specParams.vram"`` nests). ``secret`` keeps the value out of ``repr``, logs and
    ``inspect``. ``default`` is what ``device_from_spec`` writes when a spec leaves the
    field out (libvirt's default, where the schema requires a value); ``default_if``
    limits it to the devices it accepts (a default that only one type of a kind needs),
    asked after the fields declared before this one are set.
    """

    @overload
    def __init__(
        self: Field[str],
        path: str,
        *,
        spec: str | None = None,
        default: str | None = None,
        default_if: Callable[[Any], bool] | None = None,
        secret: bool = False,
        doc: str = "",
        to_spec: Callable[[str], Any] | None = None,
        from_spec: Callable[[Any], str | None] | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self,
        path: str,
        kind: Kind[T],
        *,
        spec: str | None = None,
        default: T | None = None,
        default_if: Callable[[Any], bool] | None = None,
        secret: bool = False,
        doc: str = "",
        to_spec: Callable[[T], Any] | None = None,
        from_spec: Callable[[Any], T | None] | None = None,
    ) -> None: ...
    def __init__(  # type: ignore[misc]  # the overloads are the contract
        self,
        path: str,
        kind: Kind[T] = STR,  # type: ignore[assignment]
        *,
        spec: str | None = None,
        default: T | None = None,
        default_if: Callable[[Any], bool] | None = None,
        secret: bool = False,
        doc: str = "",
        to_spec: Callable[[T], Any] | None = None,
        from_spec: Callable[[Any], T | None] | None = None,
    ) -> None:
        self.path = path
        self.steps, self.attr = _split_path(path)
        self.kind = kind
        self.spec = spec
        self.default = default
        self.default_if = default_if
        self.secret = secret
        self.doc = doc
        self._to_spec = to_spec
        self._from_spec = from_spec

    @overload
    def __get__(self, view: None, owner: type) -> Field[T]: ...
    @overload
    def __get__(self, view: ElementView, owner: type) -> T | None: ...
    def __get__(self, view: ElementView | None, owner: type) -> Field[T] | T | None:
        if view is None:
            return self
        raw = self.raw(view)
        if raw is None:
            return None
        try:
            return self.kind.parse(raw)
        except (ValueError, TypeError) as exc:
            reason = self.reason(exc, self.kind.name)
            raise FieldValueError(view.describe(), self.name, self.shown(raw), reason) from None

    def default_for(self, view: ElementView) -> T | None:
        """The default a spec without this field's key gives ``view`` (None: none)."""
        if self.default is None or (self.default_if is not None and not self.default_if(view)):
            return None
        return self.default

    def raw(self, view: ElementView) -> str | None:
        """The XML text stored for this field, unconverted."""
        element: etree._Element = view.element
        for step in self.steps:
            # _find_child inlined: to_spec reads every field of every device, most absent.
            child = next(element.iterchildren(step), None)
            if child is None:
                return None
            element = child
        if self.attr is not None:
            return element.get(self.attr)  # type: ignore[no-any-return]
        text: str | None = element.text
        if text is not None and len(element) and not text.strip():
            return None  # indentation before child elements, not a value
        return text

    def __set__(self, view: ElementView, value: T | None) -> None:
        if value is None:
            view.touch()
            self._delete(view)
            return
        try:
            raw = self.kind.format(value)
        except (ValueError, TypeError) as exc:
            reason = self.reason(exc, self.kind.name)
            raise FieldValueError(view.describe(), self.name, self.shown(value), reason) from None
        self.set_raw(view, raw)

    def set_raw(self, view: ElementView, raw: str) -> None:
        """Store XML text for this field, creating the path's elements as needed."""
        problem = _xml_text_error(raw) if isinstance(raw, str) else f"expected str, got {type(raw).__name__}"
        if problem is None and self.attr is None and raw == "":
            # An element with empty text reads back as no value: refuse what cannot round-trip.
            problem = "empty text reads back as no value (set None to remove it)"
        if problem is not None:
            raise FieldValueError(view.describe(), self.name, self.shown(raw), problem)
        view.touch()
        element = view.element
        for depth, step in enumerate(self.steps):
            child = _find_child(element, step)
            if child is None:
                child = etree.Element(step)
                view.insert_child(element, child, at_root=depth == 0)
            element = child
        if self.attr is not None:
            element.set(self.attr, raw)
        else:
            element.text = raw

    def _delete(self, view: ElementView) -> None:
        chain: list[etree._Element] = [view.element]
        for step in self.steps:
            child = _find_child(chain[-1], step)
            if child is None:
                return
            chain.append(child)
        leaf = chain[-1]
        if self.attr is not None:
            if self.attr in leaf.attrib:
                del leaf.attrib[self.attr]
        else:
            leaf.text = None
        # Prune the elements of this path that the deletion left empty, never the device.
        for element in reversed(chain[1:]):
            if not _is_empty(element):
                break
            _remove_keeping_tail(element)

    def check(self, view: ElementView) -> str | None:
        raw = self.raw(view)
        if raw is None:
            return None
        try:
            self.kind.parse(raw)
        except (ValueError, TypeError) as exc:
            return f"field {self.name!r} ({self.path}): {self.reason(exc, self.kind.name)} (got {self.shown(raw)!r})"
        if isinstance(self.kind, Choice) and self.kind.values and raw not in self.kind.values:
            return None  # unknown-but-kept values are not problems; see Choice
        return None

    def spec_value(self, view: ElementView) -> Any:
        value = self.__get__(view, type(view))
        if value is None:
            return None
        return self._to_spec(value) if self._to_spec else value

    def apply_spec_value(self, view: ElementView, value: Any) -> None:
        if value is None:
            self.__set__(view, None)
            return
        try:
            typed = self._from_spec(value) if self._from_spec else self.kind.coerce(value)
        except (ValueError, TypeError) as exc:
            raise FieldValueError(
                view.describe(), self.spec or self.name, self.shown(value), self.reason(exc, self.kind.name)
            ) from None
        self.__set__(view, typed)

    def __repr__(self) -> str:
        return f"<Field {self.name} {self.path} {self.kind.name}>"


class Flag(_Base):
    """Presence of an empty child element (``<readonly/>``) as a bool."""

    def __init__(self, path: str, *, spec: str | None = None, doc: str = "") -> None:
        self.path = path
        self.steps, attr = _split_path(path)
        if attr is not None:
            raise ValueError("a Flag names an element, not an attribute")
        self.spec = spec
        self.doc = doc

    @overload
    def __get__(self, view: None, owner: type) -> Flag: ...
    @overload
    def __get__(self, view: ElementView, owner: type) -> bool: ...
    def __get__(self, view: ElementView | None, owner: type) -> Flag | bool:
        if view is None:
            return self
        element: etree._Element | None = view.element
        for step in self.steps:
            element = _find_child(element, step)
            if element is None:
                return False
        return True

    def __set__(self, view: ElementView, value: bool | None) -> None:
        if value is not None and not isinstance(value, bool):
            raise FieldValueError(view.describe(), self.name, value, "expected bool")
        view.touch()
        present = self.__get__(view, type(view))
        if value and not present:
            parent = view.element
            for depth, step in enumerate(self.steps):
                child = _find_child(parent, step)
                if child is None:
                    child = etree.Element(step)
                    view.insert_child(parent, child, at_root=depth == 0)
                parent = child
        elif not value and present:
            element: etree._Element = view.element
            for step in self.steps:
                element = _find_child(element, step)
            _remove_keeping_tail(element)

    def spec_value(self, view: ElementView) -> Any:
        return self.__get__(view, type(view))

    def apply_spec_value(self, view: ElementView, value: Any) -> None:
        if isinstance(value, bool):
            flag = value
        elif isinstance(value, str) and value.strip().lower() in _FLAG_WORDS:
            flag = _FLAG_WORDS[value.strip().lower()]
        else:
            raise FieldValueError(
                view.describe(), self.spec or self.name, value, "expected a bool (or yes/no, true/false, on/off)"
            )
        self.__set__(view, flag)


class EmptyElements(_Base):
    """Which of the named child elements stand empty (``<bandwidth/>``, ``<virtualport/>``).

    An empty element carries no value for any field, yet libvirt's schema allows it and
    it can mean something (a NIC's ``<bandwidth/>``: QoS managed, no limit set). The
    value is the list of the named paths whose element is present with no attribute,
    child or text, in declaration order (None when there is none): a dev_spec rebuilds
    them. An element holding anything is left to the fields modeling its content, which
    create it again. Setting a list creates the listed elements that are absent and
    removes the empty ones it does not list; an element with content is never removed.
    """

    def __init__(self, *paths: str, spec: str | None = None, doc: str = "") -> None:
        steps = []
        for path in paths:
            elems, attr = _split_path(path)
            if attr is not None:
                raise ValueError(f"EmptyElements takes element paths, got {path!r}")
            steps.append(elems)
        self.paths = paths
        self._steps = dict(zip(paths, steps, strict=True))
        self._roots = frozenset(elems[0] for elems in steps)
        self.spec = spec
        self.doc = doc or "child elements present and empty"

    def _find(self, view: ElementView, steps: tuple[str, ...]) -> etree._Element | None:
        element: etree._Element = view.element
        for step in steps:
            child = _find_child(element, step)
            if child is None:
                return None
            element = child
        return element

    @overload
    def __get__(self, view: None, owner: type) -> EmptyElements: ...
    @overload
    def __get__(self, view: ElementView, owner: type) -> list[str]: ...
    def __get__(self, view: ElementView | None, owner: type) -> EmptyElements | list[str]:
        if view is None:
            return self
        # One pass over the direct children: most devices hold few of the named roots,
        # and to_spec asks every device.
        roots: dict[str, etree._Element] = {}
        for child in view.element:
            tag = child.tag
            if tag in self._roots and tag not in roots:
                roots[tag] = child
        found: list[str] = []
        if not roots:
            return found
        for path, steps in self._steps.items():
            element: etree._Element | None = roots.get(steps[0])
            for step in steps[1:]:
                if element is None:
                    break
                element = _find_child(element, step)
            if element is not None and _is_empty(element):
                found.append(path)
        return found

    def __set__(self, view: ElementView, value: Iterable[str] | None) -> None:
        wanted = [] if value is None else list(value)
        unknown = [path for path in wanted if path not in self._steps]
        if unknown:
            reason = "not one of " + ", ".join(self.paths)
            raise FieldValueError(view.describe(), self.spec or self.name, unknown, reason)
        view.touch()
        # Deepest first: removing an empty <inbound/> may leave its <bandwidth> empty too.
        for path, steps in sorted(self._steps.items(), key=lambda item: -len(item[1])):
            element = self._find(view, steps)
            if path in wanted and element is None:
                parent = view.element
                for depth, step in enumerate(steps):
                    child = _find_child(parent, step)
                    if child is None:
                        child = etree.Element(step)
                        view.insert_child(parent, child, at_root=depth == 0)
                    parent = child
            elif path not in wanted and element is not None and _is_empty(element):
                _remove_keeping_tail(element)

    def spec_value(self, view: ElementView) -> Any:
        return self.__get__(view, type(view)) or None

    def apply_spec_value(self, view: ElementView, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
            raise FieldValueError(view.describe(), self.spec or self.name, value, "expected a list of element paths")
        self.__set__(view, value)


#: the words a dev_spec may use for a flag's bool
_FLAG_WORDS = {
    "yes": True, "true": True, "on": True, "1": True,
    "no": False, "false": False, "off": False, "0": False, "": False, "none": False,
}  # fmt: skip


class AddressField(_Base):
    """The guest address: the direct child ``address`` as a dict of its attributes.

    Only the direct child counts; ``source/address`` of a hostdev is a host address.
    A nested child of the address (s390's ``zpci``) appears as a dict of its
    attributes under its tag; children the new value does not mention are kept while
    the address type stays the same.
    """

    def __init__(self, path: str = "address", *, spec: str | None = "address") -> None:
        self.path = path
        self.steps, _ = _split_path(path)
        self.spec = spec
        self.doc = "guest address (type + attributes)"

    def _element(self, view: ElementView) -> etree._Element | None:
        element: etree._Element | None = view.element
        for step in self.steps:
            element = _find_child(element, step)
            if element is None:
                return None
        return element

    @overload
    def __get__(self, view: None, owner: type) -> AddressField: ...
    @overload
    def __get__(self, view: ElementView, owner: type) -> dict[str, Any] | None: ...
    def __get__(self, view: ElementView | None, owner: type) -> AddressField | dict[str, Any] | None:
        if view is None:
            return self
        element = self._element(view)
        if element is None:
            return None
        address: dict[str, Any] = dict(element.attrib)
        for child in element:
            # Nested parts of an address (s390's <zpci uid fid>) as dicts of attributes.
            if isinstance(child.tag, str) and child.tag not in address:
                address[child.tag] = dict(child.attrib)
        return address

    def __set__(self, view: ElementView, value: Mapping[str, object] | None) -> None:
        view.touch()
        element = self._element(view)
        if value is None:
            if element is not None:
                _remove_keeping_tail(element)
            return
        if not isinstance(value, Mapping):
            raise FieldValueError(view.describe(), self.name, value, "expected a dict of address attributes")
        attrs: dict[str, str] = {}
        nested: dict[str, dict[str, str]] = {}
        for key, item in value.items():
            if item is None:
                continue
            if isinstance(item, Mapping):
                try:
                    probe = etree.Element(str(key))
                    for sub_key, sub_item in item.items():
                        probe.set(str(sub_key), str(sub_item))
                except (ValueError, TypeError) as exc:
                    raise FieldValueError(
                        view.describe(), self.name, {key: item}, f"not an XML element of attributes ({exc})"
                    ) from None
                nested[str(key)] = {str(k): str(v) for k, v in item.items()}
                continue
            name, text = str(key), str(item)
            try:
                if len(name) > MAX_NAME_LENGTH:
                    raise ValueError(f"attribute name of {len(name)} characters")
                etree.Element("x").set(name, text)  # check first: a refused address leaves the old one
            except (ValueError, TypeError) as exc:
                raise FieldValueError(
                    view.describe(), self.name, {key: item}, f"not an XML attribute name and value ({exc})"
                ) from None
            attrs[name] = text
        if element is None:
            parent = view.element
            for depth, step in enumerate(self.steps):
                child = _find_child(parent, step)
                if child is None:
                    child = etree.Element(step)
                    view.insert_child(parent, child, at_root=depth == 0)
                parent = child
            element = parent
        elif element.get("type") != value.get("type"):
            for child in list(element):
                element.remove(child)
        element.attrib.clear()
        for name, text in attrs.items():
            element.set(name, text)
        for tag, sub_attrs in nested.items():
            child = element.find(tag)
            if child is None:
                child = etree.SubElement(element, tag)
            child.attrib.clear()
            for name, text in sub_attrs.items():
                child.set(name, text)

    def spec_value(self, view: ElementView) -> Any:
        return self.__get__(view, type(view))

    def apply_spec_value(self, view: ElementView, value: Any) -> None:
        if value in ({}, "", None):
            return
        self.__set__(view, value)


class Children(_Base, Generic[V]):
    """Repeated child elements (``<host>`` under ``<source>``, ``<listen>``, ...).

    Reading gives a list of views (each an :class:`ElementView` with its own fields);
    assigning a list of dicts or views replaces those children and keeps every other
    child of the container.
    """

    def __init__(self, path: str, item: type[V], *, spec: str | None = None, doc: str = "") -> None:
        steps, attr = _split_path(path)
        if attr is not None or not steps:
            raise ValueError("Children takes an element path")
        self.container_steps = steps[:-1]
        self.tag = steps[-1]
        self.item = item
        self.spec = spec
        self.doc = doc
        self.path = path

    def _container(self, view: ElementView, create: bool) -> etree._Element | None:
        element = view.element
        for depth, step in enumerate(self.container_steps):
            child = _find_child(element, step)
            if child is None:
                if not create:
                    return None
                child = etree.Element(step)
                view.insert_child(element, child, at_root=depth == 0)
            element = child
        return element

    @overload
    def __get__(self, view: None, owner: type) -> Children[V]: ...
    @overload
    def __get__(self, view: ElementView, owner: type) -> list[V]: ...
    def __get__(self, view: ElementView | None, owner: type) -> Children[V] | list[V]:
        if view is None:
            return self
        container = self._container(view, create=False)
        if container is None:
            return []
        return [self.item(child, parent=view) for child in container.iterchildren(self.tag)]

    def __set__(self, view: ElementView, items: Iterable[V | Mapping[str, Any]] | None) -> None:
        view.touch()
        container = self._container(view, create=bool(items))
        if container is not None:
            existing = list(container.iterchildren(self.tag))
            anchor = existing[-1].getnext() if existing else None
            for child in existing:
                _remove_keeping_tail(child)
        else:
            anchor = None
        if not items:
            if container is not None and container is not view.element and _is_empty(container):
                _remove_keeping_tail(container)
            return
        assert container is not None
        for item in items:
            if isinstance(item, ElementView):
                child = copy.deepcopy(item.element)
                child.tail = None
            elif isinstance(item, Mapping):
                child = etree.Element(self.tag)
                self.item(child, parent=view).apply_dict(item)
            else:
                raise FieldValueError(view.describe(), self.name, item, "expected a dict or a view")
            if anchor is not None:
                anchor.addprevious(child)
            elif container is view.element:
                view.insert_child(container, child, at_root=True)
            else:
                container.append(child)

    def spec_value(self, view: ElementView) -> Any:
        items = self.__get__(view, type(view))
        return [item.to_dict() for item in items] if items else None

    def apply_spec_value(self, view: ElementView, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
            raise FieldValueError(view.describe(), self.spec or self.name, value, "expected a list")
        self.__set__(view, value)

    def check(self, view: ElementView) -> str | None:
        for item in self.__get__(view, type(view)):
            problems = item.problems()
            if problems:
                return f"{self.name}: " + "; ".join(problems)
        return None


class ElementView:
    """A typed view of one XML element; subclasses declare their fields.

    ``child_order`` lists the tags of direct children in the order libvirt writes them;
    a field that must create a child puts it before the first later sibling, so XML
    built from scratch comes out in libvirt's order, and editing never moves anything.
    """

    __slots__ = ("_edited", "_parent", "element")

    tag: ClassVar[str] = ""
    child_order: ClassVar[tuple[str, ...]] = ()
    fields: ClassVar[dict[str, _Base]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        collected: dict[str, _Base] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, _Base):
                    collected.pop(name, None)
                    collected[name] = value
        cls.fields = collected
        cls._order_index = {tag: i for i, tag in enumerate(cls.child_order)}

    _order_index: ClassVar[dict[str, int]] = {}

    def __init__(self, element: etree._Element, *, parent: ElementView | None = None) -> None:
        self.element = element
        self._parent = parent
        self._edited = False

    def touch(self) -> None:
        """Note an edit of this element (or of one it is nested in).

        Fields call it whenever they write. Code that edits ``element`` with lxml
        directly calls it too, so that what depends on the device's XML (its metadata
        entry's key, for one) is brought up to date on the next ``to_xml``.
        """
        view = self
        while view._parent is not None:
            view = view._parent
        view._edited = True

    def describe(self) -> str:
        """Short human name of this element for messages."""
        if self._parent is not None:
            return f"{self._parent.describe()} <{self.element.tag}>"
        return f"<{self.element.tag}>"

    def insert_child(self, parent: etree._Element, child: etree._Element, *, at_root: bool) -> None:
        """Insert a newly created child, honouring ``child_order`` at the root."""
        if at_root and parent is self.element and self._order_index:
            rank = self._order_index.get(child.tag, len(self._order_index))
            for index, sibling in enumerate(parent):
                sibling_rank = self._order_index.get(sibling.tag) if isinstance(sibling.tag, str) else None
                if sibling_rank is not None and sibling_rank > rank:
                    parent.insert(index, child)
                    return
        parent.append(child)

    def problems(self) -> list[str]:
        """Every stored value that does not fit its field's type (empty when valid)."""
        found = []
        for field in self.fields.values():
            problem = field.check(self)
            if problem:
                found.append(problem)
        return found

    def to_dict(self) -> dict[str, Any]:
        """The fields that have a spec key, as a dict keyed by that key."""
        out: dict[str, Any] = {}
        for name, field in self.fields.items():
            value = field.spec_value(self)
            if value is not None:
                put_path(out, field.spec or name, value)
        return out

    def apply_dict(self, data: Mapping[str, Any]) -> None:
        """Set fields from a dict keyed like :meth:`to_dict`."""
        for name, field in self.fields.items():
            key = field.spec or name
            value = get_path(data, key)
            if value is not None:
                field.apply_spec_value(self, value)


def put_path(target: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``target['a']['b'] = value`` for ``dotted == 'a.b'``."""
    parts = dotted.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def get_path(source: Mapping[str, Any], dotted: str) -> Any:
    """Read ``source['a']['b']`` for ``'a.b'``; None when any step is missing."""
    current: Any = source
    for part in dotted.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


def has_path(source: Mapping[str, Any], dotted: str) -> bool:
    """True when ``source`` holds the key ``'a.b'`` (even with the value None)."""
    current: Any = source
    for part in dotted.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return False
        current = current[part]
    return True


def take_path(source: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    """``(has_path(source, dotted), pop_path(source, dotted))`` in one walk: from_spec
    asks it of every field of every device."""
    if "." not in dotted:
        if dotted in source:
            return True, source.pop(dotted)
        return False, None
    parts = dotted.split(".")
    chain = [source]
    for part in parts[:-1]:
        nxt = chain[-1].get(part)
        if not isinstance(nxt, dict):
            return isinstance(nxt, Mapping) and has_path(nxt, ".".join(parts[len(chain) :])), None
        chain.append(nxt)
    found = parts[-1] in chain[-1]
    value = chain[-1].pop(parts[-1], None)
    for depth in range(len(parts) - 1, 0, -1):  # as pop_path: parents left empty go
        if not chain[depth]:
            chain[depth - 1].pop(parts[depth - 1], None)
        else:
            break
    return found, value


def pop_path(source: dict[str, Any], dotted: str) -> Any:
    """Remove and return ``source['a']['b']``; drops a parent dict left empty."""
    parts = dotted.split(".")
    chain = [source]
    for part in parts[:-1]:
        nxt = chain[-1].get(part)
        if not isinstance(nxt, dict):
            return None
        chain.append(nxt)
    value = chain[-1].pop(parts[-1], None)
    for depth in range(len(parts) - 1, 0, -1):
        if not chain[depth]:
            chain[depth - 1].pop(parts[depth - 1], None)
        else:
            break
    return value
