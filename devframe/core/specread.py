"""Read every field of an element in one pass over it (issue 16: ``to_spec`` at lxml speed).

Reading field by field searched the element's children once per field and step: about
50 searches per device, most of them for children the device does not have. A
:class:`ReadPlan` is compiled once per view class from its fields' locations
(:meth:`devframe.core.fields._Base.locate`) into a tree of the paths they read. Reading
walks the element along that tree: each attribute present, each child that some field
reads, is looked at once, so the work follows what the element holds, not what the
class declares. Values are then converted in declaration order, so the first bad value
reported is the same as a field-by-field read reports.

A field that reads in its own way (a subclass overriding how it reads) locates nothing
and is asked for its value as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from lxml import etree


# What a plan needs of a field and of a view, as protocols: devframe.core.fields builds
# on this module, so it must not import fields back (not even for types).
class _Base(Protocol):
    spec: str | None

    def locate(self) -> tuple[tuple[str, ...], str, str | None] | None: ...
    def spec_from_located(self, view: Any, found: Any) -> Any: ...
    def spec_value(self, view: Any) -> Any: ...
    def reads_when_absent(self) -> bool: ...
    def found_is_value(self) -> bool: ...
    def says_none(self) -> bool: ...
    def says_none_for(self, view: Any) -> bool: ...


class ElementView(Protocol):
    element: etree._Element
    fields: Mapping[str, Any]


__all__ = ["ATTR", "ELEMENT", "TEXT", "ReadPlan", "plan_for"]

#: what a field reads where its path ends: an attribute, the element's text, the element itself
ATTR, TEXT, ELEMENT = "attr", "text", "element"


class _Node:
    """The fields reading at one element path, and the paths below it."""

    __slots__ = ("attrs", "children", "elements", "texts")

    def __init__(self) -> None:
        self.attrs: dict[str, list[int]] = {}
        self.texts: list[int] = []
        self.elements: list[int] = []
        self.children: dict[str, _Node] = {}


#: how a plan entry turns what was found into its value (_SKIP: a slot read for the caller)
_AS_IS, _LOCATED, _OWN_WAY, _SKIP = 0, 1, 2, 3
_NO_FIELD = None
#: the child holding libvirt's device alias (``<alias name=...>``)
ALIAS_TAG = "alias"


class ReadPlan:
    """The compiled reading of one view class, for ``to_spec`` (``mode="spec"``: fields
    with a spec key other than ``device``) or ``to_dict`` (``mode="dict"``: every field)."""

    __slots__ = ("alias_index", "always", "device_field", "device_index", "entries", "fields", "root")

    def __init__(self, fields: Mapping[str, _Base], mode: str) -> None:
        self.fields = fields
        self.root = _Node()
        #: per field, in declaration order: (field, key or key parts, how read, None said?)
        self.entries: list[tuple[_Base, str | tuple[str, ...], int, bool]] = []
        always: list[int] = []
        #: in a "spec" plan: the field giving the spec's ``device`` (and where it was
        #: located, -1: read its own way), and where the alias's name is located
        self.device_field: _Base | None = None
        self.device_index = -1
        self.alias_index = -1
        for name, field in fields.items():
            key = field.spec if mode == "spec" else (field.spec or name)
            if key is None:
                continue
            if mode == "spec" and key == "device":
                if self.device_field is None:  # the first one answers, as Device.spec_device reads
                    self.device_field = field
                    located = field.locate()
                    if located is not None:
                        self.device_index = self._place(located, self._reserve())
                continue
            index = len(self.entries)
            located = field.locate()
            how = _OWN_WAY if located is None else (_AS_IS if field.found_is_value() else _LOCATED)
            says_none = mode == "spec" and field.says_none()
            parts = tuple(key.split("."))
            self.entries.append((field, parts[0] if len(parts) == 1 else parts, how, says_none))
            if located is None or field.reads_when_absent():
                always.append(index)  # asked every time: read its own way, or has a value when absent
            if located is not None:
                self._place(located, index)
        if mode == "spec":
            # the alias's name, for the deviceId: read in the same pass
            self.alias_index = self._place(((ALIAS_TAG,), ATTR, "name"), self._reserve())
        self.always = frozenset(always)

    def _reserve(self) -> int:
        """A found-slot beyond the field entries (never written out by :meth:`fill`)."""
        self.entries.append((_NO_FIELD, "", _SKIP, False))  # type: ignore[arg-type]
        return len(self.entries) - 1

    def _place(self, located: tuple[tuple[str, ...], str, str | None], index: int) -> int:
        steps, what, attr = located
        node = self.root
        for step in steps:
            node = node.children.setdefault(step, _Node())
        if what == ATTR:
            assert attr is not None
            node.attrs.setdefault(attr, []).append(index)
        elif what == TEXT:
            node.texts.append(index)
        else:
            node.elements.append(index)
        return index

    def device_value(self, view: ElementView, found: dict[int, Any]) -> Any:
        """The ``device`` field's spec value (None: none, or no such field)."""
        field = self.device_field
        if field is None:
            return None
        if self.device_index < 0:
            return field.spec_value(view)
        return field.spec_from_located(view, found.get(self.device_index))

    def collect(self, element: etree._Element) -> dict[int, Any]:
        """What each located field finds in ``element``: raw text, or the element itself."""
        found: dict[int, Any] = {}
        _walk(self.root, element, found)
        return found

    def fill(self, view: ElementView, out: dict[str, Any], found: dict[int, Any] | None = None) -> None:
        """Put every field's value into ``out`` under its key, in declaration order:
        fields whose value is None are left out, except those that must say None
        (a ``to_spec`` field with a default for this element, absent from it). ``found``: what
        :meth:`collect` found, when the caller collected already."""
        if found is None:
            found = self.collect(view.element)
        entries = self.entries
        for index in sorted(found.keys() | self.always) if self.always else sorted(found):
            field, key, how, says_none = entries[index]
            if how == _SKIP:
                continue
            if how == _AS_IS:
                value = found.get(index)
            elif how == _LOCATED:
                value = field.spec_from_located(view, found.get(index))
            else:
                value = field.spec_value(view)
            if value is None and not (says_none and field.says_none_for(view)):
                continue
            if type(key) is str:
                out[key] = value
            else:
                target = out
                for part in key[:-1]:
                    target = target.setdefault(part, {})
                target[key[-1]] = value


def _walk(node: _Node, element: etree._Element, found: dict[int, Any]) -> None:
    for index in node.elements:
        found[index] = element
    attrs: dict[Any, list[int]] = node.attrs  # lxml types names as str | bytes
    if attrs:
        for name, value in element.items():
            indexes = attrs.get(name)
            if indexes is not None:
                for index in indexes:
                    found[index] = value
    if node.texts:
        text = element.text
        # whitespace before child elements is indentation, not a value (as Field.raw reads it)
        if text is not None and (not len(element) or text.strip()):
            for index in node.texts:
                found[index] = text
    children = node.children
    if children:
        seen: set[str] = set()
        for child in element:
            tag = child.tag
            below = children.get(tag)
            if below is not None and tag not in seen:  # the first child of a tag, as a search finds it
                seen.add(tag)
                _walk(below, child, found)


def plan_for(view_class: type[Any], mode: str) -> ReadPlan:
    """The class's plan, compiled on first use (and again if its fields were replaced)."""
    # Kept in the class's own __dict__ (a subclass compiles its own): one dict lookup
    # per read, where a WeakKeyDictionary costs a Python-level call.
    plans: dict[str, ReadPlan] | None = view_class.__dict__.get("_read_plans")
    if plans is None:
        plans = {}
        type.__setattr__(view_class, "_read_plans", plans)
    plan = plans.get(mode)
    if plan is None or plan.fields is not view_class.fields:
        plan = plans[mode] = ReadPlan(view_class.fields, mode)
    return plan
