"""Issue 5 end to end with every built-in plugin: a legacy conf touching all six
plugins' keys -> dev_spec_list -> a domain that validates against libvirt's schema,
on every architecture. Each plugin's own rules are tested in its own suite."""

from __future__ import annotations

import json
import warnings

import pytest

import devframe
from devframe.testing import validate_against_schema

UUID = "5a0c1f7e-8d2b-4c3a-9e1f-6b7a8c9d0e1f"

#: (display, has cdrom/floppy) per arch: what each arch's machine can hold.
CASES = {
    "x86_64": ("qxl", True),
    "ppc64": ("vnc", False),
    "ppc64le": ("vnc", False),
    "s390x": ("vnc", False),
    "aarch64": ("vnc", False),
}


def legacy_conf(arch: str) -> dict[str, object]:
    display, legacy_media = CASES[arch]
    conf: dict[str, object] = {
        "vmId": UUID,
        "vmName": f"legacy-{arch}",
        "memSize": 512,
        "smp": 2,
        "display": display,
        "keyboardLayout": "en-us",
        "spiceMonitors": "2",
        "macAddr": "00:1a:4a:16:01:51,00:1a:4a:16:01:52",
        "nicModel": "pv,pv",
        "bridge": "ovirtmgmt",
        "drives": [
            {"path": "/var/lib/images/root.img", "index": 0, "iface": "virtio", "format": "cow"},
            {"path": "/dev/mapper/data", "index": 1, "iface": "virtio"},
        ],
    }
    if arch in ("x86_64", "ppc64", "ppc64le"):
        conf["soundDevice"] = "ich6" if arch == "x86_64" else "ac97"
    if legacy_media:
        conf["cdrom"] = "/var/lib/iso/install.iso"
        conf["floppy"] = "/var/lib/vfd/drivers.vfd"
    return conf


@pytest.fixture(scope="module")
def registry():
    registry = devframe.create_registry(env={})
    assert {"drive", "nic", "graphics", "sound", "video", "controller"} <= set(registry.loaded)
    return registry


@pytest.mark.parametrize("arch", sorted(CASES))
def test_legacy_conf_to_a_valid_domain(arch, registry):
    conf = legacy_conf(arch)
    with pytest.warns(DeprecationWarning):
        specs = devframe.spec_list_from_legacy_conf(conf, arch, registry=registry)
    kinds = sorted({spec["type"] for spec in specs})
    expected = {"disk", "interface", "graphics", "video", "controller", "balloon", "input"}
    if "soundDevice" in conf:
        expected.add("sound")
    assert set(kinds) == expected
    assert sum(1 for s in specs if s["type"] == "interface") == 2
    assert sum(1 for s in specs if s["type"] == "controller" and s["device"] == "virtio-serial") == 1
    json.dumps(specs)  # a dev_spec_list is plain data
    domain = devframe.domain_from_spec_list(
        specs, name=str(conf["vmName"]), uuid=UUID, memory_kib=524288, vcpus=2, arch=arch, registry=registry
    )
    xml = domain.to_xml()
    assert validate_against_schema(xml) == [], xml
    again = devframe.parse_domain(xml, registry=registry)
    assert not [d for d in again.devices if isinstance(d, devframe.UnknownDevice)]
    assert [d.to_spec() for d in again.devices] == [d.to_spec() for d in domain.devices]


def test_the_engine_conf_path_gives_the_same_domain(registry):
    conf = legacy_conf("x86_64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from_legacy = devframe.domain_from_conf(conf, registry=registry)
        specs = devframe.spec_list_from_legacy_conf(conf, "x86_64", registry=registry)
    from_devices = devframe.domain_from_conf({**conf, "devices": specs}, registry=registry)
    assert from_legacy.to_xml() == from_devices.to_xml()
    assert validate_against_schema(from_devices.to_xml()) == []
