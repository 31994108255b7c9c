"""Plugins written for earlier releases (devframe.core.compat): still honoured for one release.

A plugin on the routed hooks of earlier releases (``devframe_device_types`` returning
``DeviceType``, ``devframe_parse_device``, ``devframe_build_device``,
``devframe_device_from_spec``, ``devframe_device_metadata``,
``devframe_metadata_identity``, ``devframe_prepare_device``) keeps working as before,
gets one ``DeprecationWarning`` at registration naming the plugin and each old hook it
implements, and its hooks' wrong answers are reported as before. A device class
overriding ``from_spec`` / ``to_spec`` / ``after_spec`` warns naming the class and still
works. Every other test module uses the current interface only (the suite runs with
``-W error::DeprecationWarning``); this one expects the warnings with ``pytest.warns``.
"""

from __future__ import annotations

import copy
import re
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
from lxml import etree
from structlog.testing import capture_logs

import devframe
from devframe import (
    INT,
    Claim,
    DevframeError,
    Device,
    DeviceType,
    Field,
    MetadataSchema,
    PluginError,
    Registry,
    Resolvers,
    SpecError,
    UnknownDevice,
    create_registry,
    hookimpl,
    parse_domain,
)
from devframe.core.device import FailedDevice
from devframe.core.hookspecs import DEPRECATED_HOOKS
from devframe.testing import canonical

NS = "http://ovirt.org/vm/1.0"
SPEC = {"type": "knob", "device": "knob", "deviceId": "7", "size": 3, "address": {"type": "pci", "slot": "0x05"},
        "note": "kept"}  # fmt: skip


@contextmanager
def captured() -> Iterator[list[dict[str, Any]]]:
    """structlog events of the block (tests/conftest.py restores structlog afterwards)."""
    with capture_logs() as logs:
        yield logs


def errors_of(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in logs if e["log_level"] == "error"]


def deprecation(plugin: str, *hooks: str) -> str:
    """A ``match`` for the registration warning naming ``plugin`` and each of ``hooks``."""
    return rf"devframe plugin '{re.escape(plugin)}' implements " + "".join(rf"(?=.*\b{h}\b)" for h in hooks)


class Knob(Device):
    dev_type = "knob"
    tag = "knob"
    size = Field("@size", INT, spec="size")
    name = Field("@name", spec="name")
    source = Field("source", spec="source")


class OldKnobs:
    """A plugin written on every routed hook of earlier releases, recording its calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.parse_metadata: list[Any] = []
        self.prepared: list[tuple[str, str | None]] = []

    @hookimpl
    def devframe_device_types(self) -> list[DeviceType]:
        return [DeviceType("knob", Knob, description="knobs, the old way")]

    @hookimpl
    def devframe_parse_device(self, element: etree._Element, dev_type: str, metadata: Any) -> Device:
        self.calls.append("parse")
        self.parse_metadata.append(metadata)
        return Knob(element)

    @hookimpl
    def devframe_build_device(self, device: Device) -> etree._Element:
        self.calls.append("build")
        built = copy.deepcopy(device.element)
        built.set("built", "by-the-old-hook")
        return built

    @hookimpl
    def devframe_device_from_spec(self, spec: Mapping[str, Any], dev_type: str) -> Device:
        self.calls.append("from_spec")
        rest = dict(spec)
        turns = rest.pop("turns", None)
        device = Knob.from_spec(rest)
        if turns is not None:
            device.size = int(turns) * 10
        return device

    @hookimpl
    def devframe_device_metadata(self, dev_type: str) -> MetadataSchema:
        return MetadataSchema({"index": int, "managed": bool})

    @hookimpl
    def devframe_metadata_identity(self, element: etree._Element, dev_type: str) -> dict[str, str] | None:
        self.calls.append("identity")
        name = element.get("name")
        return {"devtype": dev_type, "name": name} if name else None

    @hookimpl
    def devframe_prepare_device(self, device: Device, resolvers: Resolvers) -> None:
        self.prepared.append((device.dev_type, resolvers.host.os_name))
        source = device.element.find("source")
        if source is not None and source.text == "KNOB-SOURCE:":
            source.text = resolvers.explicit("KNOB-SOURCE:") or "/dev/knob0"


def only(hooks: tuple[str, ...], base: type = OldKnobs) -> object:
    """An instance of ``base`` with just ``hooks`` of it visible to pluggy (and the
    non-hook methods), so each old hook can be registered on its own."""
    members = {name: getattr(base, name) for name in hooks}
    members.update({k: v for k, v in vars(base).items() if k == "__init__" or not k.startswith(("devframe_", "__"))})
    return type(f"Only_{'_'.join(h.removeprefix('devframe_') for h in hooks)}", (), members)()


def registry(plugin: object, *, name: str = "oldie", strict: bool = False) -> Registry:
    """A registry with ``plugin`` alone, expecting its one deprecation warning."""
    with pytest.warns(DeprecationWarning, match=deprecation(name)):
        return create_registry(entry_points=False, plugins=[(name, plugin)], strict=strict, env={})


def _domain_with_metadata(devices: str) -> str:
    return (
        "<domain><name>d</name><metadata>"
        f"<ovirt-vm:vm xmlns:ovirt-vm='{NS}'>"
        "<ovirt-vm:device devtype='knob' name='k1'><ovirt-vm:owner>alice</ovirt-vm:owner>"
        "<ovirt-vm:index>3</ovirt-vm:index><ovirt-vm:managed>true</ovirt-vm:managed></ovirt-vm:device>"
        "<ovirt-vm:device alias='ua-2'><ovirt-vm:owner>bob</ovirt-vm:owner></ovirt-vm:device>"
        "</ovirt-vm:vm></metadata>"
        f"<devices>{devices}</devices></domain>"
    )


KNOBS = "<knob name='k1' size='1'/><knob name='k2' size='2'><alias name='ua-2'/></knob>"


# -- the warning -------------------------------------------------------------------------------


def test_one_warning_at_registration_names_the_plugin_and_every_old_hook() -> None:
    plugin = OldKnobs()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reg = create_registry(entry_points=False, plugins=[("oldie", plugin)], env={})
    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(deprecations) == 1, [str(w.message) for w in deprecations]
    message = str(deprecations[0].message)
    assert "'oldie'" in message and "devframe_register_device_types" in message
    assert all(hook in message for hook in DEPRECATED_HOOKS), message
    assert sorted(reg.plugins["oldie"].hooks) == sorted(DEPRECATED_HOOKS)
    assert reg.plugins["oldie"].state == "loaded"

    # Using the plugin warns no more: parse, build, from_spec, metadata, prepare.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        domain = parse_domain(_domain_with_metadata(KNOBS + "<knob><source>KNOB-SOURCE:</source></knob>"), registry=reg)
        domain.dev_map["knob"][0].metadata["owner"] = "carol"
        domain.add(reg.device_from_spec({"type": "knob", "turns": 2}))
        devframe.prepare_domain(domain, Resolvers())
        domain.to_xml()
    assert {"parse", "build", "from_spec", "identity"} <= set(plugin.calls)
    assert len(plugin.prepared) == 4


@pytest.mark.parametrize("hook", DEPRECATED_HOOKS)
def test_each_old_hook_alone_warns_naming_the_plugin_and_the_hook(hook: str) -> None:
    hooks = tuple(dict.fromkeys(("devframe_device_types", hook)))
    with pytest.warns(DeprecationWarning, match=deprecation("solo", *hooks)) as record:
        reg = create_registry(entry_points=False, plugins=[("solo", only(hooks))], env={})
    assert len([w for w in record if issubclass(w.category, DeprecationWarning)]) == 1
    message = str(record[0].message)
    assert [h for h in DEPRECATED_HOOKS if h in message] == list(hooks), "only the hooks it implements"
    assert reg.plugins["solo"].state == "loaded" and "knob" in reg.routes


def test_a_plugin_on_the_current_interface_does_not_warn() -> None:
    class Current:
        @hookimpl
        def devframe_register_device_types(self, register: Any) -> None:
            register(Knob)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg = create_registry(entry_points=False, plugins=[("current", Current())], env={})
    assert reg.plugins["current"].state == "loaded"


# -- each old hook still works ------------------------------------------------------------------


def test_device_types_registers_the_class_with_its_description() -> None:
    reg = registry(only(("devframe_device_types",)))
    route = reg.routes["knob"]
    assert route.plugin == "oldie" and issubclass(route.dev_class, Knob)
    assert route.dev_class.description == "knobs, the old way"
    assert reg.plugins["oldie"].dev_types == ["knob"] and reg.plugins["oldie"].claims == ["<knob>"]
    (knob,) = parse_domain("<domain><devices><knob size='4'/></devices></domain>", registry=reg).devices
    assert isinstance(knob, Knob) and knob.size == 4 and knob.plugin == "oldie"


def test_device_type_with_narrowed_claims_takes_only_those_elements() -> None:
    class Narrowed:
        @hookimpl
        def devframe_device_types(self) -> list[DeviceType]:
            return [DeviceType("knob", Knob, claims=(Claim("knob", attr="type", values=("rotary", "push")),))]

    reg = registry(Narrowed())
    assert reg.plugins["oldie"].claims == ["<knob type=rotary|push>"]
    assert reg.routes["knob"].dev_class.claims == (Claim("knob", attr="type", values=("rotary", "push")),)
    assert Knob.claims == (Claim("knob"),), "the plugin's own class is left as it was"
    domain = parse_domain(
        "<domain><devices><knob type='rotary'/><knob type='slider'/><knob/><knob type='push'/></devices></domain>",
        registry=reg,
    )
    assert [(type(d).__name__, d.plugin) for d in domain.devices] == [
        ("Knob", "oldie"),
        ("UnknownDevice", None),
        ("UnknownDevice", None),
        ("Knob", "oldie"),
    ]
    assert all(isinstance(d, Knob) for d in domain.dev_map["knob"] if d.plugin)


def test_parse_hook_makes_the_device_and_metadata_is_bound_after() -> None:
    plugin = only(("devframe_device_types", "devframe_parse_device"))
    reg = registry(plugin)
    domain = parse_domain(_domain_with_metadata(KNOBS), registry=reg)
    k1, k2 = domain.devices
    assert plugin.calls == ["parse", "parse"]  # type: ignore[attr-defined]
    assert plugin.parse_metadata == [None, None], "a parse hook now receives metadata=None"  # type: ignore[attr-defined]
    assert isinstance(k1, Knob) and k1.plugin == "oldie" and (k1.size, k2.size) == (1, 2)
    assert k2.metadata["owner"] == "bob", "metadata is bound to the device the hook made"
    assert [o.key for o in domain.orphan_metadata] == [{"devtype": "knob", "name": "k1"}], "no identity hook"


def test_build_hook_gives_the_element_written() -> None:
    plugin = only(("devframe_device_types", "devframe_build_device"))
    reg = registry(plugin)
    domain = parse_domain("<domain><devices><knob size='1'/></devices></domain>", registry=reg)
    (knob,) = domain.devices
    knob.size = 5
    assert knob.to_xml() == '<knob size="5" built="by-the-old-hook"/>'
    assert '<knob size="5" built="by-the-old-hook"/>' in domain.to_xml()
    assert "build" in plugin.calls  # type: ignore[attr-defined]


def test_build_hook_returning_none_writes_the_element_as_it_stands() -> None:
    class NoneBuilder:
        @hookimpl
        def devframe_device_types(self) -> list[DeviceType]:
            return [DeviceType("knob", Knob)]

        @hookimpl
        def devframe_build_device(self, device: Device) -> None:
            return None

    reg = registry(NoneBuilder())
    (knob,) = parse_domain("<domain><devices><knob size='1'/></devices></domain>", registry=reg).devices
    knob.size = 6
    assert knob.to_xml() == '<knob size="6"/>' and knob.error is None


def test_from_spec_hook_builds_the_device() -> None:
    plugin = only(("devframe_device_types", "devframe_device_from_spec"))
    reg = registry(plugin)
    device = reg.device_from_spec({"type": "knob", "turns": 4, "deviceId": "9", "note": "kept"})
    assert isinstance(device, Knob) and device.plugin == "oldie" and device.error is None
    assert device.size == 40, "the hook's own conversion"
    assert device.alias == "ua-9" and device.metadata["note"] == "kept"
    assert plugin.calls == ["from_spec"]  # type: ignore[attr-defined]
    assert devframe.device_from_spec({"type": "knob", "turns": 1}, registry=reg).size == 10


def test_metadata_schema_hook_types_the_devices_metadata() -> None:
    reg = registry(only(("devframe_device_types", "devframe_device_metadata")))
    assert reg.routes["knob"].metadata_schema == MetadataSchema({"index": int, "managed": bool})
    xml = (
        f"<domain><name>d</name><metadata><ovirt-vm:vm xmlns:ovirt-vm='{NS}'>"
        "<ovirt-vm:device alias='ua-1'><ovirt-vm:index>3</ovirt-vm:index><ovirt-vm:managed>true</ovirt-vm:managed>"
        "<ovirt-vm:other>4</ovirt-vm:other></ovirt-vm:device>"
        "</ovirt-vm:vm></metadata><devices><knob><alias name='ua-1'/></knob></devices></domain>"
    )
    (knob,) = parse_domain(xml, registry=reg).devices
    assert knob.metadata["index"] == 3 and type(knob.metadata["index"]) is int
    assert knob.metadata["managed"] is True
    assert knob.metadata["other"] == "4", "an undeclared key stays as written"


def test_metadata_identity_hook_binds_and_writes_its_entry() -> None:
    plugin = only(("devframe_device_types", "devframe_metadata_identity", "devframe_device_metadata"))
    reg = registry(plugin)
    xml = _domain_with_metadata(KNOBS)
    domain = parse_domain(xml, registry=reg)
    k1, k2 = domain.devices
    assert k1.metadata["owner"] == "alice" and k1.metadata["index"] == 3 and k1.metadata["managed"] is True
    assert k2.metadata["owner"] == "bob"
    assert not domain.orphan_metadata
    assert k1.identity() == {"devtype": "knob", "name": "k1"}
    assert canonical(domain.to_xml()) == canonical(xml)
    # A new device is written under the key the hook gives it.
    new = etree.fromstring("<knob name='k3'/>")
    added = reg.parse_element(new)
    added.metadata["owner"] = "dave"
    domain.add(added)
    out = domain.to_xml()
    assert parse_domain(out, registry=reg).devices[2].metadata["owner"] == "dave"
    entries = etree.fromstring(out).findall(f"metadata/{{{NS}}}vm/{{{NS}}}device")
    assert [(e.get("devtype"), e.get("name")) for e in entries][-1] == ("knob", "k3")


def test_prepare_hook_resolves_its_placeholder_through_prepare_domain() -> None:
    plugin = only(("devframe_device_types", "devframe_prepare_device"))
    reg = registry(plugin)
    xml = (
        "<domain><name>p</name><devices><knob><source>KNOB-SOURCE:</source></knob>"
        "<knob><source>/dev/fixed</source></knob></devices></domain>"
    )
    domain = parse_domain(xml, registry=reg)
    with captured() as logs:
        devframe.prepare_domain(domain, Resolvers(host=devframe.HostFacts(os_name="TestOS")))
    assert [d.source for d in domain.devices] == ["/dev/knob0", "/dev/fixed"]
    assert plugin.prepared == [("knob", "TestOS"), ("knob", "TestOS")]  # type: ignore[attr-defined]
    (line,) = [e for e in logs if e.get("placeholder") == "KNOB-SOURCE:"]
    assert line["by"] == "plugin oldie" and line["value"] == "/dev/knob0"
    explicit = parse_domain(xml, registry=reg)
    devframe.prepare_domain(explicit, Resolvers(values={"KNOB-SOURCE:": "/dev/knob7"}))
    assert explicit.devices[0].source == "/dev/knob7"


def test_parse_hook_returning_a_subclass_instance_keeps_the_other_old_hooks() -> None:
    class FancyKnob(Knob):
        __slots__ = ()

    class Fancy(OldKnobs):
        @hookimpl
        def devframe_parse_device(self, element: etree._Element, dev_type: str, metadata: Any) -> Device:
            return FancyKnob(element)

    domain = parse_domain(_domain_with_metadata(KNOBS), registry=registry(Fancy()))
    k1 = domain.devices[0]
    assert isinstance(k1, FancyKnob)
    assert k1.identity() == {"devtype": "knob", "name": "k1"} and k1.metadata["index"] == 3
    assert 'built="by-the-old-hook"' in k1.to_xml()


# -- their wrong answers are reported as before -----------------------------------------------------


class RaisingTypes:
    @hookimpl
    def devframe_device_types(self) -> list[DeviceType]:
        raise RuntimeError("boom in device_types")


class BadTypes:
    @hookimpl
    def devframe_device_types(self) -> Any:
        return ["not a DeviceType"]


class Mismatch:
    @hookimpl
    def devframe_device_types(self) -> list[DeviceType]:
        return [DeviceType("thing", Knob)]  # Knob's dev_type is "knob"


class RaisingMetadata:
    @hookimpl
    def devframe_device_types(self) -> list[DeviceType]:
        return [DeviceType("knob", Knob)]

    @hookimpl
    def devframe_device_metadata(self, dev_type: str) -> Any:
        raise RuntimeError("boom in metadata")


class DictMetadata(RaisingMetadata):
    @hookimpl
    def devframe_device_metadata(self, dev_type: str) -> Any:
        return {"owner": str}  # a dict, not a MetadataSchema


@pytest.mark.parametrize(
    ("plugin", "needles"),
    [
        (RaisingTypes(), ("boom in device_types",)),
        (BadTypes(), ("devframe_device_types must return a list of DeviceType",)),
        (Mismatch(), ("dev_class Knob has dev_type 'knob'", "must be the same")),
        (RaisingMetadata(), ("boom in metadata",)),
        (DictMetadata(), ("devframe_device_metadata returned", "expected a MetadataSchema")),
    ],
    ids=["raising-device_types", "wrong-result", "dev_type-mismatch", "raising-metadata", "metadata-not-a-schema"],
)
def test_a_registration_hook_failing_breaks_the_plugin_naming_it(plugin: object, needles: tuple[str, ...]) -> None:
    reg = registry(plugin)
    info = reg.plugins["oldie"]
    assert info.state == "broken" and "oldie" not in reg.loaded
    assert all(needle in (info.error or "") for needle in needles), info.error
    assert reg.routes == {}, "a broken plugin leaves no route behind"
    # Its devices are still kept, as unknown devices.
    domain = parse_domain("<domain><devices><knob size='1'/></devices></domain>", registry=reg)
    assert isinstance(domain.devices[0], UnknownDevice)
    with pytest.raises(PluginError) as caught:
        registry(plugin, strict=True)
    assert caught.value.plugin == "oldie" and all(needle in str(caught.value) for needle in needles)


class WrongParse:
    @hookimpl
    def devframe_device_types(self) -> list[DeviceType]:
        return [DeviceType("knob", Knob)]

    @hookimpl
    def devframe_parse_device(self, element: etree._Element) -> Any:
        if element.get("size") == "2":
            raise ValueError("cannot read this knob")
        return {"not": "a device"} if element.get("size") == "3" else Knob(element)


def test_parse_hook_raising_or_returning_the_wrong_type_keeps_the_element() -> None:
    knobs = "<knob size='1'/><knob size='2'><alias name='ua-2'/></knob><knob size='3'/>"
    xml = f"<domain><devices>{knobs}</devices></domain>"
    reg = registry(WrongParse())
    with captured() as logs:
        domain = parse_domain(xml, registry=reg)
    ok, raised, wrong = domain.devices
    assert isinstance(ok, Knob) and ok.plugin == "oldie"
    assert isinstance(raised, FailedDevice) and raised.alias == "ua-2"
    assert "oldie" in (raised.error or "") and "cannot read this knob" in (raised.error or "")
    assert isinstance(wrong, UnknownDevice) and "oldie" in (wrong.error or "")
    assert "devframe_parse_device returned dict, expected a Knob" in (wrong.error or "")
    errors = errors_of(logs)
    assert [e["plugin"] for e in errors] == ["oldie", "oldie"] and errors[0]["alias"] == "ua-2"
    assert canonical(domain.to_xml()) == canonical(xml)
    strict = registry(WrongParse(), strict=True)
    with pytest.raises(PluginError, match="returned dict"):
        parse_domain("<domain><devices><knob size='3'/></devices></domain>", registry=strict)
    with pytest.raises(PluginError, match="cannot read this knob"):
        parse_domain("<domain><devices><knob size='2'/></devices></domain>", registry=strict)


class BadBuild:
    def __init__(self, result: Any) -> None:
        self.result = result

    @hookimpl
    def devframe_device_types(self) -> list[DeviceType]:
        return [DeviceType("knob", Knob)]

    @hookimpl
    def devframe_build_device(self, device: Device) -> Any:
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


@pytest.mark.parametrize(
    ("result", "needle"),
    [(RuntimeError("cannot build"), "cannot build"), ("<knob/>", "returned str, expected an lxml element")],
    ids=["raises", "wrong-type"],
)
def test_build_hook_failing_keeps_the_device(result: Any, needle: str) -> None:
    xml = "<domain><devices><knob size='1'><alias name='ua-9'/></knob></devices></domain>"
    domain = parse_domain(xml, registry=registry(BadBuild(result)))
    domain.devices[0].size = 5
    with captured() as logs:
        out = domain.to_xml()
    assert etree.fromstring(out).find("devices/knob").get("size") == "5", "written as it stands"
    assert "oldie" in (domain.devices[0].error or "") and needle in (domain.devices[0].error or "")
    (error,) = errors_of(logs)
    assert (error["plugin"], error["operation"], error["alias"]) == ("oldie", "build", "ua-9")
    assert needle in error["error"]
    strict = parse_domain(xml, registry=registry(BadBuild(result), strict=True))
    with pytest.raises(PluginError, match=re.escape(needle)) as caught:
        strict.devices[0].to_xml()
    assert caught.value.plugin == "oldie"


class BadFromSpec:
    def __init__(self, result: Any) -> None:
        self.result = result

    @hookimpl
    def devframe_device_types(self) -> list[DeviceType]:
        return [DeviceType("knob", Knob)]

    @hookimpl
    def devframe_device_from_spec(self, spec: Any, dev_type: str) -> Any:
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


@pytest.mark.parametrize(
    ("result", "needle"),
    [
        (RuntimeError("boom in from_spec"), "boom in from_spec"),
        ({"not": "a device"}, "devframe_device_from_spec returned dict"),
        (None, "devframe_device_from_spec returned NoneType"),
    ],
    ids=["raises", "wrong-type", "none"],
)
def test_from_spec_hook_failing_refuses_the_spec_and_reports_the_plugin(result: Any, needle: str) -> None:
    """Issue 20 item 4: never a placeholder device; the spec is refused, the plugin named."""
    with captured() as logs, pytest.raises(DevframeError) as refused:
        registry(BadFromSpec(result)).device_from_spec(SPEC)
    assert "oldie" in str(refused.value) and needle in str(refused.value)
    assert isinstance(refused.value, (SpecError, PluginError))
    (error,) = errors_of(logs)
    assert error["plugin"] == "oldie" and error["device_id"] == "7" and error["dev_type"] == "knob"
    assert error["operation"] == "from_spec" and needle in error["error"]
    with pytest.raises(PluginError) as caught:
        registry(BadFromSpec(result), strict=True).device_from_spec(SPEC)
    assert caught.value.plugin == "oldie" and needle in str(caught.value)


class BadIdentity:
    def __init__(self, result: Any) -> None:
        self.result = result

    @hookimpl
    def devframe_device_types(self) -> list[DeviceType]:
        return [DeviceType("knob", Knob)]

    @hookimpl
    def devframe_metadata_identity(self, element: etree._Element) -> Any:
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


@pytest.mark.parametrize(
    ("result", "needle"),
    [
        (RuntimeError("boom in identity"), "boom in identity"),
        (["devtype", "knob"], "returned list"),
        ({"devtype": "knob", "name": 1}, "returned dict"),
    ],
    ids=["raises", "list", "non-str-value"],
)
def test_identity_hook_failing_binds_by_alias_and_keeps_every_entry(result: Any, needle: str) -> None:
    xml = _domain_with_metadata(KNOBS)
    with captured() as logs:
        domain = parse_domain(xml, registry=registry(BadIdentity(result)))
    k1, k2 = domain.devices
    assert isinstance(k1, Knob) and isinstance(k2, Knob), "the devices themselves are fine"
    assert k2.metadata["owner"] == "bob" and not k1.has_metadata
    assert [o.key for o in domain.orphan_metadata] == [{"devtype": "knob", "name": "k1"}], "kept, as an orphan"
    assert canonical(domain.to_xml()) == canonical(xml), "nothing lost on write-back"
    errors = errors_of(logs)
    assert errors and all(e["plugin"] == "oldie" and e["operation"] == "identity" for e in errors)
    assert needle in errors[0]["error"]
    with pytest.raises(PluginError) as caught:
        parse_domain(xml, registry=registry(BadIdentity(result), strict=True))
    assert caught.value.plugin == "oldie" and needle in str(caught.value)


def test_prepare_hook_failing_is_a_plugin_error_naming_it() -> None:
    class BadPrepare:
        @hookimpl
        def devframe_device_types(self) -> list[DeviceType]:
            return [DeviceType("knob", Knob)]

        @hookimpl
        def devframe_prepare_device(self, device: Device) -> None:
            raise RuntimeError("boom in prepare")

    domain = parse_domain("<domain><devices><knob size='1'/></devices></domain>", registry=registry(BadPrepare()))
    with pytest.raises(PluginError, match="boom in prepare") as caught:
        devframe.prepare_domain(domain, Resolvers())
    assert caught.value.plugin == "oldie" and "prepare failed for knob" in str(caught.value)


# -- class overrides of the old spec methods ------------------------------------------------------------


def test_a_class_overriding_after_spec_warns_naming_it_and_still_works() -> None:
    with pytest.warns(DeprecationWarning, match=r"\bLateKnob overrides after_spec\(\); override read_spec\(\)"):

        class LateKnob(Knob):
            def after_spec(self, spec: Mapping[str, Any]) -> None:
                if "turns" in spec:
                    self.size = int(spec["turns"]) * 10

    class Plugin:
        @hookimpl
        def devframe_register_device_types(self, register: Any) -> None:
            register(LateKnob)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # registering and using the class warns no more
        reg = create_registry(entry_points=False, plugins=[("late", Plugin())], env={})
        device = reg.device_from_spec({"type": "knob", "turns": 3})
    assert isinstance(device, LateKnob) and device.size == 30 and device.plugin == "late"


def test_a_class_overriding_from_spec_warns_naming_it_and_still_works() -> None:
    with pytest.warns(DeprecationWarning, match=r"\bOwnSpecKnob overrides from_spec\(\)"):

        class OwnSpecKnob(Knob):
            @classmethod
            def from_spec(cls, spec: Mapping[str, Any]) -> Any:
                device = super().from_spec({k: v for k, v in spec.items() if k != "turns"})
                device.size = int(spec.get("turns", 0)) * 10
                return device

    class Plugin:
        @hookimpl
        def devframe_register_device_types(self, register: Any) -> None:
            register(OwnSpecKnob)

    reg = create_registry(entry_points=False, plugins=[("own", Plugin())], env={})
    device = reg.device_from_spec({"type": "knob", "turns": 2})
    assert isinstance(device, OwnSpecKnob) and device.size == 20 and device.plugin == "own"


def test_a_class_overriding_from_spec_with_the_wrong_answer_is_reported() -> None:
    with pytest.warns(DeprecationWarning, match=r"\bDictKnob overrides from_spec\(\)"):

        class DictKnob(Knob):
            @classmethod
            def from_spec(cls, spec: Mapping[str, Any]) -> Any:
                return dict(spec)

    class Plugin:
        @hookimpl
        def devframe_register_device_types(self, register: Any) -> None:
            register(DictKnob)

    with captured() as logs, pytest.raises(PluginError, match=r"DictKnob\.from_spec returned dict, expected a"):
        create_registry(entry_points=False, plugins=[("dict", Plugin())], env={}).device_from_spec(SPEC)
    assert errors_of(logs)[0]["operation"] == "from_spec" and errors_of(logs)[0]["plugin"] == "dict"


def test_a_class_overriding_to_spec_warns_naming_it() -> None:
    with pytest.warns(DeprecationWarning, match=r"\bTaggedKnob overrides to_spec\(\)"):

        class TaggedKnob(Knob):
            def to_spec(self) -> dict[str, Any]:
                return {**super().to_spec(), "tagged": True}

    device = TaggedKnob(etree.fromstring("<knob size='2'/>"))
    assert device.to_spec()["tagged"] is True and device.to_spec()["size"] == 2
