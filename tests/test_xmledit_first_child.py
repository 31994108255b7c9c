"""first_child: the first child of a tag, looked at directly among the first few children;
it must answer what ``next(element.iterchildren(tag), None)`` answers, on any children."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from devframe import first_child, parse_domain
from devframe.testing import sample_domain_files

_KINDS = st.sampled_from(["mac", "source", "target", "driver", "x", "{urn:a}mac", "#comment", "#pi"])


def _element(kinds: list[str]) -> etree._Element:
    parent = etree.Element("interface")
    parent.text = "\n  "
    for i, kind in enumerate(kinds):
        if kind == "#comment":
            child: Any = etree.Comment("mac")
        elif kind == "#pi":
            child = etree.ProcessingInstruction("mac", "x")
        else:
            child = etree.Element(kind, n=str(i))
        child.tail = "\n  "
        parent.append(child)
    return parent


@settings(max_examples=400, deadline=None)
@given(st.lists(_KINDS, max_size=7), st.sampled_from(["mac", "source", "target", "nothing"]), st.integers(0, 5))
def test_first_child_is_iterchildren_first(kinds: list[str], tag: str, near: int) -> None:
    element = _element(kinds)
    assert first_child(element, tag, near) is next(element.iterchildren(tag), None)


def test_first_child_on_every_sample_device() -> None:
    files = sample_domain_files()
    assert files
    checked = 0
    for path in files:
        for device in parse_domain(path.read_bytes()).devices:
            for tag in ("mac", "source", "target", "address", "alias", "driver", "nothing"):
                for near in (0, 1, 2, 3):
                    expected = next(device.element.iterchildren(tag), None)
                    assert first_child(device.element, tag, near) is expected
                    checked += expected is not None
    assert checked > 100
