"""Issue 2 item 5: the device model (typed fields declared once, lossless, repr never raises)."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from devframe import (
    INT,
    ON_OFF,
    STR,
    YES_NO,
    AddressField,
    Children,
    Choice,
    DevframeError,
    Device,
    ElementView,
    Field,
    FieldValueError,
    Flag,
    UnknownDevice,
)
from devframe.testing import spec_canonical, typed_form


class Host(ElementView):
    tag = "host"
    name = Field("@name", spec="name")
    port = Field("@port", INT, spec="port")


class Widget(Device):
    dev_type = "widget"
    tag = "widget"
    child_order: ClassVar[tuple[str, ...]] = ("driver", "source", "serial", "readonly", "alias", "address")

    model = Field("@model", Choice("alpha", "beta"), spec="device")
    queues = Field("driver@queues", INT, spec="specParams.queues")
    iommu = Field("driver@iommu", ON_OFF, spec="specParams.iommu")
    shared = Field("@shared", YES_NO, spec="shared")
    serial = Field("serial", STR, spec="serial")
    readonly = Flag("readonly", spec="readonly")
    hosts = Children("source/host", Host, spec="hosts")
    password = Field("@passwd", secret=True, spec="password")

    def identity(self) -> tuple[Any, ...] | None:
        return (self.serial,)


RICH = """<widget model="alpha" shared="yes" vendor:flavour="x" xmlns:vendor="urn:vendor" unmodeled="keep">
  <driver queues="4" iommu="on" cache="none"/>
  <!-- a comment inside the device -->
  <source protocol="nbd"><host name="h1" port="10809"/><host name="h2" port="10810" transport="tcp"/></source>
  <serial>S-1</serial>
  <vendor:tuning level="3">text <b>mixed</b> tail</vendor:tuning>
  <?vendor-pi keep me?>
  <unknownchild a="1">some text</unknownchild>
  <alias name="ua-0f0e"/>
  <address type="pci" domain="0x0000" bus="0x00" slot="0x05" function="0x0"/>
</widget>"""


def c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n2", with_comments=True)


def widget(xml: str = RICH) -> Widget:
    return Widget(etree.fromstring(xml))


def test_typed_fields_read_python_values() -> None:
    w = widget()
    assert w.model == "alpha"
    assert w.queues == 4 and isinstance(w.queues, int)
    assert w.iommu is True and w.shared is True
    assert w.serial == "S-1"
    assert w.readonly is False
    assert [(h.name, h.port) for h in w.hosts] == [("h1", 10809), ("h2", 10810)]
    assert w.alias == "ua-0f0e" and w.device_id == "0f0e"
    assert w.address == {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x05", "function": "0x0"}
    assert w.problems() == []


def test_fields_are_declared_once_on_the_class() -> None:
    names = list(Widget.fields)
    assert names[:2] == ["alias", "address"], "fields of the base class come first"
    assert {"model", "queues", "iommu", "shared", "serial", "readonly", "hosts"} <= set(names)
    assert Widget.fields["queues"] is Widget.__dict__["queues"]


def test_spec_is_derived_from_the_same_declarations() -> None:
    spec = widget().to_spec()
    assert spec["type"] == "widget" and spec["device"] == "alpha"
    # what no field carries travels in the escape (devframe.core.escape); comments and
    # processing instructions do not (libvirt drops them)
    escape = spec["specParams"].pop("xml")
    assert spec["specParams"] == {"queues": 4, "iommu": True}
    assert escape == {
        "version": 1,
        ".": {
            "attrs": {"unmodeled": "keep", "{urn:vendor}flavour": "x"},
            "children": [
                '<vendor:tuning xmlns:vendor="urn:vendor" level="3">text <b>mixed</b> tail</vendor:tuning>',
                '<unknownchild xmlns:vendor="urn:vendor" a="1">some text</unknownchild>',
            ],
        },
        "driver": {"attrs": {"cache": "none"}},
        "source": {"attrs": {"protocol": "nbd"}},
        "source/host[1]": {"attrs": {"transport": "tcp"}},
    }
    spec["specParams"]["xml"] = escape
    assert spec_canonical(Widget.from_spec(spec).element) == spec_canonical(typed_form(widget()))
    assert spec["hosts"] == [{"name": "h1", "port": 10809}, {"name": "h2", "port": 10810}]
    assert spec["deviceId"] == "0f0e" and spec["alias"] == "ua-0f0e"
    rebuilt = Widget.from_spec(spec)
    for name in ("model", "queues", "iommu", "shared", "serial", "readonly", "alias", "address"):
        assert getattr(rebuilt, name) == getattr(widget(), name), name


@pytest.mark.parametrize(
    ("attr_xml", "field", "raw"),
    [
        ('<widget><driver queues="four"/></widget>', "queues", "four"),
        ('<widget><driver iommu="maybe"/></widget>', "iommu", "maybe"),
        ('<widget shared="perhaps"/>', "shared", "perhaps"),
    ],
)
def test_unparsable_value_is_kept_raw_and_reported(attr_xml: str, field: str, raw: str) -> None:
    w = widget(attr_xml)
    before = c14n(w.element)
    problems = w.problems()
    assert len(problems) == 1 and field in problems[0] and raw in problems[0]
    with pytest.raises(FieldValueError) as caught:
        getattr(w, field)
    assert isinstance(caught.value, DevframeError)
    assert caught.value.field == field and caught.value.value == raw
    assert "widget" in str(caught.value)
    with pytest.raises(FieldValueError):
        w.validate()
    assert c14n(w.element) == before, "reading a bad value must not change the XML"
    assert raw in w.to_xml()


def test_unknown_choice_value_is_kept_and_not_an_error() -> None:
    w = widget('<widget model="gamma"/>')
    assert w.model == "gamma"
    assert w.problems() == []


def test_wrong_python_type_on_assignment_is_refused() -> None:
    w = widget()
    before = c14n(w.element)
    with pytest.raises(FieldValueError):
        w.queues = "8"  # type: ignore[assignment]
    with pytest.raises(FieldValueError):
        w.shared = 1  # type: ignore[assignment]
    with pytest.raises(FieldValueError):
        w.readonly = "yes"  # type: ignore[assignment]
    assert c14n(w.element) == before


def _changed_lines(before: bytes, after: bytes) -> list[tuple[str, str]]:
    a, b = before.decode().splitlines(), after.decode().splitlines()
    assert len(a) == len(b), (before, after)
    return [(x, y) for x, y in zip(a, b, strict=True) if x != y]


@pytest.mark.parametrize(
    ("field", "value", "old", "new"),
    [
        ("queues", 8, 'queues="4"', 'queues="8"'),
        ("iommu", False, 'iommu="on"', 'iommu="off"'),
        ("shared", False, 'shared="yes"', 'shared="no"'),
        ("model", "beta", 'model="alpha"', 'model="beta"'),
        ("serial", "S-2", "<serial>S-1</serial>", "<serial>S-2</serial>"),
        ("alias", "ua-1234", 'name="ua-0f0e"', 'name="ua-1234"'),
    ],
)
def test_editing_one_field_changes_only_that_fields_xml(field: str, value: Any, old: str, new: str) -> None:
    w = widget()
    before = c14n(w.element)
    setattr(w, field, value)
    after = c14n(w.element)
    changed = _changed_lines(before, after)
    assert len(changed) == 1, changed
    assert changed[0][1] == changed[0][0].replace(old, new)
    setattr(w, field, getattr(widget(), field))
    assert c14n(w.element) == before, "setting the old value back restores the exact XML"


def test_adding_and_removing_a_field_touches_only_its_element() -> None:
    w = widget()
    before = c14n(w.element)
    w.readonly = True
    assert c14n(w.element) != before
    assert w.element.find("readonly") is not None
    children = [c.tag for c in w.element if isinstance(c.tag, str)]
    assert children.index("readonly") < children.index("alias"), "new children follow libvirt's order"
    w.readonly = False
    assert c14n(w.element) == before
    expected = etree.fromstring(RICH)
    expected.remove(expected.find("serial"))
    w.serial = None
    assert w.element.find("serial") is None
    assert etree.tostring(w.element, method="c14n2", strip_text=True) == etree.tostring(
        expected, method="c14n2", strip_text=True
    )


def test_unmodeled_content_survives_edits() -> None:
    w = widget()
    w.queues = 16
    w.hosts = [{"name": "h3", "port": 1}]
    w.address = {"type": "pci", "domain": "0x0000", "bus": "0x01", "slot": "0x00", "function": "0x0"}
    out = w.to_xml()
    for kept in (
        'vendor:flavour="x"',
        'unmodeled="keep"',
        'cache="none"',
        "<!-- a comment inside the device -->",
        'protocol="nbd"',
        '<vendor:tuning level="3">text <b>mixed</b> tail</vendor:tuning>',
        "<?vendor-pi keep me?>",
        '<unknownchild a="1">some text</unknownchild>',
    ):
        assert kept in out, kept
    assert [h.name for h in w.hosts] == ["h3"]


def test_address_is_the_direct_child_only() -> None:
    xml = (
        "<widget><source><address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></source></widget>"
    )
    w = widget(xml)
    assert w.address is None, "source/address is a host address, not the guest address"
    w.address = {"type": "pci", "bus": "0x00", "slot": "0x07"}
    assert w.element.find("source/address").get("bus") == "0x03"
    assert w.address == {"type": "pci", "bus": "0x00", "slot": "0x07"}


def test_repr_never_raises() -> None:
    broken = widget('<widget model="alpha"><driver queues="many"/><serial>x</serial></widget>')

    class Exploding(Widget):
        def identity(self) -> tuple[Any, ...] | None:
            raise RuntimeError("identity broken")

    cases: list[Device] = [
        broken,
        Exploding(etree.fromstring("<widget/>")),
        Widget(etree.Comment("not an element")),
        UnknownDevice(etree.PI("target", "data")),
        UnknownDevice(etree.fromstring("<x:thing xmlns:x='urn:x'><alias name='&#xe9;'/></x:thing>")),
        Widget(etree.fromstring("<widget><alias/></widget>")),
    ]
    for device in cases:
        text = repr(device)
        assert isinstance(text, str) and text.startswith("<")
    assert "widget" in repr(broken)
    assert repr(cases[4]).startswith("<UnknownDevice thing")


def test_repr_hides_secrets() -> None:
    w = widget('<widget passwd="hunter2"><alias name="ua-1"/></widget>')
    assert "hunter2" not in repr(w)
    assert w.summary()["password"] == "***"


def test_unknown_device_round_trips_through_its_spec() -> None:
    xml = "<rng model='virtio'><backend model='random'>/dev/urandom</backend><alias name='ua-r'/></rng>"
    device = UnknownDevice(etree.fromstring(xml))
    spec = device.to_spec()
    assert spec["type"] == "rng" and spec["alias"] == "ua-r"
    again = UnknownDevice.from_spec(spec)
    assert c14n(again.element) == c14n(device.element)


def test_address_carries_nested_parts_through_specs():
    """s390's <zpci> under a PCI address must survive dev_spec -> device -> XML."""
    import devframe

    xml = (
        "<domain type='kvm'><name>z</name><memory>1</memory><os><type arch='s390x'>hvm</type></os><devices>"
        "<rng model='virtio'><backend model='random'/><address type='pci' domain='0x0000' bus='0x00' slot='0x01'"
        " function='0x0'><zpci uid='0x0001' fid='0x00000000'/></address></rng></devices></domain>"
    )
    device = devframe.parse_domain(xml, registry=devframe.create_registry(entry_points=False, env={})).devices[0]
    assert device.address["zpci"] == {"uid": "0x0001", "fid": "0x00000000"}
    rebuilt = devframe.UnknownDevice(etree.Element("rng"))
    rebuilt.address = device.address
    assert rebuilt.element.find("address/zpci").attrib == {"uid": "0x0001", "fid": "0x00000000"}
    rebuilt.address = {"type": "ccw", "cssid": "0xfe", "ssid": "0x0", "devno": "0x0001"}
    assert rebuilt.element.find("address/zpci") is None  # another address type drops the PCI parts


class Gadget(Device):
    """A device with a host address too (``source/address`` has no type in libvirt)."""

    dev_type = "gadget"
    tag = "gadget"
    child_order: ClassVar[tuple[str, ...]] = ("source", "alias", "address")

    host_address = AddressField("source/address", spec="specParams.hostAddress")


@pytest.mark.parametrize(
    "xml",
    [
        "<gadget><address/></gadget>",
        "<gadget><address type='pci'/></gadget>",
        "<gadget><address type='pci'><zpci/></address></gadget>",
        "<gadget><source><address/></source><address type='pci'/></gadget>",
    ],
)
def test_an_address_without_attributes_round_trips_through_the_spec(xml: str) -> None:
    """libvirt's schema: the guest address needs a type (``<address type='pci'/>``: any PCI
    slot), a host address has none. Both an empty dict and a type alone come back."""
    device = Gadget(etree.fromstring(xml))
    spec = device.to_spec()
    again = Gadget.from_spec(spec)
    assert c14n(again.element) == c14n(device.element)
    assert again.to_spec() == spec


def test_an_address_without_a_type_is_a_problem_only_for_the_guest_address() -> None:
    untyped = Gadget(etree.fromstring("<gadget><address/></gadget>"))
    assert untyped.address == {}
    assert [p for p in untyped.problems() if "address" in p and "type" in p]
    assert Gadget(etree.fromstring("<gadget><address type='pci'/></gadget>")).problems() == []
    assert Gadget(etree.fromstring("<gadget><source><address/></source></gadget>")).problems() == []


@pytest.mark.parametrize("given", [None, ""])
def test_no_address_in_a_spec_builds_none(given: Any) -> None:
    assert Gadget.from_spec({"type": "gadget", "address": given}).to_xml() == "<gadget/>"
    assert "address" not in Gadget.from_spec({"type": "gadget"}).to_spec()


def test_same_as_compares_xml_and_metadata_without_decoding():
    import devframe
    from devframe.agent import correlate

    xml = (
        "<domain type='kvm' xmlns:ovirt-vm='http://ovirt.org/vm/1.0'><name>s</name><memory>1</memory>"
        "<os><type arch='x86_64'>hvm</type></os>"
        "<metadata><ovirt-vm:vm><ovirt-vm:device devtype='rng' alias='ua-1'><ovirt-vm:pool>a</ovirt-vm:pool>"
        "</ovirt-vm:device></ovirt-vm:vm></metadata>"
        "<devices><rng model='virtio'><backend model='random'/><alias name='ua-1'/></rng></devices></domain>"
    )
    registry = devframe.create_registry(entry_points=False, env={})
    known, reported = devframe.parse_domain(xml, registry=registry), devframe.parse_domain(xml, registry=registry)
    a, b = known.devices[0], reported.devices[0]
    assert a.same_as(b)
    assert a.metadata_source is not None and a.metadata_source._store is None  # still undecoded
    b.metadata["pool"] = "b"  # metadata-only change
    assert not a.same_as(b)
    assert correlate(known, reported).changed == {"1": {"pool": ("a", "b")}}
    b.metadata["pool"] = "a"
    assert a.same_as(b)
    b.element.find("backend").set("model", "egd")  # XML-only change
    assert not a.same_as(b)


# -- to_spec's metadata merge ----------------------------------------------------------------------

_keys = st.sampled_from(["a", "b", "specParams", "password", "iscsiPassword", "token", "Passwd", "x"])
_leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=3))
_values = st.recursive(
    _leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=3)),
    max_leaves=12,
)


def _reference_merge(target: dict[str, Any], extra: dict[str, Any], secrets: bool) -> None:
    """The merge's rule said plainly: missing keys get a deep copy (without secret keys
    unless asked), dicts on both sides merge, anything the target has stays."""
    from devframe.core.log import is_secret_key

    def scrub(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items() if secrets or not is_secret_key(k)}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value

    for key, value in extra.items():
        if not secrets and is_secret_key(key):
            continue
        if target.get(key) is None:
            target[key] = scrub(copy.deepcopy(value))
        elif isinstance(target[key], dict) and isinstance(value, dict):
            _reference_merge(target[key], value, secrets)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=5), st.dictionaries(_keys, _values, max_size=5), st.booleans())
def test_the_metadata_merge_copies_what_the_spec_lacks_and_leaves_secrets_out(
    spec: dict[str, Any], metadata: dict[str, Any], secrets: bool
) -> None:
    from devframe.core.device import _merge_missing
    from devframe.core.metadata import same_value

    before = copy.deepcopy(metadata)
    expected = copy.deepcopy(spec)
    _reference_merge(expected, metadata, secrets)
    _merge_missing(spec, metadata, secrets)
    assert same_value(spec, expected)
    for key in spec:  # nothing shared with the metadata: editing the spec leaves it as it was
        if isinstance(spec[key], (dict, list)):
            spec[key].clear()
    assert metadata == before
