"""The dev_spec flows of the core: dev_spec_list -> dev_map -> domain, conf views.

Per-plugin legacy rules are tested in each plugin's own suite; here the core's part:
collection from plugins, deprecation, validation of the input, the domain skeleton.
"""

from __future__ import annotations

import types
import warnings

import pytest

import devframe
from devframe import DevframeError, Device, Field, SpecError, UnknownDevice, hookimpl
from devframe.core.specflow import ARCHES
from devframe.testing import validate_against_schema

UUID = "6f2b1c61-0f5f-4a0e-8c55-6b5d8e0b1a11"


class Beep(Device):
    dev_type = "beep"
    tag = "beep"
    tone = Field("@tone", spec="device", default="a")


def _plugin(name: str, keys: list[str], spec_list: list[dict[str, object]] | Exception) -> types.SimpleNamespace:
    def devframe_spec_list_from_legacy_conf(conf, arch):  # type: ignore[no-untyped-def]
        if isinstance(spec_list, Exception):
            raise spec_list
        return [dict(s, arch=arch) for s in spec_list] if conf.get(name) else []

    def devframe_legacy_conf_keys():  # type: ignore[no-untyped-def]
        return keys

    return types.SimpleNamespace(
        devframe_spec_list_from_legacy_conf=hookimpl(devframe_spec_list_from_legacy_conf),
        devframe_legacy_conf_keys=hookimpl(devframe_legacy_conf_keys),
    )


@pytest.fixture
def beep_registry():
    plugin = types.SimpleNamespace(devframe_register_device_types=hookimpl(lambda register: register(Beep)))
    return devframe.create_registry(entry_points=False, plugins=[("beep", plugin)], env={})


def test_legacy_collects_from_every_plugin_in_order_and_warns():
    registry = devframe.create_registry(
        entry_points=False,
        plugins=[
            ("a", _plugin("a", ["a"], [{"type": "x"}])),
            ("b", _plugin("b", ["b"], [{"type": "y"}, {"type": "z"}])),
        ],
        env={},
    )
    with pytest.warns(DeprecationWarning, match="legacy conf is deprecated"):
        specs = devframe.spec_list_from_legacy_conf({"a": 1, "b": 1}, "ppc64le", registry=registry)
    assert specs == [
        {"type": "x", "arch": "ppc64le"},
        {"type": "y", "arch": "ppc64le"},
        {"type": "z", "arch": "ppc64le"},
    ]
    # Every call warns, not just the first one.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        devframe.spec_list_from_legacy_conf({"a": 1}, "x86_64", registry=registry)
        devframe.spec_list_from_legacy_conf({"a": 1}, "x86_64", registry=registry)
    assert sum(1 for w in caught if w.category is DeprecationWarning) == 2


def test_legacy_log_line_names_the_keys_used():
    from structlog.testing import capture_logs

    registry = devframe.create_registry(entry_points=False, plugins=[("a", _plugin("a", ["a", "aa"], []))], env={})
    with capture_logs() as logs, pytest.warns(DeprecationWarning):
        devframe.spec_list_from_legacy_conf({"a": 1, "other": 2}, "x86_64", registry=registry)
    (line,) = [e for e in logs if "legacy" in e["event"]]
    assert line["legacy_keys"] == ["a"]


@pytest.mark.parametrize("arch", ["i686", "", None, "X86_64", "arm"])
def test_legacy_unknown_arch(arch):
    with pytest.warns(DeprecationWarning), pytest.raises(DevframeError, match="unknown arch"):
        devframe.spec_list_from_legacy_conf({}, arch, registry=devframe.create_registry(entry_points=False, env={}))


@pytest.mark.parametrize("conf", [None, [], "display=vnc", 3])
def test_legacy_conf_must_be_a_dict(conf):
    with pytest.warns(DeprecationWarning), pytest.raises(SpecError, match="legacy conf must be a dict"):
        devframe.spec_list_from_legacy_conf(
            conf, "x86_64", registry=devframe.create_registry(entry_points=False, env={})
        )


def test_legacy_plugin_error_is_isolated_unless_strict():
    good, bad = _plugin("a", ["a"], [{"type": "x"}]), _plugin("b", ["b"], RuntimeError("boom"))
    registry = devframe.create_registry(entry_points=False, plugins=[("a", good), ("b", bad)], env={})
    with pytest.warns(DeprecationWarning):
        assert devframe.spec_list_from_legacy_conf({"a": 1, "b": 1}, "x86_64", registry=registry) == [
            {"type": "x", "arch": "x86_64"}
        ]
    strict = devframe.create_registry(entry_points=False, plugins=[("a", good), ("b", bad)], env={}, strict=True)
    with pytest.warns(DeprecationWarning), pytest.raises(DevframeError, match="boom"):
        devframe.spec_list_from_legacy_conf({"a": 1, "b": 1}, "x86_64", registry=strict)


def test_dev_map_from_spec_list_groups_in_order(beep_registry):
    specs = [
        {"type": "beep", "device": "c", "deviceId": "1"},
        {"type": "mystery", "device": "m"},
        {"type": "beep", "device": "d"},
    ]
    dev_map = devframe.dev_map_from_spec_list(specs, registry=beep_registry)
    assert list(dev_map) == ["beep", "mystery"]
    assert [d.tone for d in dev_map["beep"]] == ["c", "d"]
    assert dev_map["beep"][0].alias == "ua-1"
    (mystery,) = dev_map["mystery"]
    assert isinstance(mystery, UnknownDevice)
    assert "no plugin provides" in (mystery.error or "")


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ("disk", "must be a list"),
        ([{"type": "beep"}, 3], r"dev_spec_list\[1\] must be a dict"),
        ([{"device": "disk"}], r"dev_spec_list\[0\] has no 'type'"),
    ],
)
def test_dev_map_from_bad_spec_list(beep_registry, specs, message):
    with pytest.raises(SpecError, match=message):
        devframe.dev_map_from_spec_list(specs, registry=beep_registry)


@pytest.mark.parametrize("arch", sorted(ARCHES))
def test_domain_from_spec_list_validates_for_every_arch(arch):
    registry = devframe.create_registry(only=["sound"], env={})
    domain = devframe.domain_from_spec_list(
        [{"type": "sound", "device": "ich9", "deviceId": "3"}, {"type": "sound"}],
        name="vm",
        uuid=UUID,
        memory_kib=262144,
        vcpus=2,
        arch=arch,
        registry=registry,
    )
    xml = domain.to_xml()
    assert validate_against_schema(xml) == []
    again = devframe.parse_domain(xml, registry=registry)
    assert again.arch == arch
    assert [d.to_spec()["device"] for d in again.dev_map["sound"]] == ["ich9", "ich6"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"arch": "m68k"}, "unknown arch"),
        ({"uuid": "not-a-uuid"}, "not a UUID"),
        ({"name": ""}, "name"),
        ({"memory_kib": 0}, "memory_kib"),
        ({"vcpus": True}, "vcpus"),
    ],
)
def test_domain_from_spec_list_rejects_bad_arguments(kwargs, message):
    args = {"name": "vm", "uuid": UUID, "memory_kib": 1024, "vcpus": 1, "arch": "x86_64"}
    args.update(kwargs)
    with pytest.raises(DevframeError, match=message):
        devframe.domain_from_spec_list([], registry=devframe.create_registry(entry_points=False, env={}), **args)


def test_conf_view_devices_is_computed_from_the_dev_map(beep_registry):
    domain = devframe.domain_from_conf(
        {"vmName": "vm", "vmId": UUID, "memSize": 256, "smp": 1, "devices": [{"type": "beep", "device": "e"}]},
        registry=beep_registry,
    )
    view = devframe.ConfView(domain, {"vmName": "vm", "devices": ["stale copy"]})
    assert [s["device"] for s in view["devices"]] == ["e"]
    domain.dev_map["beep"][0].tone = "f"
    domain.add(beep_registry.device_from_spec({"type": "beep", "device": "g"}))
    assert [s["device"] for s in view["devices"]] == ["f", "g"]
    assert view["vmName"] == "vm" and sorted(view) == ["devices", "vmName"]


def test_domain_from_conf_without_devices_uses_legacy(beep_registry):
    registry = devframe.create_registry(entry_points=False, plugins=[("a", _plugin("a", ["a"], []))], env={})
    with pytest.warns(DeprecationWarning):
        domain = devframe.domain_from_conf({"vmName": "vm", "vmId": UUID, "a": 1}, arch="s390x", registry=registry)
    assert domain.arch == "s390x"


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ([], "VM conf must be a dict"),
        ({"vmId": UUID}, "vmName"),
        ({"vmName": "vm", "vmId": UUID, "memSize": "lots"}, "memSize"),
        ({"vmName": "vm", "vmId": UUID, "devices": "disk"}, "'devices' must be a list"),
    ],
)
def test_domain_from_bad_conf(conf, message, beep_registry):
    with pytest.raises(DevframeError, match=message):
        devframe.domain_from_conf(conf, registry=beep_registry)
