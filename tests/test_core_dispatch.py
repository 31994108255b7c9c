"""Issue 2 item 4 and issue 9 item 3: the dispatcher, and plugins that fail in it."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import structlog
from lxml import etree
from structlog.testing import capture_logs

from devframe import (
    INT,
    Device,
    DeviceTypeRegister,
    Field,
    PluginError,
    UnknownDevice,
    create_registry,
    hookimpl,
    parse_domain,
)


@contextmanager
def captured() -> Iterator[list[dict[str, Any]]]:
    """structlog events of the block; leaves structlog's configuration as it found it."""
    was_configured = structlog.is_configured()
    old = structlog.get_config()
    with capture_logs() as logs:
        yield logs
    if was_configured:
        structlog.configure(**old)
    else:
        structlog.reset_defaults()


class Knob(Device):
    dev_type = "knob"
    tag = "knob"
    size = Field("@size", INT, spec="size")


class Dial(Device):
    dev_type = "dial"
    tag = "dial"


class Counting:
    """A plugin whose device class records every call the core makes into it."""

    def __init__(self, dev_class: type[Device]) -> None:
        self.calls: Counter[str] = Counter()
        self.seen: list[etree._Element] = []
        calls, seen = self.calls, self.seen

        class Counted(dev_class):  # type: ignore[valid-type,misc]
            __slots__ = ()

            def __init__(self, element: etree._Element, **kwargs: Any) -> None:
                calls["parse"] += 1
                seen.append(element)
                super().__init__(element, **kwargs)

            def build(self) -> etree._Element:
                calls["build"] += 1
                return self.element

        Counted.__name__ = Counted.__qualname__ = dev_class.__name__
        self.dev_class = Counted

    @hookimpl
    def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
        self.calls["register"] += 1
        register(self.dev_class)


def _domain_xml(children: str) -> str:
    return f"<domain type='kvm'><name>t</name><devices>{children}</devices></domain>"


MIXED = (
    "<knob size='1'><alias name='k1'/></knob>"
    "<memballoon model='virtio'/>"
    "<dial/>"
    "<knob size='2'/>"
    "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
    "<dial><alias name='d2'/></dial>"
    "<knob size='3'/>"
)


def test_document_order_within_each_type_and_across_devices() -> None:
    knobs, dials = Counting(Knob), Counting(Dial)
    registry = create_registry(entry_points=False, plugins=[("knobs", knobs), ("dials", dials)])
    domain = parse_domain(_domain_xml(MIXED), registry=registry)
    assert [d.dev_type for d in domain.devices] == ["knob", "memballoon", "dial", "knob", "channel", "dial", "knob"]
    assert [d.size for d in domain.dev_map["knob"]] == [1, 2, 3]
    assert [d.alias for d in domain.dev_map["dial"]] == [None, "d2"]
    assert list(domain.dev_map) == ["knob", "memballoon", "dial", "channel"]
    assert [d.element for d in domain.devices] == [c for c in domain.root.find("devices")]


def test_each_child_goes_to_its_claiming_plugin_only() -> None:
    knobs, dials = Counting(Knob), Counting(Dial)
    registry = create_registry(entry_points=False, plugins=[("knobs", knobs), ("dials", dials)])
    domain = parse_domain(_domain_xml(MIXED), registry=registry)
    assert knobs.calls["parse"] == 3 and dials.calls["parse"] == 2
    assert {e.tag for e in knobs.seen} == {"knob"} and {e.tag for e in dials.seen} == {"dial"}
    assert knobs.calls["register"] == dials.calls["register"] == 1, "types are collected once per registry"
    parse_domain(_domain_xml(MIXED), registry=registry)
    assert knobs.calls["register"] == 1, "the lookup table is built once per registry, not per parse"
    domain.dev_map["knob"][0].size = 7
    domain.to_xml()
    assert knobs.calls["build"] == 3 and dials.calls["build"] == 2


def test_unclaimed_children_are_unknown_devices_kept_verbatim() -> None:
    registry = create_registry(entry_points=False, plugins=[])
    xml = _domain_xml(
        "<memballoon model='virtio'><stats period='5'/><alias name='balloon0'/></memballoon>"
        "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
        "<x:ext xmlns:x='urn:example'/>"
    )
    domain = parse_domain(xml, registry=registry)
    assert all(isinstance(d, UnknownDevice) for d in domain.devices)
    assert [d.dev_type for d in domain.devices] == ["memballoon", "rng", "ext"]
    assert domain.devices[0].alias == "balloon0"
    assert domain.devices[0].error is None and domain.devices[0].plugin is None
    before = etree.tostring(etree.fromstring(xml), method="c14n2")
    assert etree.tostring(etree.fromstring(domain.to_xml()), method="c14n2") == before
    assert domain.devices[1].to_xml() == (
        "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>".replace("'", '"')
    )


class RaisingKnob(Knob):
    """A knob class that cannot be made from one of the elements it claims."""

    __slots__ = ()

    def __init__(self, element: etree._Element, **kwargs: Any) -> None:
        if element.get("size") == "2":
            raise ValueError("cannot read this knob")
        super().__init__(element, **kwargs)

    def identity(self) -> dict[str, str] | None:
        size = self.element.get("size")
        return {"devtype": "knob", "size": size} if size else None


class Raising:
    @hookimpl
    def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
        register(RaisingKnob)


def test_plugin_raising_in_parse_keeps_the_device_as_unknown_and_logs() -> None:
    xml = _domain_xml("<knob size='1'/><!-- c --><knob size='2' extra='x'><alias name='ua-7'/></knob><knob size='3'/>")
    with captured() as logs:
        registry = create_registry(entry_points=False, plugins=[("raiser", Raising())])
        domain = parse_domain(xml, registry=registry)
    kinds = [type(d).__name__ for d in domain.devices]
    assert kinds == ["RaisingKnob", "FailedDevice", "RaisingKnob"]
    failed = domain.devices[1]
    assert isinstance(failed, UnknownDevice), "kept verbatim, like any unknown device"
    assert failed.dev_type == "knob" and failed.alias == "ua-7"
    assert failed.identity() == {"devtype": "knob", "size": "2"}, "it keeps the identity its class gave"
    assert "raiser" in (failed.error or "") and "cannot read this knob" in (failed.error or "")
    assert domain.dev_map["knob"][1] is failed, "a failed device stays in its place in the dev_map"
    assert etree.tostring(etree.fromstring(domain.to_xml()), method="c14n2") == etree.tostring(
        etree.fromstring(xml), method="c14n2"
    )
    errors = [e for e in logs if e["log_level"] == "error"]
    assert len(errors) == 1, logs
    assert errors[0]["plugin"] == "raiser" and errors[0]["tag"] == "knob" and errors[0]["alias"] == "ua-7"
    assert "cannot read this knob" in errors[0]["error"]


def test_plugin_raising_in_parse_raises_in_strict_mode() -> None:
    xml = _domain_xml("<knob size='2'><alias name='ua-7'/></knob>")
    registry = create_registry(entry_points=False, plugins=[("raiser", Raising())], strict=True)
    with pytest.raises(PluginError) as caught:
        parse_domain(xml, registry=registry)
    assert caught.value.plugin == "raiser"
    assert "knob" in str(caught.value) and "ua-7" in str(caught.value)
    env_registry = create_registry(
        entry_points=False, plugins=[("raiser", Raising())], env={"DEVFRAME_STRICT_PLUGINS": "1"}
    )
    with pytest.raises(PluginError):
        parse_domain(xml, registry=env_registry)


class BadBuilder:
    """A plugin whose class's build() raises ``result`` or returns it instead of an element."""

    def __init__(self, result: Any) -> None:
        class BadBuild(Knob):
            __slots__ = ()

            def build(self) -> Any:
                if isinstance(result, Exception):
                    raise result
                return result

        self.dev_class = BadBuild

    @hookimpl
    def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
        register(self.dev_class)


@pytest.mark.parametrize(
    ("result", "needle"),
    [(RuntimeError("cannot build"), "cannot build"), ("<knob/>", "returned str, expected an lxml element")],
    ids=["raises", "wrong-type"],
)
def test_plugin_failing_in_build_keeps_the_device(result: Any, needle: str) -> None:
    xml = _domain_xml("<knob size='1'><alias name='ua-9'/></knob><dial/>")
    with captured() as logs:
        registry = create_registry(entry_points=False, plugins=[("builder", BadBuilder(result))])
        domain = parse_domain(xml, registry=registry)
        domain.dev_map["knob"][0].size = 5
        domain.move(domain.devices[1], 0)
        out = domain.to_xml()
    knob = etree.fromstring(out).find("devices/knob")
    assert knob is not None and knob.get("size") == "5"
    assert "builder" in (domain.devices[1].error or "") and needle in (domain.devices[1].error or "")
    errors = [e for e in logs if e["log_level"] == "error"]
    assert errors and errors[0]["plugin"] == "builder" and errors[0]["alias"] == "ua-9"
    assert errors[0]["operation"] == "build" and errors[0]["event"] == "plugin failed; the device is kept"
    assert needle in errors[0]["error"]
    strict = create_registry(entry_points=False, plugins=[("builder", BadBuilder(result))], strict=True)
    strict_domain = parse_domain(xml, registry=strict)
    with pytest.raises(PluginError) as caught:
        strict_domain.devices[0].to_xml()
    assert caught.value.plugin == "builder" and needle in str(caught.value)


def test_comments_and_processing_instructions_between_devices_are_kept() -> None:
    registry = create_registry(entry_points=False, plugins=[("knobs", Counting(Knob))])
    xml = _domain_xml("<!-- first --><knob size='1'/><?app hint?><dial/><!-- last -->")
    domain = parse_domain(xml, registry=registry)
    assert [d.dev_type for d in domain.devices] == ["knob", "dial"]
    assert "<!-- first --><knob" in domain.to_xml() and "<?app hint?><dial/><!-- last -->" in domain.to_xml()


# -- complexity guard (not timed: counts) ---------------------------------------------------------


def _bulk(n: int) -> str:
    unit = (
        "<knob size='{i}'><alias name='ua-k{i}'/><address type='pci' slot='0x{i:x}'/></knob>"
        "<dial><alias name='ua-d{i}'/></dial>"
        "<memballoon model='virtio'/>"
        "<!-- note {i} -->"
        "<channel type='unix'><target type='virtio' name='n{i}'/></channel>"
    )
    return _domain_xml("".join(unit.format(i=i) for i in range(n // 4)))


def _python_calls(func: Any) -> int:
    count = 0

    def profiler(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profiler)
    try:
        func()
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize("stage", ["parse", "to_xml", "edit"])
def test_work_per_device_stays_constant_as_the_domain_grows(stage: str) -> None:
    per_device: dict[int, float] = {}
    hooks_per_device: dict[int, float] = {}
    for n in (100, 1_000, 10_000):
        knobs, dials = Counting(Knob), Counting(Dial)
        registry = create_registry(entry_points=False, plugins=[("knobs", knobs), ("dials", dials)])
        xml = _bulk(n)
        if stage == "parse":
            calls = _python_calls(lambda xml=xml, registry=registry: parse_domain(xml, registry=registry))
        else:
            domain = parse_domain(xml, registry=registry)
            if stage == "to_xml":
                calls = _python_calls(domain.to_xml)
            else:

                def edit(domain: Any = domain) -> None:
                    last = domain.devices[-1]
                    domain.remove(last)
                    domain.add(last)
                    domain.dev_map["knob"][0].size = 1
                    domain.move(domain.devices[0], len(domain.devices) - 1)
                    domain.to_xml()

                calls = _python_calls(edit)
        per_device[n] = calls / n
        hooks_per_device[n] = (knobs.calls["parse"] + dials.calls["parse"] + knobs.calls["build"]) / n
    assert per_device[10_000] <= per_device[100] * 1.25 + 2, per_device
    assert per_device[10_000] <= per_device[1_000] * 1.25 + 2, per_device
    if stage == "parse":
        assert hooks_per_device[100] == hooks_per_device[10_000] == 0.5, hooks_per_device
