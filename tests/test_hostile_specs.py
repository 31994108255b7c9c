"""Issue 20 items 4, 5 and 10: what a dev_spec can and cannot make.

4. A bad spec of a known type is a SpecError naming the key, for every installed kind
   and every key its fields map, never a placeholder device.
5. A spec's ``xml`` is not trusted: an unknown kind's spec holds one element of its own
   type, a device (never ``<domain>`` or another kind), shallow enough to read back.
10. A known device's comments, processing instructions and stray text are XML, and dev_specs
   carry values: they survive the XML path, not a spec round trip (documented in
   docs/reliability.md).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from lxml import etree

from devframe import (
    DevframeError,
    Registry,
    SpecError,
    UnknownDevice,
    XMLError,
    create_registry,
    parse_domain,
)
from devframe.core.device import NOT_DEVICES
from devframe.core.errors import quoted
from devframe.core.fields import Field
from devframe.core.limits import DEVICE_DEPTH, MAX_DEPTH
from devframe.testing import canonical, sample_domain_files, wrap_in_domain


@pytest.fixture(scope="module")
def registry() -> Registry:
    return create_registry(env={})


@pytest.fixture(scope="module")
def bare() -> Registry:
    """No plugins: every spec takes the unknown-kind path."""
    return create_registry(entry_points=False, env={})


class Opaque:
    def __repr__(self) -> str:
        raise RuntimeError("repr refuses")  # a message about it must still be built


def _deep(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = [value]
    return value


#: values no field of any kind takes as they stand (or takes, and must then write and read back)
BAD_VALUES: list[Any] = [10**5000, -(10**700), _deep(3), {"not": ["a", "value"]}, Opaque(), "maybe", math.nan, b"\x00"]


def _base_specs(registry: Registry) -> dict[str, dict[str, Any]]:
    """A valid spec of every installed kind that the sample domains hold (with secrets:
    each is rebuilt as it stands), and ``{"type": kind}`` for the others."""
    bases: dict[str, dict[str, Any]] = {}
    for path in sample_domain_files():
        for device in parse_domain(path.read_bytes(), registry=registry).devices:
            if device.dev_type in registry.routes and device.dev_type not in bases and not device.problems():
                bases[device.dev_type] = device.to_spec(secrets=True)
    return {dev_type: bases.get(dev_type, {"type": dev_type}) for dev_type in registry.routes}


def _put(spec: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        inner = spec.get(part)
        spec = spec.setdefault(part, {}) if isinstance(inner, dict) or inner is None else {}
    spec[last] = value


def test_every_kind_refuses_a_bad_value_of_every_key_by_name(registry: Registry) -> None:
    refused = built = 0
    unnamed = []
    bases = _base_specs(registry)
    assert len([b for b in bases.values() if len(b) > 1]) > 15, "most kinds start from a real spec"
    for dev_type, route in sorted(registry.routes.items()):
        keys = [f.spec for f in route.dev_class.fields.values() if f.spec and f.spec not in ("device", "alias")]
        for key in keys:
            for value in BAD_VALUES:
                spec = copy.deepcopy(bases[dev_type])
                _put(spec, key, value)
                try:
                    device = registry.device_from_spec(spec)
                except SpecError as exc:
                    refused += 1
                    if key.rsplit(".", 1)[-1] not in str(exc):
                        unnamed.append(f"{dev_type} {key}={quoted(value, 30)}: {exc}")
                    continue
                # Taken: then it is the kind's own device, and what it wrote reads back.
                built += 1
                assert type(device) is route.dev_class and not isinstance(device, UnknownDevice), (dev_type, key)
                domain = parse_domain(wrap_in_domain(), registry=registry)
                domain.add(device)
                again = parse_domain(domain.to_xml(), registry=registry).devices[0]
                assert type(again) is type(device)
    assert not unnamed, "\n".join(unnamed[:20])
    assert refused > built > 0, (refused, built)


def test_the_issues_examples(registry: Registry) -> None:
    with pytest.raises(SpecError, match="'readonly'"):
        registry.device_from_spec({"type": "disk", "readonly": "maybe", "path": "/x.img", "iface": "virtio"})
    with pytest.raises(SpecError, match="vram"):
        registry.device_from_spec({"type": "video", "device": "qxl", "specParams": {"vram": 10**5000}})


# -- item 5: the xml of an unknown kind's spec ---------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ({"type": "watchdog", "xml": "<disk type='file'><target dev='vda'/></disk>"}, "holds <disk>, not a <watchdog>"),
        ({"type": "watchdog", "xml": "<domain><devices><disk/></devices></domain>"}, "holds <domain>"),
        ({"type": "domain", "xml": "<domain><name>x</name></domain>"}, "names a part of the domain"),
        ({"type": "domain"}, "names a part of the domain"),
        ({"type": "devices", "xml": "<devices/>"}, "names a part of the domain"),
        ({"type": "metadata"}, "names a part of the domain"),
        ({"type": "watchdog", "xml": "<!-- x --><watchdog/>"}, "something beside its <watchdog>"),
        ({"type": "watchdog", "xml": "<watchdog/><?pi x?>"}, "something beside its <watchdog>"),
        ({"type": "watchdog", "xml": b"<watchdog/>"}, "must be a str of XML"),
        ({"type": "watchdog", "xml": ["<watchdog/>"]}, "must be a str of XML"),
        ({"type": "watchdog", "xml": "<x:disk xmlns:x='urn:x'/>"}, "holds <disk>"),
    ],
    ids=[
        "other-kind", "domain-in-xml", "domain-type", "domain-no-xml", "devices", "metadata",
        "comment-beside", "pi-beside", "bytes", "list", "other-kind-namespaced",
    ],
)  # fmt: skip
def test_an_unknown_kinds_xml_must_be_one_device_of_its_type(bare: Registry, spec: dict[str, Any], needle: str) -> None:
    with pytest.raises(SpecError, match=needle):
        bare.device_from_spec(spec)


def test_hostile_xml_in_a_spec_is_refused_by_the_safe_parser(bare: Registry) -> None:
    bomb = '<!DOCTYPE watchdog [<!ENTITY a "aaaa">]><watchdog>&a;</watchdog>'
    with pytest.raises(XMLError, match=r"document type declaration|entity"):
        bare.device_from_spec({"type": "watchdog", "xml": bomb})


def test_every_non_device_part_of_libvirts_domain_is_refused(bare: Registry) -> None:
    for tag in sorted(NOT_DEVICES):
        with pytest.raises(SpecError, match="a part of the domain"):
            bare.device_from_spec({"type": tag, "xml": f"<{tag}/>"})
    assert "memory" not in NOT_DEVICES, "<memory> is also a device (a DIMM)"
    memory = bare.device_from_spec({"type": "memory", "xml": "<memory model='dimm'/>"})
    assert memory.dev_type == "memory"


@pytest.mark.parametrize("extra", [-1, 0, 1])
def test_an_unknown_kinds_xml_nests_as_deep_as_a_domain_reads(bare: Registry, extra: int) -> None:
    limit = MAX_DEPTH - DEVICE_DEPTH + 1  # the device's own element sits at DEVICE_DEPTH
    inner = limit - 1 + extra
    xml = "<watchdog>" + "<a>" * inner + "</a>" * inner + "</watchdog>"
    if extra > 0:
        with pytest.raises(SpecError, match=f"nests {limit + 1} elements deep"):
            bare.device_from_spec({"type": "watchdog", "xml": xml})
        return
    device = bare.device_from_spec({"type": "watchdog", "xml": xml})
    domain = parse_domain(wrap_in_domain(), registry=bare)
    domain.add(device)
    (again,) = parse_domain(domain.to_xml(), registry=bare).devices
    assert canonical(again.to_xml()) == canonical(xml)


def test_a_namespaced_unknown_device_round_trips_through_its_spec(bare: Registry) -> None:
    xml = "<x:gadget xmlns:x='urn:example:x' x:mode='on'><x:part/></x:gadget>"
    (device,) = parse_domain(wrap_in_domain(xml), registry=bare).devices
    spec = device.to_spec()
    assert spec["type"] == "gadget"
    again = bare.device_from_spec(spec)
    assert canonical(again.to_xml()) == canonical(xml)


# -- item 10: what a spec carries of a known device --------------------------------------------------------

TRIVIA = (
    "<sound model='ich9'><!-- chosen by hand --><?engine keep?>stray text"
    "<codec type='duplex'/>more text<alias name='ua-5'/><?tail x?></sound>"
)


def test_trivia_of_a_known_device_survives_the_xml_path(registry: Registry) -> None:
    domain = parse_domain(wrap_in_domain(TRIVIA), registry=registry)
    (sound,) = domain.devices
    sound.model = "ich6"
    again = parse_domain(domain.to_xml(), registry=registry).devices[0]
    assert canonical(again.to_xml()) == canonical(TRIVIA.replace("ich9", "ich6"))
    for kept in ("<!-- chosen by hand -->", "<?engine keep?>", "stray text", "more text", "<?tail x?>"):
        assert kept in again.to_xml()


def test_a_spec_carries_a_known_devices_values_not_its_trivia(registry: Registry) -> None:
    """Documented (docs/reliability.md, item 10): a dev_spec is the engine's dict of
    values; comments, instructions and stray text inside a known device are XML and
    do not travel in it. Everything modeled does."""
    (sound,) = parse_domain(wrap_in_domain(TRIVIA), registry=registry).devices
    spec = sound.to_spec()
    rebuilt = registry.device_from_spec(spec)
    assert rebuilt.to_spec() == spec
    text = rebuilt.to_xml()
    for trivia in ("chosen by hand", "engine", "stray text", "more text", "tail"):
        assert trivia not in text
    stripped = etree.fromstring(TRIVIA)
    for node in stripped.xpath("//comment() | //processing-instruction()"):
        node.getparent().remove(node)
    for node in stripped.iter():
        node.text = node.text if node.text is None or not node.text.strip() else None
        node.tail = None
    assert canonical(text) == canonical(stripped)


def test_an_unknown_devices_trivia_travels_in_its_spec(bare: Registry) -> None:
    """An unknown kind's spec carries its XML, so nothing of it is lost."""
    xml = TRIVIA.replace("sound", "gizmo")
    (device,) = parse_domain(wrap_in_domain(xml), registry=bare).devices
    again = bare.device_from_spec(device.to_spec())
    assert canonical(again.to_xml()) == canonical(xml)


def test_a_plugin_bug_on_a_spec_is_a_spec_error_not_a_placeholder() -> None:
    from devframe import Device, DeviceTypeRegister, hookimpl

    class Brittle(Device):
        dev_type = "brittle"
        size = Field("@size", spec="size")

        def read_spec(self, rest: dict[str, Any]) -> None:
            rest.pop("mode", None)["x"]  # type: ignore[index]  # a plugin choking on a value

    class Plugin:
        @hookimpl
        def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
            register(Brittle)

    registry = create_registry(entry_points=False, plugins=[("brittle", Plugin())], env={})
    with pytest.raises(SpecError, match=r"'mode'.*TypeError") as caught:
        registry.device_from_spec({"type": "brittle", "size": "1", "mode": 3})
    assert isinstance(caught.value, DevframeError)
    assert registry.device_from_spec({"type": "brittle", "mode": {"x": 1}}).dev_type == "brittle"
