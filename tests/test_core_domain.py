"""Issue 2 item 6: the Domain (dev_map edits, non-device parts verbatim)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from lxml import etree

from devframe import (
    DevframeError,
    Device,
    DomainError,
    UnknownDevice,
    XMLError,
    create_registry,
    device_from_spec,
    load_domain,
    parse_domain,
)

DOMAIN = """<?xml version="1.0"?>
<!-- a comment before the domain -->
<domain type="kvm" xmlns:qemu="http://libvirt.org/schemas/domain/qemu/1.0">
  <name>guest</name>
  <uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809</uuid>
  <memory unit="KiB">1048576</memory>
  <os><type arch="x86_64" machine="pc">hvm</type><boot dev="hd"/></os>
  <cpu mode="host-model"><topology sockets="1" cores="2" threads="1"/></cpu>
  <metadata><app:note xmlns:app="urn:app">keep &amp; me</app:note></metadata>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <!-- the boot disk -->
    <disk type="file" device="disk">
      <driver name="qemu" type="qcow2"/>
      <source file="/var/lib/images/a.qcow2"/>
      <target dev="vda" bus="virtio"/>
      <alias name="ua-disk0"/>
    </disk>
    <disk type="file" device="cdrom">
      <target dev="hdc" bus="ide"/>
      <readonly/>
    </disk>
    <interface type="network">
      <mac address="52:54:00:aa:bb:cc"/>
      <source network="default"/>
      <alias name="ua-nic0"/>
    </interface>
    <!-- the console -->
    <serial type="pty"><target port="0"/></serial>
    <graphics type="vnc" port="-1" autoport="yes"/>
    <memballoon model="virtio"/>
    <!-- trailing comment -->
  </devices>
  <qemu:commandline><qemu:arg value="-nodefaults"/></qemu:commandline>
  <seclabel type="dynamic" model="selinux"/>
</domain>
<!-- a comment after the domain -->
"""


def canon(xml: str | bytes) -> str:
    text = xml.decode() if isinstance(xml, bytes) else xml

    return ET.canonicalize(text, strip_text=True, with_comments=True)


def non_device_parts(xml: str) -> list[bytes]:
    root = etree.fromstring(xml.encode())
    return [etree.tostring(c, with_tail=False) for c in root if c.tag != "devices"]


def dom() -> object:
    return parse_domain(DOMAIN)


def test_parse_and_rebuild_unchanged() -> None:
    domain = parse_domain(DOMAIN)
    assert canon(domain.to_xml()) == canon(DOMAIN)
    assert domain.name == "guest" and domain.uuid == "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
    assert domain.arch == "x86_64"
    assert [d.dev_type for d in domain.devices] == [
        "emulator",
        "disk",
        "disk",
        "interface",
        "serial",
        "graphics",
        "memballoon",
    ]
    assert "a comment after the domain" in domain.to_xml()


def test_dev_map_is_the_devices_grouped_in_document_order() -> None:
    domain = parse_domain(DOMAIN)
    assert list(domain.dev_map) == ["emulator", "disk", "interface", "serial", "graphics", "memballoon"]
    assert [d.element.find("target").get("dev") for d in domain.dev_map["disk"]] == ["vda", "hdc"]
    flat = [d for devices in domain.dev_map.values() for d in devices]
    assert sorted(map(id, flat)) == sorted(map(id, domain.devices))
    assert "controller" not in domain.dev_map
    with pytest.raises(KeyError):
        domain.dev_map["controller"]


def test_remove_through_dev_map_keeps_everything_else() -> None:
    domain = parse_domain(DOMAIN)
    before = non_device_parts(DOMAIN)
    del domain.dev_map["disk"][1]
    out = domain.to_xml()
    assert "hdc" not in out
    assert non_device_parts(out) == before
    assert [d.dev_type for d in parse_domain(out).devices].count("disk") == 1
    assert "<!-- the boot disk -->" in out and "<!-- the console -->" in out and "<!-- trailing comment -->" in out


def test_removing_a_device_moves_its_leading_comment_to_the_next() -> None:
    domain = parse_domain(DOMAIN)
    serial = domain.dev_map["serial"][0]
    domain.remove(serial)
    out = domain.to_xml()
    assert "<serial" not in out
    assert "<!-- the console -->" in out
    assert out.index("<!-- the console -->") < out.index("<graphics")


def test_append_insert_replace_and_move() -> None:
    domain = parse_domain(DOMAIN)
    registry = domain.registry
    new_disk = registry.device_from_spec({"type": "disk", "device": "disk", "alias": "ua-disk9"})
    domain.dev_map["disk"].append(new_disk)
    assert domain.dev_map["disk"][-1] is new_disk
    assert domain.devices.index(new_disk) == 3, "appended after the last disk, not at the end of <devices>"

    first = registry.device_from_spec({"type": "disk", "device": "disk", "alias": "ua-disk-first"})
    domain.dev_map["disk"].insert(0, first)
    assert domain.devices.index(first) == 1

    sound = registry.device_from_spec({"type": "sound", "device": "ich6", "alias": "ua-snd"})
    domain.dev_map.get_list("sound").append(sound)
    assert domain.devices[-1] is sound and list(domain.dev_map)[-1] == "sound"

    nic = domain.dev_map["interface"][0]
    other = registry.device_from_spec({"type": "interface", "device": "bridge", "alias": "ua-nic1"})
    domain.dev_map["interface"][0] = other
    assert domain.dev_map["interface"][0] is other and nic not in domain.devices

    domain.move(sound, 0)
    assert domain.devices[0] is sound

    out = domain.to_xml()
    aliases = [a.get("name") for a in etree.fromstring(out.encode()).iterfind("devices/*/alias")]
    assert aliases == ["ua-snd", "ua-disk-first", "ua-disk0", "ua-disk9", "ua-nic1"]
    assert non_device_parts(out) == non_device_parts(DOMAIN)
    again = parse_domain(out)
    assert [d.dev_type for d in again.devices] == [d.dev_type for d in domain.devices]


def test_replace_keeps_the_comment_before_the_device() -> None:
    domain = parse_domain(DOMAIN)
    old = domain.dev_map["disk"][0]
    new = device_from_spec({"type": "disk", "device": "disk", "alias": "ua-new"})
    domain.replace(old, new)
    out = domain.to_xml()
    assert out.index("<!-- the boot disk -->") < out.index("ua-new") < out.index("hdc")


def test_edits_of_a_device_object_reach_the_xml_without_membership_change() -> None:
    domain = parse_domain(DOMAIN)
    domain.dev_map["interface"][0].alias = "ua-renamed"
    out = domain.to_xml()
    assert "ua-renamed" in out and "ua-nic0" not in out
    assert canon(out).replace("ua-renamed", "ua-nic0") == canon(DOMAIN)


def test_invalid_edits_are_domain_errors() -> None:
    domain = parse_domain(DOMAIN)
    disk = domain.dev_map["disk"][0]
    with pytest.raises(DomainError):
        domain.add(disk)  # already there
    with pytest.raises(DomainError):
        domain.dev_map["interface"].append(device_from_spec({"type": "disk", "device": "disk"}))
    with pytest.raises(DomainError):
        domain.add("<disk/>")  # type: ignore[arg-type]
    stranger = parse_domain(DOMAIN).dev_map["disk"][0]
    with pytest.raises(DomainError):
        domain.remove(stranger)
    assert canon(domain.to_xml()) == canon(DOMAIN)


def test_domain_without_devices() -> None:
    xml = "<domain type='kvm'><name>empty</name><!-- nothing --><os><type>hvm</type></os></domain>"
    domain = parse_domain(xml)
    assert domain.devices == [] and dict(domain.dev_map) == {}
    assert canon(domain.to_xml()) == canon(xml)
    domain.add(UnknownDevice(etree.fromstring("<memballoon model='none'/>")))
    out = etree.fromstring(domain.to_xml().encode())
    assert [c.tag for c in out.find("devices")] == ["memballoon"]
    assert out.findtext("name") == "empty"


def test_empty_devices_element_round_trips() -> None:
    for xml in ("<domain><devices/></domain>", "<domain><devices>\n  <!-- only a comment -->\n</devices></domain>"):
        assert canon(parse_domain(xml).to_xml()) == canon(xml)


@pytest.mark.parametrize(
    "xml",
    [
        "<network><name>default</name></network>",
        "<domainsnapshot><domain/></domainsnapshot>",
        "<d:domain xmlns:d='urn:not-libvirt'/>",
    ],
)
def test_root_that_is_not_domain_is_refused(xml: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_domain(xml)
    assert isinstance(caught.value, DevframeError)
    assert "expected <domain>" in str(caught.value)


def test_devices_hash_is_stable_and_tracks_device_changes() -> None:
    a, b = parse_domain(DOMAIN), parse_domain(DOMAIN)
    assert a.devices_hash == b.devices_hash
    other = parse_domain(DOMAIN.replace("<name>guest</name>", "<name>other</name>"))
    assert other.devices_hash == a.devices_hash, "only <devices> counts"
    a.dev_map["disk"][0].alias = "ua-x"
    assert a.devices_hash != b.devices_hash


def test_load_domain_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "guest.xml"
    path.write_text(DOMAIN)
    assert load_domain(path).name == "guest"
    broken = tmp_path / "broken.xml"
    broken.write_text("<domain>\n  <name>x</name>\n  <devices>\n</domain>\n")
    with pytest.raises(XMLError) as caught:
        load_domain(broken)
    assert str(broken) in str(caught.value) and caught.value.line == 4
    with pytest.raises(DevframeError, match=r"missing\.xml"):
        load_domain(tmp_path / "missing.xml")


def test_an_empty_registry_keeps_every_device_as_unknown() -> None:
    registry = create_registry(entry_points=False)
    domain = parse_domain(DOMAIN, registry=registry)
    assert all(type(d) is UnknownDevice for d in domain.devices)
    assert all(isinstance(d, Device) for d in domain.devices)
    assert canon(domain.to_xml()) == canon(DOMAIN)
