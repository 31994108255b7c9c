"""Why a domain does not validate: which device, which attribute or element, and what
libvirt's schema expects there.

libxml2's RelaxNG engine reports an invalid device as "Extra element devices in
interleave" on ``<domain>``: the ``<devices>`` interleave failed, nothing more.
:func:`explain` narrows it down itself:

1. each device is validated alone, in a minimal domain, so one bad device does not
   hide another, and the rest of the domain is validated without its devices;
2. in a failing element, attributes and then child elements are taken away one at a
   time, deepest first: the one whose removal makes it valid is the problem;
3. the schema is read (RelaxNG is XML: the ``<element>``, ``<attribute>``,
   ``<value>`` and ``<data>`` patterns on the path to that node) for what it accepts
   there: the values, the data types, or the attributes and children it allows.

A value that is an engine placeholder (``DRIVE-PATH:``, ``OS-NAME:``, any
``UPPER-CASE:`` word; see :mod:`devframe.core.resolve`) is named as one; placeholders
the schema happens to accept are listed as notes, since libvirt would take them
literally.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from devframe.core.resolve import find_placeholders, is_placeholder
from devframe.core.safexml import parse_trusted_file
from devframe.schema import _VALIDATE_LOCK, DEFAULT_DOMAIN_SCHEMA, _load, run_limited, schema_path
from devframe.topology import element_label

__all__ = ["Explanation", "Report", "explain", "schema_grammar"]

RNG = "{http://relaxng.org/ns/structure/1.0}"
#: how many alternatives a message lists before "..."
MAX_SHOWN = 24


@dataclass(frozen=True)
class Explanation:
    """One problem: where (line, device, path to the node) and what the schema expects."""

    line: int | None
    #: ``disk:1 (vdb alias=...)``, or None outside ``<devices>``
    device: str | None
    #: ``<disk> <target> @bus``: the elements down to the node, then the attribute
    where: str
    problem: str
    #: what the schema accepts at that place (values, data types, names)
    expected: tuple[str, ...] = ()
    placeholder: str | None = None

    def __str__(self) -> str:
        who = f"{self.device}: " if self.device else ""
        text = f"{who}{self.where}: {self.problem}"
        if self.expected:
            text += f"; libvirt's schema expects: {_shown(self.expected)}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "device": self.device,
            "where": self.where,
            "problem": self.problem,
            "expected": list(self.expected),
            "placeholder": self.placeholder,
        }


@dataclass
class Report:
    """What :func:`explain` found: ``problems`` (empty when valid), ``notes`` (placeholders
    the schema accepts) and libxml2's own messages."""

    problems: list[Explanation] = field(default_factory=list)
    notes: list[Explanation] = field(default_factory=list)
    libxml2: list[tuple[int | None, str]] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.libxml2


def _shown(values: tuple[str, ...]) -> str:
    if len(values) <= MAX_SHOWN:
        return ", ".join(values)
    return ", ".join(values[:MAX_SHOWN]) + f", ... ({len(values) - MAX_SHOWN} more)"


# -- the schema as a grammar -------------------------------------------------------------------


class Grammar:
    """libvirt's RelaxNG schema, includes resolved, for looking things up."""

    def __init__(self, path: Path) -> None:
        self.defines: dict[str, list[etree._Element]] = {}
        self.roots: list[etree._Element] = []
        self._load(path.resolve(), set())

    def _load(self, path: Path, seen: set[Path]) -> None:
        if path in seen:
            return
        seen.add(path)
        root = parse_trusted_file(path).getroot()
        self.roots.append(root)
        for node in root.iter(f"{RNG}define", f"{RNG}include"):
            if node.tag == f"{RNG}include":
                self._load(path.parent / str(node.get("href")), seen)
            else:
                self.defines.setdefault(str(node.get("name")), []).append(node)

    @staticmethod
    def name_of(pattern: etree._Element) -> str | None:
        name = pattern.get("name")
        if name is None:
            child = pattern.find(f"{RNG}name")
            name = child.text.strip() if child is not None and child.text else None
        return name.split(":")[-1] if name else None

    def inside(
        self, pattern: etree._Element
    ) -> tuple[list[etree._Element], list[etree._Element], list[etree._Element]]:
        """The element, attribute and value patterns directly in ``pattern`` (through refs),
        not those of nested elements."""
        elements: list[etree._Element] = []
        attributes: list[etree._Element] = []
        values: list[etree._Element] = []
        seen: set[str] = set()
        stack = list(pattern)
        while stack:
            item = stack.pop()
            tag = item.tag
            if tag == f"{RNG}element":
                elements.append(item)
            elif tag == f"{RNG}attribute":
                attributes.append(item)
            elif tag in (f"{RNG}value", f"{RNG}data", f"{RNG}text"):
                values.append(item)
            elif tag in (f"{RNG}ref", f"{RNG}parentRef"):
                name = str(item.get("name"))
                if name not in seen:
                    seen.add(name)
                    for define in self.defines.get(name, []):
                        stack.extend(define)
            elif tag not in (f"{RNG}name", f"{RNG}anyName", f"{RNG}nsName", f"{RNG}except"):
                stack.extend(item)
        return elements, attributes, values

    def element_patterns(self, path: list[str]) -> list[etree._Element]:
        """The ``<element>`` patterns matching the element path ``["domain", "devices", ...]``."""
        current = [
            node
            for root in self.roots
            for node in root.iter(f"{RNG}element")
            if self.name_of(node) == path[0] and node.getparent() is not None
        ]
        for tag in path[1:]:
            found: dict[int, etree._Element] = {}
            for pattern in current:
                for child in self.inside(pattern)[0]:
                    if self.name_of(child) == tag:
                        found[id(child)] = child
            current = list(found.values())
            if not current:
                break
        return current

    def allowed(self, patterns: list[etree._Element]) -> tuple[list[str], list[str]]:
        """The attribute and child element names the patterns allow (sorted)."""
        attributes: set[str] = set()
        children: set[str] = set()
        for pattern in patterns:
            elements, attrs, _ = self.inside(pattern)
            attributes.update(n for n in (self.name_of(a) for a in attrs) if n)
            children.update(n for n in (self.name_of(e) for e in elements) if n)
        return sorted(attributes), sorted(children)

    def values(self, patterns: list[etree._Element]) -> tuple[str, ...]:
        """What the attribute (or text) patterns accept: values, then data types."""
        found: dict[str, None] = {}
        for pattern in patterns:
            for node in self.inside(pattern)[2]:
                found[self._describe(node)] = None
        return tuple(sorted(found, key=lambda text: (not text.startswith("'"), text)))

    @staticmethod
    def _describe(node: etree._Element) -> str:
        if node.tag == f"{RNG}value":
            return repr((node.text or "").strip())
        if node.tag == f"{RNG}text":
            return "any text"
        kind = str(node.get("type", "data"))
        params = [f"{p.get('name')} {(p.text or '').strip()}" for p in node.iter(f"{RNG}param")]
        text = f"{kind} ({'; '.join(params)})" if params else kind
        return text if len(text) <= 100 else text[:99] + "…"


@functools.lru_cache(maxsize=4)
def schema_grammar(path: str | None = None) -> Grammar:
    """The grammar of the domain schema at ``path`` (default: libvirt's installed one)."""
    return Grammar(Path(path) if path is not None else DEFAULT_DOMAIN_SCHEMA)


# -- narrowing a problem down -----------------------------------------------------------------


def _minimal(root: etree._Element, device: etree._Element) -> etree._ElementTree:
    """A domain holding just ``device``, with what the schema requires around it."""
    domain = etree.Element(root.tag, nsmap=root.nsmap)  # type: ignore[arg-type]  # a None key is the default namespace
    domain.set("type", root.get("type", "kvm"))
    etree.SubElement(domain, "name").text = "explain"
    etree.SubElement(domain, "memory").text = "65536"
    os_element = etree.SubElement(domain, "os")
    etree.SubElement(os_element, "type").text = "hvm"
    etree.SubElement(domain, "devices").append(copy.deepcopy(device))
    return etree.ElementTree(domain)


def _path_in(element: etree._Element, top: etree._Element) -> list[str]:
    """Tags from ``top`` down to ``element`` (both included)."""
    tags = []
    node: etree._Element | None = element
    while node is not None:
        tags.append(etree.QName(node).localname)
        if node is top:
            break
        node = node.getparent()
    return list(reversed(tags))


def _candidates(top: etree._Element) -> Iterator[tuple[etree._Element, str | None]]:
    """(element, attribute) then (element, None) pairs under ``top``, deepest last-first."""
    nodes = [n for n in top.iter() if isinstance(n.tag, str)]
    for node in reversed(nodes):
        for name in reversed(node.attrib.keys()):
            yield node, str(name)
    for node in reversed(nodes[1:]):
        yield node, None


def _culprit(
    relaxng: etree.RelaxNG, grammar: Grammar, document: etree._ElementTree, top: etree._Element, root_path: list[str]
) -> tuple[etree._Element, str | None] | None:
    """The attribute or element under ``top`` that makes ``document`` invalid: the one
    whose removal makes it valid, else an attribute whose value is none of the values
    the schema lists for it (a required one cannot be removed: ``<sound model='x'>``)."""
    for node, attribute in _candidates(top):
        parent = node.getparent()
        if attribute is not None:
            saved = node.attrib.pop(attribute)
            fixed = relaxng.validate(document)
            node.set(attribute, saved)
        elif parent is not None:
            index = parent.index(node)
            parent.remove(node)
            fixed = relaxng.validate(document)
            parent.insert(index, node)
        else:
            fixed = False
        if fixed:
            return node, attribute
    for node, attribute in _candidates(top):
        if attribute is None:
            continue
        path = root_path[:-1] + _path_in(node, top)
        matching = [
            a
            for p in grammar.element_patterns(path)
            for a in grammar.inside(p)[1]
            if grammar.name_of(a) == attribute.split("}")[-1]
        ]
        allowed = [v[1:-1] for v in grammar.values(matching) if v.startswith("'")]
        saved = node.get(attribute) or ""
        if not allowed or saved in allowed or len(allowed) != len(grammar.values(matching)):
            continue  # not an enumeration, or the value is one of it
        for candidate in allowed[:8]:
            node.set(attribute, candidate)
            fixed = relaxng.validate(document)
            node.set(attribute, saved)
            if fixed:
                return node, attribute
    return None


class _Explainer:
    def __init__(self, relaxng: etree.RelaxNG, grammar: Grammar, root: etree._Element) -> None:
        self.relaxng = relaxng
        self.grammar = grammar
        self.root = root

    def device_name(self, element: etree._Element) -> str:
        devices = element.getparent()
        same = [c for c in devices if isinstance(c.tag, str) and c.tag == element.tag] if devices is not None else []
        index = next((i for i, c in enumerate(same) if c is element), 0)
        label = element_label(element)
        detail = label.split(" ", 1)[1] if " " in label else ""
        return f"{etree.QName(element).localname}:{index}" + (f" ({detail})" if detail else "")

    def describe(
        self, original: etree._Element, attribute: str | None, path: list[str], device: str | None
    ) -> Explanation:
        """What is wrong with ``original`` (or its ``attribute``), by the schema."""
        where = _where(path)
        patterns = self.grammar.element_patterns(path)
        line = _line(original)
        if not patterns and len(path) == 1:
            return Explanation(line, device, where, f"this schema does not describe <{path[0]}> documents")
        if not patterns:
            parent_patterns = self.grammar.element_patterns(path[:-1])
            _, children = self.grammar.allowed(parent_patterns)
            return Explanation(
                line,
                device,
                where,
                f"element <{path[-1]}> is not allowed in <{path[-2]}> (this schema's libvirt does not know it there)",
                tuple(f"<{c}>" for c in children),
            )
        if attribute is None:
            return Explanation(
                line, device, where, "this element does not match what libvirt's schema allows here (inside it)"
            )
        value = original.get(attribute)
        where = _where(path, attribute)
        attributes, _ = self.grammar.allowed(patterns)
        name = attribute.split("}")[-1]
        if name not in attributes:
            return Explanation(
                line, device, where, f"attribute {name} is not allowed on <{path[-1]}>", tuple(attributes)
            )
        matching = [a for p in patterns for a in self.grammar.inside(p)[1] if self.grammar.name_of(a) == name]
        expected = self.grammar.values(matching)
        if is_placeholder(value):
            return Explanation(
                line,
                device,
                where,
                f"{value!r} is an unresolved placeholder: resolve it on the host first "
                "(devframe run, or devframe.prepare_domain)",
                expected,
                placeholder=value,
            )
        return Explanation(line, device, where, f"{value!r} is not a value libvirt's schema accepts here", expected)

    def locate(self, document: etree._ElementTree, top: etree._Element, original_top: etree._Element) -> Explanation:
        """Explain the problem under ``top`` (a copy of ``original_top``) in ``document``."""
        device = (
            self.device_name(original_top)
            if original_top.getparent() is not None and _is_device(original_top)
            else None
        )
        top_path = _path_in(original_top, self.root)
        if not self.grammar.element_patterns(top_path):  # a device kind this schema does not know
            return self.describe(original_top, None, top_path, device)
        found = _culprit(self.relaxng, self.grammar, document, top, top_path)
        copy_tree = document
        if found is None:
            attributes, children = self.grammar.allowed(
                self.grammar.element_patterns(_path_in(original_top, self.root))
            )
            return Explanation(
                _line(original_top),
                device,
                _where(_path_in(original_top, self.root)),
                "does not match libvirt's schema, and no single attribute or element is the cause "
                "(something required is missing, or there are several problems)",
                (*(f"@{a}" for a in attributes), *(f"<{c}>" for c in children)),
            )
        node, attribute = found
        relative = copy_tree.getpath(node)[len(copy_tree.getpath(top)) :]
        original = _original(original_top, relative)
        path = _path_in(original, self.root)
        return self.describe(original, attribute, path, device)


def _line(element: etree._Element) -> int | None:
    line = element.sourceline
    return line if isinstance(line, int) and line > 0 else None


def _where(path: list[str], attribute: str | None = None) -> str:
    """``<disk> <target> @bus``: the path from the device (or below ``<domain>``)."""
    tags = path[2:] if len(path) > 2 and path[1] == "devices" else path[1:]
    text = " ".join(f"<{tag}>" for tag in tags) or f"<{path[0]}>"
    return f"{text} @{attribute.split('}')[-1]}" if attribute else text


def _is_device(element: etree._Element) -> bool:
    parent = element.getparent()
    return parent is not None and etree.QName(parent).localname == "devices"


def _original(top: etree._Element, relative: str) -> etree._Element:
    """The element of the original document at ``relative`` (an lxml path) under ``top``."""
    if not relative:
        return top
    found = top.xpath("." + relative)
    if isinstance(found, list) and found and isinstance(found[0], etree._Element):
        return found[0]
    return top


def _explain(relaxng: etree.RelaxNG, grammar: Grammar, tree: etree._ElementTree) -> Report:
    report = Report()
    if relaxng.validate(tree):
        report.libxml2 = []
    else:
        report.libxml2 = [(entry.line or None, entry.message) for entry in relaxng.error_log] or [
            (None, "document does not match the domain schema")
        ]
    root = tree.getroot()
    explainer = _Explainer(relaxng, grammar, root)
    devices = root.find("devices")
    if report.libxml2 and not grammar.element_patterns([etree.QName(root).localname]):
        report.problems.append(explainer.describe(root, None, [etree.QName(root).localname], None))
    elif report.libxml2:
        device_elements = [c for c in devices if isinstance(c.tag, str)] if devices is not None else []
        for element in device_elements:
            alone = _minimal(root, element)
            if relaxng.validate(alone):
                continue
            top = alone.getroot().find("devices")[0]  # type: ignore[index]
            problem = explainer.locate(alone, top, element)
            report.problems.append(problem)
        # The rest of the domain, without its devices.
        rest = copy.deepcopy(root)
        rest_devices = rest.find("devices")
        if rest_devices is not None:
            for child in list(rest_devices):
                rest_devices.remove(child)
        rest_tree = etree.ElementTree(rest)
        if not relaxng.validate(rest_tree):
            report.problems.append(explainer.locate(rest_tree, rest, root))
    for node, attribute, value in find_placeholders(root):
        device_el = next((a for a in node.iterancestors() if _is_device(a)), node if _is_device(node) else None)
        device = explainer.device_name(device_el) if device_el is not None else None
        path = _path_in(node, root)
        where = _where(path, attribute) + ("" if attribute else " (text)")
        if any(p.placeholder == value and p.line == _line(node) for p in report.problems):
            continue
        report.notes.append(
            Explanation(
                _line(node),
                device,
                where,
                f"{value!r} is an unresolved placeholder: the schema accepts the text, so libvirt would "
                "take it literally (devframe run, or devframe.prepare_domain, resolves it)",
                placeholder=value,
            )
        )
    return report


def _explain_at(path: Path, document: etree._ElementTree) -> Report:
    return _explain(_load(path), schema_grammar(str(path)), document)


def explain(
    document: etree._ElementTree,
    *,
    schema: str | Path | None = None,
    timeout: float | None = None,
    source: str | None = None,
) -> Report:
    """Validate ``document`` against libvirt's domain schema and explain each problem.

    ``timeout``: run in a forked child stopped after that many seconds
    (:class:`~devframe.schema.SchemaTimeoutError`): the schema is loaded there too, inside
    the limit, and narrowing a problem down validates small documents many times; None:
    in this process. A missing schema is a :class:`~devframe.schema.SchemaError` first.
    """
    path = schema_path(schema)
    if timeout is None:
        with _VALIDATE_LOCK:
            return _explain_at(path, document)
    result: Report = run_limited(_explain_at, (path, document), timeout, source, path)
    return result
