"""Small helpers for lxml trees: an edit that keeps the document's text where it was, and
writing one element of a document at a cost that follows the element."""

from __future__ import annotations

import copy
import re
from functools import lru_cache
from operator import attrgetter
from typing import Literal, overload

from lxml import etree

__all__ = ["children_xml", "first_child", "remove_keeping_tail", "subtree_xml"]

#: past this many namespaces in scope, an element is copied before it is written
FEW_NAMESPACES = 16


def first_child(element: etree._Element, tag: str, near: int = 1) -> etree._Element | None:
    """``next(element.iterchildren(tag), None)`` (the first child of ``tag``, no namespace),
    cheaper where libvirt writes that child among the first ``near`` children.

    Most of an ``iterchildren(tag)`` in lxml is making its iterator and tag matcher (about
    six times reading one child), so the first ``near`` children are looked at directly;
    past them the search goes on as before.
    """
    if not len(element):
        return None
    child: etree._Element = element[0]
    # a counted while, not a for over range(): no range object and iterator per call
    # (to_spec and binding call this several times a device)
    while near > 0:
        if child.tag == tag:
            return child
        following = child.getnext()
        if following is None:
            return None
        child = following
        near -= 1
    return child if child.tag == tag else next(child.itersiblings(tag, preceding=False), None)


@overload
def subtree_xml(element: etree._Element) -> str: ...
@overload
def subtree_xml(element: etree._Element, *, as_bytes: Literal[True]) -> bytes: ...
def subtree_xml(element: etree._Element, *, as_bytes: bool = False) -> str | bytes:
    """``element`` as XML (without its tail), declaring only the namespaces it uses once
    the document declares many.

    lxml writes an element of a document with every namespace declared on its ancestors,
    each one checked against those already added: the cost grows with the square of the
    declarations in scope (40,000 on ``<domain>`` took seconds per device). A copy of
    the element declares only the namespaces its own nodes use, so past a few
    declarations in scope the copy is written instead. Both forms are the same XML.
    """
    parent = element.getparent()
    if parent is not None and len(parent.nsmap) > FEW_NAMESPACES:
        element = copy.deepcopy(element)
    if as_bytes:
        return etree.tostring(element, with_tail=False)
    return etree.tostring(element, encoding="unicode", with_tail=False)


def children_xml(parent: etree._Element, written: bytes | None = None) -> tuple[bytes, list[bytes]] | None:
    """``parent`` written once and cut into its children: (its start tag, each child's
    XML without its tail), or None where no cut is sure to be exact. ``written``:
    ``subtree_xml(parent, as_bytes=True)`` when the caller wrote it just now.

    Writing each child on its own costs about 1.3 times writing them all at once (every
    call sets up a writer and copies the namespaces in scope). The cut needs the layout
    of an indented document: whitespace before every child (the parent's text and every
    tail but the last), nothing but whitespace after the last, and no entity reference
    among the children. Each child's XML then follows one of those whitespace runs and
    starts with ``<`` plus a name, ``!`` or ``?``; the cut is exact when such a run
    followed by such a start occurs once per child (deeper indentation never matches a
    run; a child holding one inside makes the count differ, and the answer is None).

    Equal pieces under equal start tags are equal children: the start tag declares every
    namespace in scope.
    """
    count = len(parent)
    if not count:
        return None
    children = list(parent)
    last = children[-1].tail
    if last is not None and last.strip(_LAYOUT):
        return None
    runs = set(map(_tail, children[:-1]))
    runs.add(parent.text)
    if None in runs or any(run.strip(_LAYOUT) for run in runs):
        return None
    if any(issubclass(kind, etree._Entity) for kind in set(map(type, children))):
        return None
    data = subtree_xml(parent, as_bytes=True) if written is None else written
    head, *pieces = _child_starts(tuple(sorted(runs))).split(data[: data.rfind(b"</")])
    if len(pieces) != count:
        return None
    pieces[-1] = pieces[-1].rstrip(_LAYOUT_BYTES)
    return head, pieces


#: whitespace that is written as it is (a carriage return is written as ``&#13;``)
_LAYOUT = " \n\t"
_LAYOUT_BYTES = _LAYOUT.encode()
_tail = attrgetter("tail")


@lru_cache(maxsize=16)
def _child_starts(runs: tuple[str, ...]) -> re.Pattern[bytes]:
    """Matches one of ``runs`` where a start tag, comment or instruction follows it."""
    return re.compile(b"(?:" + b"|".join(re.escape(run.encode()) for run in runs) + rb")(?=<[^/])")


def remove_keeping_tail(element: etree._Element) -> None:
    """Take ``element`` out of its parent; text after it that is not just whitespace stays
    in place (it belongs to the parent, not to the element)."""
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
