"""Read every field of an element in one pass over it (issue 16: ``to_spec`` at lxml speed).

Reading field by field searched the element's children once per field and step: about
50 searches per device, most of them for children the device does not have. A
:class:`ReadPlan` is compiled once per view class from its fields' locations
(:meth:`devframe.core.fields._Base.locate`) into a tree of the paths they read, and that
tree into one function (:mod:`devframe.core.specgen`, source kept as ``plan.source``):
each attribute read with ``get``, the children looked at once, so the work follows what
the element holds, not what the class declares. Values are then converted in
declaration order, so the first bad value reported is the same as a field-by-field read
reports.

A field that reads in its own way (a subclass overriding how it reads) locates nothing
and is asked for its value as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from devframe.core.specgen import AS_IS, EACH, LOCATED, OWN_WAY, SKIP, compile_reader

if TYPE_CHECKING:
    from lxml import etree


# What a plan needs of a field and of a view, as protocols: devframe.core.fields builds
# on this module, so it must not import fields back (not even for types).
class _Base(Protocol):
    spec: str | None

    def locate(self) -> tuple[tuple[str, ...], str, str | None] | None: ...
    def spec_from_located(self, view: Any, found: Any) -> Any: ...
    def spec_value(self, view: Any) -> Any: ...
    def locate_each(self) -> tuple[tuple[tuple[str, ...], str, str | None], ...] | None: ...
    def spec_from_each(self, view: Any, found: tuple[Any, ...]) -> Any: ...
    def reads_when_absent(self) -> bool: ...
    def found_is_value(self) -> bool: ...
    def says_none(self) -> bool: ...
    def says_none_for(self, view: Any) -> bool: ...
    def says_none_per_element(self) -> bool: ...
    def absent_is_none(self) -> bool: ...


class ElementView(Protocol):
    element: etree._Element

    @property
    def fields(self) -> Mapping[str, Any]: ...  # a class's own declaration: read, never set


__all__ = ["ATTR", "ELEMENT", "ITEMS", "TEXT", "ReadPlan", "plan_for"]

#: what a field reads where its path ends: an attribute, the element's text, the element
#: itself, or the element when it holds a child of a tag (``(steps, ITEMS, tag)``: a list
#: of items, read only where there is one; most containers hold none)
ATTR, TEXT, ELEMENT, ITEMS = "attr", "text", "element", "items"


class _Node:
    """The fields reading at one element path, and the paths below it."""

    __slots__ = ("attrs", "children", "elements", "items", "texts")

    def __init__(self) -> None:
        self.attrs: dict[str, list[int]] = {}
        #: by a child's tag: the fields given this element when it holds one
        self.items: dict[str, list[int]] = {}
        self.texts: list[int] = []
        self.elements: list[int] = []
        self.children: dict[str, _Node] = {}


#: how a plan entry turns what was found into its value (_SKIP: a slot read for the caller)
_AS_IS, _LOCATED, _OWN_WAY, _SKIP, _EACH = AS_IS, LOCATED, OWN_WAY, SKIP, EACH
_NO_FIELD = None
#: the child holding libvirt's device alias (``<alias name=...>``)
ALIAS_TAG = "alias"


class ReadPlan:
    """The compiled reading of one view class, for ``to_spec`` (``mode="spec"``: fields
    with a spec key other than ``device``) or ``to_dict`` (``mode="dict"``: every field)."""

    __slots__ = (
        "alias_index",
        "always",
        "check",
        "device_field",
        "device_index",
        "each",
        "entries",
        "fields",
        "reader",
        "root",
        "title",
    )

    def __init__(self, fields: Mapping[str, _Base], mode: str, title: str = "?", check: Any = None) -> None:
        self.fields = fields
        #: what the class's fields carry (:func:`devframe.core.escape.consumed_for`), for
        #: the reader's fast escape check; None: no check (the reader says "clean")
        self.check = check
        self.root = _Node()
        #: per field, in declaration order: (field, key or key parts, how read, None said?)
        self.entries: list[tuple[_Base, str | tuple[str, ...], int, bool]] = []
        always: list[int] = []
        #: per entry read at several places (EACH): the slots of what each place holds
        self.each: dict[int, tuple[int, ...]] = {}
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
            places = None if located is not None else getattr(field, "locate_each", lambda: None)()
            how = _OWN_WAY if located is None else (_AS_IS if field.found_is_value() else _LOCATED)
            if places is not None:
                how = _EACH
            says_none = mode == "spec" and field.says_none()
            parts = tuple(key.split("."))
            self.entries.append((field, parts[0] if len(parts) == 1 else parts, how, says_none))
            if (located is None and places is None) or field.reads_when_absent():
                always.append(index)  # asked every time: read its own way, or has a value when absent
            if located is not None:
                self._place(located, index)
            if places is not None:
                self.each[index] = tuple(self._place(place, self._reserve()) for place in places)
        if mode == "spec":
            # the alias's name, for the deviceId: read in the same pass
            self.alias_index = self._place(((ALIAS_TAG,), ATTR, "name"), self._reserve())
        self.always = frozenset(always)
        self.title = f"{title} {mode}"
        #: the plan as one function (devframe.core.specgen); its Python source is
        #: :attr:`source`, made again when asked (not kept: some hundred KiB for all kinds)
        self.reader = compile_reader(self, self.title)[0]

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
        elif what == ITEMS:
            assert attr is not None
            node.items.setdefault(attr, []).append(index)
        else:
            node.elements.append(index)
        return index

    def read(self, view: ElementView, out: dict[str, Any], want_device: bool = False) -> Any:
        """Put every field's value into ``out`` under its key, in declaration order:
        fields whose value is None are left out, except those that must say None
        (a ``to_spec`` field with a default for this element, absent from it). ``want_device``
        (a "spec" plan): set ``out["device"]`` from the ``device`` field first (its
        value as a str, else the view's dev_type). Returns the alias's name ("spec"
        plans; None without one)."""
        return self.reader(view, view.element, out, want_device)[0]

    @property
    def source(self) -> str:
        """The Python source of :attr:`reader` (for reading and debugging; tracebacks
        name its lines as ``<devframe reader MODULE.CLASS MODE>``)."""
        return compile_reader(self, self.title)[1]

    def fill(self, view: ElementView, out: dict[str, Any]) -> None:
        """:meth:`read` without the device and alias."""
        self.reader(view, view.element, out, False)


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
        # a device class says what its fields carry (devframe.core.escape, which builds on
        # this module through the fields): the spec reader checks it in its pass
        carried = getattr(view_class, "spec_carried", None) if mode == "spec" else None
        check = carried() if carried is not None else None
        title = f"{view_class.__module__}.{view_class.__qualname__}"
        plan = plans[mode] = ReadPlan(view_class.fields, mode, title, check)
    return plan
