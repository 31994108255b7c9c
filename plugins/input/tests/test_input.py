"""Tests of the input plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

from typing import Any

import pytest
from devframe_input import BUSES, INPUT_TYPES, MODELS, Input
from devframe_input.device import GRAB_TOGGLES
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

UUID = "0b6e3f4c-7a1d-4e2b-9c3a-5d6e7f8a9b01"

TABLET = f"<input type='tablet' bus='usb'><alias name='ua-{UUID}'/><address type='usb' bus='0' port='1'/></input>"
VIRTIO_KEYBOARD = (
    "<input type='keyboard' bus='virtio' model='virtio-non-transitional'>"
    "<driver iommu='on' ats='on' packed='on' page_per_vq='on'/>"
    "<alias name='input3'/><acpi index='7'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x0a' function='0x0'/></input>"
)
PASSTHROUGH = (
    "<input type='passthrough' bus='virtio' model='virtio-transitional'>"
    "<source evdev='/dev/input/event1'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x0b' function='0x0'/></input>"
)
EVDEV = (
    "<input type='evdev'><source dev='/dev/input/by-id/usb-kbd-event-kbd' grab='all' "
    "grabToggle='ctrl-scrolllock' repeat='on'/><alias name='input5'/></input>"
)
BASIC = [
    "<input type='mouse' bus='ps2'><alias name='input0'/></input>",
    "<input type='keyboard' bus='ps2'/>",
    "<input type='mouse' bus='usb'><address type='usb' bus='0' port='2'/></input>",
    "<input type='mouse' bus='xen'/>",
    "<input type='keyboard' bus='xen'/>",
    "<input type='tablet' bus='virtio' model='virtio'><address type='virtio-mmio'/></input>",
    "<input type='mouse' bus='virtio'><address type='ccw' cssid='0xfe' ssid='0x0' devno='0x0003'/></input>",
    "<input type='tablet'/>",
]
GRABS = [f"<input type='evdev'><source dev='/dev/input/event{i}' grabToggle='{g}'/></input>" for i, g in
         enumerate(GRAB_TOGGLES)]  # fmt: skip
EVDEV_NO_REPEAT = "<input type='evdev'><source dev='/dev/input/event9' repeat='off'/></input>"
NO_TYPE = "<input bus='usb'/>"

SAMPLES = [TABLET, VIRTIO_KEYBOARD, PASSTHROUGH, EVDEV, *BASIC, *GRABS, EVDEV_NO_REPEAT, NO_TYPE]

TestContract = contract_tests("input", samples=SAMPLES)


registry = plugin_registry("input")


def _input(registry: devframe.Registry, xml: str) -> Input:
    return one_device(registry, xml, Input)


def _built(registry: devframe.Registry, spec: dict[str, Any]) -> Input:
    device = registry.device_from_spec(spec)
    assert isinstance(device, Input)
    return device


def test_samples_cover_every_type_bus_and_model() -> None:
    text = " ".join(SAMPLES)
    for value in INPUT_TYPES:
        assert f"type='{value}'" in text, value
    for value in BUSES[:4]:  # the schema's buses (parallels and none are libvirt-internal)
        assert f"bus='{value}'" in text, value
    for value in MODELS:
        assert f"model='{value}'" in text, value


def test_fields_are_typed(registry: devframe.Registry) -> None:
    keyboard = _input(registry, VIRTIO_KEYBOARD)
    assert (keyboard.type, keyboard.bus, keyboard.model) == ("keyboard", "virtio", "virtio-non-transitional")
    assert (keyboard.iommu, keyboard.ats, keyboard.packed, keyboard.page_per_vq) == (True, True, True, True)
    assert keyboard.acpi_index == 7
    evdev = _input(registry, EVDEV)
    assert evdev.source_dev == "/dev/input/by-id/usb-kbd-event-kbd"
    assert (evdev.grab, evdev.grab_toggle, evdev.repeat) == ("all", "ctrl-scrolllock", True)
    assert evdev.bus is None
    assert _input(registry, EVDEV_NO_REPEAT).repeat is False
    assert _input(registry, PASSTHROUGH).evdev == "/dev/input/event1"
    assert _input(registry, TABLET).device_id == UUID


def test_spec_of_a_vdsm_tablet(registry: devframe.Registry) -> None:
    spec = _input(registry, TABLET).to_spec()
    assert spec == {
        "type": "input",
        "device": "tablet",
        "alias": f"ua-{UUID}",
        "deviceId": UUID,
        "address": {"type": "usb", "bus": "0", "port": "1"},
        "specParams": {"bus": "usb"},
    }


def test_spec_of_every_documented_key(registry: devframe.Registry) -> None:
    assert _input(registry, VIRTIO_KEYBOARD).to_spec()["specParams"] == {
        "bus": "virtio",
        "model": "virtio-non-transitional",
        "driver": {"iommu": True, "ats": True, "packed": True, "pagePerVq": True},
        "acpiIndex": 7,
    }
    assert _input(registry, EVDEV).to_spec()["specParams"] == {
        "source": {"dev": "/dev/input/by-id/usb-kbd-event-kbd", "grab": "all", "grabToggle": "ctrl-scrolllock",
                   "repeat": True},
    }  # fmt: skip
    passthrough = _input(registry, PASSTHROUGH).to_spec()
    assert passthrough["device"] == "passthrough"
    assert passthrough["specParams"] == {
        "bus": "virtio",
        "model": "virtio-transitional",
        "source": {"evdev": "/dev/input/event1"},
    }


def test_vdsm_spec_builds_libvirt_xml(registry: devframe.Registry) -> None:
    device = _built(registry, {"type": "input", "device": "tablet", "specParams": {"bus": "usb"}})
    assert canonical(device.to_xml()) == canonical("<input type='tablet' bus='usb'/>")
    assert not validate_against_schema(wrap_in_domain(device.to_xml()))


def test_minimal_spec_gets_defaults(registry: devframe.Registry) -> None:
    device = _built(registry, {"type": "input"})
    assert device.to_xml() == '<input type="tablet"/>'
    assert not validate_against_schema(wrap_in_domain(device.to_xml()))


def test_passthrough_spec_gets_the_virtio_bus(registry: devframe.Registry) -> None:
    device = _built(registry, {"type": "input", "device": "passthrough",
                               "specParams": {"source": {"evdev": "/dev/input/event3"}}})  # fmt: skip
    assert canonical(device.to_xml()) == canonical(
        "<input type='passthrough' bus='virtio'><source evdev='/dev/input/event3'/></input>"
    )
    assert not validate_against_schema(wrap_in_domain(device.to_xml()))


def test_full_spec_builds_valid_xml_in_libvirt_order(registry: devframe.Registry) -> None:
    device = _built(registry, {
        "type": "input", "device": "evdev", "deviceId": UUID,
        "address": {"type": "usb", "bus": "0", "port": "4"},
        "specParams": {"acpiIndex": 2, "driver": {"iommu": "on"},
                       "source": {"dev": "/dev/input/event4", "grab": "all", "grabToggle": "alt-alt", "repeat": "off"}},
    })  # fmt: skip
    element = etree.fromstring(device.to_xml())
    assert [child.tag for child in element] == ["driver", "source", "alias", "acpi", "address"]
    assert dict(element.find("source").attrib) == {
        "dev": "/dev/input/event4", "grab": "all", "grabToggle": "alt-alt", "repeat": "off",
    }  # fmt: skip
    assert device.alias == f"ua-{UUID}"


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"device": ["tablet"]}, "device"),
        ({"specParams": {"bus": {"usb": 1}}}, "specParams.bus"),
        ({"specParams": {"model": True}}, "specParams.model"),
        ({"device": "evdev", "specParams": {"source": {"dev": "/dev/input/event1", "repeat": "maybe"}}},
         "specParams.source.repeat"),
        ({"device": "evdev", "specParams": {"source": {"dev": "input/event1"}}}, "specParams.source.dev"),
        ({"device": "passthrough", "specParams": {"source": {"evdev": 5}}}, "specParams.source.evdev"),
        ({"device": "passthrough"}, "specParams.source.evdev"),
        ({"device": "evdev", "specParams": {"source": {"grab": "all"}}}, "specParams.source.dev"),
    ],
)  # fmt: skip
def test_unusable_spec_values_are_spec_errors_naming_the_key(
    registry: devframe.Registry, spec: dict[str, Any], key: str
) -> None:
    assert_spec_refused(registry, {"type": "input", **spec}, key)


def test_spec_round_trip_of_every_sample(registry: devframe.Registry) -> None:
    for sample in SAMPLES:
        assert_spec_round_trip(registry, _input(registry, sample))


def test_an_input_without_type_round_trips_without_one(registry: devframe.Registry) -> None:
    device = _input(registry, NO_TYPE)
    assert device.to_spec()["device"] == "input"
    assert registry.device_from_spec(device.to_spec()).to_xml() == '<input bus="usb"/>'


@pytest.mark.parametrize(
    ("sample", "name", "value", "place", "raw"),
    [
        (EVDEV, "repeat", False, "source@repeat", "off"),
        (EVDEV, "grab_toggle", "meta-meta", "source@grabToggle", "meta-meta"),
        (EVDEV, "source_dev", "/dev/input/event7", "source@dev", "/dev/input/event7"),
        (PASSTHROUGH, "evdev", "/dev/input/event8", "source@evdev", "/dev/input/event8"),
        (VIRTIO_KEYBOARD, "bus", "usb", "@bus", "usb"),
        (VIRTIO_KEYBOARD, "model", "virtio", "@model", "virtio"),
        (VIRTIO_KEYBOARD, "type", "mouse", "@type", "mouse"),
        (VIRTIO_KEYBOARD, "page_per_vq", False, "driver@page_per_vq", "off"),
        (VIRTIO_KEYBOARD, "acpi_index", 9, "acpi@index", "9"),
    ],
)
def test_setting_a_field_changes_only_it(
    registry: devframe.Registry, sample: str, name: str, value: Any, place: str, raw: str
) -> None:
    device = _input(registry, sample)
    assert_set_changes_only(device, name, value, place, raw)


def test_a_relative_source_path_is_reported_not_raised(registry: devframe.Registry) -> None:
    device = _input(registry, "<input type='evdev'><source dev='event1'/></input>")
    assert any("source_dev" in problem for problem in device.problems())
    assert "event1" in device.to_xml()
    with pytest.raises(devframe.FieldValueError):
        device.to_spec()
    with pytest.raises(devframe.FieldValueError):
        device.source_dev = "event2"  # assigning one is refused, the element kept
    assert device.element.find("source").get("dev") == "event1"


def test_identity_is_type_bus_and_address(registry: devframe.Registry) -> None:
    assert _input(registry, TABLET).identity() == {
        "devtype": "input", "type": "tablet", "bus": "usb", "address": "bus=0,port=1,type=usb",
    }  # fmt: skip
    assert _input(registry, BASIC[0]).identity() == {"devtype": "input", "type": "mouse", "bus": "ps2"}
    assert _input(registry, EVDEV).identity() == {"devtype": "input", "type": "evdev"}
    assert _input(registry, "<input/>").identity() is None


def test_identity_tells_ps2_mouse_from_keyboard(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(BASIC[0], BASIC[1]), registry=registry)
    mouse, keyboard = domain.dev_map["input"]
    assert mouse.identity() != keyboard.identity()


def test_summary_shows_key_fields(registry: devframe.Registry) -> None:
    summary = _input(registry, EVDEV).summary()
    assert summary["type"] == "evdev"
    assert summary["source_dev"] == "/dev/input/by-id/usb-kbd-event-kbd"
    assert summary["repeat"] is True


def test_samples_valid_against_the_installed_schema() -> None:
    for sample in SAMPLES[:-1]:  # NO_TYPE is kept, but libvirt's schema requires a type
        assert not validate_against_schema(wrap_in_domain(sample)), sample


# -- legacy conf ------------------------------------------------------------------------------


@pytest.mark.parametrize("arch", ["x86_64", "ppc64", "ppc64le", "aarch64", "s390x"])
def test_legacy_conf_gives_the_pointing_device_vdsm_gave(arch: str) -> None:
    from devframe_input.plugin import legacy_input_specs

    assert legacy_input_specs({"tabletEnable": "true"}, arch) == [
        {"type": "input", "device": "tablet", "specParams": {"bus": "usb"}}
    ]
    mouse = legacy_input_specs({}, arch)
    assert mouse == [{"type": "input", "device": "mouse", "specParams": {"bus": "ps2" if arch == "x86_64" else "usb"}}]
    assert legacy_input_specs({"tabletEnable": False}, arch) == mouse


def test_legacy_conf_refuses_what_it_cannot_read() -> None:
    from devframe_input.plugin import legacy_input_specs

    with pytest.raises(devframe.SpecError, match="tabletEnable"):
        legacy_input_specs({"tabletEnable": "maybe"}, "x86_64")
    with pytest.raises(devframe.DevframeError, match="sparc"):
        legacy_input_specs({}, "sparc")
