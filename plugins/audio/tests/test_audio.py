"""Tests of the audio plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

from typing import Any

import pytest
from devframe_audio import AUDIO_TYPES, SAMPLE_FORMATS, SDL_DRIVERS, Audio
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

UUID = "6b5a4f3e-2d1c-4b0a-9f8e-7d6c5b4a3f2e"

NONE = (
    "<audio id='1' type='none' timerPeriod='100'>"
    "<input mixingEngine='yes' fixedSettings='yes' voices='1' bufferLength='100'>"
    "<settings frequency='44100' channels='2' format='s16'/></input>"
    "<output mixingEngine='no' fixedSettings='no' voices='2' bufferLength='200'>"
    "<settings frequency='48000' channels='6' format='f32'/></output></audio>"
)
ALSA = "<audio id='2' type='alsa'><input dev='/dev/snd/pcmC0D0c'/><output dev='default'/></audio>"
COREAUDIO = "<audio id='3' type='coreaudio'><input bufferCount='50'/><output bufferCount='42'/></audio>"
DBUS = "<audio id='4' type='dbus'><output><settings format='u8'/></output></audio>"
JACK = (
    "<audio id='5' type='jack'>"
    "<input serverName='studio' clientName='vm-in' connectPorts='system:capture_[12]' exactName='yes'/>"
    "<output serverName='studio' clientName='vm-out' connectPorts='system:playback_[12]' exactName='no'/></audio>"
)
OSS = (
    "<audio id='6' type='oss' tryMMap='yes' exclusive='no' dspPolicy='3'>"
    "<input dev='/dev/dsp0' bufferCount='8' tryPoll='yes'><settings format='s8'/></input>"
    "<output dev='/dev/dsp1' bufferCount='4' tryPoll='no'><settings format='u16'/></output></audio>"
)
PULSEAUDIO = (
    "<audio id='8' type='pulseaudio' serverName='unix:/run/user/1000/pulse/native'>"
    "<input name='alsa_input.usb-mic' streamName='vm-mic' latency='20000'><settings format='s32'/></input>"
    "<output name='alsa_output.pci-speakers' streamName='vm-speakers' latency='30000'>"
    "<settings format='u32'/></output></audio>"
)
SDL = [
    f"<audio id='{9 + i}' type='sdl' driver='{d}'><output bufferCount='4'/></audio>" for i, d in enumerate(SDL_DRIVERS)
]
SPICE = "<audio id='13' type='spice'/>"
FILE = "<audio id='14' type='file' path='/var/lib/libvirt/qemu/guest-audio.wav'/>"
HEX_ID = "<audio id='0x0f' type='none'/>"
NO_TYPE = "<audio id='16'/>"
# libvirt 11.x only (9.0's schema has no pipewire): the contract suite skips its schema check.
PIPEWIRE = (
    "<audio id='7' type='pipewire' runtimeDir='/run/user/1000'>"
    "<input name='vm-source' streamName='vm-in' latency='15000'/>"
    "<output name='vm-sink' streamName='vm-out' latency='25000'/></audio>"
)

VALID = [NONE, ALSA, COREAUDIO, DBUS, JACK, OSS, PULSEAUDIO, *SDL, SPICE, FILE, HEX_ID]
SAMPLES = [*VALID, NO_TYPE, PIPEWIRE]

TestContract = contract_tests("audio", samples=SAMPLES)


registry = plugin_registry("audio")


def _audio(registry: devframe.Registry, xml: str) -> Audio:
    return one_device(registry, xml, Audio)


def test_samples_cover_every_backend_driver_and_format() -> None:
    text = " ".join(SAMPLES)
    for kind in AUDIO_TYPES:
        assert f"type='{kind}'" in text, kind
    for driver in SDL_DRIVERS:
        assert f"driver='{driver}'" in text, driver
    for sample_format in SAMPLE_FORMATS:
        assert f"format='{sample_format}'" in text, sample_format


def test_common_fields_are_typed(registry: devframe.Registry) -> None:
    audio = _audio(registry, NONE)
    assert (audio.id, audio.type, audio.timer_period) == (1, "none", 100)
    assert (audio.input_mixing_engine, audio.input_fixed_settings, audio.input_voices) == (True, True, 1)
    assert (audio.input_buffer_length, audio.input_frequency, audio.input_channels) == (100, 44100, 2)
    assert audio.input_format == "s16"
    assert (audio.output_mixing_engine, audio.output_fixed_settings, audio.output_voices) == (False, False, 2)
    assert (audio.output_frequency, audio.output_channels, audio.output_format) == (48000, 6, "f32")


def test_per_backend_fields_are_typed(registry: devframe.Registry) -> None:
    oss = _audio(registry, OSS)
    assert (oss.try_mmap, oss.exclusive, oss.dsp_policy) == (True, False, 3)
    assert (oss.input_dev, oss.input_buffer_count, oss.input_try_poll) == ("/dev/dsp0", 8, True)
    assert oss.output_try_poll is False
    jack = _audio(registry, JACK)
    assert (jack.input_server_name, jack.input_client_name) == ("studio", "vm-in")
    assert (jack.input_connect_ports, jack.input_exact_name, jack.output_exact_name) == (
        "system:capture_[12]",
        True,
        False,
    )
    pulse = _audio(registry, PULSEAUDIO)
    assert pulse.server_name == "unix:/run/user/1000/pulse/native"
    assert (pulse.output_name, pulse.output_stream_name, pulse.output_latency) == (
        "alsa_output.pci-speakers",
        "vm-speakers",
        30000,
    )
    pipewire = _audio(registry, PIPEWIRE)
    assert (pipewire.runtime_dir, pipewire.input_name, pipewire.input_latency) == ("/run/user/1000", "vm-source", 15000)
    assert _audio(registry, SDL[3]).sdl_driver == "pulseaudio"
    assert _audio(registry, FILE).path == "/var/lib/libvirt/qemu/guest-audio.wav"
    assert _audio(registry, COREAUDIO).output_buffer_count == 42
    assert _audio(registry, HEX_ID).id == 15


def test_spec_of_the_common_keys(registry: devframe.Registry) -> None:
    assert _audio(registry, NONE).to_spec() == {
        "type": "audio",
        "device": "none",
        "specParams": {
            "id": 1,
            "timerPeriod": 100,
            "input": {"mixingEngine": True, "fixedSettings": True, "voices": 1, "bufferLength": 100,
                      "settings": {"frequency": 44100, "channels": 2, "format": "s16"}},
            "output": {"mixingEngine": False, "fixedSettings": False, "voices": 2, "bufferLength": 200,
                       "settings": {"frequency": 48000, "channels": 6, "format": "f32"}},
        },
    }  # fmt: skip


def test_spec_of_the_per_backend_keys(registry: devframe.Registry) -> None:
    assert _audio(registry, OSS).to_spec()["specParams"] == {
        "id": 6, "tryMMap": True, "exclusive": False, "dspPolicy": 3,
        "input": {"dev": "/dev/dsp0", "bufferCount": 8, "tryPoll": True, "settings": {"format": "s8"}},
        "output": {"dev": "/dev/dsp1", "bufferCount": 4, "tryPoll": False, "settings": {"format": "u16"}},
    }  # fmt: skip
    assert _audio(registry, JACK).to_spec()["specParams"]["input"] == {
        "serverName": "studio", "clientName": "vm-in", "connectPorts": "system:capture_[12]", "exactName": True,
    }  # fmt: skip
    assert _audio(registry, PIPEWIRE).to_spec()["specParams"] == {
        "id": 7, "runtimeDir": "/run/user/1000",
        "input": {"name": "vm-source", "streamName": "vm-in", "latency": 15000},
        "output": {"name": "vm-sink", "streamName": "vm-out", "latency": 25000},
    }  # fmt: skip
    assert _audio(registry, PULSEAUDIO).to_spec()["specParams"]["serverName"] == "unix:/run/user/1000/pulse/native"
    assert _audio(registry, SDL[0]).to_spec()["specParams"] == {
        "id": 9,
        "sdlDriver": "esd",
        "output": {"bufferCount": 4},
    }
    assert _audio(registry, FILE).to_spec()["specParams"] == {"id": 14, "path": "/var/lib/libvirt/qemu/guest-audio.wav"}


def test_minimal_spec_gets_defaults(registry: devframe.Registry) -> None:
    audio = registry.device_from_spec({"type": "audio"})
    assert isinstance(audio, Audio)
    assert canonical(audio.to_xml()) == canonical("<audio id='1' type='none'/>")
    assert not validate_against_schema(wrap_in_domain(audio.to_xml()))


def test_spec_builds_valid_xml_in_libvirt_order(registry: devframe.Registry) -> None:
    audio = registry.device_from_spec(
        {"type": "audio", "device": "pulseaudio", "deviceId": UUID,
         "specParams": {"id": "2", "serverName": "pulse.example.org",
                        "output": {"name": "sink", "latency": "100", "settings": {"channels": 2}},
                        "input": {"name": "source", "mixingEngine": "yes"}}},
    )  # fmt: skip
    element = etree.fromstring(audio.to_xml())
    assert [child.tag for child in element] == ["input", "output"]
    assert canonical(audio.to_xml()) == canonical(
        "<audio id='2' type='pulseaudio' serverName='pulse.example.org'>"
        "<input name='source' mixingEngine='yes'/>"
        "<output name='sink' latency='100'><settings channels='2'/></output></audio>"
    )
    assert not validate_against_schema(wrap_in_domain(audio.to_xml()))


def test_device_id_lives_in_metadata_not_an_alias(registry: devframe.Registry) -> None:
    audio = registry.device_from_spec({"type": "audio", "device": "spice", "deviceId": UUID})
    assert audio.element.find("alias") is None
    assert audio.device_id == UUID
    assert audio.to_spec()["deviceId"] == UUID


@pytest.mark.parametrize(
    ("spec_params", "key"),
    [({"id": 256}, "specParams.id"), ({"id": "first"}, "specParams.id"), ({"id": -1}, "specParams.id"),
     ({"timerPeriod": 2**32}, "specParams.timerPeriod"), ({"input": {"voices": "loud"}}, "specParams.input.voices"),
     ({"output": {"exactName": "maybe"}}, "specParams.output.exactName"),
     ({"output": {"settings": {"frequency": -44100}}}, "specParams.output.settings.frequency"),
     ({"sdlDriver": ["alsa"]}, "specParams.sdlDriver"), ({"dspPolicy": 1.5}, "specParams.dspPolicy")],
)  # fmt: skip
def test_unusable_spec_values_are_spec_errors_naming_the_key(
    registry: devframe.Registry, spec_params: dict[str, Any], key: str
) -> None:
    assert_spec_refused(registry, {"type": "audio", "device": "none", "specParams": spec_params}, key)


def test_spec_round_trip_of_every_sample(registry: devframe.Registry) -> None:
    for sample in SAMPLES:
        rebuilt = "<audio id='15' type='none'/>" if sample == HEX_ID else sample  # ids come back in decimal
        assert_spec_round_trip(registry, _audio(registry, sample), rebuilt)


def test_an_audio_without_type_round_trips_without_one(registry: devframe.Registry) -> None:
    audio = _audio(registry, NO_TYPE)
    assert audio.to_spec()["device"] == "audio"
    assert registry.device_from_spec(audio.to_spec()).to_xml() == '<audio id="16"/>'


@pytest.mark.parametrize(
    ("sample", "name", "value", "place", "raw"),
    [
        (NONE, "id", 3, "@id", "3"),
        (NONE, "timer_period", 50, "@timerPeriod", "50"),
        (NONE, "input_format", "u8", "input/settings@format", "u8"),
        (NONE, "output_frequency", 22050, "output/settings@frequency", "22050"),
        (NONE, "input_mixing_engine", False, "input@mixingEngine", "no"),
        (OSS, "try_mmap", False, "@tryMMap", "no"),
        (OSS, "dsp_policy", -1, "@dspPolicy", "-1"),
        (OSS, "output_try_poll", True, "output@tryPoll", "yes"),
        (JACK, "output_connect_ports", "system:playback_1", "output@connectPorts", "system:playback_1"),
        (PULSEAUDIO, "input_latency", 10, "input@latency", "10"),
        (SDL[1], "sdl_driver", "arts", "@driver", "arts"),
        (FILE, "path", "/tmp/out.wav", "@path", "/tmp/out.wav"),
    ],
)
def test_setting_a_field_changes_only_it(
    registry: devframe.Registry, sample: str, name: str, value: Any, place: str, raw: str
) -> None:
    audio = _audio(registry, sample)
    assert_set_changes_only(audio, name, value, place, raw)


def test_a_new_input_goes_before_the_output(registry: devframe.Registry) -> None:
    audio = _audio(registry, SDL[0])
    audio.input_format = "s16"
    assert canonical(audio.to_xml()) == canonical(
        "<audio id='9' type='sdl' driver='esd'><input><settings format='s16'/></input><output bufferCount='4'/></audio>"
    )
    audio.input_format = None  # removing it prunes the elements it made
    assert canonical(audio.to_xml()) == canonical(SDL[0])


def test_an_out_of_range_id_is_reported_not_raised(registry: devframe.Registry) -> None:
    audio = _audio(registry, "<audio id='300' type='none'/>")
    assert any("'id'" in problem for problem in audio.problems())
    assert audio.identity() == {"devtype": "audio", "id": "300"}
    with pytest.raises(devframe.FieldValueError):
        audio.to_spec()


def test_a_missing_id_is_reported_not_raised(registry: devframe.Registry) -> None:
    audio = _audio(registry, "<audio type='spice'/>")
    assert [p for p in audio.problems() if "'id'" in p and "missing" in p]
    assert audio.to_xml() == "<audio type='spice'/>".replace("'", '"')
    assert not _audio(registry, SPICE).problems()


def test_identity_is_the_id_in_decimal(registry: devframe.Registry) -> None:
    assert _audio(registry, NONE).identity() == {"devtype": "audio", "id": "1"}
    assert _audio(registry, HEX_ID).identity() == {"devtype": "audio", "id": "15"}
    assert _audio(registry, "<audio id='one' type='none'/>").identity() == {"devtype": "audio", "id": "one"}
    assert _audio(registry, "<audio type='spice'/>").identity() is None


def test_two_backends_have_their_own_identity(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(SPICE, FILE), registry=registry)
    first, second = domain.dev_map["audio"]
    assert first.identity() != second.identity()


def test_summary_shows_what_the_backend_has(registry: devframe.Registry) -> None:
    assert _audio(registry, SPICE).summary() == {"id": 13, "type": "spice"}
    summary = _audio(registry, PULSEAUDIO).summary()
    assert summary["type"] == "pulseaudio" and summary["output_name"] == "alsa_output.pci-speakers"


def test_samples_valid_against_the_installed_schema() -> None:
    for sample in VALID:
        assert not validate_against_schema(wrap_in_domain(sample)), sample
    assert validate_against_schema(wrap_in_domain(PIPEWIRE))  # libvirt 11.x: its schema check is skipped
