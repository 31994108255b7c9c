"""Tests of the sound plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

import pytest
from lxml import etree

import devframe
from devframe.testing import canonical, contract_tests, validate_against_schema, wrap_in_domain
from devframe_sound import Sound

SAMPLES = [
    "<sound model='ich9'><codec type='micro'/><codec type='duplex'/><audio id='1'/>"
    "<alias name='ua-5d5b3a8e-0000-4000-8000-000000000001'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x1b' function='0x0'/></sound>",
    "<sound model='usb'><address type='usb' bus='0' port='2'/></sound>",
    "<sound model='pcspk'/>",
]

TestContract = contract_tests("sound", samples=SAMPLES)


@pytest.fixture
def registry(devframe_registry):
    return devframe_registry("sound")


def test_fields_are_typed(registry):
    domain = devframe.parse_domain(wrap_in_domain(SAMPLES[0]), registry=registry)
    (sound,) = domain.dev_map["sound"]
    assert isinstance(sound, Sound)
    assert sound.model == "ich9"
    assert sound.audio_id == 1
    assert [c.type for c in sound.codecs] == ["micro", "duplex"]
    assert sound.device_id == "5d5b3a8e-0000-4000-8000-000000000001"
    assert sound.address == {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x1b", "function": "0x0"}


def test_spec(registry):
    domain = devframe.parse_domain(wrap_in_domain(SAMPLES[0]), registry=registry)
    spec = domain.devices[0].to_spec()
    assert spec["type"] == "sound"
    assert spec["device"] == "ich9"
    assert spec["deviceId"] == "5d5b3a8e-0000-4000-8000-000000000001"
    assert spec["specParams"] == {"codecs": [{"type": "micro"}, {"type": "duplex"}], "audioId": 1}


def test_partial_spec_gets_defaults(registry):
    sound = registry.device_from_spec({"type": "sound"})
    assert sound.model == "ich6"
    assert not validate_against_schema(wrap_in_domain(sound.to_xml()))


def test_editing_model_changes_only_model(registry):
    domain = devframe.parse_domain(wrap_in_domain(SAMPLES[0]), registry=registry)
    sound = domain.devices[0]
    before = etree.fromstring(sound.to_xml())
    sound.model = "ac97"
    before.set("model", "ac97")
    assert canonical(sound.to_xml()) == canonical(before)


def test_legacy_conf(registry):
    specs = [s for _, r in registry.call_collected("devframe_spec_list_from_legacy_conf", conf={"soundDevice": "ac97"}, arch="x86_64") for s in r]
    assert specs == [{"type": "sound", "device": "ac97"}]
    assert registry.call_collected("devframe_spec_list_from_legacy_conf", conf={}, arch="x86_64") == [("sound", [])]
