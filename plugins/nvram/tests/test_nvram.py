"""Tests of the nvram plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

from typing import Any

import pytest
from devframe_nvram import Nvram
from lxml import etree

import devframe
from devframe.testing import (
    assert_spec_round_trip,
    canonical,
    contract_tests,
    one_device,
    plugin_registry,
    validate_against_schema,
    wrap_in_domain,
)

UUID = "3c9d5e7f-1a2b-4c3d-9e8f-0000000003a0"

SPAPR = "<nvram><address type='spapr-vio' reg='0x3000'/></nvram>"
SPAPR_LONG_REG = "<nvram><address type='spapr-vio' reg='0x00004000'/></nvram>"
SPAPR_NO_REG = "<nvram><address type='spapr-vio'/></nvram>"
BARE = "<nvram/>"
SAMPLES = [SPAPR, SPAPR_LONG_REG, SPAPR_NO_REG, BARE]

# libvirt's schema has no <alias> for nvram, but its parser keeps a user alias on any
# device: an element carrying one is read (and the schema check skipped for it).
WITH_ALIAS = f"<nvram><alias name='ua-{UUID}'/><address type='spapr-vio' reg='0x3000'/></nvram>"

TestContract = contract_tests("nvram", samples=[wrap_in_domain(s, arch="ppc64") for s in [*SAMPLES, WITH_ALIAS]])


registry = plugin_registry("nvram")


def _nvram(registry: devframe.Registry, xml: str) -> Nvram:
    return one_device(registry, xml, Nvram, arch="ppc64")


def test_samples_are_schema_valid() -> None:
    for sample in SAMPLES:
        assert not validate_against_schema(wrap_in_domain(sample, arch="ppc64")), sample
    assert validate_against_schema(wrap_in_domain(WITH_ALIAS, arch="ppc64"))


def test_only_the_device_is_claimed_not_the_firmware_varstore(registry: devframe.Registry) -> None:
    xml = wrap_in_domain(SPAPR, arch="ppc64").replace(
        "</os>", "<loader type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader><nvram>/var/lib/vars.fd</nvram></os>"
    )
    domain = devframe.parse_domain(xml, registry=registry)
    (nvram,) = domain.dev_map["nvram"]
    assert nvram.address == {"type": "spapr-vio", "reg": "0x3000"}
    assert canonical(domain.to_xml()) == canonical(xml)


def test_address_is_read(registry: devframe.Registry) -> None:
    assert _nvram(registry, SPAPR).address == {"type": "spapr-vio", "reg": "0x3000"}
    assert _nvram(registry, SPAPR_NO_REG).address == {"type": "spapr-vio"}
    assert _nvram(registry, BARE).address is None
    with_alias = _nvram(registry, WITH_ALIAS)
    assert (with_alias.alias, with_alias.device_id) == (f"ua-{UUID}", UUID)


# -- dev_spec ---------------------------------------------------------------------------


def test_spec(registry: devframe.Registry) -> None:
    assert _nvram(registry, SPAPR).to_spec() == {
        "type": "nvram",
        "device": "nvram",
        "address": {"type": "spapr-vio", "reg": "0x3000"},
        "specParams": {},
    }
    assert _nvram(registry, BARE).to_spec() == {"type": "nvram", "device": "nvram", "specParams": {}}


def test_minimal_spec_builds_a_valid_element(registry: devframe.Registry) -> None:
    nvram = registry.device_from_spec({"type": "nvram"})
    assert isinstance(nvram, Nvram)
    assert nvram.to_xml() == "<nvram/>"
    assert not validate_against_schema(wrap_in_domain(nvram.to_xml(), arch="ppc64"))


def test_spec_with_every_key(registry: devframe.Registry) -> None:
    spec = {"type": "nvram", "device": "nvram", "deviceId": UUID, "address": {"type": "spapr-vio", "reg": "0x3000"}}
    nvram = registry.device_from_spec(spec)
    # no <alias>: the schema has none for nvram; the deviceId is kept in metadata
    assert canonical(nvram.to_xml()) == canonical(SPAPR)
    assert nvram.device_id == UUID
    assert nvram.to_spec() == {**spec, "specParams": {}}
    assert not validate_against_schema(wrap_in_domain(nvram.to_xml(), arch="ppc64"))


def test_device_id_survives_the_domain_xml(registry: devframe.Registry) -> None:
    nvram = registry.device_from_spec({"type": "nvram", "deviceId": UUID, "address": {"type": "spapr-vio"}})
    domain = devframe.parse_domain(wrap_in_domain(arch="ppc64"), registry=registry)
    domain.add(nvram)
    again = devframe.parse_domain(domain.to_xml(), registry=registry)
    (bound,) = again.dev_map["nvram"]
    assert bound.device_id == UUID
    assert bound.to_spec()["deviceId"] == UUID


@pytest.mark.parametrize("sample", [*SAMPLES, WITH_ALIAS])
def test_spec_round_trip(registry: devframe.Registry, sample: str) -> None:
    assert_spec_round_trip(registry, _nvram(registry, sample))


@pytest.mark.parametrize("device", ["spapr-nvram", "", 3, ["nvram"]])
def test_a_device_other_than_nvram_is_a_spec_error(registry: devframe.Registry, device: Any) -> None:
    with pytest.raises(devframe.SpecError, match="'device'"):
        registry.device_from_spec({"type": "nvram", "device": device})


def test_bad_address_names_the_field(registry: devframe.Registry) -> None:
    with pytest.raises(devframe.DevframeError, match="address"):
        registry.device_from_spec({"type": "nvram", "address": "spapr-vio"})


# -- editing ----------------------------------------------------------------------------


def test_editing_the_address_changes_only_it(registry: devframe.Registry) -> None:
    nvram = _nvram(registry, "<nvram><!-- kept --><address type='spapr-vio' reg='0x3000'/></nvram>")
    nvram.address = {"type": "spapr-vio", "reg": "0x4000"}
    assert canonical(nvram.to_xml()) == canonical(
        "<nvram><!-- kept --><address type='spapr-vio' reg='0x4000'/></nvram>"
    )
    nvram.address = None
    assert canonical(nvram.to_xml()) == canonical("<nvram><!-- kept --></nvram>")


def test_unmodeled_content_is_kept(registry: devframe.Registry) -> None:
    nvram = _nvram(registry, "<nvram future='1'><address type='spapr-vio' reg='0x3000'/><extra/></nvram>")
    nvram.address = {"type": "spapr-vio", "reg": "0x5000"}
    out = etree.fromstring(nvram.to_xml())
    assert out.get("future") == "1" and out.find("extra") is not None


# -- identity and display ---------------------------------------------------------------


def test_identity_is_the_address(registry: devframe.Registry) -> None:
    assert _nvram(registry, SPAPR).identity() == {"devtype": "nvram", "address": "reg=0x3000,type=spapr-vio"}
    assert _nvram(registry, BARE).identity() is None


def test_metadata_binds_by_address(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(SPAPR, arch="ppc64"), registry=registry)
    (nvram,) = domain.dev_map["nvram"]
    nvram.metadata["note"] = "kept"
    again = devframe.parse_domain(domain.to_xml(), registry=registry)
    (bound,) = again.dev_map["nvram"]
    assert bound.metadata["note"] == "kept"


def test_summary_shows_the_address(registry: devframe.Registry) -> None:
    assert _nvram(registry, SPAPR).summary() == {"address": "reg=0x3000,type=spapr-vio"}
    assert _nvram(registry, BARE).summary() == {}
