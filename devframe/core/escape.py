"""The raw-XML escape: what a device's element holds that no field carries (issue 15 item 7).

A dev_spec carries a device through its fields; the element may hold more: a newer
libvirt's attribute, a namespaced extension, a second ``<target>`` where a field reads
the first. None of it may be lost on the way XML -> dev_spec -> XML, so ``to_spec``
puts it in ``specParams.xml`` and ``device_from_spec`` puts it back. One rule for every
kind, derived from the declared fields, so a plugin gets it without writing anything.

What counts as carried (*consumed*) is derived once per view class from its fields
(:func:`consumed_for`): the attributes and text of each element a field reads, the
first child of each tag a field reads under (the compiled readers take the first), every
child of a tag a :class:`~devframe.core.fields.Children` reads, the views of
:class:`~devframe.core.fields.Child` and :class:`~devframe.core.fields.Chain`, every
attribute of the guest address. A class that reads more of its element in its own
``write_spec`` lists those places in ``spec_consumes`` (paths as fields write them;
``tag[*]`` for every child of a tag, ``@*`` for every attribute). Comments and
processing instructions are not carried: libvirt drops them when it defines a domain.

``to_spec`` asks :func:`escape_of` only where the class's compiled reader
(:mod:`devframe.core.specgen`), checking each element it passes against the same
:class:`Consumed` tree, met something not carried (or a comment): most devices hold
nothing more, and their escape costs no second walk. The reader's check only says
"maybe"; the escape is always this module's.

The escape's shape, version 1 (a JSON-friendly dict)::

    specParams.xml = {
        "version": 1,
        ".": {"attrs": {"foo": "bar"}, "children": ["<weird a=\\"1\\">t</weird>"]},
        "codec": {"attrs": {"zz": "1"}},
        "source/host[1]": {"text": "..."},
    }

Each key but ``version`` is an element path from the device's element (``.``: the
element itself; ``tag[n]``: the n-th, from 0, of its siblings of that tag;
``tag[@name=value]``: the device's child of a tag in the class's ``unordered_children``
with that ``name``, since the spec rebuilds those in an order of its own), each value
says what that element holds beyond the fields: ``attrs`` (names in Clark notation for
a namespaced one), ``text``, ``children`` (whole elements, serialized). The drive
plugin's earlier shape (``{"disk": [xml, ...], "source": [...], "driver": [...]}``, no
``version``: unknown children of the disk, its source, its driver) is still read.

Applying it back: attributes and text are set on the element the path names;
children are inserted in the class's ``child_order`` where it names their tag, else
(on the device element) before ``<alias>``/``<address>`` as libvirt writes them, else at
the end. An escape naming what a field carries (an attribute a field reads, a child a
field would read) is a conflict, refused with a :class:`~devframe.SpecError`: the field
is the one place of a value. So is a path the built element does not have, and XML that
does not parse (through :func:`devframe.core.safexml.parse_xml`, with its limits).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from lxml import etree

from devframe.core import fields as f
from devframe.core.errors import SpecError, XMLError
from devframe.core.limits import DEVICE_DEPTH, MAX_DEPTH, attribute_problem, name_problem, text_problem
from devframe.core.safexml import parse_xml
from devframe.core.xmledit import subtree_xml

__all__ = ["ESCAPE_KEY", "ESCAPE_VERSION", "Consumed", "apply_escape", "consumed_for", "escape_of"]

#: the spec key under ``specParams`` holding the escape
ESCAPE_KEY = "xml"
#: the version of the escape's shape this release writes
ESCAPE_VERSION = 1
#: the path of the device's own element in the escape
SELF_PATH = "."
#: the children libvirt writes last in every device: escaped children go before them
_LAST_CHILDREN = ("alias", "address")
_ENTRY_KEYS = frozenset({"attrs", "text", "children"})
_STEP = re.compile(r"^([^\[\]/@]+)(?:\[(\d{1,6})\])?$")
#: a step naming an unordered child by its name: ``channel[@name=main]``
_NAMED_STEP = re.compile(r"^([^\[\]/@]+)\[@name=([^\[\]/]+)\]$")
_NAME_VALUE = re.compile(r"^[^\[\]/]+$")


class Consumed:
    """What the fields of one view class carry at one element (frozen once built).

    ``attrs``: the attribute names read (``any_attrs``: every one); ``text``: whether the
    text is; ``children``: per tag, what is carried of that child; ``multi``: the tags of
    which every child is carried (else the first only); ``other``: what is carried of a
    child of any other tag (the guest address's parts), None: nothing; ``order``: the
    ``child_order`` of the view owning this element (for inserting escaped children).
    """

    __slots__ = ("any_attrs", "attrs", "children", "multi", "order", "other", "text")

    def __init__(self) -> None:
        self.attrs: frozenset[str] | set[str] = set()
        self.any_attrs = False
        self.text = False
        self.children: dict[str, Consumed] = {}
        self.multi: frozenset[str] | set[str] = set()
        self.other: Consumed | None = None
        self.order: tuple[str, ...] = ()

    def child(self, tag: str, *, every: bool = False) -> Consumed:
        """The (mutable, while building) node of child ``tag``, made on first use."""
        node = self.children.get(tag)
        if node is None:
            node = self.children[tag] = Consumed()
        if every:
            self.multi.add(tag)  # type: ignore[union-attr]
        return node

    def merge(self, other: Consumed, seen: dict[int, Consumed] | None = None) -> None:
        """Add what ``other`` carries to this node (a view's fields under a field's path)."""
        seen = {} if seen is None else seen
        if id(other) in seen:
            return
        seen[id(other)] = self
        self.attrs = set(self.attrs) | set(other.attrs)
        self.any_attrs = self.any_attrs or other.any_attrs
        self.text = self.text or other.text
        self.multi = set(self.multi) | set(other.multi)
        self.order = self.order or other.order
        if other.other is not None:
            if self.other is None:
                self.other = Consumed()
            self.other.merge(other.other, seen)
        for tag, node in other.children.items():
            if id(node) in seen:  # a chain: the link's node holds itself
                self.children[tag] = seen[id(node)]
            else:
                self.child(tag).merge(node, seen)

    def holds_unknown(self, element: etree._Element) -> bool:
        """Whether ``element`` (at this node) holds anything not carried: the check of
        :func:`escape_of` without its paths, for the compiled readers' fast check of
        what they do not walk themselves (:mod:`devframe.core.specgen`)."""
        out: dict[str, Any] = {}
        _scan(element, self, element, out)
        return bool(out)

    def freeze(self, done: set[int] | None = None) -> Consumed:
        done = set() if done is None else done
        if id(self) in done:
            return self
        done.add(id(self))
        self.attrs = frozenset(self.attrs)
        self.multi = frozenset(self.multi)
        for node in self.children.values():
            node.freeze(done)
        if self.other is not None:
            self.other.freeze(done)
        return self


# -- what a class carries -------------------------------------------------------------------


def _steps(path: str) -> tuple[list[tuple[str, bool]], str | None]:
    """A declared path as ``([(tag, every), ...], attribute or None)``; ``"."`` is none."""
    if path in (".", ""):
        return [], None
    elems, _, attr = path.partition("@")
    steps = []
    for step in (s for s in elems.split("/") if s):
        every = step.endswith("[*]")
        steps.append((step[:-3] if every else step, every))
    return steps, (attr or None) if "@" in path else None


def _mark(node: Consumed, path: str) -> Consumed:
    """Mark ``path`` (a field path, ``tag[*]`` and ``@*`` allowed) carried; return its node."""
    steps, attr = _steps(path)
    for tag, every in steps:
        node = node.child(tag, every=every)
    if attr == "*":
        node.any_attrs = True
    elif attr is not None:
        node.attrs.add(attr)  # type: ignore[union-attr]
    elif steps or path == ".":
        node.text = True  # an element's path without an attribute: its text (as a Field reads)
    return node


def _field_into(node: Consumed, field: Any, building: dict[type, Consumed]) -> None:
    """Mark what ``field`` carries (dispatch on devframe's field kinds; a field of
    another kind offers ``consumes()``, paths, or is taken at its ``path``)."""
    own = getattr(field, "consumes", None)
    if callable(own):
        for path in own():
            _mark(node, path)
        return
    if isinstance(field, f.AddressField):
        target = node
        for step in field.steps:
            target = target.child(step)
        target.any_attrs = True
        if target.other is None:
            target.other = Consumed()
        target.other.any_attrs = True  # s390's <zpci uid fid>, as a dict of its attributes
        return
    if isinstance(field, f.Children):
        target = node
        for step in field.container_steps:
            target = target.child(step)
        target.child(field.tag, every=True).merge(_view_node(field.item, building))
        return
    if isinstance(field, f.Child):
        target = node
        for step in field.steps:
            target = target.child(step)
        target.merge(_view_node(field.item, building))
        return
    if isinstance(field, f.Chain):
        link = Consumed()
        link.merge(_view_node(field.item, building))
        link.children[field.tag] = link  # each link nests the next one
        node.children[field.tag] = link
        return
    if isinstance(field, f.EmptyElements):
        for path in field.paths:
            target = node
            for tag, _ in _steps(path)[0]:
                target = target.child(tag)
        return
    if isinstance(field, f.Flag):
        target = node
        for step in field.steps:
            target = target.child(step)
        return
    path = getattr(field, "path", None)
    if isinstance(path, str):
        _mark(node, path)


def _view_node(view_class: type, building: dict[type, Consumed]) -> Consumed:
    """What ``view_class``'s fields (and its ``spec_consumes``) carry of its element."""
    found = building.get(view_class)
    if found is not None:
        return found
    node = building[view_class] = Consumed()
    node.order = tuple(getattr(view_class, "child_order", ()))
    for field in getattr(view_class, "fields", {}).values():
        _field_into(node, field, building)
    for path in getattr(view_class, "spec_consumes", ()):
        _mark(node, path)
    return node


def consumed_for(view_class: type) -> Consumed:
    """What the class carries through a dev_spec, derived from its fields on first use
    and kept on the class (again if its fields were replaced)."""
    cached = view_class.__dict__.get("_escape_consumed")
    fields = getattr(view_class, "fields", None)
    if cached is not None and cached[0] is fields:
        return cached[1]  # type: ignore[no-any-return]
    node = _view_node(view_class, {}).freeze()
    type.__setattr__(view_class, "_escape_consumed", (fields, node))
    return node


# -- to_spec: what the element holds beyond it -----------------------------------------------


def _path(element: etree._Element, root: etree._Element, unordered: tuple[str, ...] = ()) -> str:
    """The escape path of ``element`` in the device ``root``: steps ``tag`` (the first of
    its tag) or ``tag[n]`` (the n-th). A child of the device of a tag the class keeps
    in no order (``unordered_children``: a spice graphics' channels, rebuilt from the
    spec in libvirt's order) is named by its ``name``, ``tag[@name=value]``, where it has
    one that fits a step. Made only where something is recorded."""
    steps: list[str] = []
    while element is not root:
        tag = str(element.tag)
        parent = element.getparent()
        name = element.get("name") if parent is root and tag in unordered else None
        if name is not None and _NAME_VALUE.match(name):
            steps.append(f"{tag}[@name={name}]")
        else:
            index = sum(1 for _ in element.itersiblings(tag, preceding=True))
            steps.append(tag if index == 0 else f"{tag}[{index}]")
        if parent is None:  # not below root (never for a device's own elements)
            break
        element = parent
    return "/".join(reversed(steps)) or SELF_PATH


def _entry(
    out: dict[str, Any], element: etree._Element, root: etree._Element, unordered: tuple[str, ...] = ()
) -> dict[str, Any]:
    path = _path(element, root, unordered)
    entry: dict[str, Any] | None = out.get(path)
    if entry is None:
        entry = out[path] = {}
    return entry


def _scan(
    element: etree._Element, node: Consumed, root: etree._Element, out: dict[str, Any], unordered: tuple[str, ...] = ()
) -> None:
    # The common case, nothing unknown, costs per element a subset test of its attribute
    # names and a look at its text; a leaf child is checked here, without a call.
    if not node.any_attrs:
        keys = element.keys()
        if keys and not node.attrs.issuperset(keys):
            unknown = {name: element.get(name) for name in keys if name not in node.attrs}
            _entry(out, element, root, unordered)["attrs"] = unknown
    text = element.text
    if text is not None and not node.text and text.strip():
        _entry(out, element, root, unordered)["text"] = text
    children = node.children
    other = node.other
    multi = node.multi
    seen: set[str] | None = None
    # el[0]/getnext() rather than lxml's child iterator, which costs about five child
    # reads to make (and is made for a leaf too): the same children in the same order
    following = element[0] if len(element) else None
    while following is not None:
        child = following
        following = child.getnext()
        tag = child.tag
        if type(tag) is not str:
            continue  # a comment or processing instruction: not carried (libvirt drops them)
        below = children.get(tag, other)
        if below is None:
            _entry(out, element, root, unordered).setdefault("children", []).append(_serialized(child))
            continue
        if tag not in multi:
            if seen is None:
                seen = {tag}
            elif tag in seen:
                # a second child where a field reads the first: kept whole
                _entry(out, element, root, unordered).setdefault("children", []).append(_serialized(child))
                continue
            else:
                seen.add(tag)
        if not len(child):  # a leaf, checked inline
            if not below.any_attrs:
                keys = child.keys()
                if keys and not below.attrs.issuperset(keys):
                    _scan(child, below, root, out, unordered)
                    continue
            text = child.text
            if text is not None and not below.text and text.strip():
                _scan(child, below, root, out, unordered)
            continue
        _scan(child, below, root, out, unordered)


def _serialized(element: etree._Element) -> str:
    return subtree_xml(element)  # at a cost bounded however many namespaces the domain declares


def escape_of(view_class: type, element: etree._Element) -> dict[str, Any] | None:
    """The escape of ``element`` (a device of ``view_class``): what it holds that the
    class does not carry, in the shape of version 1; None when there is nothing."""
    out: dict[str, Any] = {}
    _scan(element, consumed_for(view_class), element, out, getattr(view_class, "unordered_children", ()))
    if not out:
        return None
    return {"version": ESCAPE_VERSION, **out}


# -- from_spec: putting it back -------------------------------------------------------------


#: the containers of the drive plugin's shape before version 1 (beside the device's tag)
_LEGACY_CONTAINERS = ("source", "driver")


def _entries(escape: Mapping[str, Any], root_tag: str, base: str, where: str) -> list[tuple[str, Any, str]]:
    """``(path, entry, key of its children in errors)`` of each element the escape names.

    The drive plugin's shape before version 1 (``{"disk": [xml, ...], "source": [...],
    "driver": [...]}``: no version, children of the disk and of its first source and
    driver) is read as the same entries, named in errors as it was given."""
    version = escape.get("version")
    if version is None and escape and all(isinstance(v, list) for v in escape.values()):
        out = []
        for key, items in escape.items():
            if key != root_tag and key not in _LEGACY_CONTAINERS:
                expected = ", ".join((root_tag, *_LEGACY_CONTAINERS))
                raise _refuse(where, f"{base}.{key}", f"not a key of the earlier shape ({expected}); use version 1")
            out.append((SELF_PATH if key == root_tag else key, {"children": items}, f"{base}.{key}"))
        return out
    if version != ESCAPE_VERSION:
        raise _refuse(where, f"{base}.version", f"this release reads version {ESCAPE_VERSION}, got {version!r:.40}")
    out = []
    for path, entry in escape.items():
        if path == "version":
            continue
        if not isinstance(path, str):
            raise _refuse(where, base, f"an element path must be a str, got {type(path).__name__}")
        out.append((path, entry, f"{base}.{path}.children"))
    return out


def _refuse(where: str, key: str, reason: str) -> SpecError:
    return SpecError(f"{where}: dev_spec key {key!r}: {reason}")


def _resolve(
    element: etree._Element, node: Consumed, path: str, where: str, key: str
) -> tuple[etree._Element, Consumed]:
    if path == SELF_PATH:
        return element, node
    root = element
    for step in path.split("/"):
        named = _NAMED_STEP.match(step)
        match = _STEP.match(step) if named is None else named
        if match is None:
            raise _refuse(where, key, f"{step!r} is not an element step (tag, tag[n] or tag[@name=value])")
        tag = match.group(1)
        index = -1 if named is not None else int(match.group(2) or 0)
        below = node.children.get(tag) or node.other
        if below is None:
            raise _refuse(where, key, f"<{tag}> is not an element the device carries; escape it whole")
        if named is not None:
            found = next((c for c in element.iterchildren(tag) if c.get("name") == named.group(2)), None)
        else:
            found = next((c for position, c in enumerate(element.iterchildren(tag)) if position == index), None)
        if found is None and index == 0:
            # An element no field made (one holding only what the escape says, such as an
            # empty <bandwidth/> given an unknown attribute): made here, in its place.
            try:
                found = etree.Element(tag)
            except ValueError:
                raise _refuse(where, key, f"{tag!r} is not an element name") from None
            _insert(element, found, node.order, element is root)
        if found is None:
            raise _refuse(where, key, f"the device built from the spec has no <{tag}> at {path!r}")
        element, node = found, below
    return element, node


def _insert(parent: etree._Element, child: etree._Element, order: tuple[str, ...], at_device: bool) -> None:
    tag = child.tag
    same = list(parent.iterchildren(tag))
    if same:
        same[-1].addnext(child)  # after its siblings of the same tag, as it was read
        _keep_tail(child)
        return
    if tag in order:
        rank = order.index(tag)
        for sibling in parent:
            if isinstance(sibling.tag, str) and sibling.tag in order and order.index(sibling.tag) > rank:
                sibling.addprevious(child)
                return
    elif at_device:
        for sibling in parent:
            if sibling.tag in _LAST_CHILDREN:
                sibling.addprevious(child)
                return
    parent.append(child)


def _keep_tail(child: etree._Element) -> None:
    previous = child.getprevious()
    if previous is not None:
        child.tail, previous.tail = previous.tail, child.tail


def _depth(element: etree._Element) -> int:
    deepest = depth = 0
    for event, _ in etree.iterwalk(element, events=("start", "end")):
        depth += 1 if event == "start" else -1
        deepest = max(deepest, depth)
    return deepest


def apply_escape(view_class: type, element: etree._Element, escape: Any, where: str) -> None:
    """Put a dev_spec's escape (``specParams.xml``) back into ``element``, a device of
    ``view_class`` built from the rest of the spec. ``where`` names the device in errors.

    Raises :class:`SpecError` naming the key path for an escape that is not of the shape,
    names what a field carries, names an element the device does not have, or holds XML
    that does not parse or is nested past the reader's depth limit.
    """
    base = f"specParams.{ESCAPE_KEY}"
    if not isinstance(escape, Mapping):
        raise _refuse(where, base, f"expected a dict, got {type(escape).__name__}")
    root = consumed_for(view_class)
    for path, entry, children_key in _entries(escape, str(element.tag), base, where):
        key = f"{base}.{path}"
        if not isinstance(entry, Mapping) or not set(entry) <= _ENTRY_KEYS:
            raise _refuse(where, key, "expected a dict of attrs, text and children")
        target, node = _resolve(element, root, path, where, key)
        depth = DEVICE_DEPTH + (0 if path == SELF_PATH else path.count("/") + 1)
        _apply_attrs(target, node, entry.get("attrs"), where, f"{key}.attrs")
        _apply_text(target, node, entry.get("text"), where, f"{key}.text")
        _apply_children(target, node, entry.get("children"), where, children_key, depth, path == SELF_PATH)


def _apply_attrs(target: etree._Element, node: Consumed, attrs: Any, where: str, key: str) -> None:
    if attrs is None:
        return
    if not isinstance(attrs, Mapping):
        raise _refuse(where, key, f"expected a dict of attribute names and values, got {type(attrs).__name__}")
    for name, value in attrs.items():
        named = f"{key}.{name}"
        if not isinstance(name, str) or not isinstance(value, str):
            raise _refuse(where, named, "attribute names and values are str")
        if node.any_attrs or name in node.attrs:
            raise _refuse(where, named, "a field carries this attribute: set it through its spec key")
        if target.get(name) is not None:
            raise _refuse(where, named, "the device built from the spec has this attribute already")
        problem = name_problem(name.rpartition("}")[2]) or attribute_problem(value)
        if problem is None:
            try:
                target.set(name, value)
            except (ValueError, TypeError) as exc:
                problem = f"not an XML attribute ({exc})"
        if problem is not None:
            raise _refuse(where, named, problem)


def _apply_text(target: etree._Element, node: Consumed, text: Any, where: str, key: str) -> None:
    if text is None:
        return
    if not isinstance(text, str):
        raise _refuse(where, key, f"expected a str, got {type(text).__name__}")
    if node.text:
        raise _refuse(where, key, "a field carries this element's text: set it through its spec key")
    if target.text is not None and target.text.strip():
        raise _refuse(where, key, "the device built from the spec has text there already")
    problem = text_problem(text)
    if problem is None:
        try:
            target.text = text
        except (ValueError, TypeError) as exc:
            problem = f"XML cannot hold this text ({exc})"
    if problem is not None:
        raise _refuse(where, key, problem)


def _apply_children(
    target: etree._Element, node: Consumed, children: Any, where: str, key: str, depth: int, at_device: bool
) -> None:
    if children is None:
        return
    if isinstance(children, (str, bytes)) or not isinstance(children, Iterable):
        raise _refuse(where, key, "expected a list of XML elements (str)")
    for position, text in enumerate(list(children)):
        named = f"{key}[{position}]"
        if not isinstance(text, str):
            raise _refuse(where, named, f"expected an XML element as a str, got {type(text).__name__}")
        try:
            child = parse_xml(text, source=f"{where}, dev_spec key {named!r}").getroot()
        except XMLError as exc:
            raise SpecError(f"{where}: dev_spec key {named!r}: {exc}") from None
        if child.getprevious() is not None or child.getnext() is not None:
            raise _refuse(where, named, "holds something beside its element (a comment, an instruction)")
        tag = child.tag
        if not isinstance(tag, str):
            raise _refuse(where, named, "expected an element")
        if tag in node.multi or (tag in node.children and next(target.iterchildren(tag), None) is None):
            raise _refuse(where, named, f"a field carries <{tag}> here: set it through its spec key")
        if node.other is not None and next(target.iterchildren(tag), None) is None:
            raise _refuse(where, named, f"a field carries <{tag}> here: set it through its spec key")
        if depth + _depth(child) > MAX_DEPTH:
            raise _refuse(where, named, f"nested past the XML reader's depth limit of {MAX_DEPTH}")
        child.tail = None
        _insert(target, child, node.order, at_device)
