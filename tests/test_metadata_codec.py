"""The metadata codec: exact round trips of JSON-like values, safe and precise failures."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from devframe import DevframeError, MetadataError
from devframe.core.metadata import NS, codec, decode_map, decode_value, encode_map, encode_value, same_value

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=8), inner, max_size=4),
    ),
    max_leaves=20,
)


def round_trip(key: str, value: Any) -> Any:
    """Encode under a parent, serialize, parse again, decode."""
    parent = etree.Element(f"{{{NS}}}vm", nsmap={"ovirt-vm": NS})
    encode_value(parent, key, value, ns=NS)
    again = etree.fromstring(etree.tostring(parent))
    return decode_map(again, ns=NS)[key]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=10), json_values)
def test_any_json_value_round_trips_exactly(key: str, value: Any) -> None:
    back = round_trip(key, value)
    assert same_value(back, value), (value, back)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_maps_round_trip_through_pretty_printing(mapping: dict[str, Any]) -> None:
    assert same_value(decode_map(pretty_printed(mapping), ns=NS), mapping)


def pretty_printed(mapping: dict[str, Any]) -> etree._Element:
    """``mapping`` encoded as a device entry, indented, written and parsed again."""
    parent = etree.Element(f"{{{NS}}}device", nsmap={"ovirt-vm": NS})
    encode_map(parent, mapping, ns=NS)
    etree.indent(parent)
    return etree.fromstring(etree.tostring(parent, pretty_print=True))


@pytest.mark.parametrize(
    "value",
    [1, "1", 1.0, True, False, 0, "", [], {}, None, [[]], [{}], {"": ""}, "true", "0", -0.0, 1e300, math.inf],
)
def test_distinct_values_stay_distinct(value: Any) -> None:
    back = round_trip("v", value)
    assert type(back) is type(value) and same_value(back, value)


def test_same_value_compares_types() -> None:
    assert not same_value(1, 1.0)
    assert not same_value(1, True)
    assert not same_value({"a": 1}, {"a": "1"})
    assert same_value({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]})


def test_plain_values_use_the_ovirt_form() -> None:
    parent = etree.Element(f"{{{NS}}}device", nsmap={"ovirt-vm": NS})
    encode_map(
        parent,
        {"domainID": "abc", "index": 2, "shared": False, "startTime": 1.5, "specParams": {"x": "y"}},
        ns=NS,
    )
    xml = etree.tostring(parent, encoding="unicode")
    assert "<ovirt-vm:domainID>abc</ovirt-vm:domainID>" in xml
    assert '<ovirt-vm:index type="int">2</ovirt-vm:index>' in xml
    assert '<ovirt-vm:shared type="bool">false</ovirt-vm:shared>' in xml
    assert '<ovirt-vm:startTime type="float">1.5</ovirt-vm:startTime>' in xml
    assert "<ovirt-vm:specParams><ovirt-vm:x>y</ovirt-vm:x></ovirt-vm:specParams>" in xml


def test_volume_chain_is_a_list_of_nodes_without_markers() -> None:
    parent = etree.Element(f"{{{NS}}}device", nsmap={"ovirt-vm": NS})
    chain = [{"volumeID": "v1", "leaseOffset": 0}, {"volumeID": "v2", "leaseOffset": 0}]
    encode_map(parent, {"volumeChain": chain}, ns=NS)
    xml = etree.tostring(parent, encoding="unicode")
    assert xml.count("<ovirt-vm:volumeChainNode>") == 2 and 'type="list"' not in xml
    assert decode_map(parent, ns=NS) == {"volumeChain": chain}


def test_keys_that_are_not_xml_names_round_trip() -> None:
    value = {"1st": 1, "a b": "c", "x:y": [], "": {}, "item": "plain"}
    parent = etree.Element(f"{{{NS}}}vm", nsmap={"ovirt-vm": NS})
    encode_map(parent, value, ns=NS)
    xml = etree.tostring(parent, encoding="unicode")
    assert 'key="1st"' in xml and 'key="a b"' in xml
    assert same_value(decode_map(etree.fromstring(xml), ns=NS), value)


def test_text_xml_cannot_hold_round_trips() -> None:
    for text in ("nul\x00byte", "\x1b[31m", "\ud800lone", "cr\r\nlf"):
        assert round_trip("t", text) == text
        assert round_trip(text, "v") == "v"


def test_nothing_is_evaluated() -> None:
    # A pickle-style marker is refused, not executed or guessed at.
    parent = etree.fromstring(f'<v xmlns:o="{NS}"><o:x type="pickle">cos\nsystem\n(S\'true\'\ntR.</o:x></v>')
    with pytest.raises(MetadataError) as info:
        decode_map(parent, ns=NS)
    assert "pickle" in str(info.value) and "/v/o:x" in str(info.value)


@pytest.mark.parametrize(
    ("xml", "needle"),
    [
        ('<o:n type="int">4.5</o:n>', "type='int'"),
        ('<o:n type="int"></o:n>', "type='int'"),
        ('<o:n type="float">fast</o:n>', "type='float'"),
        ('<o:n type="bool">maybe</o:n>', "type='bool'"),
        ('<o:n type="none">x</o:n>', "type='none'"),
        ('<o:n type="dict">text</o:n>', "type='dict'"),
        ('<o:n type="list"><o:other/></o:n>', "list item"),
        ("<o:n>text<o:k>v</o:k></o:n>", "mixed"),
        ("<o:n><o:k>1</o:k><o:k>2</o:k></o:n>", "twice"),
        ('<o:n type="str" encoding="rot13">x</o:n>', "encoding"),
        ('<o:n type="str" encoding="base64">***</o:n>', "base64"),
    ],
)
def test_malformed_values_name_the_element(xml: str, needle: str) -> None:
    root = etree.fromstring(f'<domain xmlns:o="{NS}"><metadata><o:vm>{xml}</o:vm></metadata></domain>')
    vm = root[0][0]
    with pytest.raises(MetadataError) as info:
        decode_map(vm, ns=NS)
    message = str(info.value)
    assert needle in message
    assert "/domain/metadata/o:vm/o:n" in message
    assert isinstance(info.value, DevframeError)


def test_unsupported_python_values_are_refused() -> None:
    parent = etree.Element("p")
    with pytest.raises(MetadataError, match="set"):
        encode_value(parent, "k", {1, 2}, ns=NS)
    with pytest.raises(MetadataError, match="str"):
        encode_value(parent, "k", {1: "int key"}, ns=NS)


def test_untyped_producers_read_as_strings_and_known_lists() -> None:
    root = etree.fromstring(
        f'<o:device xmlns:o="{NS}"><o:index>0</o:index><o:empty/><o:portMirroring/>'
        "<o:custom><o:queues>4</o:queues></o:custom></o:device>"
    )
    assert decode_map(root, ns=NS) == {"index": "0", "empty": "", "portMirroring": [], "custom": {"queues": "4"}}
    assert decode_value(root[0], ns=NS) == "0"


# -- the one-pass reader (decode_map's fast path) against the full reader ------------------------
#
# decode_map reads the forms oVirt writes in one pass (codec._plain_map) and leaves anything
# else to the full reader (codec._checked_map). The one-pass reader must give the full
# reader's value or step aside (_Irregular): never another value, never a value where the
# full reader raises.


def _full(element: etree._Element, **kwargs: Any) -> tuple[str, Any]:
    """What the full reader gives: ("value", v) or ("error", message)."""
    kwargs.setdefault("retype", None)
    kwargs.setdefault("skip", frozenset())
    try:
        return "value", codec._checked_map(element, ns=NS, source="src", **kwargs)
    except MetadataError as exc:
        return "error", str(exc)


def _same_reading(element: etree._Element, **kwargs: Any) -> bool:
    """Check one element both ways; True when the one-pass reader answered itself."""
    expected = _full(element, **kwargs)
    try:
        prefix = f"{{{NS}}}"
        skip = kwargs.get("skip", frozenset())
        quick = codec._plain_map(element, prefix, kwargs.get("retype"), skip, codec._local_names(prefix))
    except codec._Irregular:
        quick = None
    if quick is not None:
        assert expected[0] == "value", (etree.tostring(element), expected)
        assert same_value(quick, expected[1]), (etree.tostring(element), quick, expected)
    try:
        public = ("value", decode_map(element, ns=NS, source="src", **kwargs))
    except MetadataError as exc:
        public = ("error", str(exc))
    assert public[0] == expected[0] and (
        public[1] == expected[1] if public[0] == "error" else same_value(public[1], expected[1])
    )
    return quick is not None


def _metadata_elements(root: etree._Element) -> list[tuple[etree._Element, frozenset[str]]]:
    """Every device entry and VM section of a domain, with the keys decode_map skips there."""
    found: list[tuple[etree._Element, frozenset[str]]] = [(e, frozenset()) for e in root.iter(f"{{{NS}}}device")]
    found += [(vm, frozenset({"device"})) for vm in root.iter(f"{{{NS}}}vm")]
    return found


def test_the_one_pass_reader_reads_every_sample_domain_as_the_full_reader() -> None:
    from devframe.testing import sample_domain_files

    paths = [*sample_domain_files(), *Path(__file__).parent.glob("test_metadata_data/*.xml")]
    answered = 0
    for path in paths:
        root = etree.parse(str(path)).getroot()
        for element, skip in _metadata_elements(root):
            answered += _same_reading(element, skip=skip)
    assert answered >= 5, "the oVirt samples are read in one pass, not all left to the full reader"


def test_the_one_pass_reader_takes_the_engines_forms() -> None:
    root = etree.fromstring(
        f'<o:device xmlns:o="{NS}" devtype="disk" name="vda">\n  <o:domainID>d</o:domainID>\n'
        '  <o:leaseOffset type="int">-0</o:leaseOffset><o:shared type="bool"> YES </o:shared>'
        '<o:f type="float">1e3</o:f><o:n type="none"/><o:s type="str">12</o:s><o:e/>'
        "<o:volumeChain><o:volumeChainNode><o:volumeID>v</o:volumeID></o:volumeChainNode>"
        "<o:volumeChainNode>x</o:volumeChainNode></o:volumeChain>"
        "<o:custom><o:queues>4</o:queues></o:custom></o:device>"
    )
    retype = codec.coercer(lambda key, text: int(text), {"queues": int, "e": int})
    assert _same_reading(root, retype=retype)
    assert decode_map(root, ns=NS, retype=retype) == {
        "domainID": "d",
        "leaseOffset": 0,
        "shared": True,
        "f": 1000.0,
        "n": None,
        "s": "12",
        "e": "",
        "volumeChain": [{"volumeID": "v"}, "x"],
        "custom": {"queues": "4"},  # retyped at the top level only
    }


def _tag(local: str) -> str:
    return f"{{{NS}}}{local}" if not local.startswith("!") else local[1:]


_locals = st.sampled_from(
    ["a", "b", "item", "volumeChain", "volumeChainNode", "portMirroring", "network", "device", "!other", "!{urn:x}a"]
)
_texts = st.sampled_from(
    [None, "", " \n ", "x", "12", " 7 ", "-3", "+0", "1.5", "nan", "yes", "Off", "\u2028", "dGV4dA=="]
)
_attrs = st.dictionaries(
    st.sampled_from(["type", "encoding", "key", "key-encoding", "other"]),
    st.sampled_from(["str", "int", "float", "bool", "none", "dict", "list", "base64", "pickle", "k", "YQ=="]),
    max_size=2,
)
# Near the forms the one-pass reader takes, so that it answers often and its limits are probed.
_usual_locals = st.sampled_from(["a", "b", "c", "d", "e", "f", "volumeChain", "volumeChainNode", "network", "item"])
_usual_texts = st.sampled_from([None, "", " \n  ", "x", "12", "0", "true", "1.5", " 7 ", "\u2028"])
_usual_attrs = st.one_of(
    st.just({}),
    st.sampled_from(["str", "int", "float", "bool", "none", "dict"]).map(lambda kind: {"type": kind}),
    _attrs,
)


@st.composite
def _trees(draw: st.DrawFn, depth: int = 0, usual: bool = False) -> etree._Element:
    """A small tree of our elements, with the markers, stray text, foreign elements and
    comments the full reader must handle (or refuse); ``usual``: mostly what oVirt writes."""
    element = etree.Element(_tag(draw(_usual_locals if usual else _locals)), nsmap={"o": NS})
    for name, value in draw(_usual_attrs if usual else _attrs).items():
        element.set(name, value)
    element.text = draw(_usual_texts if usual else _texts)
    if depth < 3:
        for _ in range(draw(st.integers(0, 3))):
            if draw(st.integers(0, 29 if usual else 9)) == 0:
                child: etree._Element = etree.Comment("c")
                element.append(child)
            else:
                element.append(draw(_trees(depth + 1, usual)))
                child = element[-1]
            child.tail = draw(st.sampled_from([None, "\n  ", " "]) if usual else _texts)
        if usual and len(element) and draw(st.integers(0, 9)):
            element.text = draw(st.sampled_from([None, "\n    "]))  # a container, as written
    return element


@settings(max_examples=600, deadline=None)
@given(st.one_of(_trees(), _trees(usual=True)), st.booleans(), st.booleans())
def test_the_one_pass_reader_agrees_with_the_full_reader_on_any_tree(
    root: etree._Element, retyped: bool, skip_devices: bool
) -> None:
    retype = codec.coercer(lambda key, text: int(text) if text.strip().lstrip("+-").isdigit() else text, {"a": int})
    again = etree.fromstring(etree.tostring(root))  # as read from a document
    for element in (root, again):
        skip = frozenset({"device"}) if skip_devices else frozenset()
        _same_reading(element, retype=retype if retyped else None, skip=skip)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_the_one_pass_reader_agrees_on_what_devframe_writes(mapping: dict[str, Any]) -> None:
    _same_reading(pretty_printed(mapping))
