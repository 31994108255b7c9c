"""Tests of the iommu plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

from typing import Any

import pytest
from devframe_iommu import Iommu
from devframe_iommu.device import MODELS
from lxml import etree

import devframe
from devframe.testing import (
    assert_reported_not_raised,
    assert_set_changes_only,
    assert_spec_refused,
    assert_spec_round_trip,
    canonical,
    contract_tests,
    one_device,
    plugin_registry,
    validate_against_schema,
    wrap_in_domain,
)

UUID = "6a1f0e2d-3b4c-4d5e-8f60-00000000a0a0"

INTEL = (
    "<iommu model='intel'>"
    "<driver intremap='on' caching_mode='on' eim='off' iotlb='on' aw_bits='48'/>"
    f"<alias name='ua-{UUID}'/>"
    "</iommu>"
)
INTEL_HEX_AW = "<iommu model='intel'><driver aw_bits='0x27'/></iommu>"
SMMUV3 = "<iommu model='smmuv3'/>"
VIRTIO = (
    "<iommu model='virtio'><alias name='iommu0'/><acpi index='2'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/></iommu>"
)
SAMPLES = [INTEL, INTEL_HEX_AW, SMMUV3, VIRTIO]

# Newer than the libvirt 9.0 schema here (dma_translation came in 10.x): still parsed,
# the contract suite skips only its schema check.
DMA = "<iommu model='intel'><driver intremap='on' dma_translation='off'/></iommu>"
NEWER = [DMA]

TestContract = contract_tests("iommu", samples=SAMPLES + NEWER)


registry = plugin_registry("iommu")


def _iommu(registry: devframe.Registry, xml: str) -> Iommu:
    return one_device(registry, xml, Iommu)


# -- parsing ----------------------------------------------------------------------------


def test_samples_are_schema_valid() -> None:
    for sample in SAMPLES:
        assert not validate_against_schema(wrap_in_domain(sample)), sample
    # ...and the newer ones are not (else they belong in SAMPLES, schema-checked)
    for sample in NEWER:
        assert validate_against_schema(wrap_in_domain(sample)), sample


def test_fields_are_typed(registry: devframe.Registry) -> None:
    intel = _iommu(registry, INTEL)
    assert intel.model == "intel"
    assert (intel.intremap, intel.caching_mode, intel.eim, intel.iotlb) == (True, True, False, True)
    assert intel.aw_bits == 48
    assert intel.dma_translation is None
    assert intel.device_id == UUID
    assert _iommu(registry, INTEL_HEX_AW).aw_bits == 0x27
    virtio = _iommu(registry, VIRTIO)
    assert (virtio.model, virtio.alias, virtio.acpi_index) == ("virtio", "iommu0", 2)
    assert virtio.address == {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x03", "function": "0x0"}
    assert _iommu(registry, DMA).dma_translation is False


@pytest.mark.parametrize("model", MODELS)
def test_every_model_round_trips(registry: devframe.Registry, model: str) -> None:
    iommu = _iommu(registry, f"<iommu model='{model}'><driver iotlb='on'/></iommu>")
    assert assert_spec_round_trip(registry, iommu)["device"] == model
    assert not validate_against_schema(wrap_in_domain(iommu.to_xml()))


@pytest.mark.parametrize("raw", ["256", "-1", "0x100", "wide"])
def test_bad_aw_bits_is_reported_not_raised(registry: devframe.Registry, raw: str) -> None:
    xml = f"<iommu model='intel'><driver aw_bits='{raw}'/></iommu>"
    assert_reported_not_raised(_iommu(registry, xml), "aw_bits", xml)


def test_a_model_after_11_3_is_kept(registry: devframe.Registry) -> None:
    # libvirt after 11.3 adds model='amd' with driver options of its own: read and kept.
    xml = (
        "<iommu model='amd'><driver intremap='on' iotlb='on' xtsup='on' passthrough='off'/>"
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/></iommu>"
    )
    iommu = _iommu(registry, xml)
    assert (iommu.model, iommu.intremap, iommu.iotlb) == ("amd", True, True)
    assert iommu.problems() == []
    iommu.iotlb = False
    driver = etree.fromstring(iommu.to_xml()).find("driver")
    assert driver.attrib == {"intremap": "on", "iotlb": "off", "xtsup": "on", "passthrough": "off"}
    spec = iommu.to_spec()
    assert spec["device"] == "amd"
    assert registry.device_from_spec(spec).to_spec() == spec


# -- dev_spec ---------------------------------------------------------------------------


def test_spec_of_every_key(registry: devframe.Registry) -> None:
    assert _iommu(registry, INTEL).to_spec() == {
        "type": "iommu",
        "device": "intel",
        "alias": f"ua-{UUID}",
        "deviceId": UUID,
        "specParams": {
            "driver": {"intremap": True, "cachingMode": True, "eim": False, "iotlb": True, "awBits": 48},
        },
    }
    assert _iommu(registry, DMA).to_spec()["specParams"] == {"driver": {"intremap": True, "dmaTranslation": False}}
    assert _iommu(registry, VIRTIO).to_spec()["specParams"] == {"acpiIndex": 2}


def test_minimal_spec_gets_the_required_model(registry: devframe.Registry) -> None:
    iommu = registry.device_from_spec({"type": "iommu"})
    assert isinstance(iommu, Iommu)
    assert iommu.to_xml() == '<iommu model="intel"/>'
    assert not validate_against_schema(wrap_in_domain(iommu.to_xml()))


def test_engine_spec_with_every_documented_key(registry: devframe.Registry) -> None:
    spec = {
        "type": "iommu",
        "device": "intel",
        "deviceId": UUID,
        "address": {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x04", "function": "0x0"},
        "specParams": {
            "acpiIndex": 4,
            "driver": {
                "intremap": "on",  # engines send words as often as bools
                "cachingMode": True,
                "eim": "off",
                "iotlb": True,
                "awBits": "39",
                "dmaTranslation": True,
            },
        },
    }
    iommu = registry.device_from_spec(spec)
    assert isinstance(iommu, Iommu)
    expected = (
        "<iommu model='intel'>"
        "<driver intremap='on' caching_mode='on' eim='off' iotlb='on' aw_bits='39' dma_translation='on'/>"
        f"<alias name='ua-{UUID}'/><acpi index='4'/>"
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></iommu>"
    )
    assert canonical(iommu.to_xml()) == canonical(expected)
    assert [c.tag for c in etree.fromstring(iommu.to_xml())] == ["driver", "alias", "acpi", "address"]
    out = iommu.to_spec()
    assert out["specParams"]["driver"] == {
        "intremap": True, "cachingMode": True, "eim": False, "iotlb": True, "awBits": 39, "dmaTranslation": True,
    }  # fmt: skip
    assert registry.device_from_spec(out).to_spec() == out
    # without the 10.x option, the same spec builds XML libvirt 9.0's schema accepts
    del spec["specParams"]["driver"]["dmaTranslation"]  # type: ignore[attr-defined]
    assert not validate_against_schema(wrap_in_domain(registry.device_from_spec(spec).to_xml()))


def test_iommu_without_model_round_trips(registry: devframe.Registry) -> None:
    iommu = _iommu(registry, "<iommu><driver intremap='on'/></iommu>")
    spec = iommu.to_spec()
    assert spec["device"] == "iommu"
    again = registry.device_from_spec(spec)
    assert again.element.get("model") is None
    assert again.to_spec() == spec


@pytest.mark.parametrize("sample", SAMPLES + NEWER)
def test_spec_round_trip(registry: devframe.Registry, sample: str) -> None:
    spec = _iommu(registry, sample).to_spec()
    assert registry.device_from_spec(spec).to_spec() == spec


@pytest.mark.parametrize(
    ("driver", "key"),
    [
        ({"awBits": 256}, "specParams.driver.awBits"),
        ({"awBits": -1}, "specParams.driver.awBits"),
        ({"awBits": "wide"}, "specParams.driver.awBits"),
        ({"awBits": False}, "specParams.driver.awBits"),
        ({"intremap": "sometimes"}, "specParams.driver.intremap"),
        ({"cachingMode": 1}, "specParams.driver.cachingMode"),
        ({"eim": "maybe"}, "specParams.driver.eim"),
        ({"iotlb": []}, "specParams.driver.iotlb"),
        ({"dmaTranslation": "x"}, "specParams.driver.dmaTranslation"),
    ],
)
def test_bad_spec_value_is_a_spec_error_naming_the_key(
    registry: devframe.Registry, driver: dict[str, Any], key: str
) -> None:
    assert_spec_refused(registry, {"type": "iommu", "device": "intel", "specParams": {"driver": driver}}, key)


@pytest.mark.parametrize("device", [3, "", ["intel"], True])
def test_bad_device_is_a_spec_error(registry: devframe.Registry, device: Any) -> None:
    with pytest.raises(devframe.SpecError, match="'device'"):
        registry.device_from_spec({"type": "iommu", "device": device})


def test_bad_acpi_index_names_the_key(registry: devframe.Registry) -> None:
    # acpi index is the core's field: a bad value is a DevframeError naming the key.
    with pytest.raises(devframe.DevframeError, match="acpiIndex"):
        registry.device_from_spec({"type": "iommu", "specParams": {"acpiIndex": "first"}})


# -- editing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "place", "raw"),
    [
        ("model", "virtio", "@model", "virtio"),
        ("intremap", False, "driver@intremap", "off"),
        ("caching_mode", False, "driver@caching_mode", "off"),
        ("eim", True, "driver@eim", "on"),
        ("iotlb", False, "driver@iotlb", "off"),
        ("aw_bits", 39, "driver@aw_bits", "39"),
        ("dma_translation", True, "driver@dma_translation", "on"),
    ],
)
def test_editing_changes_only_that_field(
    registry: devframe.Registry, name: str, value: Any, place: str, raw: str
) -> None:
    iommu = _iommu(registry, INTEL)
    assert_set_changes_only(iommu, name, value, place, raw)


def test_adding_a_driver_option_creates_the_driver_first(registry: devframe.Registry) -> None:
    iommu = _iommu(registry, VIRTIO)
    iommu.iotlb = True
    assert [c.tag for c in iommu.element] == ["driver", "alias", "acpi", "address"]
    iommu.iotlb = None
    assert iommu.element.find("driver") is None


# -- identity and display ---------------------------------------------------------------


def test_identity_is_the_model(registry: devframe.Registry) -> None:
    assert _iommu(registry, INTEL).identity() == {"devtype": "iommu", "model": "intel"}
    assert _iommu(registry, SMMUV3).identity() == {"devtype": "iommu", "model": "smmuv3"}
    assert _iommu(registry, "<iommu/>").identity() is None


def test_metadata_binds_by_identity_without_an_alias(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(SMMUV3, arch="aarch64"), registry=registry)
    (iommu,) = domain.dev_map["iommu"]
    iommu.metadata["note"] = "kept"
    again = devframe.parse_domain(domain.to_xml(), registry=registry)
    (bound,) = again.dev_map["iommu"]
    assert bound.metadata["note"] == "kept"


def test_summary_shows_the_model_first(registry: devframe.Registry) -> None:
    summary = _iommu(registry, VIRTIO).summary()
    assert summary == {"model": "virtio", "acpi_index": 2}
    assert list(summary) == ["model", "acpi_index"]
    intel = _iommu(registry, INTEL).summary()
    assert intel == {"model": "intel", "intremap": True, "caching_mode": True, "iotlb": True, "aw_bits": 48}
