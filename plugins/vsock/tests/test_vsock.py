"""Tests of the vsock plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

from typing import Any

import pytest
from devframe_vsock import Vsock
from devframe_vsock.device import MODELS
from lxml import etree

import devframe
from devframe.testing import (
    assert_set_changes_only,
    assert_spec_round_trip,
    canonical,
    contract_tests,
    one_device,
    plugin_registry,
    validate_against_schema,
    wrap_in_domain,
)

UUID = "0b7e4c1a-5d2f-4e8a-9c3b-00000000c1d0"

VIRTIO = (
    "<vsock model='virtio'><cid auto='no' address='3'/>"
    f"<alias name='ua-{UUID}'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/></vsock>"
)
TRANSITIONAL_AUTO = "<vsock model='virtio-transitional'><cid auto='yes'/><alias name='vsock0'/></vsock>"
NON_TRANSITIONAL_DRIVER = (
    "<vsock model='virtio-non-transitional'><cid auto='no' address='4294967295'/>"
    "<acpi index='7'/><address type='pci' domain='0x0000' bus='0x05' slot='0x00' function='0x0'/>"
    "<driver iommu='on' ats='off' packed='on' page_per_vq='off'/></vsock>"
)
CCW = (
    "<vsock model='virtio'><cid address='5'/>"
    "<address type='ccw' cssid='0xfe' ssid='0x0' devno='0x0003'/><driver iommu='on'/></vsock>"
)
NO_MODEL = "<vsock><cid auto='yes'/></vsock>"
BARE = "<vsock model='virtio'/>"

SAMPLES = [VIRTIO, TRANSITIONAL_AUTO, NON_TRANSITIONAL_DRIVER, CCW, NO_MODEL, BARE]

TestContract = contract_tests("vsock", samples=SAMPLES)


registry = plugin_registry("vsock")


def _vsock(registry: devframe.Registry, xml: str) -> Vsock:
    return one_device(registry, xml, Vsock)


# -- parsing ----------------------------------------------------------------------------


def test_samples_are_schema_valid() -> None:
    # All valid for libvirt 9.0 too, so the contract's spec-built schema check covers each.
    for sample in SAMPLES:
        assert not validate_against_schema(wrap_in_domain(sample)), sample


def test_fields_are_typed(registry: devframe.Registry) -> None:
    vsock = _vsock(registry, VIRTIO)
    assert (vsock.model, vsock.cid, vsock.cid_auto) == ("virtio", 3, False)
    assert vsock.device_id == UUID
    assert vsock.address == {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x07", "function": "0x0"}
    full = _vsock(registry, NON_TRANSITIONAL_DRIVER)
    assert full.model == "virtio-non-transitional"
    assert full.cid == 2**32 - 1
    assert (full.iommu, full.ats, full.packed, full.page_per_vq) == (True, False, True, False)
    assert full.acpi_index == 7
    auto = _vsock(registry, TRANSITIONAL_AUTO)
    assert (auto.cid, auto.cid_auto, auto.alias) == (None, True, "vsock0")
    assert _vsock(registry, NO_MODEL).model is None


@pytest.mark.parametrize("model", MODELS)
def test_every_model_round_trips(registry: devframe.Registry, model: str) -> None:
    vsock = _vsock(registry, f"<vsock model='{model}'><cid auto='no' address='9'/></vsock>")
    assert assert_spec_round_trip(registry, vsock)["device"] == model


@pytest.mark.parametrize("raw", ["-1", "4294967296", "three"])
def test_bad_cid_is_reported_not_raised(registry: devframe.Registry, raw: str) -> None:
    vsock = _vsock(registry, f"<vsock model='virtio'><cid address='{raw}'/></vsock>")
    assert any("cid" in problem for problem in vsock.problems())
    with pytest.raises(devframe.FieldValueError, match="cid"):
        vsock.to_spec()
    assert f'address="{raw}"' in vsock.to_xml()


def test_unknown_model_and_attributes_are_kept(registry: devframe.Registry) -> None:
    xml = "<vsock model='virtio-future' extra='1'><cid address='3' flag='x'/><future/></vsock>"
    vsock = _vsock(registry, xml)
    assert vsock.model == "virtio-future"
    assert vsock.problems() == []
    vsock.cid = 4
    out = etree.fromstring(vsock.to_xml())
    assert out.get("extra") == "1" and out.find("cid").get("flag") == "x" and out.find("future") is not None
    assert registry.device_from_spec(vsock.to_spec()).to_spec() == vsock.to_spec()


# -- dev_spec ---------------------------------------------------------------------------


def test_spec_of_every_key(registry: devframe.Registry) -> None:
    assert _vsock(registry, NON_TRANSITIONAL_DRIVER).to_spec() == {
        "type": "vsock",
        "device": "virtio-non-transitional",
        "address": {"type": "pci", "domain": "0x0000", "bus": "0x05", "slot": "0x00", "function": "0x0"},
        "specParams": {
            "cid": 2**32 - 1,
            "auto": False,
            "acpiIndex": 7,
            "driver": {"iommu": True, "ats": False, "packed": True, "pagePerVq": False},
        },
    }
    spec = _vsock(registry, VIRTIO).to_spec()
    assert (spec["alias"], spec["deviceId"]) == (f"ua-{UUID}", UUID)


def test_minimal_spec_gets_defaults(registry: devframe.Registry) -> None:
    vsock = registry.device_from_spec({"type": "vsock"})
    assert isinstance(vsock, Vsock)
    assert vsock.to_xml() == '<vsock model="virtio"/>'
    assert vsock.to_spec() == {"type": "vsock", "device": "virtio", "specParams": {}}
    assert not validate_against_schema(wrap_in_domain(vsock.to_xml()))


def test_engine_spec_with_every_documented_key(registry: devframe.Registry) -> None:
    spec = {
        "type": "vsock",
        "device": "virtio-transitional",
        "deviceId": UUID,
        "address": {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x09", "function": "0x0"},
        "specParams": {
            "cid": "42",  # engines send numbers as strings too
            "auto": "no",
            "acpiIndex": "3",
            "driver": {"iommu": True, "ats": True, "packed": False, "pagePerVq": True},
        },
    }
    vsock = registry.device_from_spec(spec)
    assert isinstance(vsock, Vsock)
    expected = (
        "<vsock model='virtio-transitional'><cid auto='no' address='42'/>"
        f"<alias name='ua-{UUID}'/><acpi index='3'/>"
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x09' function='0x0'/>"
        "<driver iommu='on' ats='on' packed='off' page_per_vq='on'/></vsock>"
    )
    assert canonical(vsock.to_xml()) == canonical(expected)
    # children in libvirt's order, whatever order the fields were set in
    assert [c.tag for c in etree.fromstring(vsock.to_xml())] == ["cid", "alias", "acpi", "address", "driver"]
    assert not validate_against_schema(wrap_in_domain(vsock.to_xml()))
    out = vsock.to_spec()
    assert out["specParams"] == {
        "cid": 42,
        "auto": False,
        "acpiIndex": 3,
        "driver": {"iommu": True, "ats": True, "packed": False, "pagePerVq": True},
    }
    assert registry.device_from_spec(out).to_spec() == out


def test_vsock_without_model_round_trips(registry: devframe.Registry) -> None:
    vsock = _vsock(registry, NO_MODEL)
    spec = vsock.to_spec()
    assert spec["device"] == "vsock"
    again = registry.device_from_spec(spec)
    assert again.element.get("model") is None
    assert canonical(again.to_xml()) == canonical(vsock.element)


@pytest.mark.parametrize("sample", SAMPLES)
def test_spec_round_trip(registry: devframe.Registry, sample: str) -> None:
    assert_spec_round_trip(registry, _vsock(registry, sample), sample)


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"cid": -1}, "specParams.cid"),
        ({"cid": 2**32}, "specParams.cid"),
        ({"cid": "three"}, "specParams.cid"),
        ({"cid": True}, "specParams.cid"),
        ({"cid": 3.5}, "specParams.cid"),
        ({"auto": "maybe"}, "specParams.auto"),
        ({"auto": 1}, "specParams.auto"),
    ],
)
def test_bad_spec_value_is_a_spec_error_naming_the_key(
    registry: devframe.Registry, params: dict[str, Any], key: str
) -> None:
    with pytest.raises(devframe.SpecError, match=key.replace(".", r"\.")):
        registry.device_from_spec({"type": "vsock", "device": "virtio", "specParams": params})


@pytest.mark.parametrize("device", [7, "", ["virtio"], True])
def test_bad_device_is_a_spec_error(registry: devframe.Registry, device: Any) -> None:
    with pytest.raises(devframe.SpecError, match="'device'"):
        registry.device_from_spec({"type": "vsock", "device": device})


def test_bad_driver_option_names_the_key(registry: devframe.Registry) -> None:
    # The virtio options are the core's fields: a bad value is a DevframeError naming the key.
    with pytest.raises(devframe.DevframeError, match="iommu"):
        registry.device_from_spec({"type": "vsock", "specParams": {"driver": {"iommu": "sometimes"}}})
    with pytest.raises(devframe.DevframeError, match="acpiIndex"):
        registry.device_from_spec({"type": "vsock", "specParams": {"acpiIndex": "x"}})


def test_unmodeled_spec_keys_go_to_metadata(registry: devframe.Registry) -> None:
    vsock = registry.device_from_spec({"type": "vsock", "specParams": {"cid": 3, "future": 1}, "custom": "x"})
    assert vsock.metadata["custom"] == "x"
    assert vsock.metadata["specParams"] == {"future": 1}
    assert vsock.to_spec()["specParams"] == {"cid": 3, "future": 1}


# -- editing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "place", "raw"),
    [
        ("model", "virtio-transitional", "@model", "virtio-transitional"),
        ("cid", 1234, "cid@address", "1234"),
        ("cid_auto", True, "cid@auto", "yes"),
        ("iommu", False, "driver@iommu", "off"),
        ("ats", True, "driver@ats", "on"),
        ("packed", False, "driver@packed", "off"),
        ("page_per_vq", True, "driver@page_per_vq", "on"),
        ("acpi_index", 9, "acpi@index", "9"),
    ],
)
def test_editing_changes_only_that_field(
    registry: devframe.Registry, name: str, value: Any, place: str, raw: str
) -> None:
    vsock = _vsock(registry, NON_TRANSITIONAL_DRIVER)
    assert_set_changes_only(vsock, name, value, place, raw)


def test_adding_a_cid_creates_only_it_in_place(registry: devframe.Registry) -> None:
    vsock = _vsock(registry, "<vsock model='virtio'><alias name='vsock0'/><driver iommu='on'/></vsock>")
    vsock.cid = 17
    assert [c.tag for c in vsock.element] == ["cid", "alias", "driver"]
    assert canonical(vsock.to_xml()) == canonical(
        "<vsock model='virtio'><cid address='17'/><alias name='vsock0'/><driver iommu='on'/></vsock>"
    )


def test_clearing_the_cid_removes_the_emptied_element(registry: devframe.Registry) -> None:
    vsock = _vsock(registry, VIRTIO)
    vsock.cid = None
    assert vsock.element.find("cid").attrib == {"auto": "no"}
    vsock.cid_auto = None
    assert vsock.element.find("cid") is None
    assert vsock.address is not None and vsock.alias == f"ua-{UUID}"


# -- identity and display ---------------------------------------------------------------


def test_identity_is_the_model(registry: devframe.Registry) -> None:
    assert _vsock(registry, VIRTIO).identity() == {"devtype": "vsock", "model": "virtio"}
    assert _vsock(registry, TRANSITIONAL_AUTO).identity() == {"devtype": "vsock", "model": "virtio-transitional"}
    assert _vsock(registry, NO_MODEL).identity() is None


def test_metadata_binds_by_identity_without_an_alias(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(CCW), registry=registry)
    (vsock,) = domain.dev_map["vsock"]
    vsock.metadata["note"] = "kept"
    again = devframe.parse_domain(domain.to_xml(), registry=registry)
    (bound,) = again.dev_map["vsock"]
    assert bound.metadata["note"] == "kept"


def test_summary_shows_key_fields_first(registry: devframe.Registry) -> None:
    summary = _vsock(registry, NON_TRANSITIONAL_DRIVER).summary()
    assert list(summary)[:2] == ["model", "cid"]
    assert summary["model"] == "virtio-non-transitional" and summary["iommu"] is True
    assert "cid_auto" not in summary  # False is left out, as for every kind
    assert _vsock(registry, NO_MODEL).summary() == {"model": "(default)", "cid_auto": True}
