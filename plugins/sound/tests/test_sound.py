"""Tests of the sound plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

from typing import Any

import pytest
from devframe_sound import Sound
from devframe_sound.device import MODELS
from lxml import etree

import devframe
from devframe.testing import (
    assert_edit_changes_only,
    canonical,
    contract_tests,
    validate_against_schema,
    wrap_in_domain,
)

SAMPLES = [
    "<sound model='ich9'><codec type='micro'/><codec type='duplex'/><audio id='1'/>"
    "<alias name='ua-5d5b3a8e-0000-4000-8000-000000000001'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x1b' function='0x0'/></sound>",
    "<sound model='usb'><address type='usb' bus='0' port='2'/></sound>",
    "<sound model='pcspk'/>",
    "<sound model='ich6'><codec type='output'/><alias name='sound1'/><acpi index='2'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></sound>",
    "<sound model='ac97'/>",
    "<sound model='ich7'/>",
    "<sound model='sb16'/>",
    "<sound model='es1370'/>",
]

# Newer than the libvirt 9.0 schema here (multichannel, virtio with its streams and driver),
# valid in libvirt 11.3's: still parsed, checked by hand against 11.3.
NEWER = [
    "<sound model='usb' multichannel='yes'><address type='usb' bus='0' port='3'/></sound>",
    "<sound model='virtio' streams='2'><audio id='1'/><driver iommu='on' packed='off'/></sound>",
]

TestContract = contract_tests("sound", samples=SAMPLES + NEWER)

ARCHES = ("x86_64", "ppc64", "ppc64le", "s390x", "aarch64")


@pytest.fixture
def registry(devframe_registry: Any) -> devframe.Registry:
    return devframe_registry("sound")  # type: ignore[no-any-return]


def test_fields_are_typed(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(SAMPLES[0]), registry=registry)
    (sound,) = domain.dev_map["sound"]
    assert isinstance(sound, Sound)
    assert sound.model == "ich9"
    assert sound.audio_id == 1
    assert [c.type for c in sound.codecs] == ["micro", "duplex"]
    assert sound.device_id == "5d5b3a8e-0000-4000-8000-000000000001"
    assert sound.address == {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x1b", "function": "0x0"}


def test_spec(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(SAMPLES[0]), registry=registry)
    spec = domain.devices[0].to_spec()
    assert spec["type"] == "sound"
    assert spec["device"] == "ich9"
    assert spec["deviceId"] == "5d5b3a8e-0000-4000-8000-000000000001"
    assert spec["specParams"] == {"codecs": [{"type": "micro"}, {"type": "duplex"}], "audioId": 1}


def test_partial_spec_gets_defaults(registry: devframe.Registry) -> None:
    sound = registry.device_from_spec({"type": "sound"})
    assert isinstance(sound, Sound)
    assert sound.model == "ich6"
    assert not validate_against_schema(wrap_in_domain(sound.to_xml()))


def test_editing_model_changes_only_model(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(SAMPLES[0]), registry=registry)
    sound = domain.devices[0]
    assert isinstance(sound, Sound)
    before = etree.fromstring(sound.to_xml())
    sound.model = "ac97"
    before.set("model", "ac97")
    assert canonical(sound.to_xml()) == canonical(before)


def _legacy(registry: devframe.Registry, conf: Any, arch: Any) -> list[dict[str, Any]]:
    results = registry.call_collected("devframe_spec_list_from_legacy_conf", conf=conf, arch=arch)
    return [spec for _plugin, specs in results for spec in specs]


@pytest.mark.parametrize("arch", ARCHES)
def test_legacy_conf(registry: devframe.Registry, arch: Any) -> None:
    specs = _legacy(registry, {"soundDevice": "ac97"}, arch)
    assert specs == [{"type": "sound", "device": "ac97"}]
    assert registry.device_from_spec(specs[0]).to_spec() == {**specs[0], "specParams": {}}
    assert _legacy(registry, {}, arch) == []
    assert _legacy(registry, {"soundDevice": ""}, arch) == []


@pytest.mark.parametrize("arch", ("i686", "", None, "PPC64"))
def test_legacy_unknown_arch(registry: devframe.Registry, arch: Any) -> None:
    with pytest.raises(devframe.DevframeError, match="arch"):
        _legacy(registry, {"soundDevice": "ich6"}, arch)


@pytest.mark.parametrize("model", (6, ["ich6"], True))
def test_legacy_bad_model_names_the_key(registry: devframe.Registry, model: Any) -> None:
    with pytest.raises(devframe.DevframeError, match="soundDevice"):
        _legacy(registry, {"soundDevice": model}, "x86_64")


def test_legacy_conf_not_a_dict(registry: devframe.Registry) -> None:
    with pytest.raises(devframe.DevframeError, match="conf"):
        _legacy(registry, [("soundDevice", "ac97")], "x86_64")


def _sound(registry: devframe.Registry, xml: str) -> Sound:
    device = devframe.parse_domain(wrap_in_domain(xml), registry=registry).devices[0]
    assert isinstance(device, Sound)
    return device


def test_newer_fields(registry: devframe.Registry) -> None:
    assert _sound(registry, NEWER[0]).multichannel is True
    virtio = _sound(registry, NEWER[1])
    assert (virtio.model, virtio.streams, virtio.audio_id, virtio.iommu, virtio.packed) == ("virtio", 2, 1, True, False)
    assert virtio.to_spec()["specParams"] == {"streams": 2, "audioId": 1, "driver": {"iommu": True, "packed": False}}
    assert _sound(registry, SAMPLES[3]).acpi_index == 2


def test_editing_key_fields_changes_only_them(registry: devframe.Registry) -> None:
    sound = _sound(registry, SAMPLES[0])
    expected = etree.fromstring(sound.to_xml())
    sound.audio_id = 2
    expected.find("audio").set("id", "2")
    assert canonical(sound.to_xml()) == canonical(expected)
    sound.multichannel = False
    expected.set("multichannel", "no")
    assert canonical(sound.to_xml()) == canonical(expected)


def test_identity_is_the_address(registry: devframe.Registry) -> None:
    assert _sound(registry, SAMPLES[1]).identity() == {"devtype": "sound", "address": "bus=0,port=2,type=usb"}
    assert _sound(registry, SAMPLES[2]).identity() is None


def test_summary_shows_key_fields(registry: devframe.Registry) -> None:
    summary = _sound(registry, SAMPLES[0]).summary()
    assert summary["model"] == "ich9" and summary["audio_id"] == 1


def test_samples_are_schema_valid() -> None:
    for sample in SAMPLES:
        assert not validate_against_schema(wrap_in_domain(sample)), sample


def test_spec_built_children_in_libvirt_order(registry: devframe.Registry) -> None:
    sound = registry.device_from_spec(
        {"type": "sound", "device": "virtio", "deviceId": "x", "address": {"type": "pci", "slot": "0x04"},
         "specParams": {"acpiIndex": 1, "audioId": 1, "codecs": [{"type": "micro"}], "streams": 2,
                        "driver": {"iommu": True}}}
    )  # fmt: skip
    assert [c.tag for c in etree.fromstring(sound.to_xml())] == ["driver", "codec", "audio", "alias", "acpi", "address"]
    assert etree.fromstring(sound.to_xml()).get("streams") == "2"


# -- libvirt 11.3's schema, field by field ----------------------------------------------------


def test_newer_samples_are_outside_the_9_0_schema() -> None:
    for sample in NEWER:
        assert validate_against_schema(wrap_in_domain(sample)), sample


@pytest.mark.parametrize("model", MODELS)
def test_every_model_builds_from_a_spec(registry: devframe.Registry, model: str) -> None:
    sound = registry.device_from_spec({"type": "sound", "device": model})
    assert isinstance(sound, Sound) and sound.model == model
    assert registry.device_from_spec(sound.to_spec()).to_spec() == sound.to_spec()
    if model != "virtio":  # virtio is newer than the 9.0 schema
        assert not validate_against_schema(wrap_in_domain(sound.to_xml())), model


def test_a_driver_streams_attribute_is_kept_as_unmodeled_xml(registry: devframe.Registry) -> None:
    sound = _sound(registry, "<sound model='virtio'><driver streams='2'/></sound>")
    assert sound.streams is None and 'streams="2"' in sound.to_xml()


@pytest.mark.parametrize(("params", "key"), [({"audioId": 256}, "audioId"), ({"streams": -1}, "streams")])
def test_out_of_schema_numbers_are_refused(registry: devframe.Registry, params: dict[str, Any], key: str) -> None:
    with pytest.raises(devframe.SpecError, match=f"specParams.{key}"):
        registry.device_from_spec({"type": "sound", "device": "virtio", "specParams": params})


def test_custom_is_metadata_other_keys_are_reported(registry: devframe.Registry) -> None:
    sound = registry.device_from_spec({"type": "sound", "device": "ich9", "custom": {"x": "1"}, "guestFlag": 1})
    assert sound.unmapped_spec_keys == ("guestFlag",)
    assert sound.to_spec()["custom"] == {"x": "1"} and sound.to_spec()["guestFlag"] == 1


EDITS: dict[str, list[Any]] = {
    "model": ["ac97", "ich9"], "multichannel": [False, True], "streams": [4, 5], "audio_id": [3, 4],
    "iommu": [False, True], "ats": [True, False], "packed": [True, False], "page_per_vq": [True, False],
    "acpi_index": [5, 6],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(EDITS))
def test_each_field_edit_changes_only_that_field(registry: devframe.Registry, name: str) -> None:
    assert_edit_changes_only(registry, Sound, SAMPLES + NEWER, name, EDITS[name])


def test_every_typed_field_has_an_edit_check() -> None:
    # codecs is a list (edited through the contract); alias and address are the core's
    assert set(Sound.fields) == set(EDITS) | {"codecs", "alias", "address"}
