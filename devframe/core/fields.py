"""Device fields, declared once.

A field names a place in a device's XML element (``"target@dev"``: the ``dev``
attribute of the direct child ``target``; ``"serial"``: the text of the direct child
``serial``; ``"@type"``: an attribute of the device element itself; ``"."``: the text
of the element itself, for views of text elements), a :class:`Kind`
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

from devframe.core.errors import FieldValueError, SpecError
from devframe.core.limits import (
    MAX_INT_DIGITS,
    MAX_NAME_LENGTH,
    attribute_problem,
    int_problem,
    name_problem,
    start_tag_problem,
    text_problem,
)
from devframe.core.secrets import join_path
from devframe.core.specread import ATTR, ELEMENT, ITEMS, TEXT, plan_for
from devframe.core.xmledit import remove_keeping_tail as _remove_keeping_tail
from devframe.core.xmledit import subtree_xml

__all__ = [
    "ABS_PATH",
    "HEX_UINT",
    "INT",
    "LIVE",
    "MAX_NAME_LENGTH",
    "OCTAL_MODE",
    "ON_OFF",
    "POSITIVE",
    "STR",
    "UINT",
    "UINT8",
    "UINT32",
    "ULONG",
    "UNIT",
    "UUID",
    "YES_NO",
    "AddressField",
    "Chain",
    "Child",
    "Children",
    "Choice",
    "ElementView",
    "EmptyElements",
    "Field",
    "Flag",
    "IntRange",
    "Kind",
    "Live",
    "Pattern",
    "PresentFlag",
]

T = TypeVar("T")
V = TypeVar("V", bound="ElementView")


class Kind(Generic[T]):
    """Converts between XML text and a typed Python value.

    ``parse`` reads XML text (raises ``ValueError`` with the reason), ``format`` writes
    a Python value as XML text (raises ``ValueError``/``TypeError``), ``coerce`` accepts
    a dev_spec value. Numbers come from engines as text as often as typed, so number
    kinds take both; text kinds take only text: an engine's ``7`` or ``2.0`` is no
    name, path or model.
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
        if isinstance(value, str):
            return value  # type: ignore[return-value]
        raise TypeError(f"expected a string, got {type(value).__name__}")

    def fast_parse(self) -> tuple[str, Any] | None:
        """What a compiled reader (:mod:`devframe.core.specgen`) may do instead of calling
        :meth:`parse` on common text: ``("int", (low, high))``, text of ASCII digits is
        ``int(text)`` when within the bounds (None: unbounded); ``("words", {text:
        value})``, those texts are those values; ``("match", fullmatch)``, text for which
        ``fullmatch(text)`` is not None is its own value (a pattern's). Any other text is
        parsed. None (the default, and for a kind that overrides ``parse``): always parse."""
        return None

    def __repr__(self) -> str:
        return f"<Kind {self.name}>"


def _bounded(value: int) -> int:
    """``value``, or ValueError past the digits devframe takes (devframe.core.limits)."""
    problem = int_problem(value)
    if problem:
        raise ValueError(problem)
    return value


class _Str(Kind[str]):
    pass


class _Int(Kind[int]):
    name = "int"
    python_type = int

    def parse(self, raw: str) -> int:
        text = raw.strip()
        if text[:2].lower() == "0x":
            # int() of a hex string has no digit limit: bounded here like decimal text
            return _bounded(int(text, 16))
        if len(text) > MAX_INT_DIGITS and len(text.lstrip("+-").lstrip("0")) > MAX_INT_DIGITS:
            raise ValueError(f"an integer of more than {MAX_INT_DIGITS} digits")  # before int() refuses it its way
        return _bounded(int(text, 10))

    def format(self, value: int) -> str:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected int, got {type(value).__name__}")
        return str(_bounded(value))

    def coerce(self, value: object) -> int:
        if isinstance(value, bool):
            raise TypeError("expected int, got bool")
        if isinstance(value, int):
            return _bounded(value)
        if isinstance(value, str):
            return self.parse(value)
        raise TypeError(f"expected int, got {type(value).__name__}")

    def fast_parse(self) -> tuple[str, Any] | None:
        # Short ASCII digits are what parse() reads as int(text), far within _bounded.
        return ("int", (None, None)) if type(self).parse is _Int.parse else None


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

    def fast_parse(self) -> tuple[str, Any] | None:
        if type(self).parse is not _Bool.parse:
            return None
        words: dict[str, bool] = {}
        for word in (self.true, self.false, *self._TRUE, *self._FALSE):
            try:
                words[word] = self.parse(word)  # parse() itself says what each word means
            except ValueError:
                continue
        return ("words", words)


class Choice(_Str):
    """A string from a documented set of values.

    Reading never rejects a value outside ``values``: libvirt keeps adding values, and
    devframe keeps what it does not know. :meth:`ElementView.problems` reports it.
    """

    def __init__(self, *values: str) -> None:
        self.values = frozenset(values)
        self.name = "choice(" + "|".join(values) + ")"

    def coerce(self, value: object) -> str:
        # From a spec, only a name can name a value: a number is none, and an empty
        # string is the engine's "nothing", which no attribute of libvirt's means.
        text = super().coerce(value)
        if not text:
            raise ValueError("expected a non-empty string")
        return text


_DECIMAL = re.compile(r"-?[0-9]+")


class IntRange(_Int):
    """An int within bounds (``None``: unbounded on that side); decimal or ``0x`` hex.

    ``decimal=True`` reads decimal digits only, for values libvirt parses in base 10
    (``0x10`` is then a problem, not 16).
    """

    def __init__(
        self, low: int | None = None, high: int | None = None, *, name: str | None = None, decimal: bool = False
    ) -> None:
        self.low = low
        self.high = high
        self.decimal = decimal
        self._bounds = f"{'' if low is None else low}..{'' if high is None else high}"
        self.name = name or f"int({self._bounds})"

    def _checked(self, value: int) -> int:
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise ValueError(f"out of range {self._bounds}")
        return value

    def parse(self, raw: str) -> int:
        if self.decimal and _DECIMAL.fullmatch(raw.strip()) is None:
            raise ValueError("expected decimal digits")
        return self._checked(super().parse(raw))

    def format(self, value: int) -> str:
        return super().format(self._checked(value) if isinstance(value, int) and not isinstance(value, bool) else value)

    def coerce(self, value: object) -> int:
        return self._checked(super().coerce(value))

    def fast_parse(self) -> tuple[str, Any] | None:
        cls = type(self)
        if cls.parse is not IntRange.parse or cls._checked is not IntRange._checked:
            return None
        return ("int", (self.low, self.high))


class Pattern(Kind[str]):
    """A string that must match a pattern of libvirt's schema (a unit, a UUID, a mode)."""

    def __init__(self, name: str, pattern: str) -> None:
        self.name = name
        self.pattern = pattern
        self._compiled: re.Pattern[str] | None = None  # compiled on first use: plugins declare many at import

    def parse(self, raw: str) -> str:
        if self._regex().fullmatch(raw) is None:
            raise ValueError(f"not a valid {self.name}")
        return raw

    def _regex(self) -> re.Pattern[str]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self.pattern)
        return compiled

    def fast_parse(self) -> tuple[str, Any] | None:
        # what parse() accepts, matched without the call (a subclass parsing its own way parses)
        return ("match", self._regex().fullmatch) if type(self).parse is Pattern.parse else None

    def format(self, value: str) -> str:
        if not isinstance(value, str):
            raise TypeError(f"expected str, got {type(value).__name__}")
        return self.parse(value)

    def coerce(self, value: object) -> str:
        # Checked here, so a spec value that does not fit is named by its dev_spec key.
        if not isinstance(value, str):
            raise TypeError(f"expected a string, got {type(value).__name__}")
        return self.parse(value)


class _HexUInt(Kind[int]):
    """libvirt's ``hexuint``: hex digits, ``0x`` optional (``100`` is 256), written ``0x...``."""

    name = "hexuint"
    python_type = int

    def parse(self, raw: str) -> int:
        text = raw.strip()
        digits = text[2:] if text[:2].lower() == "0x" else text
        if not digits or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise ValueError("expected hex digits (0x...)")
        return int(digits, 16)

    def format(self, value: int) -> str:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected int, got {type(value).__name__}")
        if value < 0:
            raise ValueError("expected a non-negative int")
        return f"0x{value:x}"

    def coerce(self, value: object) -> int:
        if isinstance(value, str):
            return self.parse(value)
        return self.parse(self.format(value))  # type: ignore[arg-type]


STR: Kind[str] = _Str()
INT: Kind[int] = _Int()
#: an unsigned int of any size (counts, numbers libvirt bounds elsewhere)
UINT: Kind[int] = IntRange(0)
#: libvirt's ``uint8`` (0..255, decimal or ``0x`` hex)
UINT8: Kind[int] = IntRange(0, 0xFF, name="uint8")
#: libvirt's ``uint32`` and the range of its ``unsignedInt``
UINT32: Kind[int] = IntRange(0, 0xFFFFFFFF, name="uint32")
#: libvirt's ``unsignedLong`` (sizes: the number of a ``scaledInteger``)
ULONG: Kind[int] = IntRange(0, 2**64 - 1, name="unsignedLong")
#: libvirt's ``positiveInteger`` (an int >= 1)
POSITIVE: Kind[int] = IntRange(1, name="positiveInteger")
#: libvirt's ``hexuint`` (a guest physical address: ``0x100000000``)
HEX_UINT: Kind[int] = _HexUInt()
YES_NO: Kind[bool] = _Bool("yes", "no")
ON_OFF: Kind[bool] = _Bool("on", "off")

# Text types of libvirt's schema (basictypes.rng) that several kinds use.
#: ``absFilePath``: an absolute host path (``/...`` or ``C:\...``)
ABS_PATH: Kind[str] = Pattern("absolute path", r"(/|[a-zA-Z]:\\).+")
#: ``unit`` of a ``scaledInteger`` (b, bytes, KB, KiB, k, M, MiB, G, ... E)
UNIT: Kind[str] = Pattern("unit", r"([bB]([yY][tT][eE][sS]?)?)|([kKmMgGtTpPeE]([iI]?[bB])?)")
#: ``UUID``: 32 hex digits, bare or dashed 8-4-4-4-12
UUID: Kind[str] = Pattern("UUID", r"[a-fA-F0-9]{32}|[a-fA-F0-9]{8}-([a-fA-F0-9]{4}-){3}[a-fA-F0-9]{12}")
#: ``createMode``: an octal permission mode (``0644``, ``755``)
OCTAL_MODE: Kind[str] = Pattern("octal mode", r"0[0-7]{3}|[0-7]{1,3}")


#: the field path of the view's own element: ``Field(".")`` is its own text
SELF = "."


def _split_path(path: str) -> tuple[tuple[str, ...], str | None]:
    if path == SELF:
        return (), None
    if "@" in path:
        elems, attr = path.split("@", 1)
    else:
        elems, attr = path, None
    steps = tuple(s for s in elems.split("/") if s)
    if attr is None and not steps:
        raise ValueError(f"field path {path!r} names neither an element nor an attribute (nor '.', its own text)")
    return steps, attr


def _find_child(element: etree._Element, tag: str) -> etree._Element | None:
    # Direct children only: a recursive search would confuse <address> with
    # <source><address> (hostdev), the mistake the brief warns about. iterchildren
    # runs in C; find() goes through ElementPath and costs twice as much.
    return next(element.iterchildren(tag), None)


def _overrides(field: object, base: type, *names: str) -> bool:
    """True when ``field``'s class replaces any of ``base``'s reading methods: it then
    reads its own way, and one-pass reading must ask it."""
    cls = type(field)
    return any(getattr(cls, name) is not getattr(base, name) for name in names)


def _leaf_text(element: etree._Element) -> str | None:
    text: str | None = element.text
    if text is not None and len(element) and not text.strip():
        return None  # indentation before child elements, not a value
    return text


def _is_empty(element: etree._Element) -> bool:
    return not element.attrib and len(element) == 0 and (element.text is None or not element.text.strip())


#: What a secret field's value is shown as in errors, ``repr``, logs and ``inspect``.
REDACTED = "***"

#: ``Field(live=...)``: whether libvirt can change the value on a running domain. True
#: or False for every device of the class, or a predicate on the running device for a
#: value only some of them can change (a disk's source: removable media only).
Live = bool | Callable[[Any], bool]
#: ``live=LIVE`` reads better than ``live=True`` in a long declaration
LIVE = True


def _xml_text_error(raw: str, *, attribute: bool = True) -> str | None:
    """Why XML cannot hold ``raw`` as an attribute value (``attribute``) or text: control
    characters, surrogates, or a size the reader would refuse (devframe.core.limits).
    Checked before anything is created, so a refused value leaves the element as it was."""
    try:
        etree.Element("x").set("v", raw)
    except (ValueError, TypeError) as exc:
        return f"XML cannot hold this text ({exc})"
    return attribute_problem(raw) if attribute else text_problem(raw)


#: attribute values longer than this are checked against their element's whole start tag
_LARGE_ATTRIBUTE = 10_000


class _Base:
    """Shared bookkeeping of every declared field."""

    name: str = "?"
    spec: str | None = None
    secret: bool = False
    doc: str = ""
    #: can the value change on a running domain (see :data:`Live`)
    live: Live = False

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def live_for(self, view: ElementView) -> bool:
        """True when this field of ``view`` (a running device) can change live."""
        live = self.live
        return bool(live(view)) if callable(live) else bool(live)

    def compared(self, view: ElementView) -> object:
        """What two elements are compared by for this field: equal when the field's XML is
        the same (an absent value is None, so an absent and an empty value differ)."""
        return self.spec_value(view)

    def copy_value(self, source: ElementView, target: ElementView) -> None:
        """Make ``target`` hold this field's XML exactly as ``source`` holds it
        (removing it when ``source`` has none); nothing else of ``target`` changes."""
        self.apply_spec_value(target, self.spec_value(source))

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

    def locate(self) -> tuple[tuple[str, ...], str, str | None] | None:
        """Where this field reads, for one-pass reading (:mod:`devframe.core.specread`):
        ``(element steps, "attr" | "text" | "element", attribute name)``, or None for a
        field that reads its own way (then :meth:`spec_value` is asked)."""
        return None

    def spec_from_located(self, view: ElementView, found: Any) -> Any:
        """The spec value from what :meth:`locate` pointed at (None when absent)."""
        raise NotImplementedError

    def locate_each(self) -> tuple[tuple[tuple[str, ...], str, str | None], ...] | None:
        """For a field reading several places (when :meth:`locate` says None): where,
        each as :meth:`locate` says it; the reader then gives :meth:`spec_from_each`
        what it found at each. None: the field reads its own way."""
        return None

    def spec_from_each(self, view: ElementView, found: tuple[Any, ...]) -> Any:
        """The spec value from what each place of :meth:`locate_each` holds (None: absent)."""
        raise NotImplementedError

    def reads_when_absent(self) -> bool:
        """True when the field has a spec value (or must say None) with nothing located."""
        return False

    def found_is_value(self) -> bool:
        """True when the text :meth:`locate` finds is the spec value unchanged (a plain
        string field): one-pass reading then converts nothing."""
        return False

    def says_none(self) -> bool:
        """True when ``to_spec`` may write this field's key with None when it is absent
        (then :meth:`says_none_for` decides for each element)."""
        return False

    def says_none_for(self, view: ElementView) -> bool:
        """True when ``to_spec`` of ``view`` writes this field's key with None, the field
        being absent from it."""
        return self.says_none()

    def says_none_per_element(self) -> bool:
        """False when :meth:`says_none_for` is :meth:`says_none` for every element (the
        compiled reader then asks nothing per element)."""
        return type(self).says_none_for is not _Base.says_none_for

    def absent_is_none(self) -> bool:
        """True when :meth:`spec_from_located` of nothing found is None (the compiled
        reader then does not ask)."""
        return False

    def inline_read(self) -> tuple[str, Any, Callable[[Any], Any] | None] | None:
        """A shortcut a compiled reader (:mod:`devframe.core.specgen`) may take for what
        :meth:`locate` found, instead of calling :meth:`spec_from_located`:
        ``("present", None, None)``, the value is whether anything was found;
        ``("text", None, to_spec)``, the text found goes through ``to_spec`` as is;
        ``("call", None, function)``, what was found (never None) goes through ``function``;
        ``(kind, detail, to_spec)``, the field's :meth:`Kind.fast_parse` and the function
        its value then goes through (None: none). None: no shortcut."""
        return None

    def apply_spec_value(self, view: ElementView, value: Any) -> None:
        """Set the field from a dev_spec value."""
        raise NotImplementedError

    def check(self, view: ElementView) -> str | None:
        """A problem with the stored value, or None."""
        return None

    def secret_paths(self) -> tuple[str, ...]:
        """Where this field keeps a secret, as paths from its element (for
        :mod:`devframe.core.secrets`): its own path when declared ``secret=True``."""
        path = getattr(self, "path", None)
        return (path,) if self.secret and isinstance(path, str) else ()

    def secret_spec_keys(self) -> tuple[str, ...]:
        """The dev_spec key names (last parts) under which a secret of this field travels."""
        return (self.spec.rsplit(".", 1)[-1],) if self.secret and self.spec else ()


class Field(_Base, Generic[T]):
    """A typed value at one place of the device element.

    ``Field("target@dev")`` is the attribute ``dev`` of the direct child ``target``;
    ``Field("serial")`` the text of the direct child ``serial``; ``Field("@type")`` an
    attribute of the device element itself; ``Field(".")`` the element's own text
    (``<emulator>/usr/bin/qemu</emulator>``). ``spec`` is the dev_spec key
    (``"specParams.vram"`` nests). ``secret`` keeps the value out of ``repr``, logs and
    ``inspect``. ``default`` is what ``device_from_spec`` writes when a spec leaves the
    field out (libvirt's default, where the schema requires a value); ``default_if``
    limits it to the devices it accepts (a default that only one type of a kind needs),
    asked after the fields declared before this one are set; ``required``
    reports an element without the value as a problem (a spec built from it would get
    the default, so it cannot round-trip). ``absent_spec``
    is the dev_spec value that stands for no value: a spec giving it builds none (the
    kind's own name in ``device``, which is what an element without the field reports).
    ``live`` says whether libvirt can change the value on a running domain
    (:data:`Live`; default no): ``Guest.update`` refuses a change to any other field
    before acting.
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
        live: Live = False,
        absent_spec: str | None = None,
        required: bool = False,
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
        live: Live = False,
        absent_spec: str | None = None,
        required: bool = False,
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
        live: Live = False,
        absent_spec: str | None = None,
        required: bool = False,
    ) -> None:
        self.path = path
        self.steps, self.attr = _split_path(path)
        self.kind = kind
        self.spec = spec
        self.default = default
        self.default_if = default_if
        self.secret = secret
        self.doc = doc
        self.live = live
        self._to_spec = to_spec
        self._from_spec = from_spec
        self.absent_spec = absent_spec
        self.required = required

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
        return self._parse(view, raw)

    def _parse(self, view: ElementView, raw: str) -> T:
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
            return element.get(self.attr)
        return _leaf_text(element)

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
        attribute = self.attr is not None
        if isinstance(raw, str):
            problem = _xml_text_error(raw, attribute=attribute)
        else:
            problem = f"expected str, got {type(raw).__name__}"
        if problem is None and not attribute and raw == "":
            # An element with empty text reads back as no value: refuse what cannot round-trip.
            problem = "empty text reads back as no value (set None to remove it)"
        if problem is None and attribute and len(raw) > _LARGE_ATTRIBUTE:
            problem = self._start_tag_problem(view, raw)
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

    def _start_tag_problem(self, view: ElementView, raw: str) -> str | None:
        """Whether the element this field writes to can take one more large attribute."""
        element: etree._Element | None = view.element
        for step in self.steps:
            element = _find_child(element, step) if element is not None else None
        attributes: dict[Any, Any] = dict(element.attrib) if element is not None else {}
        attributes[self.attr] = raw
        return start_tag_problem(self.steps[-1] if self.steps else str(view.element.tag), attributes)

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

    def compared(self, view: ElementView) -> object:
        return self.raw(view)

    def copy_value(self, source: ElementView, target: ElementView) -> None:
        raw = self.raw(source)
        if raw is None:
            self.__set__(target, None)
        else:
            self.set_raw(target, raw)

    def check(self, view: ElementView) -> str | None:
        raw = self.raw(view)
        if raw is None:
            return f"field {self.name!r} ({self.path}): missing (libvirt requires it)" if self.required else None
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

    def locate(self) -> tuple[tuple[str, ...], str, str | None] | None:
        if _overrides(self, Field, "__get__", "raw", "spec_value", "spec_from_located"):
            return None
        return (self.steps, ATTR, self.attr) if self.attr is not None else (self.steps, TEXT, None)

    def spec_from_located(self, view: ElementView, found: Any) -> Any:
        if found is None:
            return None
        value = self._parse(view, found)
        return self._to_spec(value) if self._to_spec else value

    def reads_when_absent(self) -> bool:
        return self.says_none()

    def says_none(self) -> bool:
        # Absent although the field has a default: the spec says so (None), or it would
        # rebuild the element with the default it never had.
        return self.default is not None

    def says_none_for(self, view: ElementView) -> bool:
        # Only where a spec without the key would get the default (default_if).
        return self.default_for(view) is not None

    def says_none_per_element(self) -> bool:
        # without default_if, says_none_for is says_none (a default for every element)
        cls = type(self)
        return (
            self.default_if is not None
            or cls.says_none_for is not Field.says_none_for
            or cls.default_for is not Field.default_for
            or cls.says_none is not Field.says_none
        )

    def absent_is_none(self) -> bool:
        return type(self).spec_from_located is Field.spec_from_located

    def found_is_value(self) -> bool:
        return self._to_spec is None and type(self.kind).parse is Kind.parse

    def inline_read(self) -> tuple[str, Any, Callable[[Any], Any] | None] | None:
        if _overrides(self, Field, "spec_from_located", "_parse"):
            return None
        fast = self.kind.fast_parse()
        if fast is None and self._to_spec is not None and type(self.kind).parse is Kind.parse:
            return ("text", None, self._to_spec)  # the text as is, through to_spec
        return None if fast is None else (fast[0], fast[1], self._to_spec)

    def apply_spec_value(self, view: ElementView, value: Any) -> None:
        if value is None or (self.absent_spec is not None and value == self.absent_spec):
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

    def __init__(self, path: str, *, spec: str | None = None, doc: str = "", live: Live = False) -> None:
        self.path = path
        self.steps, attr = _split_path(path)
        if attr is not None or not self.steps:
            raise ValueError("a Flag names a child element, not an attribute or its own element")
        self.spec = spec
        self.doc = doc
        self.live = live

    @overload
    def __get__(self, view: None, owner: type) -> Flag: ...
    @overload
    def __get__(self, view: ElementView, owner: type) -> bool: ...
    def __get__(self, view: ElementView | None, owner: type) -> Flag | bool:
        if view is None:
            return self
        element: etree._Element = view.element
        for step in self.steps:
            found = _find_child(element, step)
            if found is None:
                return False
            element = found
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
            chain: list[etree._Element] = [view.element]
            for step in self.steps:
                child = _find_child(chain[-1], step)
                assert child is not None  # present: every step is there
                chain.append(child)
            _remove_keeping_tail(chain[-1])
            # The containers only this flag needed go too (never the device), as a Field's do.
            for element in reversed(chain[1:-1]):
                if not _is_empty(element):
                    break
                _remove_keeping_tail(element)

    def spec_value(self, view: ElementView) -> Any:
        return self.__get__(view, type(view))

    def compared(self, view: ElementView) -> object:
        return self.__get__(view, type(view))

    def copy_value(self, source: ElementView, target: ElementView) -> None:
        self.__set__(target, self.__get__(source, type(source)))

    def locate(self) -> tuple[tuple[str, ...], str, str | None] | None:
        if _overrides(self, Flag, "__get__", "spec_value", "spec_from_located"):
            return None
        return (self.steps, ELEMENT, None)

    def spec_from_located(self, view: ElementView, found: Any) -> Any:
        return found is not None

    def inline_read(self) -> tuple[str, Any, Callable[[Any], Any] | None] | None:
        return None if _overrides(self, Flag, "spec_from_located") else ("present", None, None)

    def reads_when_absent(self) -> bool:
        return True  # absent is False, not None

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


class PresentFlag(Flag):
    """A :class:`Flag` whose dev_spec value is ``True`` when the element is there and no
    key at all when it is not (a scsi hostdev's ``<readonly/>``, a TPM's PCR banks, a
    shmem's ``<server/>``): most devices have none, and their specs stay as short."""

    def spec_value(self, view: ElementView) -> Any:
        return True if self.__get__(view, type(view)) else None


def is_item_list(value: object) -> bool:
    """Whether a value assigned to a list field (Children, Chain, EmptyElements, TextList) is a
    list of items at all: an iterable, but no str, bytes or single dict (each iterates, as
    characters or keys, into a wrong answer) and no number or bool (a TypeError)."""
    return isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping))


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
        if not roots:
            return []
        elements: list[etree._Element | None] = []
        for steps in self._steps.values():
            element: etree._Element | None = roots.get(steps[0])
            for step in steps[1:]:
                if element is None:
                    break
                element = _find_child(element, step)
            elements.append(element)
        return self._empty(elements)

    def _empty(self, elements: Iterable[etree._Element | None]) -> list[str]:
        """The paths whose element (given in the order of the paths) stands empty."""
        return [
            path
            for path, element in zip(self.paths, elements, strict=True)
            if element is not None and _is_empty(element)
        ]

    def __set__(self, view: ElementView, value: Iterable[str] | None) -> None:
        if value is not None and not is_item_list(value):
            raise FieldValueError(view.describe(), self.spec or self.name, value, "expected a list of element paths")
        wanted = [] if value is None else list(value)
        unknown = [path for path in wanted if type(path) is not str or path not in self._steps]
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

    def locate_each(self) -> tuple[tuple[tuple[str, ...], str, str | None], ...] | None:
        # each path's element, found in the reader's one pass (the first child of each tag, as _find_child)
        if _overrides(self, EmptyElements, "__get__", "_empty", "spec_value", "spec_from_each"):
            return None
        return tuple((steps, ELEMENT, None) for steps in self._steps.values())

    def spec_from_each(self, view: ElementView, found: tuple[Any, ...]) -> Any:
        return self._empty(found) or None

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
    the address type stays the same. ``{}`` is an ``<address/>`` without attributes
    and builds one; ``None`` and ``""`` are no address. libvirt's schema requires the
    guest address's ``type`` (``<address type='pci'/>`` asks for any PCI slot), so an
    untyped one is a problem; a host address has no type.
    """

    def __init__(self, path: str = "address", *, spec: str | None = "address") -> None:
        self.path = path
        self.steps, _ = _split_path(path)
        self.spec = spec
        self.doc = "guest address (type + attributes)"

    def _element(self, view: ElementView) -> etree._Element | None:
        element: etree._Element = view.element
        for step in self.steps:
            found = _find_child(element, step)
            if found is None:
                return None
            element = found
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
        return self._read(element)

    @staticmethod
    def _read(element: etree._Element) -> dict[str, Any]:
        # items() and len(): a fifth of what dict(attrib) and an empty loop cost in lxml
        # (to_spec reads the address of nearly every device)
        address: dict[str, Any] = dict(element.items())  # type: ignore[arg-type]  # lxml stubs: str | bytes
        if len(element):
            for child in element:
                # Nested parts of an address (s390's <zpci uid fid>) as dicts of attributes.
                if isinstance(child.tag, str) and child.tag not in address:
                    address[child.tag] = dict(child.items())
        return address

    def __set__(self, view: ElementView, value: Mapping[str, object] | None) -> None:
        element = self._element(view)
        if value is None:
            view.touch()
            if element is not None:
                _remove_keeping_tail(element)
            return
        if not isinstance(value, Mapping):
            raise FieldValueError(view.describe(), self.name, value, "expected a dict of address attributes")
        # Everything is checked before the element changes: a refused address leaves the old one.
        attrs: dict[str, str] = {}
        nested: dict[str, dict[str, str]] = {}
        for key, item in value.items():
            if item is None:
                continue
            try:
                if isinstance(item, Mapping):
                    tag = _address_name(key)
                    etree.Element(tag)  # an element name XML can hold
                    nested[tag] = _address_attributes(tag, item)
                else:
                    attrs.update(_address_attributes(self.steps[-1], {key: item}))
            except (ValueError, TypeError) as exc:
                what = "an XML element of attributes" if isinstance(item, Mapping) else "an XML attribute and value"
                raise FieldValueError(view.describe(), self.name, {key: item}, f"not {what} ({exc})") from None
        problem = start_tag_problem(self.steps[-1], attrs)
        if problem:
            raise FieldValueError(view.describe(), self.name, value, problem)
        view.touch()
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

    def compared(self, view: ElementView) -> object:
        return self.__get__(view, type(view))

    def copy_value(self, source: ElementView, target: ElementView) -> None:
        self.__set__(target, self.__get__(source, type(source)))

    def locate(self) -> tuple[tuple[str, ...], str, str | None] | None:
        if _overrides(self, AddressField, "__get__", "_element", "_read", "spec_value", "spec_from_located"):
            return None
        return (self.steps, ELEMENT, None)

    def spec_from_located(self, view: ElementView, found: Any) -> Any:
        return None if found is None else self._read(found)

    def inline_read(self) -> tuple[str, Any, Callable[[Any], Any] | None] | None:
        # the element found, read without the method call (nearly every device has an address)
        if _overrides(self, AddressField, "_read", "spec_from_located"):
            return None
        return ("call", None, self._read)

    def check(self, view: ElementView) -> str | None:
        # libvirt's schema requires a type of the guest address (a host address has none);
        # libvirt itself reads <address/> as no address. Kept as written, and reported.
        if self.steps != ("address",):
            return None
        element = self._element(view)
        if element is not None and element.get("type") is None:
            return f"field {self.name!r} ({self.path}): an address needs a type (libvirt's schema)"
        return None

    def apply_spec_value(self, view: ElementView, value: Any) -> None:
        # "" and None are no address; {} is an <address/> without attributes, which is
        # what such an element gives in its spec (so it rebuilds).
        if value is None or (isinstance(value, str) and value == ""):
            return
        self.__set__(view, value)


def _address_name(key: object) -> str:
    """``key`` as an attribute or element name of an address (ValueError/TypeError if not)."""
    if not isinstance(key, str):
        raise TypeError(f"a name must be str, got {type(key).__name__}")
    problem = name_problem(key)
    if problem:
        raise ValueError(problem)
    return key


def _address_text(item: object) -> str:
    """An address value as attribute text: libvirt's are numbers and words."""
    if isinstance(item, str):
        return item
    if isinstance(item, int) and not isinstance(item, bool):
        return str(_bounded(item))
    if isinstance(item, float):
        return str(item)
    raise TypeError(f"expected str or int, got {type(item).__name__}")


def _address_attributes(tag: str, mapping: Mapping[Any, Any]) -> dict[str, str]:
    """The attributes of one address element, checked as the XML reader will read them."""
    probe = etree.Element("x")
    out: dict[str, str] = {}
    for key, item in mapping.items():
        if item is None:
            continue
        name, text = _address_name(key), _address_text(item)
        probe.set(name, text)  # lxml refuses a name or a text XML cannot hold
        out[name] = text
    problem = start_tag_problem(tag, out)
    if problem:
        raise ValueError(problem)
    return out


class Children(_Base, Generic[V]):
    """Repeated child elements (``<host>`` under ``<source>``, ``<listen>``, ...).

    Reading gives a list of views (each an :class:`ElementView` with its own fields);
    assigning a list of dicts or views replaces those children and keeps every other
    child of the container.
    """

    def __init__(
        self,
        path: str,
        item: type[V],
        *,
        spec: str | None = None,
        secret: bool = False,
        doc: str = "",
        live: Live = False,
    ) -> None:
        steps, attr = _split_path(path)
        if attr is not None or not steps:
            raise ValueError("Children takes an element path")
        self.container_steps = steps[:-1]
        self.tag = steps[-1]
        self.item = item
        self.spec = spec
        self.secret = secret
        self.doc = doc
        self.path = path
        self.live = live

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
        if items is not None and not is_item_list(items):
            raise FieldValueError(view.describe(), self.name, items, "expected a list of dicts or views")
        # Every new child is made first: a refused item leaves the element as it was.
        built: list[etree._Element] = []
        for item in items or ():
            if isinstance(item, ElementView):
                child = copy.deepcopy(item.element)
                child.tail = None
            elif isinstance(item, Mapping):
                child = etree.Element(self.tag)
                try:
                    self.item(child, parent=view).apply_dict(item)
                except FieldValueError as exc:
                    if not self.secret:
                        raise
                    raise FieldValueError(exc.device, exc.field, REDACTED, exc.reason) from None
            else:
                raise FieldValueError(view.describe(), self.name, self.shown(item), "expected a dict or a view")
            built.append(child)
        view.touch()
        container = self._container(view, create=bool(built))
        if container is not None:
            existing = list(container.iterchildren(self.tag))
            anchor = existing[-1].getnext() if existing else None
            for child in existing:
                _remove_keeping_tail(child)
        else:
            anchor = None
        if not built:
            if container is not None and container is not view.element and _is_empty(container):
                _remove_keeping_tail(container)
            return
        assert container is not None
        for child in built:
            if anchor is not None:
                anchor.addprevious(child)
            elif container is view.element:
                view.insert_child(container, child, at_root=True)
            else:
                container.append(child)

    def spec_value(self, view: ElementView) -> Any:
        container = self._container(view, create=False)
        return None if container is None else self.spec_from_located(view, container)

    def compared(self, view: ElementView) -> object:
        container = self._container(view, create=False)
        if container is None:
            return ()
        return tuple(subtree_xml(child, as_bytes=True) for child in container.iterchildren(self.tag))

    def copy_value(self, source: ElementView, target: ElementView) -> None:
        self.__set__(target, self.__get__(source, type(source)))

    def locate(self) -> tuple[tuple[str, ...], str, str | None] | None:
        if _overrides(self, Children, "__get__", "_container", "spec_value", "spec_from_located"):
            return None
        # the container, given only when it holds an item (no items: no value)
        return (self.container_steps, ITEMS, self.tag)

    def spec_from_located(self, view: ElementView, found: Any) -> Any:
        if found is None:
            return None
        item = self.item
        try:
            items = [item(child, parent=view).to_dict() for child in found.iterchildren(self.tag)]
        except FieldValueError as exc:
            if not self.secret:
                raise
            raise FieldValueError(exc.device, f"{self.name}.{exc.field}", REDACTED, "not a valid value") from None
        return items or None

    def apply_spec_value(self, view: ElementView, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
            raise FieldValueError(view.describe(), self.spec or self.name, self.shown(value), "expected a list")
        self.__set__(view, value)

    def check(self, view: ElementView) -> str | None:
        for position, item in enumerate(self.__get__(view, type(view))):
            problems = item.problems()
            if problems:
                if self.secret:  # the items' problems quote their values
                    return f"{self.name}[{position}]: a value does not fit its field (secret: not shown)"
                return f"{self.name}: " + "; ".join(problems)
        return None

    def secret_paths(self) -> tuple[str, ...]:
        if self.secret:
            return (self.path,)  # the whole list (a disk's cookies)
        inner = [path for field in self.item.fields.values() for path in field.secret_paths()]
        return tuple(join_path(self.path, path) for path in inner)

    def secret_spec_keys(self) -> tuple[str, ...]:
        inner = [key for field in self.item.fields.values() for key in field.secret_spec_keys()]
        if not self.secret and not inner and not any(field.secret_paths() for field in self.item.fields.values()):
            return ()
        # The list itself carries the secrets: its key is hidden whole, like the items' keys.
        return (*((self.spec.rsplit(".", 1)[-1],) if self.spec else ()), *inner)


def _element_at(view: ElementView, steps: tuple[str, ...]) -> etree._Element | None:
    element = view.element
    for step in steps:
        child = _find_child(element, step)
        if child is None:
            return None
        element = child
    return element


def _made_path(view: ElementView, steps: tuple[str, ...]) -> etree._Element:
    """The element at ``steps``, creating what is missing (in ``child_order`` at the root)."""
    element = view.element
    for depth, step in enumerate(steps):
        child = _find_child(element, step)
        if child is None:
            child = etree.Element(step)
            view.insert_child(element, child, at_root=depth == 0)
        element = child
    return element


def _remove_with_empty_parents(view: ElementView, element: etree._Element) -> None:
    """Remove ``element`` and the containers it leaves empty (never the view's own element)."""
    parent = element.getparent()
    _remove_keeping_tail(element)
    while parent is not None and parent is not view.element and _is_empty(parent):
        above = parent.getparent()
        _remove_keeping_tail(parent)
        parent = above


class Child(_Base, Generic[V]):
    """One optional child element as a view (``<auth>``, ``<encryption>``, ``<iotune>``).

    Reading gives the view (an :class:`ElementView` with fields of its own) or None. In a
    dev_spec it is a dict keyed like the view's fields; an element holding nothing the
    view models is ``{}``, so its presence alone round-trips. Assigning a dict (or a
    view) replaces the element where it stood (a new one goes to its ``child_order``
    place); None removes it, and the containers only it needed.
    """

    def __init__(
        self,
        path: str,
        item: type[V],
        *,
        spec: str | None = None,
        secret: bool = False,
        doc: str = "",
        live: Live = False,
    ) -> None:
        steps, attr = _split_path(path)
        if attr is not None or not steps:
            raise ValueError("Child takes an element path")
        self.path = path
        self.steps = steps
        self.item = item
        self.spec = spec
        self.secret = secret
        self.doc = doc
        self.live = live

    @overload
    def __get__(self, view: None, owner: type) -> Child[V]: ...
    @overload
    def __get__(self, view: ElementView, owner: type) -> V | None: ...
    def __get__(self, view: ElementView | None, owner: type) -> Child[V] | V | None:
        if view is None:
            return self
        element = _element_at(view, self.steps)
        return None if element is None else self.item(element, parent=view)

    def __set__(self, view: ElementView, value: V | Mapping[str, Any] | None) -> None:
        view.touch()
        current = _element_at(view, self.steps)
        if value is None:
            if current is not None:
                _remove_with_empty_parents(view, current)
            return
        if isinstance(value, ElementView):
            new = copy.deepcopy(value.element)
            new.tail = None
        elif isinstance(value, Mapping):
            # Built apart first: a refused value leaves the element as it was.
            new = etree.Element(self.steps[-1])
            self.item(new, parent=view).apply_dict(value)
        else:
            raise FieldValueError(view.describe(), self.name, self.shown(value), "expected a dict or a view")
        if current is not None:
            new.tail = current.tail
            parent = current.getparent()
            assert parent is not None
            parent.replace(current, new)
            return
        container = _made_path(view, self.steps[:-1])
        if container is view.element:
            view.insert_child(container, new, at_root=True)
        else:
            container.append(new)

    def spec_value(self, view: ElementView) -> Any:
        item = self.__get__(view, type(view))
        return None if item is None else item.to_dict()

    def locate(self) -> tuple[tuple[str, ...], str, str | None] | None:
        if _overrides(self, Child, "__get__", "spec_value", "spec_from_located"):
            return None
        return (self.steps, ELEMENT, None)

    def spec_from_located(self, view: ElementView, found: Any) -> Any:
        return None if found is None else self.item(found, parent=view).to_dict()

    def apply_spec_value(self, view: ElementView, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, Mapping):
            raise FieldValueError(view.describe(), self.spec or self.name, self.shown(value), "expected a dict")
        self.__set__(view, value)

    def check(self, view: ElementView) -> str | None:
        item = self.__get__(view, type(view))
        problems = item.problems() if item is not None else []
        return f"{self.name}: " + "; ".join(problems) if problems else None


class Chain(_Base, Generic[V]):
    """Elements of one tag each nested in the one before (libvirt's ``<backingStore>``
    chain) as a flat list of views, outermost first.

    Each link's view models the link without the next one; in a dev_spec the chain is a
    list of dicts. A link holding nothing the view models (libvirt's closing
    ``<backingStore/>``: "nothing below") is ``{}``. Assigning a list rebuilds the chain
    where it stood; ``[]`` or None removes it.
    """

    def __init__(self, tag: str, item: type[V], *, spec: str | None = None, doc: str = "", live: Live = False) -> None:
        steps, attr = _split_path(tag)
        if attr is not None or len(steps) != 1:
            raise ValueError("Chain takes one element name")
        self.tag = steps[0]
        self.path = tag
        self.item = item
        self.spec = spec
        self.doc = doc
        self.live = live

    def links(self, view: ElementView) -> list[etree._Element]:
        """The chain's elements, outermost first."""
        found = []
        element = _find_child(view.element, self.tag)
        while element is not None:
            found.append(element)
            element = _find_child(element, self.tag)
        return found

    @overload
    def __get__(self, view: None, owner: type) -> Chain[V]: ...
    @overload
    def __get__(self, view: ElementView, owner: type) -> list[V]: ...
    def __get__(self, view: ElementView | None, owner: type) -> Chain[V] | list[V]:
        if view is None:
            return self
        return [self.item(element, parent=view) for element in self.links(view)]

    def __set__(self, view: ElementView, items: Iterable[V | Mapping[str, Any]] | None) -> None:
        # a number, a string or one dict is no chain (0 was taken as [])
        if items is not None and not is_item_list(items):
            raise FieldValueError(view.describe(), self.name, self.shown(items), "expected a list of dicts or views")
        view.touch()
        outer: etree._Element | None = None
        last: etree._Element | None = None
        for position, item in enumerate(items or ()):
            if isinstance(item, ElementView):
                link = copy.deepcopy(item.element)
                link.tail = None
                for inner in list(link.iterchildren(self.tag)):
                    link.remove(inner)  # the list gives the links below
            elif isinstance(item, Mapping):
                link = etree.Element(self.tag)
                try:
                    self.item(link, parent=view).apply_dict(item)
                except FieldValueError as exc:
                    raise FieldValueError(exc.device, f"{position}.{exc.field}", exc.value, exc.reason) from None
            else:
                where = f"{self.name}[{position}]"
                raise FieldValueError(view.describe(), where, self.shown(item), "expected a dict or a view")
            if last is None:
                outer = link
            else:
                self.item(last, parent=view).insert_child(last, link, at_root=True)
            last = link
        old = _find_child(view.element, self.tag)
        if old is not None and outer is not None:
            outer.tail = old.tail
            view.element.replace(old, outer)
        elif old is not None:
            _remove_keeping_tail(old)
        elif outer is not None:
            view.insert_child(view.element, outer, at_root=True)

    def spec_value(self, view: ElementView) -> Any:
        items = self.__get__(view, type(view))
        return [item.to_dict() for item in items] if items else None

    def locate(self) -> tuple[tuple[str, ...], str, str | None] | None:
        if _overrides(self, Chain, "__get__", "links", "spec_value", "spec_from_located"):
            return None
        return ((self.tag,), ELEMENT, None)

    def spec_from_located(self, view: ElementView, found: Any) -> Any:
        items = []
        while found is not None:
            items.append(self.item(found, parent=view).to_dict())
            found = _find_child(found, self.tag)
        return items or None

    def apply_spec_value(self, view: ElementView, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
            raise FieldValueError(view.describe(), self.spec or self.name, self.shown(value), "expected a list")
        self.__set__(view, value)

    def check(self, view: ElementView) -> str | None:
        for position, item in enumerate(self.__get__(view, type(view))):
            problems = item.problems()
            if problems:
                return f"{self.name}[{position}]: " + "; ".join(problems)
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
        """Every stored value that does not fit its field's type, and the
        :meth:`rule_problem` (empty when valid)."""
        found = []
        for field in self.fields.values():
            problem = field.check(self)
            if problem:
                found.append(problem)
        rule = self.rule_problem()
        if rule is not None:
            found.append(rule[1])
        return found

    def rule_problem(self) -> tuple[str, str] | None:
        """A rule of libvirt's that the element breaks and no one field shows (a mode
        without the parts it needs): ``(dev_spec key, reason)``, else None (the default).

        Read the element without converting values: it is part of :meth:`problems`,
        which never raises. A kind's ``read_spec`` refuses it with :meth:`check_rule`.
        """
        return None

    def check_rule(self) -> None:
        """Raise :meth:`rule_problem` as a :class:`~devframe.SpecError` naming its key."""
        rule = self.rule_problem()
        if rule is not None:
            raise SpecError(f"{self.describe()}: dev_spec key {rule[0]!r}: {rule[1]}")

    def shown_values(self, names: Iterable[str | tuple[str, str]]) -> dict[str, Any]:
        """The named fields' values as the XML writes them, for summaries. Never raises.

        A name may be a ``(label, field name)`` pair. Absent values are left out, one that
        does not fit its field shows as ``<invalid '...'>``, a secret one as ``***``.
        """
        out: dict[str, Any] = {}
        for item in names:
            label, name = item if isinstance(item, tuple) else (item, item)
            field = self.fields[name]
            raw = field.raw(self) if isinstance(field, Field) else None
            if raw is None:
                continue
            if field.secret:
                out[label] = REDACTED
            else:
                out[label] = raw if field.check(self) is None else f"<invalid {raw!r}>"
        return out

    def to_dict(self) -> dict[str, Any]:
        """The fields that have a spec key, as a dict keyed by that key."""
        out: dict[str, Any] = {}
        plan_for(type(self), "dict").fill(self, out)
        return out

    def apply_dict(self, data: Mapping[str, Any]) -> None:
        """Set fields from a dict keyed like :meth:`to_dict`."""
        for name, field in self.fields.items():
            key = field.spec or name
            value = get_path(data, key)
            if value is not None:
                try:
                    field.apply_spec_value(self, value)
                except FieldValueError as exc:
                    if exc.field == key:
                        raise
                    # Named by the key it came in (not the field's name), and a value nested
                    # deeper by its whole key path (``auth.secret.uuid``).
                    where = key if exc.field == name else f"{key}.{exc.field}"
                    raise FieldValueError(exc.device, where, exc.value, exc.reason) from None


def redact_fields(owner: type[ElementView], data: dict[str, Any], *, by_name: bool = False) -> None:
    """Replace, in ``data`` (a dev_spec, or an item of a :class:`Children` list), the value
    of every field ``owner`` declares ``secret`` with :data:`REDACTED`, nested items too.

    ``by_name``: the keys of a Children item (spec key, else field name); a device's
    dev_spec has only the fields with a spec key.
    """
    for key, item in _secret_plan(owner, by_name):
        value = get_path(data, key)
        if value is None:
            continue
        if item is None:
            put_path(data, key, REDACTED)
        elif isinstance(value, list):
            for entry in value:
                if isinstance(entry, dict):
                    redact_fields(item, entry, by_name=True)


_SECRET_PLANS: dict[tuple[type, bool], list[tuple[str, type[ElementView] | None]]] = {}


def _secret_plan(owner: type[ElementView], by_name: bool) -> list[tuple[str, type[ElementView] | None]]:
    """Where ``owner``'s secrets sit in its dict: (key, None) for a secret field, (key,
    item class) for repeated children holding one; built once per class."""
    plan = _SECRET_PLANS.get((owner, by_name))
    if plan is None:
        plan = []
        for name, field in owner.fields.items():
            key = field.spec or (name if by_name else None)
            if key is None:
                continue
            if field.secret:
                plan.append((key, None))
            elif isinstance(field, Children) and _secret_plan(field.item, True):
                plan.append((key, field.item))
        _SECRET_PLANS[(owner, by_name)] = plan
    return plan


def put_path(target: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``target['a']['b'] = value`` for ``dotted == 'a.b'``."""
    put_parts(target, dotted.split("."), value)


def put_parts(target: dict[str, Any], parts: Sequence[str], value: Any) -> None:
    """:func:`put_path` with the key already split."""
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
        # type() first: from_spec asks this of every field, and an ABC check is slow
        if not (type(current) is dict or isinstance(current, Mapping)) or part not in current:
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
