"""Issue 13 item 1: a device type is described in one place, its class; the registry
guards every call into it."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import pytest
import structlog
from structlog.testing import capture_logs

from devframe import (
    INT,
    Claim,
    Device,
    DeviceTypeRegister,
    Field,
    Identity,
    PluginError,
    Resolvers,
    SpecError,
    UnknownDevice,
    create_registry,
    hookimpl,
    parse_domain,
    prepare_domain,
)
from devframe.core.device import FailedDevice

NS = "http://ovirt.org/vm/1.0"


@contextmanager
def captured() -> Iterator[list[dict[str, Any]]]:
    old = structlog.get_config()
    with capture_logs() as logs:
        yield logs
    structlog.configure(**old)


class Knob(Device):
    """Everything about <knob> in one class."""

    dev_type: ClassVar[str] = "knob"
    tag: ClassVar[str] = "knob"
    description: ClassVar[str] = "knobs"
    metadata_keys: ClassVar[Any] = ("owner",)  # a plain tuple: any type
    spec_consumes: ClassVar[tuple[str, ...]] = ("@colour",)  # write_spec carries it, no field

    size = Field("@size", INT, spec="size", default=1)
    target = Field("target@dev", spec="target")

    def identity(self) -> Identity | None:
        target = self.element.find("target")
        return {"devtype": "knob", "name": target.get("dev")} if target is not None else None

    def read_spec(self, rest: dict[str, Any]) -> None:
        colour = rest.pop("colour", None)
        if colour is not None:
            if not isinstance(colour, str):
                raise SpecError(f"knob spec key 'colour': expected a str, got {colour!r}")
            self.element.set("colour", colour)

    def write_spec(self, spec: dict[str, Any]) -> None:
        if self.element.get("colour"):
            spec["colour"] = self.element.get("colour")

    def prepare(self, resolvers: Resolvers) -> None:
        if self.element.get("colour") == "KNOB-COLOUR:":
            self.element.set("colour", resolvers.explicit("KNOB-COLOUR:") or "grey")


class Dial(Device):
    """No alias in libvirt's schema (like graphics): the deviceId lives in metadata."""

    dev_type: ClassVar[str] = "dial"
    tag: ClassVar[str] = "dial"
    has_alias: ClassVar[bool] = False
    claims: ClassVar[tuple[Claim, ...]] = (Claim("dial", attr="kind", values=("round",)),)


class Plugin:
    @hookimpl
    def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
        register(Knob)
        register(Dial)


def registry(strict: bool = False, *plugins: tuple[str, object]) -> Any:
    return create_registry(entry_points=False, plugins=[("knobs", Plugin()), *plugins], strict=strict)


def test_the_class_declares_type_claims_description_and_metadata_keys() -> None:
    reg = registry()
    assert set(reg.routes) == {"knob", "dial"}
    assert reg.routes["knob"].claims == (Claim("knob"),)
    assert reg.routes["dial"].claims == (Claim("dial", attr="kind", values=("round",)),)
    assert reg.plugins["knobs"].hooks == ["devframe_register_device_types"]
    assert dict(Knob.metadata_schema.keys) == {"owner": None}
    domain = parse_domain(
        "<domain><devices><knob/><dial kind='round'/><dial kind='square'/></devices></domain>", registry=reg
    )
    assert [type(d) for d in domain.devices] == [Knob, Dial, UnknownDevice]


def test_spec_conversion_is_fields_then_read_spec_then_metadata() -> None:
    reg = registry()
    knob = reg.device_from_spec({"type": "knob", "colour": "red", "owner": "alice", "deviceId": "7"})
    assert knob.to_xml() == '<knob size="1" colour="red"><alias name="ua-7"/></knob>'
    assert dict(knob.metadata) == {"owner": "alice"}
    assert knob.to_spec() == {
        "type": "knob", "device": "knob", "size": 1, "alias": "ua-7", "deviceId": "7", "colour": "red",
        "specParams": {}, "owner": "alice",
    }  # fmt: skip
    with pytest.raises(SpecError, match="colour"):
        reg.device_from_spec({"type": "knob", "colour": 3})


def test_a_kind_without_alias_keeps_the_device_id_in_metadata() -> None:
    dial = registry().device_from_spec({"type": "dial", "deviceId": "9"})
    assert dial.alias is None and dial.metadata["deviceId"] == "9" and dial.device_id == "9"


def test_one_identity_binds_metadata_and_matches_devices() -> None:
    xml = (
        "<domain><name>d</name><metadata><ovirt-vm:vm xmlns:ovirt-vm='" + NS + "'>"
        "<ovirt-vm:device devtype='knob' name='k2'><ovirt-vm:owner>bob</ovirt-vm:owner></ovirt-vm:device>"
        "</ovirt-vm:vm></metadata><devices><knob><target dev='k1'/></knob><knob><target dev='k2'/></knob>"
        "</devices></domain>"
    )
    domain = parse_domain(xml, registry=registry())
    first, second = domain.devices
    assert not first.has_metadata and second.metadata["owner"] == "bob"
    probe = registry().device_from_spec({"type": "knob", "target": "k2"})
    assert domain.find_device(probe) is second


@pytest.mark.parametrize("where", ["identity", "build", "to_spec"])
def test_every_call_into_the_class_is_guarded(where: str) -> None:
    class Broken(Knob):
        def identity(self) -> Identity | None:
            if where == "identity":
                raise RuntimeError("boom")
            return super().identity()

        def build(self) -> Any:
            if where == "build":
                raise RuntimeError("boom")
            return super().build()

        def write_spec(self, spec: dict[str, Any]) -> None:
            if where == "to_spec":
                raise RuntimeError("boom")

    class BrokenPlugin:
        @hookimpl
        def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
            register(Broken)

    xml = "<domain><devices><knob size='2'><target dev='k'/><alias name='ua-1'/></knob></devices></domain>"
    reg = create_registry(entry_points=False, plugins=[("broken", BrokenPlugin())])
    with captured() as logs:
        domain = parse_domain(xml, registry=reg)
        device = domain.devices[0]
        if where == "identity":
            assert device.checked_identity() is None
        elif where == "build":
            assert 'size="2"' in domain.to_xml() and "broken" in (device.error or "")
        else:
            with pytest.raises(PluginError, match="broken"):
                device.to_spec()
    errors = [e for e in logs if e["log_level"] == "error"]
    assert errors and errors[0]["plugin"] == "broken" and errors[0]["operation"] == where
    assert errors[0]["alias"] == "ua-1"
    strict = create_registry(entry_points=False, plugins=[("broken", BrokenPlugin())], strict=True)
    with pytest.raises(PluginError, match=f"{where} failed"):
        device = parse_domain(xml, registry=strict).devices[0]
        if where == "identity":
            device.checked_identity()
        elif where == "build":
            device.built_element()
        else:
            device.to_spec()


def test_a_class_failing_to_parse_keeps_its_element_and_identity() -> None:
    class Exploding(Knob):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("no parse today")

    class ExplodingPlugin:
        @hookimpl
        def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
            register(Exploding)

    reg = create_registry(entry_points=False, plugins=[("exploding", ExplodingPlugin())])
    with captured():
        domain = parse_domain("<domain><devices><knob><target dev='k9'/></knob></devices></domain>", registry=reg)
    (device,) = domain.devices
    assert isinstance(device, FailedDevice) and isinstance(device, UnknownDevice)
    assert device.identity() == {"devtype": "knob", "name": "k9"} and "no parse today" in (device.error or "")


def test_prepare_is_a_member_and_its_failures_name_the_plugin() -> None:
    reg = registry()
    domain = parse_domain(
        "<domain><name>d</name><devices><knob colour='KNOB-COLOUR:'/></devices></domain>", registry=reg
    )
    prepare_domain(domain, Resolvers(values={"KNOB-COLOUR:": "blue"}))
    assert domain.devices[0].element.get("colour") == "blue"

    class Failing(Knob):
        def prepare(self, resolvers: Resolvers) -> None:
            raise KeyError("storage")

    class FailingPlugin:
        @hookimpl
        def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
            register(Failing)

    reg = create_registry(entry_points=False, plugins=[("failing", FailingPlugin())])
    domain = parse_domain("<domain><name>d</name><devices><knob/></devices></domain>", registry=reg)
    with captured() as logs, pytest.raises(PluginError, match=r"failing.*prepare failed"):
        prepare_domain(domain, Resolvers())
    assert [(e["plugin"], e["operation"]) for e in logs if e["log_level"] == "error"] == [("failing", "prepare")]


def test_registering_something_else_breaks_the_plugin_naming_it() -> None:
    class NotADevice:
        @hookimpl
        def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
            register(dict)  # type: ignore[arg-type]

    reg = create_registry(entry_points=False, plugins=[("odd", NotADevice())])
    info = reg.plugins["odd"]
    assert info.state == "broken" and "Device subclass" in (info.error or "")


def test_the_new_shape_raises_no_deprecation_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        registry()
        create_registry(env={})  # every built-in plugin


def test_an_engine_name_for_the_kind_builds_the_class_and_comes_back() -> None:
    class Balloon(Device):
        dev_type: ClassVar[str] = "memballoon"
        tag: ClassVar[str] = "memballoon"
        spec_type: ClassVar[str] = "balloon"
        model = Field("@model", spec="specParams.model", default="virtio")

    class BalloonPlugin:
        @hookimpl
        def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
            register(Balloon)

    reg = create_registry(entry_points=False, plugins=[("balloon", BalloonPlugin())])
    by_engine = reg.device_from_spec({"type": "balloon", "device": "memballoon", "specParams": {"model": "none"}})
    by_libvirt = reg.device_from_spec({"type": "memballoon"})
    assert type(by_engine) is Balloon and type(by_libvirt) is Balloon and by_engine.dev_type == "memballoon"
    assert by_engine.to_spec()["type"] == "balloon" and by_engine.to_xml() == '<memballoon model="none"/>'
    assert type(reg.device_from_spec(by_engine.to_spec())) is Balloon

    class Clash(Device):
        dev_type: ClassVar[str] = "other"
        tag: ClassVar[str] = "other"
        spec_type: ClassVar[str] = "memballoon"

    class ClashPlugin:
        @hookimpl
        def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
            register(Clash)

    clashing = create_registry(entry_points=False, plugins=[("balloon", BalloonPlugin()), ("clash", ClashPlugin())])
    assert clashing.plugins["clash"].state == "broken" and "memballoon" in (clashing.plugins["clash"].error or "")


def test_metadata_of_a_device_sharing_its_identity_is_keyed_by_alias() -> None:
    from devframe import MetadataError

    reg = registry()
    xml = (
        "<domain><name>d</name><devices><knob><target dev='k'/></knob><knob><target dev='k'/></knob></devices></domain>"
    )
    domain = parse_domain(xml, registry=reg)
    first, _second = domain.devices
    first.alias = "ua-1"
    first.metadata["owner"] = "alice"
    written = domain.to_xml()
    assert 'alias="ua-1"' in written and 'name="k"' not in written.split("<devices>")[0]
    again = parse_domain(written, registry=reg)
    assert again.devices[0].metadata["owner"] == "alice" and not again.devices[1].has_metadata

    lonely = parse_domain(xml, registry=reg)
    lonely.devices[1].metadata["owner"] = "bob"
    with pytest.raises(MetadataError, match="same identity"):
        lonely.to_xml()


def test_an_absent_value_with_a_default_survives_the_spec_round_trip() -> None:
    reg = registry()
    bare = parse_domain("<domain><devices><knob/></devices></domain>", registry=reg).devices[0]
    spec = bare.to_spec()
    assert spec["size"] is None  # absent, although Knob.size has a default
    rebuilt = reg.device_from_spec(spec)
    assert rebuilt.to_xml() == "<knob/>" and rebuilt.to_spec() == spec
    assert reg.device_from_spec({"type": "knob"}).to_xml() == '<knob size="1"/>'  # missing: the default
