"""Tests of the pstore plugin, runnable with only the core and this plugin installed.

``<pstore>`` is newer than the libvirt 9.0 schema installed here, so the contract suite
cannot schema-check it: :func:`_check_11_3` checks what libvirt 11.3's schema requires of
the element by hand.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from devframe_pstore import Pstore
from devframe_pstore.device import DEFAULT_SIZE_KIB
from lxml import etree

import devframe
from devframe.testing import (
    assert_reported_not_raised,
    assert_set_changes_only,
    assert_set_refused,
    assert_spec_refused,
    assert_spec_round_trip,
    canonical,
    contract_tests,
    one_device,
    plugin_registry,
    validate_against_schema,
    wrap_in_domain,
)

UUID = "9f8e7d6c-5b4a-4392-8170-0000000e0557"

FULL = (
    "<pstore backend='acpi-erst'><path>/var/lib/libvirt/qemu/guest1.pstore</path>"
    "<size unit='KiB'>64</size><alias name='pstore0'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x0b' function='0x0'/></pstore>"
)
NO_UNIT = "<pstore backend='acpi-erst'><size>8</size></pstore>"
MIB = f"<pstore backend='acpi-erst'><size unit='M'>1</size><alias name='ua-{UUID}'/></pstore>"
BYTES = "<pstore backend='acpi-erst'><path>/srv/erst</path><size unit='bytes'>16384</size></pstore>"
SAMPLES = [FULL, NO_UNIT, MIB, BYTES]

TestContract = contract_tests("pstore", samples=SAMPLES, edit_values={"size_unit": "MiB", "path": "/srv/other"})

_UNIT = re.compile(r"([bB]([yY][tT][eE][sS]?)?)|([kKmMgGtTpPeE]([iI]?[bB])?)")


def _check_11_3(xml: str) -> None:
    """Assert what libvirt 11.3's schema (``<define name="pstore">``) requires."""
    element = etree.fromstring(xml)
    assert element.tag == "pstore"
    assert element.attrib == {"backend": "acpi-erst"}, "backend is required: acpi-erst"
    tags = [child.tag for child in element]
    assert tags.count("size") == 1, "<size> is required"
    assert set(tags) <= {"path", "size", "alias", "address"}
    assert all(tags.count(tag) <= 1 for tag in tags)
    size = element.find("size")
    assert size.text is not None and size.text.isdigit() and int(size.text) < 2**64
    assert set(size.attrib) <= {"unit"} and len(size) == 0
    if "unit" in size.attrib:
        assert _UNIT.fullmatch(size.get("unit"))
    path = element.find("path")
    if path is not None:
        assert path.text is not None and re.fullmatch(r"(/|[a-zA-Z]:\\).+", path.text) and not path.attrib


registry = plugin_registry("pstore")


def _pstore(registry: devframe.Registry, xml: str) -> Pstore:
    return one_device(registry, xml, Pstore)


# -- parsing ----------------------------------------------------------------------------


def test_samples_meet_the_11_3_schema_and_are_unknown_to_9_0() -> None:
    for sample in SAMPLES:
        _check_11_3(sample)
        assert validate_against_schema(wrap_in_domain(sample)), "libvirt 9.0 has no <pstore>: update the tests"


def test_the_11_3_check_refuses_what_the_schema_refuses() -> None:
    for bad in (
        "<pstore><size>8</size></pstore>",
        "<pstore backend='acpi-erst'/>",
        "<pstore backend='acpi-erst'><path>/x</path></pstore>",
        "<pstore backend='acpi-erst'><size unit='KiX'>8</size></pstore>",
        "<pstore backend='acpi-erst'><size>-8</size></pstore>",
        "<pstore backend='acpi-erst'><path>relative</path><size>8</size></pstore>",
        "<pstore backend='acpi-erst'><size>8</size><driver/></pstore>",
    ):
        with pytest.raises(AssertionError):
            _check_11_3(bad)


def test_fields_are_typed(registry: devframe.Registry) -> None:
    full = _pstore(registry, FULL)
    assert (full.backend, full.path, full.size, full.size_unit) == (
        "acpi-erst", "/var/lib/libvirt/qemu/guest1.pstore", 64, "KiB",
    )  # fmt: skip
    assert full.alias == "pstore0"
    assert full.address == {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x0b", "function": "0x0"}
    assert (_pstore(registry, NO_UNIT).size, _pstore(registry, NO_UNIT).size_unit) == (8, None)
    assert _pstore(registry, MIB).device_id == UUID


@pytest.mark.parametrize(
    ("xml", "field"),
    [
        ("<pstore backend='acpi-erst'><size>-1</size></pstore>", "size"),
        ("<pstore backend='acpi-erst'><size>18446744073709551616</size></pstore>", "size"),
        ("<pstore backend='acpi-erst'><size>big</size></pstore>", "size"),
        ("<pstore backend='acpi-erst'><size unit='parsecs'>8</size></pstore>", "size_unit"),
        ("<pstore backend='acpi-erst'><path>relative/file</path><size>8</size></pstore>", "path"),
    ],
)
def test_bad_values_are_reported_not_raised(registry: devframe.Registry, xml: str, field: str) -> None:
    assert_reported_not_raised(_pstore(registry, xml), field, xml)


def test_every_unit_of_the_schema_is_accepted(registry: devframe.Registry) -> None:
    units = ["b", "B", "bytes", "byte", "k", "K", "KB", "KiB", "M", "MB", "MiB", "G", "GiB", "T", "TB", "P", "PiB"]
    units += ["E", "EiB", "e", "kib"]
    for unit in units:
        pstore = _pstore(registry, f"<pstore backend='acpi-erst'><size unit='{unit}'>1</size></pstore>")
        assert pstore.problems() == [], unit
        assert pstore.size_unit == unit


def test_unknown_backend_and_content_are_kept(registry: devframe.Registry) -> None:
    xml = "<pstore backend='acpi-next' extra='1'><size unit='KiB'>8</size><future/></pstore>"
    pstore = _pstore(registry, xml)
    assert pstore.backend == "acpi-next" and pstore.problems() == []
    pstore.size = 16
    out = etree.fromstring(pstore.to_xml())
    assert out.get("extra") == "1" and out.find("future") is not None and out.find("size").text == "16"
    assert registry.device_from_spec(pstore.to_spec()).to_spec() == pstore.to_spec()


# -- dev_spec ---------------------------------------------------------------------------


def test_spec_of_every_key(registry: devframe.Registry) -> None:
    assert _pstore(registry, FULL).to_spec() == {
        "type": "pstore",
        "device": "acpi-erst",
        "alias": "pstore0",
        "address": {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x0b", "function": "0x0"},
        "specParams": {"path": "/var/lib/libvirt/qemu/guest1.pstore", "size": 64, "sizeUnit": "KiB"},
    }
    assert _pstore(registry, NO_UNIT).to_spec()["specParams"] == {"size": 8}


def test_minimal_spec_gets_every_required_value(registry: devframe.Registry) -> None:
    pstore = registry.device_from_spec({"type": "pstore"})
    assert isinstance(pstore, Pstore)
    assert canonical(pstore.to_xml()) == canonical(
        f"<pstore backend='acpi-erst'><size unit='KiB'>{DEFAULT_SIZE_KIB}</size></pstore>"
    )
    _check_11_3(pstore.to_xml())
    spec = pstore.to_spec()
    assert spec == {"type": "pstore", "device": "acpi-erst", "specParams": {"size": 64, "sizeUnit": "KiB"}}
    assert registry.device_from_spec(spec).to_spec() == spec


def test_a_size_without_a_unit_is_written_as_given(registry: devframe.Registry) -> None:
    pstore = registry.device_from_spec({"type": "pstore", "specParams": {"size": "128"}})
    assert canonical(pstore.to_xml()) == canonical("<pstore backend='acpi-erst'><size>128</size></pstore>")
    _check_11_3(pstore.to_xml())


def test_engine_spec_with_every_documented_key(registry: devframe.Registry) -> None:
    spec = {
        "type": "pstore",
        "device": "acpi-erst",
        "deviceId": UUID,
        "address": {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x0c", "function": "0x0"},
        "specParams": {"path": "/var/lib/libvirt/qemu/g.pstore", "size": "32", "sizeUnit": "KiB"},
    }
    pstore = registry.device_from_spec(spec)
    assert isinstance(pstore, Pstore)
    expected = (
        "<pstore backend='acpi-erst'><path>/var/lib/libvirt/qemu/g.pstore</path><size unit='KiB'>32</size>"
        f"<alias name='ua-{UUID}'/>"
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x0c' function='0x0'/></pstore>"
    )
    assert canonical(pstore.to_xml()) == canonical(expected)
    assert [c.tag for c in etree.fromstring(pstore.to_xml())] == ["path", "size", "alias", "address"]
    _check_11_3(pstore.to_xml())
    out = pstore.to_spec()
    assert out["specParams"] == {"path": "/var/lib/libvirt/qemu/g.pstore", "size": 32, "sizeUnit": "KiB"}
    assert registry.device_from_spec(out).to_spec() == out


def test_pstore_without_backend_round_trips(registry: devframe.Registry) -> None:
    pstore = _pstore(registry, "<pstore><size>8</size></pstore>")
    spec = pstore.to_spec()
    assert spec["device"] == "pstore"
    again = registry.device_from_spec(spec)
    assert again.element.get("backend") is None
    assert canonical(again.to_xml()) == canonical(pstore.element)


@pytest.mark.parametrize("sample", SAMPLES)
def test_spec_round_trip(registry: devframe.Registry, sample: str) -> None:
    assert_spec_round_trip(registry, _pstore(registry, sample), sample)
    _check_11_3(sample)


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"size": -1}, "specParams.size"),
        ({"size": 2**64}, "specParams.size"),
        ({"size": "big"}, "specParams.size"),
        ({"size": 1.5}, "specParams.size"),
        ({"size": 8, "sizeUnit": "parsecs"}, "specParams.sizeUnit"),
        ({"size": 8, "sizeUnit": 1024}, "specParams.sizeUnit"),
        ({"sizeUnit": "KiB"}, "specParams.size"),
        ({"path": "relative/file"}, "specParams.path"),
        ({"path": ""}, "specParams.path"),
        ({"path": ["/x"]}, "specParams.path"),
    ],
)
def test_bad_spec_value_is_a_spec_error_naming_the_key(
    registry: devframe.Registry, params: dict[str, Any], key: str
) -> None:
    assert_spec_refused(registry, {"type": "pstore", "device": "acpi-erst", "specParams": params}, key + "'")


@pytest.mark.parametrize("device", [7, "", ["acpi-erst"]])
def test_bad_device_is_a_spec_error(registry: devframe.Registry, device: Any) -> None:
    with pytest.raises(devframe.SpecError, match="'device'"):
        registry.device_from_spec({"type": "pstore", "device": device})


# -- editing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "place", "raw"),
    [
        ("backend", "acpi-next", "@backend", "acpi-next"),
        ("path", "/srv/erst2", "path", "/srv/erst2"),
        ("size", 128, "size", "128"),
        ("size_unit", "MiB", "size@unit", "MiB"),
    ],
)
def test_editing_changes_only_that_field(
    registry: devframe.Registry, name: str, value: Any, place: str, raw: str
) -> None:
    pstore = _pstore(registry, FULL)
    assert_set_changes_only(pstore, name, value, place, raw)


def test_a_bad_unit_or_path_is_refused_when_set(registry: devframe.Registry) -> None:
    pstore = _pstore(registry, FULL)
    assert_set_refused(pstore, "size_unit", "parsecs")
    assert_set_refused(pstore, "path", "relative")


def test_adding_a_path_puts_it_before_the_size(registry: devframe.Registry) -> None:
    pstore = _pstore(registry, MIB)
    pstore.path = "/srv/erst"
    assert [c.tag for c in pstore.element] == ["path", "size", "alias"]
    _check_11_3(pstore.to_xml())


# -- identity and display ---------------------------------------------------------------


def test_identity_is_the_backend(registry: devframe.Registry) -> None:
    assert _pstore(registry, FULL).identity() == {"devtype": "pstore", "backend": "acpi-erst"}
    assert _pstore(registry, "<pstore><size>8</size></pstore>").identity() is None


def test_metadata_binds_by_identity_without_an_alias(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(BYTES), registry=registry)
    (pstore,) = domain.dev_map["pstore"]
    pstore.metadata["note"] = "kept"
    again = devframe.parse_domain(domain.to_xml(), registry=registry)
    (bound,) = again.dev_map["pstore"]
    assert bound.metadata["note"] == "kept"


def test_summary_shows_key_fields(registry: devframe.Registry) -> None:
    assert _pstore(registry, FULL).summary() == {
        "backend": "acpi-erst", "path": "/var/lib/libvirt/qemu/guest1.pstore", "size": 64, "size_unit": "KiB",
    }  # fmt: skip
