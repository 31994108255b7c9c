"""Tests of the emulator plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

from typing import Any

import pytest
from devframe_emulator import Emulator
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

UUID = "1e2d3c4b-5a69-4788-96a5-b4c3d2e1f001"

QEMU = "<emulator>/usr/bin/qemu-system-x86_64</emulator>"
KVM = "<emulator>/usr/libexec/qemu-kvm</emulator>"
WINDOWS = "<emulator>C:\\Program Files\\qemu\\qemu-system-x86_64.exe</emulator>"

SAMPLES = [QEMU, KVM, WINDOWS]

TestContract = contract_tests("emulator", samples=SAMPLES)


registry = plugin_registry("emulator")


def _emulator(registry: devframe.Registry, xml: str) -> Emulator:
    return one_device(registry, xml, Emulator)


def test_path_is_the_text(registry: devframe.Registry) -> None:
    assert _emulator(registry, QEMU).path == "/usr/bin/qemu-system-x86_64"
    assert _emulator(registry, WINDOWS).path == "C:\\Program Files\\qemu\\qemu-system-x86_64.exe"


def test_spec(registry: devframe.Registry) -> None:
    assert _emulator(registry, QEMU).to_spec() == {
        "type": "emulator",
        "device": "emulator",
        "path": "/usr/bin/qemu-system-x86_64",
        "specParams": {},
    }


def test_spec_builds_libvirt_xml(registry: devframe.Registry) -> None:
    emulator = registry.device_from_spec({"type": "emulator", "device": "emulator", "path": "/usr/bin/qemu-kvm"})
    assert emulator.to_xml() == "<emulator>/usr/bin/qemu-kvm</emulator>"
    assert not validate_against_schema(wrap_in_domain(emulator.to_xml()))


def test_device_id_lives_in_metadata_not_an_alias(registry: devframe.Registry) -> None:
    spec = {"type": "emulator", "device": "emulator", "path": "/usr/bin/qemu-kvm", "deviceId": UUID}
    emulator = registry.device_from_spec(spec)
    assert emulator.to_xml() == "<emulator>/usr/bin/qemu-kvm</emulator>"
    assert emulator.device_id == UUID
    assert emulator.to_spec()["deviceId"] == UUID
    domain = devframe.domain_from_spec_list(
        [spec], name="vm", uuid=UUID, memory_kib=524288, vcpus=1, arch="x86_64", registry=registry
    )
    again = devframe.parse_domain(domain.to_xml(), registry=registry)
    assert again.dev_map["emulator"][0].device_id == UUID
    assert not validate_against_schema(domain.to_xml())


@pytest.mark.parametrize(
    "spec",
    [{}, {"device": "emulator"}, {"path": ""}, {"path": "qemu-kvm"}, {"path": ["/usr/bin/qemu-kvm"]}, {"path": 5}],
)
def test_unusable_or_missing_path_is_a_spec_error_naming_it(registry: devframe.Registry, spec: dict[str, Any]) -> None:
    with pytest.raises(devframe.SpecError, match="'path'"):
        registry.device_from_spec({"type": "emulator", **spec})


def test_spec_round_trip_of_every_sample(registry: devframe.Registry) -> None:
    for sample in SAMPLES:
        assert_spec_round_trip(registry, _emulator(registry, sample))


def test_setting_path_changes_only_the_text(registry: devframe.Registry) -> None:
    emulator = _emulator(registry, "<emulator>/usr/bin/qemu-system-x86_64<!-- host default --></emulator>")
    emulator.path = "/opt/qemu/bin/qemu-system-x86_64"
    assert canonical(emulator.to_xml()) == canonical(
        "<emulator>/opt/qemu/bin/qemu-system-x86_64<!-- host default --></emulator>"
    )
    with pytest.raises(devframe.FieldValueError):
        emulator.path = "qemu"  # not absolute: refused, the element unchanged
    assert emulator.path == "/opt/qemu/bin/qemu-system-x86_64"


def test_removing_path_keeps_the_element(registry: devframe.Registry) -> None:
    emulator = _emulator(registry, QEMU)
    emulator.path = None
    assert emulator.to_xml() == "<emulator/>"


def test_a_relative_path_is_reported_not_raised(registry: devframe.Registry) -> None:
    emulator = _emulator(registry, "<emulator>qemu-kvm</emulator>")
    assert any("path" in problem for problem in emulator.problems())
    assert emulator.to_xml() == "<emulator>qemu-kvm</emulator>"
    assert emulator.summary()["path"].startswith("<invalid")
    with pytest.raises(devframe.FieldValueError):
        emulator.to_spec()


def test_an_element_with_children_and_no_text(registry: devframe.Registry) -> None:
    emulator = _emulator(registry, "<emulator>\n  <alias name='e0'/>\n</emulator>")
    assert emulator.path is None
    assert emulator.to_spec()["alias"] == "e0"


def test_identity_is_the_kind(registry: devframe.Registry) -> None:
    assert _emulator(registry, QEMU).identity() == {"devtype": "emulator", "name": "emulator"}
    assert _emulator(registry, "<emulator/>").identity() == {"devtype": "emulator", "name": "emulator"}


def test_summary(registry: devframe.Registry) -> None:
    assert _emulator(registry, KVM).summary() == {"path": "/usr/libexec/qemu-kvm"}


def test_samples_valid_against_the_installed_schema() -> None:
    for sample in SAMPLES:
        assert not validate_against_schema(wrap_in_domain(sample)), sample


def test_the_element_has_no_alias_in_libvirts_schema() -> None:
    assert validate_against_schema(wrap_in_domain("<emulator>/usr/bin/qemu-kvm<alias name='x'/></emulator>"))
    assert Emulator.has_alias is False
    assert etree.fromstring(QEMU).tag == Emulator.tag
