"""Field features of the core's dev_spec conversion: a default limited to the devices a
predicate accepts (``Field(default_if=...)``); :class:`devframe.EmptyElements`, the child
elements that stand empty, as a list in the dev_spec; ``take_path`` (from_spec's one walk
per key); and to_spec skipping core fields whose first element is absent."""

from __future__ import annotations

import copy
from types import MappingProxyType
from typing import Any, ClassVar

import pytest

from devframe import (
    INT,
    Device,
    DeviceTypeRegister,
    ElementView,
    EmptyElements,
    Field,
    FieldValueError,
    SpecError,
    create_registry,
    hookimpl,
    parse_domain,
)
from devframe.core.fields import has_path, pop_path, take_path


def _is_socket(view: ElementView) -> bool:
    return view.element.get("type") == "socket"


class Plug(Device):
    dev_type: ClassVar[str] = "plug"
    tag: ClassVar[str] = "plug"
    child_order: ClassVar[tuple[str, ...]] = ("source", "limits", "alias")

    kind = Field("@type", spec="device", default="pipe")
    # Only a socket plug has a mode; its default must not reach a pipe.
    mode = Field("source@mode", spec="mode", default="client", default_if=_is_socket)
    rate = Field("limits/rx@rate", INT, spec="rate")
    empty = EmptyElements("source", "limits", "limits/rx", spec="empty")


class Plugin:
    @hookimpl
    def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
        register(Plug)


def registry() -> Any:
    return create_registry(entry_points=False, plugins=[("plugs", Plugin())], strict=True)


def parse(xml: str) -> Plug:
    device = parse_domain(f"<domain><devices>{xml}</devices></domain>", registry=registry()).devices[0]
    assert isinstance(device, Plug)
    return device


def test_a_conditional_default_applies_only_where_the_predicate_holds() -> None:
    reg = registry()
    assert reg.device_from_spec({"type": "plug", "device": "socket"}).to_xml() == (
        '<plug type="socket"><source mode="client"/></plug>'
    )
    assert reg.device_from_spec({"type": "plug"}).to_xml() == '<plug type="pipe"/>'
    # Given as None, the key asks for no value: the default stays out.
    assert reg.device_from_spec({"type": "plug", "device": "socket", "mode": None}).to_xml() == '<plug type="socket"/>'


def test_a_conditional_default_is_written_as_none_only_where_it_would_apply() -> None:
    socket = parse("<plug type='socket'/>")
    spec = socket.to_spec()
    assert "mode" in spec and spec["mode"] is None
    assert registry().device_from_spec(spec).to_xml() == '<plug type="socket"/>'
    assert "mode" not in parse("<plug type='pipe'/>").to_spec()


def test_empty_elements_are_listed_and_rebuilt() -> None:
    plug = parse("<plug type='pipe'><source/><limits><rx/></limits></plug>")
    assert plug.empty == ["source", "limits/rx"]  # <limits> holds <rx>: not empty
    spec = plug.to_spec()
    assert spec["empty"] == ["source", "limits/rx"]
    rebuilt = registry().device_from_spec(spec)
    assert rebuilt.to_xml() == '<plug type="pipe"><source/><limits><rx/></limits></plug>'
    assert rebuilt.to_spec() == spec


def test_an_element_with_content_is_not_listed_and_its_fields_rebuild_it() -> None:
    plug = parse("<plug type='pipe'><limits><rx rate='5'/></limits></plug>")
    assert plug.empty == []
    assert "empty" not in plug.to_spec()
    rebuilt = registry().device_from_spec(plug.to_spec())
    assert rebuilt.to_xml() == '<plug type="pipe"><limits><rx rate="5"/></limits></plug>'


def test_setting_the_list_creates_and_removes_only_empty_elements() -> None:
    plug = parse("<plug type='pipe'><limits><rx/></limits><alias name='a'/></plug>")
    plug.empty = ["source"]
    # <rx/> went, then <limits> it left empty; the new <source/> is put in libvirt's order.
    assert plug.to_xml() == '<plug type="pipe"><source/><alias name="a"/></plug>'
    held = parse("<plug type='pipe'><source mode='x'/></plug>")
    held.empty = []
    assert held.to_xml() == '<plug type="pipe"><source mode="x"/></plug>'


def test_a_path_not_declared_is_refused_naming_the_key() -> None:
    plug = parse("<plug type='pipe'/>")
    with pytest.raises(FieldValueError, match="not one of source, limits, limits/rx"):
        plug.empty = ["bogus"]
    assert plug.to_xml() == '<plug type="pipe"/>'
    with pytest.raises(SpecError, match="'empty'"):
        registry().device_from_spec({"type": "plug", "empty": "source"})
    with pytest.raises(SpecError, match="'empty'"):
        registry().device_from_spec({"type": "plug", "empty": ["source", "target"]})


def test_empty_elements_take_element_paths_only() -> None:
    with pytest.raises(ValueError, match="element paths"):
        EmptyElements("source@mode")


@pytest.mark.parametrize(
    ("source", "key"),
    [
        ({"a": 1}, "a"),
        ({"a": None}, "a"),
        ({"b": 1}, "a"),
        ({"sp": {"x": {"y": 1, "z": 2}}}, "sp.x.y"),
        ({"sp": {"x": {"y": 1}}}, "sp.x.y"),  # parents left empty go
        ({"sp": {"x": {}}}, "sp.x.y"),  # as pop_path: an empty parent goes even with nothing taken
        ({"sp": {"x": None}}, "sp.x.y"),
        ({"sp": "text"}, "sp.x"),
        ({"sp": MappingProxyType({"x": 1})}, "sp.x"),  # read-only: found, not taken
    ],
)
def test_take_path_is_has_path_then_pop_path(source: dict[str, Any], key: str) -> None:
    read_only = any(isinstance(value, MappingProxyType) for value in source.values())
    expected_source = dict(source) if read_only else copy.deepcopy(source)
    expected = (has_path(expected_source, key), pop_path(expected_source, key))
    assert take_path(source, key) == expected
    assert source == expected_source


class _Computed(Field[str]):
    """A field kind that has a value without its element (a plugin's own subclass)."""

    def spec_value(self, view: ElementView) -> Any:
        return self.raw(view) or "computed"


class Socket(Device):
    dev_type: ClassVar[str] = "socket"
    tag: ClassVar[str] = "socket"

    path = Field("source@path", spec="path")
    computed = _Computed("target@name", spec="name")


def test_to_spec_asks_subclassed_fields_even_without_their_element() -> None:
    reg = create_registry(entry_points=False, plugins=[("sockets", _SocketPlugin())], strict=True)
    bare = parse_domain("<domain><devices><socket/></devices></domain>", registry=reg).devices[0]
    spec = bare.to_spec()
    assert spec["name"] == "computed" and "path" not in spec  # the core Field: absent, skipped
    held = parse_domain("<domain><devices><socket><source path='/p'/></socket></devices></domain>", registry=reg)
    assert held.devices[0].to_spec()["path"] == "/p"


class _SocketPlugin:
    @hookimpl
    def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
        register(Socket)
