"""Tests of the memballoon plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

from typing import Any

import pytest
from devframe_memballoon import BALLOON_MODELS, Memballoon
from devframe_memballoon.plugin import LEGACY_ARCHES, legacy_balloon_specs
from lxml import etree

import devframe
from devframe.testing import (
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

UUID = "4d3c2b1a-0f9e-4d8c-a7b6-c5d4e3f2a1b0"

VIRTIO = (
    "<memballoon model='virtio' autodeflate='on' freePageReporting='off'><stats period='10'/>"
    f"<alias name='ua-{UUID}'/><acpi index='4'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x08' function='0x0'/>"
    "<driver iommu='on' ats='off' packed='on' page_per_vq='off'/></memballoon>"
)
TRANSITIONAL = (
    "<memballoon model='virtio-transitional' freePageReporting='on'><alias name='balloon0'/>"
    "<address type='pci' domain='0x0000' bus='0x02' slot='0x01' function='0x0'/></memballoon>"
)
NON_TRANSITIONAL = "<memballoon model='virtio-non-transitional' autodeflate='off'><stats period='2'/></memballoon>"
CCW = (
    "<memballoon model='virtio'><address type='ccw' cssid='0xfe' ssid='0x0' devno='0x0004'/></memballoon>"
)  # fmt: skip
XEN = "<memballoon model='xen'/>"
NONE = "<memballoon model='none'/>"

SAMPLES = [VIRTIO, TRANSITIONAL, NON_TRANSITIONAL, CCW, XEN, NONE]

TestContract = contract_tests("memballoon", samples=SAMPLES)


registry = plugin_registry("memballoon")


def _balloon(registry: devframe.Registry, xml: str) -> Memballoon:
    return one_device(registry, xml, Memballoon)


def test_samples_cover_every_model() -> None:
    for model in BALLOON_MODELS:
        assert any(f"model='{model}'" in sample for sample in SAMPLES), model


def test_fields_are_typed(registry: devframe.Registry) -> None:
    balloon = _balloon(registry, VIRTIO)
    assert balloon.model == "virtio"
    assert (balloon.autodeflate, balloon.free_page_reporting, balloon.stats_period) == (True, False, 10)
    assert (balloon.iommu, balloon.ats, balloon.packed, balloon.page_per_vq) == (True, False, True, False)
    assert balloon.acpi_index == 4
    assert balloon.device_id == UUID


def test_spec_is_vdsms_balloon(registry: devframe.Registry) -> None:
    assert _balloon(registry, VIRTIO).to_spec() == {
        "type": "balloon",
        "device": "memballoon",
        "alias": f"ua-{UUID}",
        "deviceId": UUID,
        "address": {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x08", "function": "0x0"},
        "specParams": {
            "model": "virtio",
            "autodeflate": True,
            "freePageReporting": False,
            "stats": {"period": 10},
            "driver": {"iommu": True, "ats": False, "packed": True, "pagePerVq": False},
            "acpiIndex": 4,
        },
    }


@pytest.mark.parametrize("spec_type", ["balloon", "memballoon"])
def test_vdsm_spec_builds_libvirt_xml(registry: devframe.Registry, spec_type: str) -> None:
    balloon = registry.device_from_spec({"type": spec_type, "device": "memballoon", "specParams": {"model": "virtio"}})
    assert isinstance(balloon, Memballoon)
    assert balloon.to_xml() == '<memballoon model="virtio"/>'
    assert balloon.to_spec()["type"] == "balloon"
    assert not validate_against_schema(wrap_in_domain(balloon.to_xml()))


def test_dev_map_key_stays_libvirts_tag(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(NONE), registry=registry)
    assert list(domain.dev_map) == ["memballoon"]


@pytest.mark.parametrize("spec", [{"type": "balloon"}, {"type": "balloon", "device": "memballoon", "specParams": {}}])
def test_minimal_spec_gets_a_virtio_balloon(registry: devframe.Registry, spec: dict[str, Any]) -> None:
    balloon = registry.device_from_spec(spec)
    assert balloon.to_xml() == '<memballoon model="virtio"/>'


def test_full_spec_builds_valid_xml_in_libvirt_order(registry: devframe.Registry) -> None:
    spec = _balloon(registry, VIRTIO).to_spec()
    balloon = registry.device_from_spec(spec)
    assert [child.tag for child in etree.fromstring(balloon.to_xml())] == [
        "stats",
        "alias",
        "acpi",
        "address",
        "driver",
    ]
    assert canonical(balloon.to_xml()) == canonical(VIRTIO)
    assert not validate_against_schema(wrap_in_domain(balloon.to_xml()))


def test_spec_numbers_and_words_as_strings(registry: devframe.Registry) -> None:
    balloon = registry.device_from_spec(
        {"type": "balloon", "specParams": {"model": "virtio", "stats": {"period": "5"}, "autodeflate": "on"}}
    )
    assert canonical(balloon.to_xml()) == canonical(
        "<memballoon model='virtio' autodeflate='on'><stats period='5'/></memballoon>"
    )


def test_vdsm_balloon_size_keys_are_kept_in_metadata(registry: devframe.Registry) -> None:
    spec = {"type": "balloon", "device": "memballoon", "specParams": {"model": "virtio"}, "target": 1048576}
    balloon = registry.device_from_spec(spec)
    assert balloon.to_xml() == '<memballoon model="virtio"/>'
    assert balloon.metadata["target"] == 1048576
    assert balloon.to_spec()["target"] == 1048576


@pytest.mark.parametrize(
    ("spec_params", "key"),
    [({"stats": {"period": 0}}, "specParams.stats.period"), ({"stats": {"period": "often"}}, "specParams.stats.period"),
     ({"autodeflate": "maybe"}, "specParams.autodeflate"), ({"freePageReporting": 1}, "specParams.freePageReporting"),
     ({"model": ["virtio"]}, "specParams.model")],
)  # fmt: skip
def test_unusable_spec_values_are_spec_errors_naming_the_key(
    registry: devframe.Registry, spec_params: dict[str, Any], key: str
) -> None:
    assert_spec_refused(registry, {"type": "balloon", "device": "memballoon", "specParams": spec_params}, key)


def test_spec_round_trip_of_every_sample(registry: devframe.Registry) -> None:
    for sample in SAMPLES:
        assert_spec_round_trip(registry, _balloon(registry, sample))


@pytest.mark.parametrize(
    ("name", "value", "place", "raw"),
    [
        ("model", "none", "@model", "none"),
        ("autodeflate", False, "@autodeflate", "off"),
        ("free_page_reporting", True, "@freePageReporting", "on"),
        ("stats_period", 30, "stats@period", "30"),
        ("iommu", False, "driver@iommu", "off"),
        ("acpi_index", 6, "acpi@index", "6"),
    ],
)
def test_setting_a_field_changes_only_it(
    registry: devframe.Registry, name: str, value: Any, place: str, raw: str
) -> None:
    balloon = _balloon(registry, VIRTIO)
    assert_set_changes_only(balloon, name, value, place, raw)


def test_a_new_stats_child_goes_before_the_device_info(registry: devframe.Registry) -> None:
    balloon = _balloon(registry, TRANSITIONAL)
    balloon.stats_period = 7
    assert [child.tag for child in etree.fromstring(balloon.to_xml())] == ["stats", "alias", "address"]


def test_a_zero_stats_period_is_reported_not_raised(registry: devframe.Registry) -> None:
    balloon = _balloon(registry, "<memballoon model='virtio'><stats period='0'/></memballoon>")
    assert any("stats_period" in problem for problem in balloon.problems())
    with pytest.raises(devframe.FieldValueError):
        balloon.stats_period = 0


def test_a_missing_model_is_reported_not_raised(registry: devframe.Registry) -> None:
    balloon = _balloon(registry, "<memballoon><stats period='5'/></memballoon>")
    assert [p for p in balloon.problems() if "'model'" in p and "missing" in p]
    assert balloon.stats_period == 5
    assert not _balloon(registry, NONE).problems()


def test_identity_is_the_model(registry: devframe.Registry) -> None:
    assert _balloon(registry, VIRTIO).identity() == {"devtype": "memballoon", "model": "virtio"}
    assert _balloon(registry, NONE).identity() == {"devtype": "memballoon", "model": "none"}
    assert _balloon(registry, "<memballoon/>").identity() is None


def test_summary(registry: devframe.Registry) -> None:
    summary = _balloon(registry, VIRTIO).summary()
    assert summary["model"] == "virtio" and summary["stats_period"] == 10 and summary["autodeflate"] is True
    assert _balloon(registry, NONE).summary() == {"model": "none"}


def test_samples_valid_against_the_installed_schema() -> None:
    for sample in SAMPLES:
        assert not validate_against_schema(wrap_in_domain(sample)), sample


# -- legacy conf ----------------------------------------------------------------------


def _legacy(registry: devframe.Registry, conf: Any, arch: Any) -> list[dict[str, Any]]:
    results = registry.call_collected("devframe_spec_list_from_legacy_conf", conf=conf, arch=arch)
    return [spec for _plugin, specs in results for spec in specs]


LEGACY_SPEC = {"type": "balloon", "device": "memballoon", "specParams": {"model": "none"}}


def test_legacy_arches_are_the_cores() -> None:
    assert set(LEGACY_ARCHES) == set(devframe.ARCHES)


@pytest.mark.parametrize("arch", sorted(devframe.ARCHES))
@pytest.mark.parametrize(
    "conf",
    [{}, {"vmId": UUID, "memSize": 1024, "memGuaranteedSize": 512, "display": "vnc"}, {"balloonInfo": {}}],
)
def test_legacy_conf_always_gives_vdsms_balloon(registry: devframe.Registry, arch: str, conf: dict[str, Any]) -> None:
    specs = _legacy(registry, conf, arch)
    assert specs == [LEGACY_SPEC]
    balloon = registry.device_from_spec(specs[0])
    assert balloon.to_xml() == '<memballoon model="none"/>'
    assert balloon.to_spec() == LEGACY_SPEC
    assert not validate_against_schema(wrap_in_domain(balloon.to_xml(), arch=arch))


def test_legacy_rule_reads_no_conf_key(registry: devframe.Registry) -> None:
    assert [keys for _plugin, keys in registry.call_collected("devframe_legacy_conf_keys")] == [[]]


def test_legacy_specs_are_fresh_dicts() -> None:
    first = legacy_balloon_specs({}, "x86_64")
    first[0]["specParams"]["model"] = "virtio"
    assert legacy_balloon_specs({}, "x86_64") == [LEGACY_SPEC]


@pytest.mark.parametrize("arch", ("i686", "", None, "X86_64"))
def test_legacy_unknown_arch(registry: devframe.Registry, arch: Any) -> None:
    with pytest.raises(devframe.DevframeError, match="arch"):
        _legacy(registry, {}, arch)


def test_legacy_conf_not_a_dict(registry: devframe.Registry) -> None:
    with pytest.raises(devframe.DevframeError, match="conf"):
        _legacy(registry, [("memSize", 1024)], "x86_64")


def test_legacy_conf_through_the_public_flow(registry: devframe.Registry) -> None:
    with pytest.warns(DeprecationWarning):
        specs = devframe.spec_list_from_legacy_conf({"vmId": UUID}, "s390x", registry=registry)
    assert specs == [LEGACY_SPEC]
    domain = devframe.domain_from_spec_list(
        specs, name="legacy", uuid=UUID, memory_kib=524288, vcpus=1, arch="s390x", registry=registry
    )
    assert not validate_against_schema(domain.to_xml())
    assert [type(d) for d in domain.dev_map["memballoon"]] == [Memballoon]
