"""Fuzzing (issue 9 item 2): hostile-but-plausible input never escapes as anything but
a DevframeError, and whatever parses rebuilds losslessly.

Inputs: mutated corpus XML into ``parse_domain``; random values and random XML into
the metadata codec; random and mutated dev_specs into ``device_from_spec``; random
legacy confs for every arch into ``spec_list_from_legacy_conf``. The invariants live in
``fuzz/checks.py``, shared with the atheris harness.

Budget: the ``ci`` profile (default) runs a bounded number of examples per test;
``DEVFRAME_FUZZ=long`` (or ``HYPOTHESIS_PROFILE=long``) runs many more, and
``DEVFRAME_FUZZ_EXAMPLES=N`` sets the count. See docs/reliability.md.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from devframe import ARCHES, DevframeError, Registry, create_registry, parse_domain
from devframe.core.limits import MAX_DEPTH, MAX_INT_DIGITS, MAX_NAME_LENGTH, MAX_START_TAG_BYTES, MAX_TEXT_BYTES
from devframe.core.metadata import NS
from devframe.testing import corpus_files, wrap_in_domain

_CHECKS_PATH = Path(__file__).resolve().parent.parent / "fuzz" / "checks.py"
_spec = importlib.util.spec_from_file_location("devframe_fuzz_checks", _CHECKS_PATH)
assert _spec is not None and _spec.loader is not None
checks = importlib.util.module_from_spec(_spec)
sys.modules["devframe_fuzz_checks"] = checks
_spec.loader.exec_module(checks)

# -- budget ----------------------------------------------------------------------------

_PROFILES = {"ci": 120, "long": 5000}
_PROFILE = os.environ.get("DEVFRAME_FUZZ") or os.environ.get("HYPOTHESIS_PROFILE") or "ci"
_EXAMPLES = int(os.environ.get("DEVFRAME_FUZZ_EXAMPLES") or _PROFILES.get(_PROFILE, _PROFILES["ci"]))

FUZZ = settings(
    max_examples=_EXAMPLES,
    deadline=None,
    database=None,  # CI runs stay reproducible from the seed hypothesis prints on failure
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

# -- shared inputs -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def registry() -> Registry:
    """Every installed plugin, not strict: a plugin failure is kept, and checked below."""
    return create_registry(env={})


_CORPUS = corpus_files()
if not _CORPUS:  # fail loudly: the suite must not go green without its inputs
    raise RuntimeError("tests/test_fuzz.py needs the sample domains (devframe/sample_domains)")
_CORPUS_BYTES = [path.read_bytes() for path in _CORPUS]

DEVICE_TAGS = [
    "disk", "interface", "graphics", "video", "sound", "controller", "rng", "hostdev", "channel",
    "console", "serial", "input", "memballoon", "redirdev", "tpm", "watchdog", "filesystem",
]  # fmt: skip

_XML_CHARS = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters="\x00",
    min_codepoint=0x20,
)
_XML_TEXT = st.text(_XML_CHARS, max_size=40)

attribute_values = st.one_of(
    _XML_TEXT,
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["", " ", "0x", "0xffffffffffffffffff", "-1", "yes", "no", "on", "off", "none", "ua-", "ua-x"]),
    st.sampled_from(["virtio", "pci", "drive", "usb", "ccw", "spice", "vnc", "qxl", "ide", "scsi", "network"]),
    st.text(st.sampled_from("é漢字🙂\u202e\ufeff"), min_size=1, max_size=8),
    st.integers(min_value=1000, max_value=60_000).map(lambda n: "x" * n),  # huge
)
names = st.one_of(
    st.sampled_from(["type", "model", "dev", "bus", "name", "address", "port", "passwd", "slot", "index", "unit"]),
    st.from_regex(r"\A[a-zA-Z_][a-zA-Z0-9_.-]{0,8}\Z"),
)


def _elements(root: etree._Element) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str)]


@st.composite
def mutated_corpus(draw: st.DrawFn) -> bytes:
    """One corpus file with a few structural, attribute, text, injection or byte mutations."""
    original = draw(st.sampled_from(_CORPUS_BYTES))
    root = etree.fromstring(original, etree.XMLParser(resolve_entities=False, no_network=True))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        elements = _elements(root)
        target = elements[draw(st.integers(min_value=0, max_value=len(elements) - 1))]
        parent = target.getparent()
        op = draw(
            st.sampled_from(
                ["drop", "duplicate", "reorder", "attr", "del-attr", "text", "rename", "comment", "pi", "cdata", "ns"]
            )
        )
        try:
            if op == "drop" and parent is not None:
                parent.remove(target)
            elif op == "duplicate" and parent is not None:
                target.addnext(copy.deepcopy(target))
            elif op == "reorder" and len(target) > 1:
                children = list(target)
                order = draw(st.permutations(range(len(children))))
                for child in children:
                    target.remove(child)
                for index in order:
                    target.append(children[index])
            elif op == "attr":
                target.set(draw(names), draw(attribute_values))
            elif op == "del-attr" and target.attrib:
                del target.attrib[draw(st.sampled_from(sorted(target.attrib)))]
            elif op == "text":
                target.text = draw(attribute_values)
            elif op == "rename" and parent is not None:
                target.tag = draw(st.one_of(st.sampled_from(DEVICE_TAGS), names))
            elif op == "comment":
                target.insert(draw(st.integers(0, len(target))), etree.Comment(draw(_XML_TEXT).replace("--", "- -")))
            elif op == "pi":
                target.insert(draw(st.integers(0, len(target))), etree.ProcessingInstruction("app", "x"))
            elif op == "cdata":
                target.text = etree.CDATA(draw(_XML_TEXT).replace("]]>", ""))
            elif op == "ns":
                child = etree.SubElement(
                    target, "{http://example.org/fuzz}ext", nsmap={"fz": "http://example.org/fuzz"}
                )
                child.set("{http://example.org/fuzz}attr", draw(_XML_TEXT))
        except ValueError:
            continue  # lxml refused a value XML cannot hold: not a document we can make
    data: bytes = etree.tostring(root, encoding="utf-8", xml_declaration=draw(st.booleans()))
    byte_op = draw(st.sampled_from(["none", "none", "none", "truncate", "insert", "flip"]))
    if byte_op == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif byte_op == "insert":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
    elif byte_op == "flip" and data:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    return data


# Around every limit of devframe.core.limits (issue 20): integers at, just under and past
# the digits devframe takes (and Python's own 4,300), texts around the name, start-tag and
# text-node limits (plain, escaped, two-byte, base64-bound), nesting around the depth limit.
# (base, exponent, offset): 10**640 - 1 is the largest integer devframe takes; the edges are
# built when drawn, so no strategy's repr holds an integer Python cannot print.
_INT_EDGES = [
    (2, 63, 0), (2, 64, 0), (2, 70, 0), (10, MAX_INT_DIGITS - 1, 0), (10, MAX_INT_DIGITS, -1),
    (10, MAX_INT_DIGITS, 0), (10, MAX_INT_DIGITS, 1), (2, 2200, 0), (10, 4299, 0), (10, 4300, 0), (10, 5000, 0),
]  # fmt: skip
limit_ints = st.builds(
    lambda edge, negative: (-1 if negative else 1) * (edge[0] ** edge[1] + edge[2]),
    st.sampled_from(_INT_EDGES),
    st.booleans(),
)
_SIZES = [
    MAX_NAME_LENGTH - 1, MAX_NAME_LENGTH, MAX_NAME_LENGTH + 1,
    MAX_START_TAG_BYTES // 6, MAX_START_TAG_BYTES - 100, MAX_START_TAG_BYTES + 1,
    MAX_TEXT_BYTES - 1, MAX_TEXT_BYTES, MAX_TEXT_BYTES + 1,
]  # fmt: skip
limit_texts = st.builds(
    lambda size, char: char * max(1, size // len(char.encode())),
    st.sampled_from(_SIZES),
    st.sampled_from(["x", "&", "é", "\x01"]),
)


def _nest(value: Any, depth: int, as_list: bool) -> Any:
    for _ in range(depth):
        value = [value] if as_list else {"a": value}
    return value


def _holding_itself(as_list: bool) -> Any:
    value: Any = [] if as_list else {}
    if as_list:
        value.append([1, value])
    else:
        value["self"] = {"again": value}
    return value


deep_values = st.one_of(
    st.builds(
        _nest,
        st.sampled_from(["x", 1, None]),
        st.sampled_from([MAX_DEPTH - 6, MAX_DEPTH - 5, MAX_DEPTH - 4, MAX_DEPTH - 3, 2000]),
        st.booleans(),
    ),
    st.builds(_holding_itself, st.booleans()),
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    attribute_values,
    limit_ints,
    limit_texts,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(names, st.text(max_size=8)), inner, max_size=4),
    ),
    max_leaves=12,
)
any_values = st.one_of(
    json_values,
    deep_values,
    st.tuples(json_scalars, json_scalars),
    st.binary(max_size=8),
    st.sets(st.integers(), max_size=3),
    st.builds(object),
    st.complex_numbers(allow_nan=False),
    st.dictionaries(st.integers(), json_scalars, min_size=1, max_size=2),
)

# -- parse_domain ------------------------------------------------------------------------


@FUZZ
@given(data=mutated_corpus())
def test_mutated_corpus_xml(registry: Registry, data: bytes) -> None:
    domain = checks.check_parse(data, registry)
    if domain is None:
        return
    # A plugin must not raise while wrapping an element (it is kept, but it is a bug).
    crashed = [d for d in domain.devices if d.error and "failed" in d.error]
    assert not crashed, [d.error for d in crashed]


def test_the_mutator_produces_both_accepted_and_refused_documents(registry: Registry) -> None:
    """Guard against a fuzzer that only feeds garbage (or only the unmodified corpus)."""
    outcomes = {"parsed": 0, "refused": 0}

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(data=mutated_corpus())
    def run(data: bytes) -> None:
        try:
            parse_domain(data, registry=registry)
            outcomes["parsed"] += 1
        except DevframeError:
            outcomes["refused"] += 1

    run()
    assert outcomes["parsed"] > 0 and outcomes["refused"] > 0, outcomes


# -- metadata codec ----------------------------------------------------------------------


@FUZZ
@given(key=st.one_of(names, st.text(max_size=12), st.integers(), st.none()), value=any_values)
def test_metadata_codec_round_trips_or_refuses(key: Any, value: Any) -> None:
    checks.check_metadata_value(key, value)


_MARKERS = st.sampled_from([None, "str", "int", "float", "bool", "none", "dict", "list", "tuple", "eval", ""])


@st.composite
def metadata_elements(draw: st.DrawFn, depth: int = 0) -> etree._Element:
    """Hand-written (or corrupted) metadata: any marker, any text, any children."""
    local = draw(st.one_of(st.sampled_from(["item", "volumeChain", "volumeChainNode", "custom"]), names))
    element = etree.Element(f"{{{NS}}}{local}" if draw(st.booleans()) or depth == 0 else local)
    marker = draw(_MARKERS)
    if marker is not None:
        element.set("type", marker)
    if draw(st.integers(0, 5)) == 0:
        element.set("encoding", draw(st.sampled_from(["base64", "rot13", ""])))
    if local == "item" and draw(st.booleans()):
        element.set("key", draw(_XML_TEXT))
        if draw(st.booleans()):
            element.set("key-encoding", "base64")
    text = draw(st.one_of(st.none(), _XML_TEXT, st.sampled_from(["1", "-7", "1.5", "nan", "true", "no", "aGk="])))
    element.text = text
    if depth < 3:
        for child in draw(st.lists(metadata_elements(depth + 1), max_size=3)):
            element.append(child)
            if draw(st.integers(0, 6)) == 0:
                child.tail = draw(_XML_TEXT)
    return element


@FUZZ
@given(element=metadata_elements())
def test_arbitrary_metadata_xml_decodes_or_refuses(element: etree._Element) -> None:
    checks.check_metadata_xml(element)


# -- device_from_spec --------------------------------------------------------------------

_SPEC_KEYS = [
    "type", "device", "deviceId", "alias", "address", "specParams", "path", "index", "iface", "name",
    "macAddr", "network", "nicModel", "diskType", "format", "shared", "readonly", "bootOrder", "passwd",
    "xml", "model", "vram", "ram", "heads", "vgamem", "protocol", "hosts", "serial",
]  # fmt: skip


@st.composite
def random_specs(draw: st.DrawFn, dev_types: list[str]) -> dict[str, Any]:
    spec: dict[str, Any] = draw(st.dictionaries(st.one_of(st.sampled_from(_SPEC_KEYS), names), json_values, max_size=8))
    spec["type"] = draw(st.one_of(st.sampled_from(dev_types), names, json_scalars))
    if draw(st.booleans()):
        spec["specParams"] = draw(
            st.dictionaries(st.one_of(st.sampled_from(_SPEC_KEYS), names), json_values, max_size=5)
        )
    if draw(st.booleans()):
        spec["address"] = draw(
            st.one_of(
                st.dictionaries(
                    st.sampled_from(["type", "bus", "slot", "domain", "function", "unit"]), attribute_values
                ),
                json_values,
            )
        )
    return spec


def _corpus_specs() -> list[dict[str, Any]]:
    registry = create_registry(env={})
    out = []
    for data in _CORPUS_BYTES:
        domain = parse_domain(data, registry=registry)
        for device in domain.devices:
            try:
                out.append(device.to_spec())
            except DevframeError:
                continue
    return out


_REAL_SPECS = _corpus_specs()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.extend(_paths(item, (*prefix, index)))
    return out


@st.composite
def mutated_specs(draw: st.DrawFn) -> dict[str, Any]:
    spec = copy.deepcopy(draw(st.sampled_from(_REAL_SPECS)))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(spec)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        holder: Any = spec
        for step in path[:-1]:
            holder = holder[step]
        op = draw(st.sampled_from(["set", "drop", "add"]))
        if op == "drop":
            del holder[path[-1]]
        elif op == "set":
            holder[path[-1]] = draw(json_values)
        elif isinstance(holder, dict):
            holder[draw(st.one_of(st.sampled_from(_SPEC_KEYS), names))] = draw(json_values)
    return spec


def test_real_specs_were_collected() -> None:
    assert len(_REAL_SPECS) > 50, "the corpus should give many real dev_specs to mutate"


@FUZZ
@given(data=st.data())
def test_random_specs(registry: Registry, data: st.DataObject) -> None:
    spec = data.draw(random_specs(sorted(registry.routes)))
    if data.draw(st.booleans()):  # a value nested around the depth limit, or holding itself
        spec[data.draw(st.sampled_from(["extra", "deviceId", "address", "specParams"]))] = data.draw(deep_values)
    checks.check_spec(spec, registry)


@FUZZ
@given(spec=mutated_specs())
def test_mutated_real_specs(registry: Registry, spec: dict[str, Any]) -> None:
    checks.check_spec(spec, registry)


@FUZZ
@given(spec=st.one_of(json_values, any_values))
def test_specs_that_are_not_dicts(registry: Registry, spec: Any) -> None:
    checks.check_spec(spec, registry)


# -- legacy conf ---------------------------------------------------------------------------

_LEGACY_KEYS = sorted(
    {key for _, keys in create_registry(env={}).call_collected("devframe_legacy_conf_keys") for key in keys}
    | {"vmId", "vmName", "memSize", "smp", "arch", "nicModel", "macAddr", "bridge", "drives"}
)
_LEGACY_VALUES = st.one_of(
    json_values,
    st.sampled_from(["vnc", "qxl", "spice", "qxl,vnc", "ac97", "ich6", "rtl8139,e1000", "pv", "00:1a:4a:16:01:51"]),
    st.lists(st.sampled_from(["ovirtmgmt", "rtl8139", "00:1a:4a:16:01:51,00:1a:4a:16:01:52", ""]), max_size=3).map(
        ",".join
    ),
    st.lists(
        st.dictionaries(
            st.sampled_from(["path", "index", "iface", "format", "device", "serial", "domainID"]), json_values
        ),
        max_size=3,
    ),
)


@FUZZ
@given(
    conf=st.one_of(
        st.dictionaries(st.one_of(st.sampled_from(_LEGACY_KEYS), names), _LEGACY_VALUES, max_size=8),
        json_values,
    ),
    arch=st.one_of(st.sampled_from(sorted(ARCHES)), names),
)
def test_random_legacy_conf(registry: Registry, conf: Any, arch: str) -> None:
    checks.check_legacy(conf, arch, registry)


@pytest.mark.parametrize("arch", sorted(ARCHES))
def test_every_arch_converts_a_typical_legacy_conf(registry: Registry, arch: str) -> None:
    """The fuzzer's anchor: a plausible conf gives devices on every arch."""
    conf = {"display": "vnc", "macAddr": "00:1a:4a:16:01:51", "nicModel": "virtio", "bridge": "ovirtmgmt"}
    specs = checks.check_legacy(conf, arch, registry)
    assert specs and {s["type"] for s in specs} >= {"interface"}


# -- NaN in metadata --------------------------------------------------------------------------

_NAN = float("nan")


@pytest.mark.parametrize(
    "value",
    [_NAN, [_NAN, 1.5], {"k": {"n": _NAN}}, [{"n": [_NAN]}]],
    ids=["float", "in a list", "in a dict", "nested"],
)
def test_nan_metadata_round_trips_and_the_checks_call_it_equal(registry: Registry, value: Any) -> None:
    """libvirt's <metadata> is XML text, so it carries a float NaN (written ``nan`` with
    type="float"): it is kept, reads back as a NaN, and the checks compare NaN with NaN as
    the same value (``==`` never does), where a fresh copy used to be a false mismatch."""
    spec = {"type": "sound", "device": "ich6", "deviceId": "5f0c2a4e-1b3d-4c5e-8f70-000000000a1a", "x": value}
    device = checks.check_spec(spec, registry)
    assert device is not None
    host = parse_domain(wrap_in_domain(), registry=registry)
    host.add(device)
    again = parse_domain(host.to_xml(), registry=registry).devices[0].to_spec()["x"]
    assert "nan" in json.dumps(again).lower()  # a NaN came back, not a string or nothing
    assert checks.same_spec(again, value)
    assert not checks.same_spec(again, json.loads(json.dumps(value).replace("NaN", "1.0")))
    checks.check_metadata_value("x", value)


# -- field assignment, metadata and edits, around every limit (issue 20) ---------------------------

_WITH_DEVICES = [data for data in _CORPUS_BYTES if parse_domain(data).devices]


@st.composite
def corpus_device(draw: st.DrawFn, registry: Registry) -> tuple[Any, int]:
    """A fresh parse of a sample domain, and the index of one of its devices."""
    data = draw(st.sampled_from(_WITH_DEVICES))
    domain = parse_domain(data, registry=registry, source="fuzz-edit")
    return domain, draw(st.integers(0, len(domain.devices) - 1))


field_values = st.one_of(
    json_scalars, json_values, deep_values, st.builds(object), st.binary(max_size=4), st.none(),
    st.dictionaries(st.sampled_from(["type", "bus", "slot", "zpci", "controller", "unit"]),
                    st.one_of(attribute_values, limit_ints, limit_texts, json_values), max_size=4),
    st.lists(st.dictionaries(names, st.one_of(attribute_values, limit_ints, limit_texts), max_size=3), max_size=3),
)  # fmt: skip


@FUZZ
@given(data=st.data())
def test_field_assignment_around_every_limit(registry: Registry, data: st.DataObject) -> None:
    domain, index = data.draw(corpus_device(registry))
    device = domain.devices[index]
    name = data.draw(st.sampled_from(sorted(device.fields)))
    checks.check_field_assignment(domain, index, name, data.draw(field_values), registry)


metadata_keys = st.one_of(names, st.text(max_size=12), limit_texts.filter(lambda t: len(t) < 2 * MAX_NAME_LENGTH))


@FUZZ
@given(data=st.data())
def test_metadata_values_around_every_limit_through_a_domain(registry: Registry, data: st.DataObject) -> None:
    domain, index = data.draw(corpus_device(registry))
    where = data.draw(st.one_of(st.none(), st.just(index)))
    key = data.draw(metadata_keys)
    value = data.draw(st.one_of(json_values, deep_values, limit_ints, limit_texts, any_values))
    checks.check_metadata_assignment(domain, where, key, value, registry)


@FUZZ
@given(data=st.data())
def test_edits_at_any_position(registry: Registry, data: st.DataObject) -> None:
    domain, index = data.draw(corpus_device(registry))
    position = data.draw(st.one_of(limit_ints, st.integers(-5, 5), st.sampled_from(["1", 1.5, None, True])))
    checks.check_edit(domain, index, position, registry)


def test_several_devices_blocks_are_written_back_as_one(registry: Registry) -> None:
    """A mutation hypothesis found: a domain whose <devices> block appears twice. devframe
    reads the blocks as one, as libvirt does, so the lossless check compares with the
    merged form; the devices of both blocks are kept, in document order."""
    one = "<devices><input type='tablet' bus='usb'/><hub type='usb'/></devices>"
    data = f"<domain type='kvm'><name>twice</name>{one}<features><acpi/></features>{one}</domain>"
    domain = checks.check_parse(data, registry)
    assert domain is not None
    assert [d.dev_type for d in domain.devices] == ["input", "hub", "input", "hub"]
    rebuilt = domain.to_xml()
    assert rebuilt.count("<devices>") == 1
    assert checks.canonical(rebuilt) != checks.canonical(data)  # the plain comparison cannot hold
    assert checks.canonical(rebuilt) == checks.as_read(data)
