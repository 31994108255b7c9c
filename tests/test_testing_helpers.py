"""devframe.testing's helpers, which plugin tests build on: they must hold for any XML a
plugin's tests may give them."""

from __future__ import annotations

import pytest
from devframe_sound import Sound
from lxml import etree

import devframe
from devframe.testing import (
    assert_reported_not_raised,
    assert_set_changes_only,
    assert_set_refused,
    assert_spec_refused,
    assert_spec_round_trip,
    canonical,
    edit_tests,
    one_device,
    plugin_registry,
    wrap_in_domain,
)

# XML names may hold any letter (XML 1.0 fifth edition, NameStartChar): attribute and
# element names in Latin-1, CJK, and astral planes are well-formed.
ASTRAL = "\U00020000"  # a CJK letter beyond the BMP (Extension B)
NON_ASCII = f'<devices ü="1" 名前="x"><é {ASTRAL}="2">t</é></devices>'


@pytest.mark.parametrize(
    "given",
    [
        NON_ASCII,
        NON_ASCII.encode("utf-8"),
        etree.fromstring(NON_ASCII),
        ('<?xml version="1.0" encoding="ISO-8859-1"?><devices ü="1"/>').encode("latin-1"),
    ],
    ids=["str", "utf-8 bytes", "element", "latin-1 bytes"],
)
def test_canonical_takes_non_ascii_names(given: str | bytes | etree._Element) -> None:
    text = canonical(given)
    assert 'ü="1"' in text
    if not isinstance(given, bytes) or b"ISO-8859-1" not in given:
        assert text == canonical(NON_ASCII)
        assert '名前="x"' in text and f'<é {ASTRAL}="2">t</é>' in text


def test_canonical_compares_what_devframe_promises() -> None:
    # attribute order, quotes, empty-element form and whitespace-only text do not count ...
    assert canonical("<a y='2' x='1'>\n  <b/>\n</a>") == canonical('<a x="1" y="2"><b></b></a>')
    # ... text, names and values do
    assert canonical("<a x='1'>t</a>") != canonical("<a x='1'>u</a>")
    assert canonical("<a ü='1'/>") != canonical("<a u='1'/>")


# -- helpers for a plugin's own tests ---------------------------------------------------------

SOUND = "<sound model='ich9' multichannel='yes'><audio id='1'/><alias name='sound0'/><acpi index='2'/></sound>"
VIRTIO_SOUND = "<sound model='virtio' streams='2'><driver iommu='on'/></sound>"
SOUND_EDITS = {
    "alias": ("sound1",),
    "model": ("ich6", "ich9"),
    "multichannel": (False, True),
    "audio_id": (2, 1),
    "streams": (4,),
    "acpi_index": (5,),
    "iommu": (False, True),
    "ats": (True,),
    "packed": (True,),
    "page_per_vq": (True,),
}

TestSoundEdits = edit_tests("sound", Sound, [SOUND, VIRTIO_SOUND], SOUND_EDITS)


registry = plugin_registry("sound")
two_plugins = plugin_registry("sound", "watchdog", name="two_plugins")


def test_plugin_registry_loads_only_the_plugins_named(
    registry: devframe.Registry, two_plugins: devframe.Registry
) -> None:
    def loaded(reg: devframe.Registry) -> set[str]:
        return {name for name, info in reg.plugins.items() if info.state == "loaded"}

    assert loaded(registry) == {"sound"}
    assert loaded(two_plugins) == {"sound", "watchdog"}
    assert isinstance(one_device(two_plugins, "<watchdog model='itco'/>"), devframe.Device)
    assert isinstance(one_device(registry, "<watchdog model='itco'/>"), devframe.UnknownDevice)


def test_edit_tests_want_every_modeled_field() -> None:
    partial = edit_tests("sound", Sound, [SOUND], {"model": ("ich6",)})
    with pytest.raises(AssertionError):
        partial().test_edits_cover_every_modeled_field()


def test_one_device_parses_an_element_or_a_domain(registry: devframe.Registry) -> None:
    sound = one_device(registry, SOUND, Sound)
    assert isinstance(sound, Sound) and sound.model == "ich9"
    assert one_device(registry, wrap_in_domain(SOUND, arch="aarch64")).alias == "sound0"
    with pytest.raises(AssertionError):
        one_device(registry, SOUND + VIRTIO_SOUND)  # two devices
    with pytest.raises(AssertionError):
        one_device(registry, "<watchdog model='i6300esb'/>", Sound)  # not the class asked for


def test_assert_spec_round_trip(registry: devframe.Registry) -> None:
    spec = assert_spec_round_trip(registry, one_device(registry, SOUND, Sound))
    assert spec["device"] == "ich9" and spec["specParams"]["audioId"] == 1
    assert_spec_round_trip(registry, one_device(registry, VIRTIO_SOUND), VIRTIO_SOUND)
    lossy = one_device(registry, SOUND)
    with pytest.raises(AssertionError):
        assert_spec_round_trip(registry, lossy, VIRTIO_SOUND)  # not the XML the spec builds


def test_assert_reported_not_raised(registry: devframe.Registry) -> None:
    xml = "<sound model='virtio' streams='many'/>"
    assert_reported_not_raised(one_device(registry, xml), "streams", xml)
    with pytest.raises(AssertionError):
        assert_reported_not_raised(one_device(registry, xml), "audio_id")  # not the field at fault
    with pytest.raises(AssertionError):
        assert_reported_not_raised(one_device(registry, SOUND), "streams")  # nothing wrong


def test_assert_set_changes_only(registry: devframe.Registry) -> None:
    assert_set_changes_only(one_device(registry, SOUND), "model", "ich6", "@model", "ich6")
    assert_set_changes_only(one_device(registry, SOUND), "audio_id", 3, "audio@id", "3")
    assert_set_changes_only(one_device(registry, SOUND), "multichannel", False, "@multichannel", "no")
    with pytest.raises(AssertionError):  # the test names another place than the field writes
        assert_set_changes_only(one_device(registry, SOUND), "audio_id", 3, "acpi@index", "3")
    with pytest.raises(AssertionError):  # the place is not in the element
        assert_set_changes_only(one_device(registry, SOUND), "streams", 4, "driver@streams", "4")
    assert_set_changes_only(one_device(registry, VIRTIO_SOUND), "streams", 4, "@streams", "4")


def test_assert_set_refused(registry: devframe.Registry) -> None:
    sound = one_device(registry, SOUND)
    assert_set_refused(sound, "audio_id", "three", True)
    with pytest.raises(pytest.fail.Exception):  # a value that fits is not refused
        assert_set_refused(one_device(registry, SOUND), "audio_id", 3)


def test_assert_spec_refused(registry: devframe.Registry) -> None:
    assert_spec_refused(registry, {"type": "sound", "specParams": {"audioId": "three"}}, "specParams.audioId")
    with pytest.raises(AssertionError):  # refused, but for another key
        assert_spec_refused(registry, {"type": "sound", "specParams": {"audioId": "three"}}, "specParams.streams")
    with pytest.raises(pytest.fail.Exception):  # not refused at all
        assert_spec_refused(registry, {"type": "sound"}, "device")
