"""The raw-XML escape (devframe.core.escape): what no field carries travels in
``specParams.xml`` and comes back, for every kind (issue 15 item 7)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

import devframe
from devframe import Device, Field, SpecError, parse_domain
from devframe.core.escape import ESCAPE_VERSION, Consumed, consumed_for, escape_of
from devframe.core.specread import plan_for
from devframe.testing import sample_domain_files, spec_canonical, typed_form, wrap_in_domain

REGISTRY = devframe.default_registry()


def one(xml: str) -> Any:
    (device,) = parse_domain(wrap_in_domain(xml), registry=REGISTRY).devices
    return device


def through_spec(device: Any, *, secrets: bool = True) -> tuple[dict[str, Any], Any]:
    spec = device.to_spec(secrets=secrets)
    return spec, REGISTRY.device_from_spec(copy.deepcopy(spec))


def assert_xml_round_trip(device: Any) -> dict[str, Any]:
    spec, again = through_spec(device)
    loose = getattr(type(device), "unordered_children", ())
    assert spec_canonical(again.to_xml(), loose) == spec_canonical(typed_form(device, again.element), loose)
    assert again.to_spec(secrets=True) == spec
    return spec


SOUND = "<sound model='ich9' foo='bar'><codec type='micro' zz='1'/><weird a='1'>t</weird><alias name='ua-1'/></sound>"


def test_the_issue_example_keeps_everything():
    spec = assert_xml_round_trip(one(SOUND))
    assert spec["specParams"]["xml"] == {
        "version": ESCAPE_VERSION,
        ".": {"attrs": {"foo": "bar"}, "children": ['<weird a="1">t</weird>']},
        "codec": {"attrs": {"zz": "1"}},
    }
    built = REGISTRY.device_from_spec(spec)
    # the unknown child goes where libvirt writes extensions: before <alias>
    assert [child.tag for child in built.element] == ["codec", "weird", "alias"]


def test_a_device_with_nothing_unknown_has_no_escape():
    spec = assert_xml_round_trip(one("<sound model='ich9'><codec type='micro'/><alias name='ua-1'/></sound>"))
    assert "xml" not in spec["specParams"]


def test_unknown_attribute_of_the_disk_and_a_second_target():
    disk = one(
        "<disk type='file' device='disk' vendorx='1'><source file='/a.img' y:z='2' xmlns:y='urn:y'/>"
        "<target dev='vda' bus='virtio'/><target dev='vdz'/></disk>"
    )
    escape = assert_xml_round_trip(disk)["specParams"]["xml"]
    assert escape["."] == {"attrs": {"vendorx": "1"}, "children": ['<target dev="vdz"/>']}
    assert escape["source"] == {"attrs": {"{urn:y}z": "2"}}


def test_text_where_no_field_reads_text():
    escape = assert_xml_round_trip(one("<sound model='ich9'><codec type='micro'>noise</codec></sound>"))
    assert escape["specParams"]["xml"]["codec"] == {"text": "noise"}


def test_an_attribute_of_the_second_of_repeated_children_has_an_indexed_path():
    disk = one(
        "<disk type='network' device='disk'><source protocol='nbd' name='x'>"
        "<host name='a' port='1'/><host name='b' port='2' extra='e'/></source><target dev='vda'/></disk>"
    )
    escape = assert_xml_round_trip(disk)["specParams"]["xml"]
    assert escape == {"version": ESCAPE_VERSION, "source/host[1]": {"attrs": {"extra": "e"}}}


def test_the_drive_plugins_earlier_shape_is_still_read():
    disk = REGISTRY.device_from_spec(
        {"type": "disk", "path": "/a", "name": "vda", "specParams": {"xml": {"disk": ["<x/>"], "source": ["<y/>"]}}}
    )
    root = etree.fromstring(disk.to_xml())
    assert root.find("x") is not None and root.find("source/y") is not None
    assert disk.to_spec()["specParams"]["xml"] == {
        "version": ESCAPE_VERSION,
        ".": {"children": ["<x/>"]},
        "source": {"children": ["<y/>"]},
    }


@pytest.mark.parametrize(
    ("escape", "key"),
    [
        ("<x/>", "specParams.xml"),
        ({"version": 7}, "specParams.xml.version"),
        ({"version": 1, "codec": {"attrs": {"type": "duplex"}}}, "specParams.xml.codec.attrs.type"),
        ({"version": 1, ".": {"attrs": {"model": "ich6"}}}, "specParams.xml...attrs.model"),
        ({"version": 1, ".": {"children": ["<codec type='x'/>"]}}, "specParams.xml...children[0]"),
        ({"version": 1, ".": {"children": ["<a>"]}}, "specParams.xml...children[0]"),
        (
            {"version": 1, ".": {"children": ["<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>"]}},
            "specParams.xml...children[0]",
        ),
        ({"version": 1, ".": {"children": ["<a/><!-- b -->"]}}, "specParams.xml...children[0]"),
        ({"version": 1, ".": {"children": "<a/>"}}, "specParams.xml...children"),
        ({"version": 1, ".": {"other": 1}}, "specParams.xml.."),
        ({"version": 1, ".": {"attrs": {"bad name": "1"}}}, "specParams.xml...attrs.bad name"),
        ({"version": 1, "nosuch": {"attrs": {"a": "1"}}}, "specParams.xml.nosuch"),
        ({"version": 1, "codec[3]": {"attrs": {"a": "1"}}}, "specParams.xml.codec[3]"),
        ({"version": 1, "codec": {"text": 5}}, "specParams.xml.codec.text"),
        ({"version": 1, ".": {"children": ["<a>" * 300 + "</a>" * 300]}}, "specParams.xml...children[0]"),
    ],
)
def test_a_bad_escape_is_a_spec_error_naming_the_device_and_key(escape, key):
    spec = {"type": "sound", "device": "ich9", "specParams": {"codecs": [{"type": "micro"}], "xml": escape}}
    with pytest.raises(SpecError) as caught:
        REGISTRY.device_from_spec(spec)
    assert "sound" in str(caught.value) and repr(key) in str(caught.value), str(caught.value)


def test_an_escaped_secret_is_left_out_by_default_and_carried_on_request():
    # <cookies> anywhere in a device is a secret (devframe.core.secrets, the one list);
    # a sound device models none, so they travel in the escape
    xml = (
        "<sound model='ich9'><vendorx><cookies><cookie name='s'>hunter2</cookie></cookies></vendorx>"
        "<codec type='micro' pw='p'/></sound>"
    )
    sound = one(xml)
    default = sound.to_spec()
    assert "hunter2" not in repr(default)
    assert default["specParams"]["xml"]["."] == {"children": ["<vendorx/>"]}
    spec = assert_xml_round_trip(sound)
    assert "hunter2" in repr(spec["specParams"]["xml"])
    assert "hunter2" not in repr(sound.redacted_spec())


def test_the_check_is_derived_once_per_class():
    sound = one(SOUND)
    node = consumed_for(type(sound))
    assert node is consumed_for(type(sound))
    assert isinstance(node.attrs, frozenset) and "model" in node.attrs and "codec" in node.multi


class _Gadget(Device):
    """A kind whose write_spec reads ``@extra`` and every ``<note>`` without fields."""

    dev_type = "gadget-escape-test"
    tag = "gadget"
    spec_consumes = ("@extra", "note[*]")
    model = Field("@model", spec="device")


def test_what_write_spec_reads_is_declared_and_not_escaped():
    element = etree.fromstring("<gadget model='m' extra='e' other='o'><note>a</note><note>b</note><x/></gadget>")
    assert escape_of(_Gadget, element) == {
        "version": ESCAPE_VERSION,
        ".": {"attrs": {"other": "o"}, "children": ["<x/>"]},
    }
    node = consumed_for(_Gadget)
    assert "extra" in node.attrs and "note" in node.multi and node.children["note"].text


def test_a_field_of_its_own_kind_says_what_it_reads():
    memory = one("<memory model='dimm'><target><size unit='GiB' extra='1'>2</size><node>0</node></target></memory>")
    escape = assert_xml_round_trip(memory)["specParams"]["xml"]
    assert escape == {"version": ESCAPE_VERSION, "target/size": {"attrs": {"extra": "1"}}}  # unit is the field's


# -- property: an unknown attribute, child or text anywhere survives -------------------------


def _sample_devices() -> list[list[Any]]:
    """devframe's sample domains' devices (those without problems), grouped by class."""
    seen: dict[type, list[Any]] = {}
    for path in sample_domain_files():
        for device in devframe.load_domain(path, registry=REGISTRY).devices:
            if not isinstance(device, devframe.UnknownDevice) and not device.problems():
                seen.setdefault(type(device), []).append(device)
    return list(seen.values())


SAMPLE_DEVICES = _sample_devices()


def _places(element: etree._Element, node: Consumed) -> list[tuple[etree._Element, Consumed]]:
    """Every element of a device a field reads, with what is carried of it."""
    out = [(element, node)]
    seen: dict[str, int] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        below = node.children.get(child.tag) or node.other
        count = seen.get(child.tag, 0)
        seen[child.tag] = count + 1
        if below is not None and (count == 0 or child.tag in node.multi):
            out.extend(_places(child, below))
    return out


def test_the_samples_hold_every_kind():
    assert {type(kind[0]).dev_type for kind in SAMPLE_DEVICES} >= set(REGISTRY.routes)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(min_value=0, max_value=100_000),
    where=st.integers(min_value=0, max_value=10_000),
    what=st.sampled_from(["attr", "child", "text"]),
    value=st.text(alphabet="abcxyz019 -_", min_size=1, max_size=12).filter(lambda t: t.strip() == t),
)
def test_an_injected_unknown_survives_the_spec_and_is_in_the_escape(which, where, what, value):
    kind = SAMPLE_DEVICES[which % len(SAMPLE_DEVICES)]  # every kind alike
    device = kind[(which // len(SAMPLE_DEVICES)) % len(kind)]
    original = one(etree.tostring(device.element, encoding="unicode"))
    places = _places(original.element, consumed_for(type(original)))
    if what == "attr":
        places = [(e, n) for e, n in places if not n.any_attrs]
    elif what == "child":  # a child of the guest address is one of its parts (s390's zpci)
        places = [(e, n) for e, n in places if n.other is None]
    elif what == "text":
        places = [(e, n) for e, n in places if not n.text and not (e.text or "").strip() and not n.any_attrs]
    if not places:
        return
    element, _ = places[where % len(places)]
    if what == "attr":
        element.set("zzprobe", value)
    elif what == "child":
        etree.SubElement(element, "zzprobe").set("v", value)
    else:
        element.text = value
    original.touch()
    spec = assert_xml_round_trip(original)
    escape = spec["specParams"]["xml"]
    assert value in repr(escape), (what, escape)
    assert escape_of(type(original), original.element) == escape


def test_an_unknown_attribute_on_a_spice_channel_follows_the_channel_by_name() -> None:
    # The spec rebuilds spice channels in libvirt's order (secure ones listed apart), so
    # an index would name another channel: the escape names the channel instead.
    xml = (
        "<graphics type='spice' autoport='yes'>"
        "<channel name='main' mode='secure'/><channel name='display' mode='insecure' zzprobe='0'/>"
        "<channel name='inputs' mode='secure'/></graphics>"
    )
    device = devframe.parse_domain(f"<domain type='kvm'><name>g</name><devices>{xml}</devices></domain>").devices[0]
    spec = device.to_spec()
    assert spec["specParams"]["xml"] == {"version": 1, "channel[@name=display]": {"attrs": {"zzprobe": "0"}}}
    rebuilt = devframe.device_from_spec(spec)
    [display] = [c for c in rebuilt.element.iterchildren("channel") if c.get("name") == "display"]
    assert display.get("zzprobe") == "0"
    assert [c.get("zzprobe") for c in rebuilt.element.iterchildren("channel")].count("0") == 1
    missing = {
        **spec,
        "specParams": {**spec["specParams"], "xml": {"version": 1, "channel[@name=usbredir]": {"attrs": {"a": "1"}}}},
    }
    with pytest.raises(devframe.SpecError, match="usbredir"):
        devframe.device_from_spec(missing)


# -- the compiled readers' fast check (devframe.core.specgen) -------------------------------


def _checked(device: Any) -> tuple[bool, Any]:
    """(the reader's "maybe escaped", the escape's full walk) of one device."""
    _, maybe = plan_for(type(device), "spec").reader(device, device.element, {}, False)
    return maybe, escape_of(type(device), device.element)


def _has_comment(element: etree._Element) -> bool:
    return next(element.iter(etree.Comment, etree.PI), None) is not None


def test_the_readers_check_agrees_with_the_escape_on_every_sample_device():
    compared = 0
    for path in sample_domain_files():
        for device in devframe.load_domain(path, registry=REGISTRY).devices:
            if isinstance(device, devframe.UnknownDevice):
                continue
            maybe, escape = _checked(device)
            # never "clean" where the escape has something; exact where no comment makes it ask
            assert maybe or escape is None, (path.name, device.describe(), escape)
            if not _has_comment(device.element):
                assert maybe == (escape is not None), (path.name, device.describe(), escape)
            compared += 1
    assert compared > 100


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(min_value=0, max_value=100_000),
    where=st.integers(min_value=0, max_value=10_000),
    what=st.sampled_from(["attr", "child", "text", "second", "comment"]),
    value=st.text(alphabet="abcxyz019 -_", min_size=1, max_size=12).filter(lambda t: t.strip() == t),
)
def test_the_readers_check_never_misses_what_the_escape_finds(which, where, what, value):
    # Anything injected anywhere in the device (carried places or not, a second child
    # of a tag, a comment): the reader says "clean" only where the escape is None, and
    # is exact without comments; to_spec's escape is the full walk's.
    kind = SAMPLE_DEVICES[which % len(SAMPLE_DEVICES)]
    device = one(etree.tostring(kind[(which // len(SAMPLE_DEVICES)) % len(kind)].element, encoding="unicode"))
    elements = list(device.element.iter(tag=etree.Element))
    element = elements[where % len(elements)]
    if what == "attr":
        element.set("zzprobe", value)
    elif what == "child":
        etree.SubElement(element, "zzprobe").set("v", value)
    elif what == "text":
        element.text = value
    elif what == "second":
        if element is device.element:
            return
        twin = copy.deepcopy(element)
        twin.tail = None
        element.addnext(twin)
    else:
        element.append(etree.Comment(value.replace("-", "_")))
    device.touch()
    try:
        maybe, escape = _checked(device)
    except devframe.DevframeError:
        return  # text put where a field reads a number, a path: refused as it should be
    assert maybe or escape is None, (what, escape)
    if not _has_comment(device.element):
        assert maybe == (escape is not None), (what, escape)
    spec = device.to_spec(secrets=True)
    assert spec["specParams"].get("xml") == escape


# A subtree met at more than one place (a disk's <auth> under <disk> and under <source>)
# is checked by one generated function, called from each place (devframe.core.specgen).
_AUTH = "<auth username='admin'><secret type='ceph' uuid='0a5f8f3e-9a4b-4c3d-8e2f-1a2b3c4d5e6f'/></auth>"
_AUTH_TWICE = (
    f"<disk type='network' device='disk'><driver name='qemu' type='raw'/>{_AUTH}"
    f"<source protocol='rbd' name='pool/img'><host name='mon1' port='6789'/>{_AUTH}</source>"
    "<target dev='vda' bus='virtio'/></disk>"
)


def _checkers(device: Any) -> list[Any]:
    """The escape checkers the class's spec reader calls, once per place called from."""
    reader = plan_for(type(device), "spec").reader
    return [value for value in reader.__globals__.values() if getattr(value, "__name__", "") == "check"]


def test_one_checker_is_called_from_each_place_its_subtree_is_met():
    checkers = _checkers(one(_AUTH_TWICE))
    assert len({id(checker) for checker in checkers}) < len(checkers)
    # and the same subtree in another class is the same function (one compile per process)
    serial = one("<serial type='pty'><target port='0'/></serial>")
    console = one("<console type='pty'><target type='serial' port='0'/></console>")
    assert {id(c) for c in _checkers(serial)} & {id(c) for c in _checkers(console)}


@pytest.mark.parametrize(
    "places",
    [["auth/secret"], ["source/auth/secret"], ["auth/secret", "source/auth/secret"], ["auth"], ["source/auth"]],
)
@pytest.mark.parametrize("what", ["attr", "child", "text", "second"])
def test_a_shared_checker_answers_for_the_place_it_is_called_from(places, what):
    assert _checked(one(_AUTH_TWICE)) == (False, None)
    device = one(_AUTH_TWICE)
    for path in places:
        element = device.element.find(path)
        if what == "attr":
            element.set("zzprobe", "1")
        elif what == "child":
            etree.SubElement(element, "zzprobe")
        elif what == "text":
            element.text = "zz"
        else:
            twin = copy.deepcopy(element)
            twin.tail = None
            element.addnext(twin)
    device.touch()
    maybe, escape = _checked(device)
    assert maybe and escape is not None
    assert len(escape) == 1 + len(places)  # the version, and each place's own entry
    assert device.to_spec(secrets=True)["specParams"]["xml"] == escape
