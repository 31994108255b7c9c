"""Tests of the hub plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

from typing import Any

import pytest
from devframe_hub import Hub
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

UUID = "7c1f0e2a-3b4d-4c5e-8f60-718293a4b5c6"

ADDRESSED = f"<hub type='usb'><alias name='ua-{UUID}'/><address type='usb' bus='0' port='1'/></hub>"
NESTED_PORT = "<hub type='usb'><alias name='hub1'/><address type='usb' bus='0' port='1.2'/></hub>"
BARE = "<hub type='usb'/>"
NO_TYPE = "<hub><alias name='hub3'/></hub>"

SAMPLES = [ADDRESSED, NESTED_PORT, BARE, NO_TYPE]

TestContract = contract_tests("hub", samples=SAMPLES)


registry = plugin_registry("hub")


def _hub(registry: devframe.Registry, xml: str) -> Hub:
    return one_device(registry, xml, Hub)


def test_fields(registry: devframe.Registry) -> None:
    hub = _hub(registry, ADDRESSED)
    assert hub.type == "usb"
    assert hub.device_id == UUID
    assert hub.address == {"type": "usb", "bus": "0", "port": "1"}


def test_spec(registry: devframe.Registry) -> None:
    assert _hub(registry, ADDRESSED).to_spec() == {
        "type": "hub",
        "device": "usb",
        "alias": f"ua-{UUID}",
        "deviceId": UUID,
        "address": {"type": "usb", "bus": "0", "port": "1"},
        "specParams": {},
    }


def test_minimal_spec_gets_the_usb_type(registry: devframe.Registry) -> None:
    hub = registry.device_from_spec({"type": "hub"})
    assert isinstance(hub, Hub)
    assert hub.to_xml() == '<hub type="usb"/>'
    assert not validate_against_schema(wrap_in_domain(hub.to_xml()))


def test_full_spec_builds_valid_xml_in_libvirt_order(registry: devframe.Registry) -> None:
    hub = registry.device_from_spec(
        {"type": "hub", "device": "usb", "deviceId": UUID, "address": {"type": "usb", "bus": "0", "port": "3"}}
    )
    assert [child.tag for child in etree.fromstring(hub.to_xml())] == ["alias", "address"]
    assert not validate_against_schema(wrap_in_domain(hub.to_xml()))


@pytest.mark.parametrize("value", [["usb"], {"usb": 1}, True])
def test_unusable_device_is_a_spec_error_naming_it(registry: devframe.Registry, value: Any) -> None:
    with pytest.raises(devframe.SpecError, match="'device'"):
        registry.device_from_spec({"type": "hub", "device": value})


def test_spec_round_trip_of_every_sample(registry: devframe.Registry) -> None:
    for sample in SAMPLES:
        assert_spec_round_trip(registry, _hub(registry, sample))


def test_a_hub_without_type_round_trips_without_one(registry: devframe.Registry) -> None:
    hub = _hub(registry, NO_TYPE)
    assert hub.to_spec()["device"] == "hub"
    assert "type" not in etree.fromstring(registry.device_from_spec(hub.to_spec()).to_xml()).attrib


def test_setting_type_changes_only_it(registry: devframe.Registry) -> None:
    hub = _hub(registry, ADDRESSED)
    expected = etree.fromstring(hub.to_xml())
    hub.type = "future-bus"  # kept: libvirt may add types
    expected.set("type", "future-bus")
    assert canonical(hub.to_xml()) == canonical(expected)
    hub.type = None
    del expected.attrib["type"]
    assert canonical(hub.to_xml()) == canonical(expected)


def test_identity_is_type_and_address(registry: devframe.Registry) -> None:
    assert _hub(registry, ADDRESSED).identity() == {
        "devtype": "hub",
        "type": "usb",
        "address": "bus=0,port=1,type=usb",
    }
    assert _hub(registry, BARE).identity() == {"devtype": "hub", "type": "usb"}
    assert _hub(registry, NO_TYPE).identity() is None


def test_two_hubs_on_different_ports_have_different_identities(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(ADDRESSED, NESTED_PORT), registry=registry)
    first, second = domain.dev_map["hub"]
    assert first.identity() != second.identity()


def test_summary(registry: devframe.Registry) -> None:
    assert _hub(registry, ADDRESSED).summary() == {"type": "usb"}


def test_samples_valid_against_the_installed_schema() -> None:
    for sample in SAMPLES[:-1]:  # NO_TYPE is kept, but the schema requires a type
        assert not validate_against_schema(wrap_in_domain(sample)), sample
