"""Issue 17 in the core: which fields can change on a running domain (``Field(live=...)``),
what differs between two devices of one kind, and copying those fields onto libvirt's XML."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from lxml import etree

import devframe
from devframe import INT, LIVE, Children, Device, ElementView, Field, Flag
from devframe.core.changes import copy_fields, field_changes


class Item(ElementView):
    tag = "item"
    name = Field("@name", spec="name")


def _tuned(device: Any) -> bool:
    return bool(device.element.get("kind") == "tunable")


class Gadget(Device):
    dev_type: ClassVar[str] = "gadget"
    tag: ClassVar[str] = "gadget"
    child_order: ClassVar[tuple[str, ...]] = ("source", "speed", "items", "quiet", "alias", "address")

    kind = Field("@kind", spec="device")
    source = Field("source@file", spec="path", live=LIVE)
    speed = Field("speed@max", INT, spec="speed", live=_tuned)
    items = Children("items/item", Item, spec="items", live=LIVE)
    quiet = Flag("quiet", spec="quiet")
    secret_key = Field("@key", secret=True, live=LIVE)
    model = Field("@model", spec="model")


def _gadget(xml: str) -> Gadget:
    return Gadget(etree.fromstring(xml))


def test_fields_are_not_live_unless_declared() -> None:
    running = _gadget("<gadget kind='plain'/>")
    assert Gadget.model.live is False and Gadget.quiet.live is False
    assert not Gadget.model.live_for(running) and not Device.alias.live_for(running)
    assert Gadget.source.live_for(running) and Gadget.items.live_for(running)
    # A predicate decides per running device.
    assert not Gadget.speed.live_for(running)
    assert Gadget.speed.live_for(_gadget("<gadget kind='tunable'/>"))


def test_field_changes_name_each_changed_field_with_its_liveness() -> None:
    running = _gadget(
        "<gadget kind='plain' model='a'><source file='/x'/><speed max='1'/>"
        "<items><item name='i1'/></items><alias name='ua-g'/></gadget>"
    )
    wanted = _gadget(
        "<gadget kind='plain' model='b'><source file='/y'/><speed max='2'/>"
        "<items><item name='i1'/><item name='i2'/></items><quiet/></gadget>"
    )
    changes = {c.name: c for c in field_changes(running, wanted)}
    assert set(changes) == {"source", "speed", "items", "quiet", "model", "alias"}
    assert changes["source"].live and (changes["source"].old, changes["source"].new) == ("/x", "/y")
    assert not changes["speed"].live  # this running gadget is not tunable
    assert not changes["model"].live and not changes["model"].removal
    assert changes["alias"].removal and changes["alias"].new is None  # left out by the wanted device
    assert changes["quiet"].old is False and changes["quiet"].new is True
    assert changes["items"].new == ('<item name="i1"/>', '<item name="i2"/>')
    assert str(changes["source"]) == "source: '/x' -> '/y'"
    assert changes["model"].spec == "model" and changes["model"].as_dict()["field"] == "model"


def test_unchanged_devices_have_no_changes_and_other_classes_are_refused() -> None:
    xml = "<gadget kind='plain' model='a'><source file='/x'/></gadget>"
    assert field_changes(_gadget(xml), _gadget(xml)) == []
    other = devframe.device_from_spec({"type": "disk", "device": "cdrom", "path": "/a.iso"})
    with pytest.raises(devframe.DevframeError, match="not one device class"):
        field_changes(_gadget(xml), other)


def test_secret_values_are_never_shown_in_a_change() -> None:
    changes = field_changes(_gadget("<gadget key='old-secret'/>"), _gadget("<gadget key='new-secret'/>"))
    (change,) = changes
    assert change.secret and change.old == "***" and change.new == "***"
    assert "old-secret" not in str(change) and "new-secret" not in repr(change)
    assert "secret" not in repr(change.as_dict()["old"]) + repr(change.as_dict()["new"])


def test_copy_fields_changes_only_those_fields_of_libvirts_element() -> None:
    libvirts = _gadget(
        "<gadget kind='plain' model='a'><source file='/x' index='3'/><speed max='1'/>"
        "<items><item name='i1'/></items><backing/><alias name='ua-g'/></gadget>"
    )
    wanted = _gadget("<gadget kind='plain' model='b'><speed max='9'/><items/></gadget>")
    copy_fields(wanted, libvirts, ["source", "speed", "items"])
    out = libvirts.to_xml()
    # The source file is gone, libvirt's own index stays; the model (not copied) stays 'a'.
    assert '<source index="3"/>' in out and 'model="a"' in out
    assert '<speed max="9"/>' in out and "item" not in out
    assert "<backing/>" in out and '<alias name="ua-g"/>' in out


def test_copy_fields_creates_children_in_libvirts_order() -> None:
    libvirts = _gadget("<gadget kind='plain'><quiet/><alias name='ua-g'/></gadget>")
    wanted = _gadget("<gadget kind='plain'><source file='/new'/></gadget>")
    copy_fields(wanted, libvirts, ["source"])
    assert [child.tag for child in libvirts.element] == ["source", "quiet", "alias"]


def test_the_built_in_kinds_declare_what_libvirt_changes_live() -> None:
    cdrom = devframe.device_from_spec({"type": "disk", "device": "cdrom", "path": "/a.iso", "iface": "ide"})
    disk = devframe.device_from_spec({"type": "disk", "device": "disk", "path": "/a.img"})
    fields = type(cdrom).fields
    assert fields["source_file"].live_for(cdrom) and not fields["source_file"].live_for(disk)
    assert fields["iotune"].live_for(disk) and not fields["bus"].live_for(cdrom)
    nic = devframe.device_from_spec({"type": "interface", "device": "bridge", "network": "br0"})
    live_nic = {name for name, f in type(nic).fields.items() if f.live_for(nic)}
    assert {"link_active", "source_bridge", "source_network", "filter", "filter_parameters"} <= live_nic
    assert {"inbound_average", "outbound_peak"} <= live_nic and "model" not in live_nic and "mac" not in live_nic
    graphics = devframe.device_from_spec({"type": "graphics", "device": "vnc"})
    live_graphics = {name for name, f in type(graphics).fields.items() if f.live_for(graphics)}
    # libvirt's QEMU driver refuses listen, port and keymap changes on a running domain.
    assert live_graphics == {"passwd", "passwd_valid_to", "connected"}
