"""The metadata codec: exact round trips of JSON-like values, safe and precise failures."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from devframe import DevframeError, MetadataError
from devframe.core.metadata import NS, decode_map, decode_value, encode_map, encode_value, same_value

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
    parent = etree.Element(f"{{{NS}}}device", nsmap={"ovirt-vm": NS})
    encode_map(parent, mapping, ns=NS)
    etree.indent(parent)
    again = etree.fromstring(etree.tostring(parent, pretty_print=True))
    assert same_value(decode_map(again, ns=NS), mapping)


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
