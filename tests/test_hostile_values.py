"""Issue 20 items 3 and 6: huge integers, deep or self-referencing values, and sizes past
the XML reader's limits give a DevframeError naming the place, and whatever devframe
writes it reads back.

Every limit of :mod:`devframe.core.limits` is tried at, just under and just past its
boundary, through the API a caller uses: a field assignment, an address, a device's and
the VM's metadata, a dev_spec. Where a value is taken, the domain is written and parsed
again and the value compared.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from devframe import (
    INT,
    DevframeError,
    Device,
    DeviceTypeRegister,
    DomainError,
    Field,
    FieldValueError,
    MetadataError,
    Registry,
    SpecError,
    create_registry,
    hookimpl,
    parse_domain,
    parse_xml,
)
from devframe.core.errors import quoted
from devframe.core.limits import (
    ENTRY_DEPTH,
    MAX_DEPTH,
    MAX_INT_DIGITS,
    MAX_NAME_LENGTH,
    MAX_START_TAG_BYTES,
    MAX_TEXT_BYTES,
    MAX_VALUE_ITEMS,
    value_problem,
)
from devframe.testing import canonical

NS = "http://ovirt.org/vm/1.0"
BIG = 10**5000  # past Python's own int/str limit (4,300 digits)
LONGEST_INT = 10**MAX_INT_DIGITS - 1  # 640 nines: the largest taken
TOO_LONG_INT = 10**MAX_INT_DIGITS  # 641 digits


class Knob(Device):
    """A small device kind with one field of each shape: an int attribute, a text child,
    a string attribute, and the address every device has."""

    dev_type = "knob"
    size = Field("@size", INT, spec="size")
    label = Field("label", spec="label")
    name = Field("@name", spec="name")


class Knobs:
    @hookimpl
    def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
        register(Knob)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return create_registry(entry_points=False, plugins=[("knobs", Knobs())], env={})


DOMAIN = f"""<domain><name>limits</name><metadata><ovirt-vm:vm xmlns:ovirt-vm="{NS}"/></metadata>
<devices><knob size="1" name="k"><alias name="ua-1"/></knob><knob size="2" name="j"/></devices></domain>"""


def knob(registry: Registry) -> tuple[Any, Knob]:
    domain = parse_domain(DOMAIN, registry=registry)
    device = domain.devices[0]
    assert isinstance(device, Knob)
    return domain, device


def reread(domain: Any, registry: Registry) -> Any:
    """The domain's XML parsed again (with the default, safe limits), and that XML equal."""
    xml = domain.to_xml()
    again = parse_domain(xml, registry=registry)
    assert canonical(again.to_xml()) == canonical(xml)
    return again


def nested(depth: int, leaf: Any = "x") -> Any:
    """``depth`` dicts one in another around ``leaf`` (each a level of elements)."""
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


# -- item 3: integers past Python's int/str limit ------------------------------------------------


def test_a_message_quoting_a_huge_int_is_built() -> None:
    assert "<int of 16610 bits>" in str(FieldValueError("knob", "size", BIG, "too big"))
    assert quoted({"slot": BIG}) == "{'slot': <int of 16610 bits>}"
    deep: list[Any] = []
    deep.append(deep)
    assert quoted(deep).startswith("[[") and len(quoted(nested(3000))) <= 200


@pytest.mark.parametrize(
    ("value", "taken"),
    [(LONGEST_INT, True), (-LONGEST_INT, True), (TOO_LONG_INT, False), (-TOO_LONG_INT, False), (BIG, False)],
    ids=["640-digits", "minus-640-digits", "641-digits", "minus-641-digits", "5001-digits"],
)
def test_field_assignment_of_integers_at_the_limit(registry: Registry, value: int, taken: bool) -> None:
    domain, device = knob(registry)
    if not taken:
        with pytest.raises(FieldValueError, match=rf"size.*more than {MAX_INT_DIGITS} digits"):
            device.size = value
        assert device.size == 1, "a refused value leaves the field as it was"
        return
    device.size = value
    assert reread(domain, registry).devices[0].size == value


@pytest.mark.parametrize(("digits", "taken"), [(MAX_INT_DIGITS, True), (MAX_INT_DIGITS + 1, False), (5000, False)])
def test_integers_in_the_xml_past_the_limit_are_problems_not_crashes(
    registry: Registry, digits: int, taken: bool
) -> None:
    for text in ("9" * digits, "0x" + "f" * (digits * 5 // 6 + 1)):  # hex: int() has no limit there
        domain = parse_domain(DOMAIN.replace('size="1"', f'size="{text}"'), registry=registry)
        device = domain.devices[0]
        if taken and not text.startswith("0x"):
            assert device.to_spec()["size"] == int(text) and not device.problems()
            continue
        assert device.problems() and "size" in device.problems()[0]
        for call in (device.validate, device.to_spec, lambda device=device: device.size):
            with pytest.raises(FieldValueError, match="size"):
                call()
        assert text in domain.to_xml(), "the raw value is kept"
        assert isinstance(repr(device), str) and isinstance(device.summary(), dict)


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "knob", "size": BIG},
        {"type": "knob", "deviceId": BIG},
        {"type": "knob", "address": {"type": "pci", "slot": BIG}},
        {"type": "knob", "address": {"type": "ccw", "zpci": {"uid": TOO_LONG_INT}}},
        {"type": "knob", "name": BIG},  # a string field given an int
        {"type": "knob", "extra": [1, {"deep": -BIG}]},  # kept in metadata
    ],
    ids=["field", "deviceId", "address", "nested-address", "str-field", "metadata"],
)
def test_specs_with_huge_integers_are_spec_errors_naming_the_key(registry: Registry, spec: dict[str, Any]) -> None:
    with pytest.raises(SpecError) as caught:
        registry.device_from_spec(spec)
    message = str(caught.value)
    assert f"more than {MAX_INT_DIGITS} digits" in message
    key = next(k for k in spec if k != "type")
    assert key in message, message


def test_spec_integers_just_under_the_limit_are_written_and_read_back(registry: Registry) -> None:
    device = registry.device_from_spec(
        {"type": "knob", "deviceId": LONGEST_INT, "address": {"type": "pci", "slot": LONGEST_INT}, "n": -LONGEST_INT}
    )
    domain = parse_domain("<domain><name>d</name><devices/></domain>", registry=registry)
    domain.add(device)
    (again,) = reread(domain, registry).devices
    assert again.device_id == str(LONGEST_INT)
    assert again.address == {"type": "pci", "slot": str(LONGEST_INT)}
    assert again.metadata["n"] == -LONGEST_INT


@pytest.mark.parametrize("where", ["device", "vm"])
def test_metadata_integers_at_the_limit(registry: Registry, where: str) -> None:
    domain, device = knob(registry)
    values = device.metadata if where == "device" else domain.vm_metadata
    values["n"] = LONGEST_INT
    again = reread(domain, registry)
    assert (again.devices[0].metadata if where == "device" else again.vm_metadata)["n"] == LONGEST_INT
    with pytest.raises(MetadataError, match=r"/n: an integer of more than 640 digits"):
        values["n"] = TOO_LONG_INT


@pytest.mark.parametrize(("digits", "taken"), [(MAX_INT_DIGITS, True), (MAX_INT_DIGITS + 1, False), (5000, False)])
def test_metadata_type_int_text_past_the_limit_is_a_metadata_error(
    registry: Registry, digits: int, taken: bool
) -> None:
    text = "-" + "9" * digits
    xml = DOMAIN.replace(
        '<ovirt-vm:vm xmlns:ovirt-vm="http://ovirt.org/vm/1.0"/>',
        f'<ovirt-vm:vm xmlns:ovirt-vm="{NS}"><ovirt-vm:n type="int">{text}</ovirt-vm:n>'
        f'<ovirt-vm:device alias="ua-1"><ovirt-vm:n type="int">{text}</ovirt-vm:n></ovirt-vm:device></ovirt-vm:vm>',
    )
    domain = parse_domain(xml, registry=registry)
    if taken:
        assert domain.vm_metadata["n"] == int(text) == domain.devices[0].metadata["n"]
        return
    for read in (lambda: domain.vm_metadata["n"], lambda: domain.devices[0].metadata["n"], domain.devices[0].to_spec):
        with pytest.raises(MetadataError, match="type='int' with more than 640 digits"):
            read()


def test_inspect_json_shows_a_device_with_a_huge_integer_as_an_error(tmp_path: Any) -> None:
    from click.testing import CliRunner

    from devframe.cli import main

    path = tmp_path / "huge.xml"
    video = f"<video><model type='qxl' vram='{'9' * 5000}'/></video>"
    path.write_text(f"<domain><name>h</name><devices>{video}</devices></domain>")
    as_json = CliRunner().invoke(main, ["inspect", "--json", str(path)], catch_exceptions=False)
    assert as_json.exit_code == 0, as_json.output
    (video,) = json.loads(as_json.stdout)["video"]
    assert video["error"].startswith("video: field 'vram': an integer of more than 640 digits")
    table = CliRunner().invoke(main, ["inspect", str(path)], catch_exceptions=False)
    assert table.exit_code == 0, table.output
    assert "vram=\"<invalid '999" in table.stdout and len(table.stdout) < 1000


@pytest.mark.parametrize("index", [2**70, -(2**70), BIG, -BIG], ids=["2**70", "-2**70", "10**5000", "-10**5000"])
def test_move_to_any_integer_position(registry: Registry, index: int) -> None:
    domain, device = knob(registry)
    other = domain.devices[1]
    domain.move(device, index)
    assert domain.devices == ([other, device] if index > 0 else [device, other])
    domain.dev_map["knob"].insert(index, domain.dev_map["knob"].pop(0))
    assert len(domain.devices) == 2


@pytest.mark.parametrize("index", ["1", 1.0, None, True])
def test_move_to_something_else_is_a_domain_error(registry: Registry, index: Any) -> None:
    domain, device = knob(registry)
    with pytest.raises(DomainError, match="position must be an int"):
        domain.move(device, index)


# -- item 6: depth, self-reference, size -----------------------------------------------------------


def test_a_device_metadata_value_nests_as_deep_as_the_reader_reads(registry: Registry) -> None:
    limit = MAX_DEPTH - ENTRY_DEPTH - 1  # <domain><metadata><vm><device><key> then the value
    domain, device = knob(registry)
    for depth in (limit - 1, limit):
        device.metadata["deep"] = nested(depth)
        assert reread(domain, registry).devices[0].metadata["deep"] == nested(depth)
    with pytest.raises(MetadataError, match=r"/deep/a/a.*depth limit of 256 elements"):
        device.metadata["deep"] = nested(limit + 1)
    with pytest.raises(MetadataError, match="depth limit"):
        device.metadata["deep"] = nested(2000)  # not a RecursionError


def test_a_vm_metadata_value_nests_one_level_deeper(registry: Registry) -> None:
    limit = MAX_DEPTH - ENTRY_DEPTH  # <domain><metadata><vm><key> then the value
    domain, _ = knob(registry)
    domain.vm_metadata["deep"] = nested(limit)
    assert reread(domain, registry).vm_metadata["deep"] == nested(limit)
    with pytest.raises(MetadataError, match="depth limit"):
        domain.vm_metadata["deep"] = nested(limit + 1)


def _self_holding() -> Iterator[Any]:
    as_list: list[Any] = []
    as_list.append(as_list)
    yield as_list
    as_dict: dict[str, Any] = {}
    as_dict["me"] = as_dict
    yield as_dict
    inner: dict[str, Any] = {}
    yield {"a": [1, {"b": inner}], "c": inner.setdefault("loop", [inner])}


@pytest.mark.parametrize("value", list(_self_holding()), ids=["list", "dict", "indirect"])
def test_a_value_holding_itself_is_refused_everywhere(registry: Registry, value: Any) -> None:
    domain, device = knob(registry)
    for store in (device.metadata, domain.vm_metadata):
        with pytest.raises(MetadataError, match="contains itself"):
            store["loop"] = value
    with pytest.raises(SpecError, match="contains itself"):
        registry.device_from_spec({"type": "knob", "loop": value})
    with pytest.raises(SpecError, match="contains itself"):
        registry.device_from_spec({"type": "nosuch", "loop": value})  # the unknown-kind path too


def test_a_spec_nests_as_deep_as_its_metadata_entry_can() -> None:
    registry = create_registry(entry_points=False, plugins=[("knobs", Knobs())], env={})
    limit = MAX_DEPTH - ENTRY_DEPTH  # the spec is the entry: its keys one level below
    device = registry.device_from_spec({"type": "knob", "x": nested(limit - 1)})
    domain = parse_domain("<domain><name>d</name><devices/></domain>", registry=registry)
    device.alias = "ua-2"
    domain.add(device)
    assert reread(domain, registry).devices[0].metadata["x"] == nested(limit - 1)
    for too_deep in (nested(limit), nested(3000)):
        with pytest.raises(SpecError, match=r"key /x/a.*depth limit"):
            registry.device_from_spec({"type": "knob", "x": too_deep})


def test_shared_parts_count_each_time_they_would_be_written() -> None:
    fan: list[Any] = []
    for _ in range(40):  # 2**40 items once written out: refused at the item limit, at once
        fan = [fan, fan]
    assert value_problem(fan, max_depth=100) is not None
    under = {"k": list(range(MAX_VALUE_ITEMS - 2))}  # the dict, the list, the ints
    assert value_problem(under, max_depth=5) is None
    over = {"k": list(range(MAX_VALUE_ITEMS - 1))}
    assert value_problem(over, max_depth=5) == ("/k[99998]", f"more than {MAX_VALUE_ITEMS} items")


@pytest.mark.parametrize(
    ("text", "taken"),
    [
        ("x" * MAX_TEXT_BYTES, True),
        ("x" * (MAX_TEXT_BYTES + 1), False),
        ("é" * (MAX_TEXT_BYTES // 2), True),  # two bytes each in UTF-8: the limit counts bytes
        ("é" * (MAX_TEXT_BYTES // 2) + "x", False),
        ("\x01" * (MAX_TEXT_BYTES // 4 * 3), True),  # written as base64: a third larger
        ("\x01" * (MAX_TEXT_BYTES // 4 * 3 + 1), False),
    ],
    ids=["at", "past", "utf8-at", "utf8-past", "base64-at", "base64-past"],
)
def test_metadata_text_up_to_the_readers_limit(registry: Registry, text: str, taken: bool) -> None:
    domain, device = knob(registry)
    if not taken:
        with pytest.raises(MetadataError, match=r"/t: text of \d+ bytes.* is larger than the XML reader.s limit"):
            device.metadata["t"] = text
            domain.to_xml()  # base64 grows only when written
        return
    device.metadata["t"] = text
    assert reread(domain, registry).devices[0].metadata["t"] == text


@pytest.mark.parametrize(("size", "taken"), [(MAX_TEXT_BYTES, True), (MAX_TEXT_BYTES + 1, False)])
def test_field_text_up_to_the_readers_limit(registry: Registry, size: int, taken: bool) -> None:
    domain, device = knob(registry)
    if not taken:
        with pytest.raises(FieldValueError, match=r"label.*text of \d+ bytes is larger"):
            device.label = "y" * size
        assert device.label is None
        return
    device.label = "y" * size
    assert reread(domain, registry).devices[0].label == "y" * size


@pytest.mark.parametrize(
    ("value", "taken"),
    [
        ("v" * (MAX_START_TAG_BYTES - 100), True),
        ("&" * ((MAX_START_TAG_BYTES - 100) // 5), True),  # written as &amp;: five bytes each
        ("v" * (MAX_START_TAG_BYTES + 1), False),
        ("&" * (MAX_START_TAG_BYTES // 5 + 1), False),
    ],
    ids=["at", "escaped-at", "past", "escaped-past"],
)
def test_attribute_values_up_to_the_start_tag_limit(registry: Registry, value: str, taken: bool) -> None:
    domain, device = knob(registry)
    if not taken:
        with pytest.raises(FieldValueError, match=r"name.*as written is larger than the limit"):
            device.name = value
        assert device.name == "k"
        return
    device.name = value
    assert reread(domain, registry).devices[0].name == value


def test_one_start_tag_holds_at_most_the_limit_whatever_its_attributes(registry: Registry) -> None:
    domain, device = knob(registry)
    half = "s" * (MAX_START_TAG_BYTES // 2)
    with pytest.raises(FieldValueError, match="start tag of"):
        device.address = {"type": "pci", "a": half, "b": half}
    device.address = {"type": "pci", "a": half[: len(half) // 2], "b": half[: len(half) // 2]}
    device.name = "n" * (MAX_START_TAG_BYTES // 2)
    with pytest.raises(FieldValueError, match="start tag of"):
        device.label = None
        Knob.size.set_raw(device, "1" * (MAX_START_TAG_BYTES // 2 + 10))
    assert reread(domain, registry).devices[0].address["a"] == half[: len(half) // 2]


@pytest.mark.parametrize(("length", "taken"), [(MAX_NAME_LENGTH, True), (MAX_NAME_LENGTH + 1, False)])
def test_names_up_to_the_name_limit(registry: Registry, length: int, taken: bool) -> None:
    name = "n" * length
    addresses = [
        {"type": "ccw", name: "1"},  # an attribute of the address
        {"type": "ccw", name: {"uid": "1"}},  # a nested element of the address
        {"type": "ccw", "zpci": {name: "1"}},  # an attribute of the nested element
    ]
    for address in addresses:
        domain, device = knob(registry)
        if not taken:
            with pytest.raises(FieldValueError, match=rf"address.*a name of {length} characters"):
                device.address = address
            assert device.address is None
            continue
        device.address = address
        assert reread(domain, registry).devices[0].address == address
    domain, device = knob(registry)
    if not taken:
        with pytest.raises(MetadataError, match=f"a name of {length} characters"):
            device.metadata[name] = 1
        with pytest.raises(MetadataError, match=f"a name of {length} characters"):
            device.metadata["k"] = {name: 1}
        with pytest.raises(SpecError, match=f"a name of {length} characters"):
            registry.device_from_spec({"type": "knob", name: 1})
        return
    device.metadata[name] = {name: 1}
    device.metadata[f"{name[:-1]} "] = 2  # not an XML name: written as <item key="...">
    again = reread(domain, registry).devices[0].metadata
    assert again[name] == {name: 1} and again[f"{name[:-1]} "] == 2


def test_address_values_are_words_and_numbers(registry: Registry) -> None:
    _, device = knob(registry)
    for bad in ([1, 2], True, object(), {"deeper": {"x": 1}}):
        with pytest.raises(FieldValueError, match="address"):
            device.address = {"type": "pci", "slot": bad}
    device.address = {"type": "pci", "slot": 3, "bus": "0x00", "function": 0.0}
    assert device.address == {"type": "pci", "slot": "3", "bus": "0x00", "function": "0.0"}


def test_the_readers_limits_are_what_devframe_writes_under() -> None:
    """The boundaries themselves, read by the parser devframe uses (so a libxml2 that
    moves them fails here, not in a user's domain)."""

    def reads(xml: str) -> bool:
        try:
            parse_xml(xml)
        except DevframeError:
            return False
        return True

    assert reads("<a>" * MAX_DEPTH + "</a>" * MAX_DEPTH)
    assert not reads("<a>" * (MAX_DEPTH + 1) + "</a>" * (MAX_DEPTH + 1))
    assert reads(f"<a>{'x' * MAX_TEXT_BYTES}</a>") and not reads(f"<a>{'x' * (MAX_TEXT_BYTES + 1)}</a>")
    # two start tags one inside the other, each at devframe's limit, read; libxml2 itself
    # refuses a start tag of 10 MB (with its parent's), so the limit leaves room
    tag = "v" * (MAX_START_TAG_BYTES - 20)
    assert reads(f"<a v='{tag}'><b v='{tag}'/></a>")
    assert not reads(f"<a v='{'v' * 9_000_000}'><b v='{'v' * 2_000_000}'/></a>")
    assert reads(f"<{'n' * MAX_NAME_LENGTH}/>") and not reads(f"<{'n' * 50_001}/>")
