"""Writing changed values back into existing elements with the smallest edit.

A key whose value did not change keeps its element untouched (same text, comments,
formatting); a changed key gets a new element in the same place; a removed key's
element goes, a new key's element is added. New elements get the indentation of
their siblings, so a hand-formatted document stays readable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from devframe.core.errors import MetadataError
from devframe.core.metadata.codec import (
    Retyper,
    _children,
    _key_of,
    decode_value,
    element_depth,
    encode_value,
    same_value,
)

__all__ = ["place", "remove", "replace", "sync_map", "tidy"]


def _indent_of(parent: etree._Element) -> str | None:
    """The whitespace before each child of ``parent``, if the document is indented."""
    text = parent.text
    if text is None or text.strip() or "\n" not in text:
        return None
    return str(text)


def tidy(element: etree._Element, indent: str | None) -> None:
    """Indent a new element's content to sit at ``indent`` (no-op for compact documents)."""
    if indent is None or len(element) == 0:
        return
    level = len(indent.rsplit("\n", 1)[-1])
    etree.indent(element, space="  ", level=max(level // 2, 0))


def place(parent: etree._Element, element: etree._Element, index: int) -> None:
    """Insert ``element`` at ``index`` of ``parent`` with its siblings' whitespace."""
    count = len(parent)
    index = min(max(index, 0), count)
    indent = _indent_of(parent)
    parent.insert(index, element)
    if count == 0:
        outer = parent.tail
        if outer is not None and not outer.strip() and "\n" in outer:
            indent = outer + "  "
            parent.text, element.tail = indent, outer
    elif indent is not None:
        if index == count:  # new last child: it takes the closing whitespace
            before = parent[index - 1]
            element.tail, before.tail = before.tail, indent
        else:
            element.tail = indent
    tidy(element, indent)


def remove(element: etree._Element) -> None:
    """Remove ``element`` and keep the whitespace around it tidy."""
    parent = element.getparent()
    if parent is None:
        return
    previous = element.getprevious()
    if element.getnext() is None:
        if previous is not None:
            previous.tail = element.tail
        elif element.tail is None or not element.tail.strip():
            parent.text = None
    parent.remove(element)
    if len(parent) == 0 and parent.text is not None and not parent.text.strip():
        parent.text = None


def replace(old: etree._Element, new: etree._Element) -> None:
    """Put ``new`` where ``old`` is, with its whitespace."""
    parent = old.getparent()
    assert parent is not None
    new.tail = old.tail
    parent.replace(old, new)
    tidy(new, _indent_of(parent))


def sync_map(
    parent: etree._Element,
    values: Mapping[str, Any],
    *,
    ns: str,
    retype: Retyper | None = None,
    skip: frozenset[str] = frozenset(),
    insert_before: str | None = None,
    source: str | None = None,
) -> bool:
    """Make ``parent``'s children hold ``values``, touching only what differs.

    ``skip``: local names that are not values (``device`` entries inside ``vm``);
    ``insert_before``: new keys go before the first child with this local name.
    Returns True when something was written.
    """
    ns_prefix = f"{{{ns}}}"
    current: dict[str, etree._Element] = {}
    first_skipped: etree._Element | None = None
    for local, child in _children(parent, ns_prefix, source):
        if local in skip:
            if first_skipped is None and local == insert_before:
                first_skipped = child
            continue
        current[_key_of(child, local, source)] = child
    changed = False
    depth = element_depth(parent) + 1  # where the values are written: the scratch parent is not there
    for key, child in current.items():
        if key not in values:
            remove(child)
            changed = True
            continue
        try:
            old = decode_value(child, key, ns=ns, source=source, retype=retype)
            same = same_value(values[key], old)
        except MetadataError:
            same = False  # a malformed value the caller replaced
        if not same:
            scratch = etree.Element("scratch")
            replace(child, encode_value(scratch, key, values[key], ns=ns, retype=retype, depth=depth))
            changed = True
    for key, value in values.items():
        if key in current:
            continue
        scratch = etree.Element("scratch")
        element = encode_value(scratch, key, value, ns=ns, retype=retype, depth=depth)
        if first_skipped is not None:
            position = parent.index(first_skipped)
        else:
            values_els = [c for c in parent if isinstance(c.tag, str) and c.tag.startswith(ns_prefix)]
            last_value = None
            for c in values_els:
                local = c.tag[len(ns_prefix) :]
                if local not in skip:
                    last_value = c
            position = parent.index(last_value) + 1 if last_value is not None else len(parent)
        place(parent, element, position)
        changed = True
    return changed
