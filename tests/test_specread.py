"""One-pass reading (devframe.core.specread) answers exactly what field-by-field reading does."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from lxml import etree

from devframe import Device, Field, FieldValueError, Flag, parse_domain
from devframe.core.fields import INT, AddressField, Children, ElementView, EmptyElements, put_path
from devframe.core.specread import plan_for
from devframe.testing import corpus_files


def field_by_field(view: ElementView, mode: str) -> dict[str, Any]:
    """The reading before plans: every field asked on its own."""
    out: dict[str, Any] = {}
    for name, field in view.fields.items():
        key = field.spec if mode == "spec" else (field.spec or name)
        if key is None or (mode == "spec" and key == "device"):
            continue
        value = field.spec_value(view)
        # Absent with a default for this element (default_if): to_spec says None.
        if value is None and not (mode == "spec" and isinstance(field, Field) and field.default_for(view) is not None):
            continue
        put_path(out, key, value)
    return out


def planned(view: ElementView, mode: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    plan_for(type(view), mode).fill(view, out)
    return out


def test_every_device_of_the_samples_reads_the_same() -> None:
    devices = [d for path in corpus_files() for d in parse_domain(path.read_bytes()).devices]
    compared = 0
    for device in devices:
        if not device.fields:
            continue
        try:
            expected = field_by_field(device, "spec")
        except FieldValueError as exc:
            with pytest.raises(FieldValueError) as raised:
                planned(device, "spec")
            assert str(raised.value) == str(exc)  # the same first bad field is reported
            continue
        assert planned(device, "spec") == expected, device.describe()
        assert list(planned(device, "spec")) == list(expected)  # and in the same key order
        assert planned(device, "dict") == field_by_field(device, "dict")
        compared += 1
    assert compared > 200, compared  # the samples hold several hundred typed devices


class Item(ElementView):
    tag = "host"
    name = Field("@name")
    port = Field("@port", INT)


class OwnWay(Field[str]):
    """A field that reads its own way: one-pass reading must ask it."""

    def raw(self, view: ElementView) -> str | None:
        return "own"


class Probe(Device):
    dev_type = "probe"
    tag = "probe"
    model = Field("@model", spec="model")
    size = Field("target@size", INT, spec="specParams.size")
    first = Field("target@name", spec="specParams.first")
    deep = Field("source/reservations/source@path", spec="specParams.deep")
    text = Field("serial", spec="serial")
    mode = Field("@mode", spec="mode", default="auto")
    ro = Flag("readonly", spec="readOnly")
    address = AddressField()
    hosts = Children("source/host", Item, spec="hosts")
    own = OwnWay("@nothing", spec="own")
    empty = EmptyElements("target", "source", "source/host", spec="specParams.empty")  # read at each place
    claims: ClassVar = None


def probe(xml: str) -> Probe:
    return Probe(etree.fromstring(xml))


@pytest.mark.parametrize(
    "xml",
    [
        "<probe/>",
        "<probe model='m'><target size='5' name='one'/><target size='6' name='two'/></probe>",
        "<probe><!-- c --><serial>\n   <x/></serial><readonly/><?pi x?></probe>",
        "<probe><serial>  text  </serial><address type='pci' slot='0x1'><zpci uid='1'/></address></probe>",
        "<probe mode='manual'><source><host name='a' port='1'/><host name='b'/>"
        "<reservations><source path='/p'/></reservations></source></probe>",
        "<probe xmlns:x='urn:x'><x:target size='9'/><target size='3'/></probe>",
        "<probe><target/><target size='1'/><source><host/><host name='x'/></source></probe>",
        "<probe><target size='1'/><target/><source>\n  </source></probe>",
        "<probe><source><host name='x'/><host/></source><source/></probe>",
    ],
)
def test_edge_cases_read_the_same(xml: str) -> None:
    device = probe(xml)
    assert planned(device, "spec") == field_by_field(device, "spec")
    assert planned(device, "dict") == field_by_field(device, "dict")
    assert device.to_spec()["own"] == "own"


def test_first_of_a_tag_wins_and_absent_defaults_say_none() -> None:
    spec = probe("<probe><target size='5' name='one'/><target size='6'/></probe>").to_spec()
    assert spec["specParams"]["size"] == 5 and spec["specParams"]["first"] == "one"
    assert "mode" in spec and spec["mode"] is None
    assert spec["readOnly"] is False


def test_the_first_bad_value_in_declaration_order_is_reported() -> None:
    # @model reads fine; target@size is the first field whose stored value is wrong
    device = probe("<probe model='m'><target size='x'/></probe>")
    with pytest.raises(FieldValueError, match="size"):
        device.to_spec()


def test_a_plan_follows_fields_replaced_after_it_was_built() -> None:
    device = probe("<probe model='m'/>")
    assert device.to_spec()["model"] == "m"
    saved = Probe.fields
    try:
        Probe.fields = {k: v for k, v in saved.items() if k != "model"}
        assert "model" not in device.to_spec()
    finally:
        Probe.fields = saved
    assert device.to_spec()["model"] == "m"


# -- compiled readers (devframe.core.specgen) ----------------------------------------------


def _generated(name: str, devices: int) -> bytes:
    from benchmark_scripts import generated

    return generated(name, devices)


@pytest.mark.parametrize("name", ["mix", "varied"])
def test_generated_domains_read_as_each_field_does(name: str) -> None:
    from devframe.testing import assert_reads_as_fields

    domain = parse_domain(_generated(name, 400))
    compared = 0
    classes: dict[type, int] = {}
    for device in domain.devices:
        seen = classes[type(device)] = classes.get(type(device), 0) + 1
        compared += assert_reads_as_fields(device, odd_values=seen <= 2)  # odd texts on two of each class
    assert len(classes) >= (12 if name == "mix" else 30), sorted(c.__name__ for c in classes)
    assert compared > 2000, compared


def test_bad_values_raise_the_first_error_a_field_raises() -> None:
    # Digits past the int fast path, hex, signs, spaces, non-ASCII digits and bool words
    # in other cases go to the field itself, which raises or converts as it always did.
    device = probe("<probe model='m'><target size='5'/></probe>")
    for text, expected in [("005", 5), (" 7", 7), ("0x1f", 31), ("+3", 3), ("\u0663", 3), ("9" * 25, int("9" * 25))]:
        device.element.find("target").set("size", text)
        assert device.to_spec()["specParams"]["size"] == expected
    for text in ["", "\u00b2", "1e3", "x"]:
        device.element.find("target").set("size", text)
        with pytest.raises(FieldValueError, match="size") as raised:
            device.to_spec()
        with pytest.raises(FieldValueError) as by_field:
            Probe.size.spec_value(device)
        assert str(raised.value) == str(by_field.value)


class Quoted(Device):
    """Declarations with characters that matter in Python source: they stay data."""

    dev_type = "quoted"
    tag = "quoted"
    odd = Field("@a", spec="say 'hi'\\\"\n); import os; (")
    nested = Field("t@b", INT, spec="x.'y'.z")
    claims: ClassVar = None


def test_declarations_are_literals_and_document_text_is_never_code() -> None:
    plan = plan_for(Quoted, "spec")
    assert "def read(view, element, out, want_device):" in plan.source
    assert "import os" not in plan.source.replace(repr("say 'hi'\\\"\n); import os; ("), "")
    hostile = "'); __import__('os').system('false'); ('"
    element = etree.fromstring("<quoted><t b='4'/></quoted>")
    element.set("a", hostile)
    device = Quoted(element)
    spec = device.to_spec()
    assert spec["say 'hi'\\\"\n); import os; ("] == hostile
    assert spec["x"] == {"'y'": {"z": 4}}
    assert hostile not in plan.source


def test_a_plan_keeps_its_readable_source() -> None:
    source = plan_for(Probe, "spec").source
    compile(source, "<check>", "exec")  # it is the code that runs
    assert "target" in source and "'specParams'" in source


def test_only_names_and_numbers_become_literals() -> None:
    from devframe.core.specgen import _literal

    assert _literal("a'b") == repr("a'b") and _literal(3) == "3" and _literal(None) == "None"
    with pytest.raises(TypeError):
        _literal(1.5)
    with pytest.raises(TypeError):
        _literal(type("S", (str,), {})("x"))  # a str subclass could repr itself as anything


def test_secret_key_answers_follow_registration() -> None:
    # is_secret_key remembers its answers (to_spec asks it of every metadata key): a key
    # name registered later must be answered again.
    from devframe.core.log import is_secret_key
    from devframe.core.secrets import register_secret_key

    name = "specreadProbeWord"
    assert not is_secret_key(name) and not is_secret_key(name)
    register_secret_key(name)
    assert is_secret_key(name) and is_secret_key(name.upper())
    assert is_secret_key("vncPassword") and not is_secret_key(3)
