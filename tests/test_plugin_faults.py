"""Issue 9 item 3: a plugin failing in any call into it loses no device and no metadata.

Already covered elsewhere (not repeated here): a class raising while it is made, and
build() raising / returning the wrong type (tests/test_core_dispatch.py); the register
hook raising / registering a wrong class at registration (tests/test_core_registry.py);
legacy raising, isolated unless strict (tests/test_specflow.py); the deprecated hooks'
own wrong answers (tests/test_compat_hooks.py).

Here: read_spec raising (from_spec: the spec is refused, issue 20); identity() raising / answering the wrong type
(while binding and while writing metadata); legacy wrong type and the log line of a
raising legacy hook; a class failing to be made keeps the device's bound metadata;
every failure is logged naming the plugin and the device, and strict mode raises a
PluginError naming the plugin.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from lxml import etree
from structlog.testing import capture_logs

from devframe import (
    INT,
    Device,
    DeviceTypeRegister,
    Field,
    PluginError,
    Registry,
    SpecError,
    UnknownDevice,
    create_registry,
    hookimpl,
    parse_domain,
    spec_list_from_legacy_conf,
)
from devframe.testing import canonical

NS = "http://ovirt.org/vm/1.0"


@contextmanager
def captured() -> Iterator[list[dict[str, Any]]]:
    """structlog events of the block (tests/conftest.py restores structlog afterwards)."""
    with capture_logs() as logs:
        yield logs


def errors_of(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in logs if e["log_level"] == "error"]


class Knob(Device):
    dev_type = "knob"
    tag = "knob"
    size = Field("@size", INT, spec="size")
    name = Field("@name", spec="name")

    def identity(self) -> Any:
        name = self.element.get("name")
        return {"devtype": "knob", "name": name} if name else None


class Faulty:
    """A plugin whose class fails in the chosen ``operation`` (raises, or answers
    ``result`` instead); its legacy conf hook too ("legacy")."""

    def __init__(self, operation: str, result: Any = None, *, raises: bool = True) -> None:
        self.operation = operation
        self.result = result
        self.raises = raises
        answer = self._answer

        class FaultyKnob(Knob):
            __slots__ = ()

            def identity(self) -> Any:
                return answer("identity", super().identity())

            def read_spec(self, rest: dict[str, Any]) -> None:
                answer("from_spec", None)

        self.dev_class: type[Knob] = FaultyKnob

    def _answer(self, operation: str, default: Any) -> Any:
        if operation != self.operation:
            return default
        if self.raises:
            raise RuntimeError(f"boom in {operation}")
        return self.result

    @hookimpl
    def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
        register(self.dev_class)

    @hookimpl
    def devframe_spec_list_from_legacy_conf(self, conf: Any, arch: str) -> Any:
        return self._answer("legacy", [{"type": "knob", "size": conf.get("knobSize", 1)}])

    @hookimpl
    def devframe_legacy_conf_keys(self) -> list[str]:
        return ["knobSize"]


def registry(plugin: object, *, strict: bool = False) -> Registry:
    return create_registry(entry_points=False, plugins=[("faulty", plugin)], strict=strict, env={})


SPEC = {"type": "knob", "device": "knob", "deviceId": "7", "size": 3, "address": {"type": "pci", "slot": "0x05"},
        "note": "kept"}  # fmt: skip


# -- from_spec (the class's read_spec) -----------------------------------------------------


def test_from_spec_failure_refuses_the_spec_and_reports_the_plugin() -> None:
    """Issue 20 item 4: a spec its class cannot build is refused naming the keys the class
    was reading (never a placeholder device whose XML holds only an alias); the failure
    is logged with the plugin, and strict mode raises a PluginError."""
    plugin, needle = Faulty("from_spec"), "boom in from_spec"
    with captured() as logs, pytest.raises(SpecError) as refused:
        registry(plugin).device_from_spec(SPEC)
    message = str(refused.value)
    assert "knob" in message and "'note'" in message and needle in message, message
    (error,) = errors_of(logs)
    assert error["plugin"] == "faulty" and error["device_id"] == "7" and error["dev_type"] == "knob"
    assert error["operation"] == "from_spec" and needle in error["error"]

    with pytest.raises(PluginError) as caught:
        registry(plugin, strict=True).device_from_spec(SPEC)
    assert caught.value.plugin == "faulty" and needle in str(caught.value)


def test_from_spec_refusing_a_bad_spec_is_still_the_callers_error() -> None:
    """A SpecError is the plugin saying the input is wrong: it is raised, not hidden."""

    class Refusing(Faulty):
        def _answer(self, operation: str, default: Any) -> Any:
            if operation == "from_spec":
                raise SpecError("knob spec needs a size")
            return default

    with pytest.raises(SpecError, match="needs a size"):
        registry(Refusing("none")).device_from_spec(SPEC)


# -- identity() ------------------------------------------------------------------------------


def _domain_with_metadata() -> str:
    return (
        "<domain><name>d</name><metadata>"
        f"<ovirt-vm:vm xmlns:ovirt-vm='{NS}'>"
        "<ovirt-vm:device devtype='knob' name='k1'><ovirt-vm:owner>alice</ovirt-vm:owner></ovirt-vm:device>"
        "<ovirt-vm:device alias='ua-2'><ovirt-vm:owner>bob</ovirt-vm:owner></ovirt-vm:device>"
        "</ovirt-vm:vm></metadata>"
        "<devices><knob name='k1' size='1'/><knob name='k2' size='2'><alias name='ua-2'/></knob></devices>"
        "</domain>"
    )


@pytest.mark.parametrize(
    ("plugin", "needle"),
    [
        (Faulty("identity"), "boom in identity"),
        (Faulty("identity", ["devtype", "knob"], raises=False), "returned list"),
        (Faulty("identity", {"devtype": "knob", "name": 1}, raises=False), "returned dict"),
    ],
    ids=["raises", "list", "non-str-value"],
)
def test_identity_failure_binds_by_alias_and_keeps_every_entry(plugin: Faulty, needle: str) -> None:
    xml = _domain_with_metadata()
    with captured() as logs:
        domain = parse_domain(xml, registry=registry(plugin))
    k1, k2 = domain.devices
    assert isinstance(k1, Knob) and isinstance(k2, Knob), "the devices themselves are fine"
    assert k2.metadata["owner"] == "bob", "alias binding does not need the plugin"
    assert not k1.has_metadata
    assert [o.key for o in domain.orphan_metadata] == [{"devtype": "knob", "name": "k1"}], "kept, as an orphan"
    assert canonical(domain.to_xml()) == canonical(xml), "nothing lost on write-back"
    errors = errors_of(logs)
    assert errors and all(e["plugin"] == "faulty" and e["operation"] == "identity" for e in errors)
    assert errors[0]["dev_type"] == "knob" and needle in errors[0]["error"]

    with pytest.raises(PluginError) as caught:
        parse_domain(xml, registry=registry(plugin, strict=True))
    assert caught.value.plugin == "faulty" and needle in str(caught.value)


def test_identity_failure_while_writing_new_metadata_falls_back_to_the_alias() -> None:
    domain = parse_domain("<domain><name>d</name><devices><knob name='k9'/></devices></domain>",
                          registry=registry(Faulty("identity")))  # fmt: skip
    knob = domain.devices[0]
    knob.alias = "ua-9"
    knob.metadata["owner"] = "carol"
    with captured() as logs:
        xml = domain.to_xml()
    assert errors_of(logs) and errors_of(logs)[0]["plugin"] == "faulty"
    assert errors_of(logs)[0]["operation"] == "identity" and "boom in identity" in errors_of(logs)[0]["error"]
    entry = etree.fromstring(xml).find(f"metadata/{{{NS}}}vm/{{{NS}}}device")
    assert entry is not None and entry.get("alias") == "ua-9", "keyed by the alias instead"
    assert parse_domain(xml, registry=registry(Faulty("none"))).devices[0].metadata["owner"] == "carol"


# -- a failing parse keeps the metadata bound to the device ------------------------------------


def test_parse_failure_keeps_the_devices_metadata() -> None:
    class Unmakeable(Knob):
        __slots__ = ()

        def __init__(self, element: etree._Element, **kwargs: Any) -> None:
            raise RuntimeError("boom in parse")

    plugin = Faulty("none")
    plugin.dev_class = Unmakeable
    xml = _domain_with_metadata()
    with captured():
        domain = parse_domain(xml, registry=registry(plugin))
    k1, k2 = domain.devices
    assert isinstance(k1, UnknownDevice) and isinstance(k2, UnknownDevice)
    assert k1.metadata["owner"] == "alice" and k2.metadata["owner"] == "bob"
    assert not domain.orphan_metadata
    assert canonical(domain.to_xml()) == canonical(xml)


def test_parse_failure_with_a_bad_identity_keeps_the_device() -> None:
    class UnmakeableBadlyNamed(Knob):
        __slots__ = ()

        def __init__(self, element: etree._Element, **kwargs: Any) -> None:
            raise RuntimeError("boom in parse")

        def identity(self) -> Any:
            return {"devtype": "knob", "name": 1}

    plugin = Faulty("none")
    plugin.dev_class = UnmakeableBadlyNamed
    xml = _domain_with_metadata()
    with captured():
        domain = parse_domain(xml, registry=registry(plugin))
    k1, k2 = domain.devices
    assert isinstance(k1, UnknownDevice) and k2.metadata["owner"] == "bob"
    assert canonical(domain.to_xml()) == canonical(xml)


# -- devframe_spec_list_from_legacy_conf ----------------------------------------------------------


@pytest.mark.parametrize(
    ("plugin", "needle"),
    [
        (Faulty("legacy"), "boom in legacy"),
        (Faulty("legacy", {"type": "knob"}, raises=False), "returned dict"),
        (Faulty("legacy", ["knob"], raises=False), "returned list"),
    ],
    ids=["raises", "dict", "list-of-str"],
)
def test_legacy_failure_is_logged_naming_the_plugin_and_strict_raises(plugin: Faulty, needle: str) -> None:
    class Good:
        @hookimpl
        def devframe_spec_list_from_legacy_conf(self, conf: Any, arch: str) -> list[dict[str, Any]]:
            return [{"type": "dial"}]

    reg = create_registry(entry_points=False, plugins=[("faulty", plugin), ("good", Good())], env={})
    with captured() as logs, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        specs = spec_list_from_legacy_conf({"knobSize": 2}, "x86_64", registry=reg)
    assert specs == [{"type": "dial"}], "the other plugins' devices still come"
    (error,) = errors_of(logs)
    assert error["plugin"] == "faulty" and error["hook"] == "devframe_spec_list_from_legacy_conf"
    assert needle in error["error"]

    strict = create_registry(entry_points=False, plugins=[("faulty", plugin)], strict=True, env={})
    with warnings.catch_warnings(), pytest.raises(PluginError) as caught:
        warnings.simplefilter("ignore", DeprecationWarning)
        spec_list_from_legacy_conf({"knobSize": 2}, "x86_64", registry=strict)
    assert caught.value.plugin == "faulty" and needle in str(caught.value)


def test_environment_turns_on_strict_mode_for_spec_failures() -> None:
    reg = create_registry(entry_points=False, plugins=[("faulty", Faulty("from_spec"))],
                          env={"DEVFRAME_STRICT_PLUGINS": "1"})  # fmt: skip
    with pytest.raises(PluginError, match="boom in from_spec"):
        reg.device_from_spec(SPEC)
