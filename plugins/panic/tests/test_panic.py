"""Tests of the panic plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

from typing import Any

import pytest
from devframe_panic import PANIC_MODELS, Panic
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

UUID = "2f4e6a8c-1b3d-4f5a-9b7c-0d1e2f3a4b5c"

ISA = f"<panic model='isa'><alias name='ua-{UUID}'/><address type='isa' iobase='0x505'/></panic>"
PSERIES = "<panic model='pseries'/>"
HYPERV = "<panic model='hyperv'><alias name='panic1'/></panic>"
S390 = "<panic model='s390'/>"
NO_MODEL = "<panic><address type='isa' iobase='0x506'/></panic>"
# libvirt 11.x only (9.0's schema has no pvpanic): the contract suite skips its schema check.
PVPANIC = (
    "<panic model='pvpanic'><alias name='panic0'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x0c' function='0x0'/></panic>"
)

SAMPLES = [ISA, PSERIES, HYPERV, S390, NO_MODEL, PVPANIC]

TestContract = contract_tests("panic", samples=SAMPLES)


registry = plugin_registry("panic")


def _panic(registry: devframe.Registry, xml: str) -> Panic:
    return one_device(registry, xml, Panic)


def test_samples_cover_every_model() -> None:
    assert PANIC_MODELS == ("isa", "pseries", "hyperv", "s390", "pvpanic")
    for model in PANIC_MODELS:
        assert any(f"model='{model}'" in sample for sample in SAMPLES), model


def test_fields(registry: devframe.Registry) -> None:
    panic = _panic(registry, ISA)
    assert panic.model == "isa"
    assert panic.device_id == UUID
    assert panic.address == {"type": "isa", "iobase": "0x505"}
    assert _panic(registry, NO_MODEL).model is None


def test_spec_device_is_the_model(registry: devframe.Registry) -> None:
    assert _panic(registry, ISA).to_spec() == {
        "type": "panic",
        "device": "isa",
        "alias": f"ua-{UUID}",
        "deviceId": UUID,
        "address": {"type": "isa", "iobase": "0x505"},
        "specParams": {},
    }
    assert _panic(registry, NO_MODEL).to_spec()["device"] == "panic"


@pytest.mark.parametrize("spec", [{"type": "panic"}, {"type": "panic", "device": "panic"}])
def test_spec_without_model_leaves_it_to_libvirt(registry: devframe.Registry, spec: dict[str, Any]) -> None:
    panic = registry.device_from_spec(spec)
    assert panic.to_xml() == "<panic/>"
    assert not validate_against_schema(wrap_in_domain(panic.to_xml()))


@pytest.mark.parametrize("model", PANIC_MODELS[:4])  # pvpanic is not in the installed 9.0 schema
def test_spec_of_each_model_builds_valid_xml(registry: devframe.Registry, model: str) -> None:
    panic = registry.device_from_spec({"type": "panic", "device": model, "deviceId": UUID})
    assert [child.tag for child in etree.fromstring(panic.to_xml())] == ["alias"]
    assert etree.fromstring(panic.to_xml()).get("model") == model
    assert not validate_against_schema(wrap_in_domain(panic.to_xml()))


@pytest.mark.parametrize("value", [["isa"], {"model": "isa"}, False])
def test_unusable_device_is_a_spec_error_naming_it(registry: devframe.Registry, value: Any) -> None:
    with pytest.raises(devframe.SpecError, match="'device'"):
        registry.device_from_spec({"type": "panic", "device": value})


def test_spec_round_trip_of_every_sample(registry: devframe.Registry) -> None:
    for sample in SAMPLES:
        assert_spec_round_trip(registry, _panic(registry, sample))


def test_setting_model_changes_only_it(registry: devframe.Registry) -> None:
    panic = _panic(registry, ISA)
    expected = etree.fromstring(panic.to_xml())
    panic.model = "hyperv"
    expected.set("model", "hyperv")
    assert canonical(panic.to_xml()) == canonical(expected)
    panic.model = None
    del expected.attrib["model"]
    assert canonical(panic.to_xml()) == canonical(expected)


def test_identity_is_the_model(registry: devframe.Registry) -> None:
    assert _panic(registry, ISA).identity() == {"devtype": "panic", "model": "isa"}
    assert _panic(registry, PVPANIC).identity() == {"devtype": "panic", "model": "pvpanic"}
    assert _panic(registry, NO_MODEL).identity() is None


def test_summary(registry: devframe.Registry) -> None:
    assert _panic(registry, ISA).summary() == {"model": "isa", "address": "iobase=0x505,type=isa"}
    assert _panic(registry, PSERIES).summary() == {"model": "pseries"}
    assert _panic(registry, NO_MODEL).summary()["model"] == "(default)"


def test_samples_valid_against_the_installed_schema() -> None:
    for sample in SAMPLES[:-1]:  # PVPANIC is libvirt 11.x
        assert not validate_against_schema(wrap_in_domain(sample)), sample
    assert validate_against_schema(wrap_in_domain(PVPANIC))  # so its schema check is skipped, as documented
