"""Small helpers for lxml trees: an edit that keeps the document's text where it was, and
writing one element of a document at a cost that follows the element."""

from __future__ import annotations

import copy
from typing import Literal, overload

from lxml import etree

__all__ = ["first_child", "remove_keeping_tail", "subtree_xml"]

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
