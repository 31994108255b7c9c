"""Metadata bound to devices: oVirt engine domains, binding, write-back, API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import structlog
import structlog.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

import devframe
from devframe import Device, DeviceTypeRegister, Identity, MetadataError, hookimpl
from devframe.core.metadata import same_value

DATA = Path(__file__).parent / "test_metadata_data"
NS = "http://ovirt.org/vm/1.0"


class TDisk(Device):
    """Keyed by its target dev; 'index' and 'managed' read back typed."""

    dev_type = "disk"
    tag = "disk"
    metadata_keys = {"index": int, "managed": bool}

    def identity(self) -> Identity | None:
        target = self.element.find("target")
        name = target.get("dev") if target is not None else None
        return {"devtype": "disk", "name": name} if name else None


class TNic(Device):
    """Keyed by its MAC."""

    dev_type = "interface"
    tag = "interface"

    def identity(self) -> Identity | None:
        mac = self.element.find("mac")
        address = mac.get("address") if mac is not None else None
        return {"mac_address": address} if address else None


class TGraphics(Device):
    """Keyed by its alias (no identity)."""

    dev_type = "graphics"
    tag = "graphics"


class KeyedPlugin:
    """Disks keyed by target dev, NICs by MAC, graphics by alias; typed disk 'index'."""

    def __init__(self) -> None:
        self.parsed: list[Any] = []
        parsed = self.parsed

        class RecordingDisk(TDisk):
            """Records what the core gives the class when it makes a device."""

            __slots__ = ()

            def __init__(self, element: Any, **kwargs: Any) -> None:
                parsed.append((self.dev_type, kwargs.get("metadata")))
                super().__init__(element, **kwargs)

        self.classes = (RecordingDisk, TNic, TGraphics)

    @hookimpl
    def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
        for dev_class in self.classes:
            register(dev_class)


def registry(plugin: KeyedPlugin | None = None) -> devframe.Registry:
    return devframe.create_registry(entry_points=False, plugins=[("keyed", plugin or KeyedPlugin())])


def engine_xml() -> str:
    return (DATA / "engine_domain.xml").read_text()


def c14n(xml: str | bytes | etree._Element) -> bytes:
    element = (
        etree.fromstring(xml.encode() if isinstance(xml, str) else xml) if not isinstance(xml, etree._Element) else xml
    )
    return etree.tostring(element, method="c14n2", strip_text=True)


def by_target(domain: devframe.Domain, name: str) -> Device:
    return next(d for d in domain.dev_map["disk"] if d.element.find("target").get("dev") == name)


# -- the engine's format ------------------------------------------------------------------


def test_disk_keyed_by_devtype_and_name_binds_to_its_target() -> None:
    plugin = KeyedPlugin()
    domain = devframe.parse_domain(engine_xml(), registry=registry(plugin))
    vda = by_target(domain, "vda")
    assert vda.metadata["imageID"] == "66666666-7777-4888-9999-aaaaaaaaaaaa"
    assert vda.metadata["specParams"] == {"pinToIoThread": "1"}
    chain = vda.metadata["volumeChain"]
    assert [node["volumeID"] for node in chain] == [
        "abababab-cdcd-4efe-8f0f-010101010101",
        "12121212-3434-4565-8787-909090909090",
    ]
    assert chain[0]["leaseOffset"] == 0 and type(chain[0]["leaseOffset"]) is int
    assert by_target(domain, "sda").metadata["GUID"] == "36001405a1b2c3d4e5f60718293a4b5c6"
    # Metadata is bound after the device is made: the class is made without it.
    assert plugin.parsed and all(metadata is None for _, metadata in plugin.parsed)
    assert vda.has_metadata


def test_nic_keyed_by_mac_binds_case_insensitively() -> None:
    domain = devframe.parse_domain(engine_xml(), registry=registry())
    (nic,) = domain.dev_map["interface"]
    assert nic.element.find("mac").get("address") == "00:1a:4a:16:01:51"  # entry says 00:1A:...
    assert nic.metadata["network"] == "ovirtmgmt"
    assert nic.metadata["portMirroring"] == ["ovirtmgmt"]
    assert nic.metadata["custom"]["queues"] == "4"


def test_user_alias_binds_an_entry_keyed_by_alias() -> None:
    domain = devframe.parse_domain(engine_xml(), registry=registry())
    (graphics,) = domain.dev_map["graphics"]
    assert graphics.metadata["displayIp"] == "192.0.2.10"


def test_typed_values_come_back_typed_and_schema_coerces_untyped() -> None:
    domain = devframe.parse_domain(engine_xml(), registry=registry())
    vm = domain.vm_metadata
    assert vm["memGuaranteedSize"] == 4096 and type(vm["memGuaranteedSize"]) is int
    assert vm["startTime"] == 1731000000.5 and type(vm["startTime"]) is float
    assert vm["destroy_on_reboot"] is False
    assert vm["launchPaused"] == "false"  # untyped and undeclared: stays a string
    assert vm["custom"] == {"sap_agent": "true", "viodiskcache": "writethrough"}
    # <ovirt-vm:index>0</ovirt-vm:index> has no type; the plugin declares int.
    assert by_target(domain, "vda").metadata["index"] == 0
    assert by_target(domain, "sda").metadata["managed"] is False


def test_orphans_are_reported_and_survive() -> None:
    with structlog.testing.capture_logs() as logs:
        domain = devframe.parse_domain(engine_xml(), registry=registry())
    warnings = [e for e in logs if e["log_level"] == "warning" and "orphan" in e["event"]]
    assert warnings and warnings[0]["entries"] == [{"mac_address": "00:1a:4a:16:01:99"}]
    orphans = domain.orphan_metadata
    assert [o.key for o in orphans] == [{"mac_address": "00:1a:4a:16:01:99"}]
    assert orphans[0].values() == {"network": "gone-net"}
    again = devframe.parse_domain(domain.to_xml(), registry=registry())
    assert [o.values() for o in again.orphan_metadata] == [{"network": "gone-net"}]


def test_unchanged_domain_writes_back_identically() -> None:
    xml = engine_xml()
    domain = devframe.parse_domain(xml, registry=registry())
    for device in domain.devices:
        dict(device.metadata)  # reading decodes but must not rewrite anything
    dict(domain.vm_metadata)
    assert c14n(domain.to_xml()) == c14n(xml)


def test_other_namespaces_are_untouched_byte_for_byte() -> None:
    xml = (DATA / "pyxmlpickle_domain.xml").read_text()
    domain = devframe.parse_domain(xml, registry=registry())
    (graphics,) = domain.dev_map["graphics"]
    graphics.alias = "ua-5"
    graphics.metadata["displayNetwork"] = "ovirtmgmt"
    domain.vm_metadata["clusterVersion"] = "4.7"
    out = etree.fromstring(domain.to_xml().encode())
    before = etree.fromstring(xml.encode())
    qname = "{http://ovirt.org/vm/instance/1.0}instance"
    assert etree.tostring(out.find(f"metadata/{qname}"), method="c14n") == etree.tostring(
        before.find(f"metadata/{qname}"), method="c14n"
    )
    again = devframe.parse_domain(etree.tostring(out), registry=registry())
    assert again.dev_map["graphics"][0].metadata["displayNetwork"] == "ovirtmgmt"
    assert again.vm_metadata["clusterVersion"] == "4.7"


# -- ambiguity ------------------------------------------------------------------------------


def with_extra_entry(entry: str) -> str:
    return engine_xml().replace("    </ovirt-vm:vm>", f"      {entry}\n    </ovirt-vm:vm>")


def test_two_entries_for_one_device_raise_naming_both() -> None:
    xml = with_extra_entry('<ovirt-vm:device devtype="disk" name="vda"><ovirt-vm:x>1</ovirt-vm:x></ovirt-vm:device>')
    with pytest.raises(MetadataError) as info:
        devframe.parse_domain(xml, registry=registry(), source="engine.xml")
    message = str(info.value)
    assert "engine.xml" in message and "2 metadata entries" in message
    assert message.count('name="vda"') == 2 and "target='vda'" in message


def test_alias_and_device_id_entries_for_one_device_raise() -> None:
    xml = with_extra_entry('<ovirt-vm:device deviceId="0d0e0f10-1112-4314-9516-171819202122"/>')
    with pytest.raises(MetadataError, match="matches 2 metadata entries"):
        devframe.parse_domain(xml, registry=registry())


def test_one_entry_matching_two_devices_raises_naming_both() -> None:
    xml = engine_xml().replace(
        "    <memballoon",
        '    <interface type="network"><mac address="00:1A:4A:16:01:51"/><source network="x"/></interface>\n'
        "    <memballoon",
    )
    with pytest.raises(MetadataError) as info:
        devframe.parse_domain(xml, registry=registry())
    assert "matches two devices" in str(info.value)
    assert "00:1a:4a:16:01:51" in str(info.value) and "00:1A:4A:16:01:51" in str(info.value)


# -- write-back -----------------------------------------------------------------------------


def test_edits_are_written_in_place_and_unchanged_entries_kept() -> None:
    domain = devframe.parse_domain(engine_xml(), registry=registry())
    vda = by_target(domain, "vda")
    vda.metadata["volumeID"] = "new-volume"
    del vda.metadata["specParams"]
    out = domain.to_xml()
    tree = etree.fromstring(out.encode())
    entries = tree.findall(f"metadata/{{{NS}}}vm/{{{NS}}}device")
    assert [e.attrib.get("name") or e.attrib.get("mac_address") or e.attrib.get("alias") for e in entries] == [
        "vda",
        "sda",
        "00:1A:4A:16:01:51",
        "ua-0d0e0f10-1112-4314-9516-171819202122",
        "00:1a:4a:16:01:99",
    ]
    # Only the edited value changed; the neighbours kept their exact text.
    assert "<ovirt-vm:volumeID>new-volume</ovirt-vm:volumeID>" in out
    assert "specParams" not in etree.tostring(entries[0]).decode()
    original = etree.fromstring(engine_xml().encode()).findall(f"metadata/{{{NS}}}vm/{{{NS}}}device")
    for before, after in zip(original[1:], entries[1:], strict=True):
        assert etree.tostring(before) == etree.tostring(after)
    again = devframe.parse_domain(out, registry=registry())
    assert by_target(again, "vda").metadata["volumeID"] == "new-volume"


def test_renamed_target_moves_the_entry_key() -> None:
    # A raw lxml edit says so with touch(): fields do it themselves.
    domain = devframe.parse_domain(engine_xml(), registry=registry())
    vda = by_target(domain, "vda")
    vda.element.find("target").set("dev", "vdz")
    vda.touch()
    again = devframe.parse_domain(domain.to_xml(), registry=registry())
    assert by_target(again, "vdz").metadata["imageID"] == "66666666-7777-4888-9999-aaaaaaaaaaaa"


def test_a_field_edit_renaming_the_identity_moves_the_entry_key() -> None:
    from devframe import Field

    domain = devframe.parse_domain(engine_xml(), registry=registry())
    vda = by_target(domain, "vda")
    Field("target@dev").__set__(vda, "vdy")
    assert vda._edited
    again = devframe.parse_domain(domain.to_xml(), registry=registry())
    assert by_target(again, "vdy").metadata["imageID"] == "66666666-7777-4888-9999-aaaaaaaaaaaa"
    assert not vda._edited  # written: the next to_xml need not ask the plugin again


def test_removed_device_takes_its_entry_and_emptied_metadata_drops_it() -> None:
    domain = devframe.parse_domain(engine_xml(), registry=registry())
    domain.remove(by_target(domain, "sda"))
    (nic,) = domain.dev_map["interface"]
    nic.metadata.clear()
    out = domain.to_xml()
    assert "36001405a1b2c3d4e5f60718293a4b5c6</ovirt-vm:GUID>" not in out
    assert 'mac_address="00:1A:4A:16:01:51"' not in out
    again = devframe.parse_domain(out, registry=registry())
    assert not again.dev_map["interface"][0].has_metadata
    assert [o.key for o in again.orphan_metadata] == [{"mac_address": "00:1a:4a:16:01:99"}]


def test_vm_metadata_is_mutable_and_written_back() -> None:
    domain = devframe.parse_domain(engine_xml(), registry=registry())
    domain.vm_metadata["memGuaranteedSize"] = 8192
    custom = domain.vm_metadata["custom"]
    custom["new_prop"] = "on"
    domain.vm_metadata["custom"] = custom
    del domain.vm_metadata["resumeBehavior"]
    out = domain.to_xml()
    assert '<ovirt-vm:memGuaranteedSize type="int">8192</ovirt-vm:memGuaranteedSize>' in out
    again = devframe.parse_domain(out, registry=registry())
    assert again.vm_metadata["custom"]["new_prop"] == "on"
    assert "resumeBehavior" not in again.vm_metadata
    assert again.vm_metadata["memGuaranteedSize"] == 8192


def test_readers_get_copies_of_nested_values() -> None:
    domain = devframe.parse_domain(engine_xml(), registry=registry())
    vda = by_target(domain, "vda")
    chain = vda.metadata["volumeChain"]
    chain.append({"volumeID": "mutated"})
    assert len(vda.metadata["volumeChain"]) == 2
    shared = {"k": ["v"]}
    vda.metadata["a"] = shared
    by_target(domain, "sda").metadata["a"] = shared
    shared["k"].append("w")
    assert vda.metadata["a"] == {"k": ["v"]}
    # reading only does not count as a change
    assert c14n(devframe.parse_domain(engine_xml(), registry=registry()).to_xml()) == c14n(engine_xml())


def test_domain_without_metadata_gets_a_section_when_devices_gain_metadata() -> None:
    xml = """<domain type="kvm"><name>n</name><uuid>u</uuid><devices>
    <disk type="file" device="disk"><target dev="vdb" bus="virtio"/></disk>
    </devices></domain>"""
    reg = registry()
    domain = devframe.parse_domain(xml, registry=reg)
    assert domain.metadata_section is None
    domain.dev_map["disk"][0].metadata["poolID"] = "p-1"
    nic = devframe.device_from_spec(
        {"type": "interface", "device": "bridge", "deviceId": "n-1", "network": "ovirtmgmt"}, registry=reg
    )
    etree.SubElement(nic.element, "mac").set("address", "56:6F:00:00:00:01")
    domain.add(nic)
    out = domain.to_xml()
    root = etree.fromstring(out.encode())
    assert [c.tag for c in root][:3] == ["name", "uuid", "metadata"]
    assert 'mac_address="56:6F:00:00:00:01"' in out and 'devtype="disk" name="vdb"' in out
    again = devframe.parse_domain(out, registry=reg)
    assert again.dev_map["disk"][0].metadata["poolID"] == "p-1"
    assert again.dev_map["interface"][0].metadata["network"] == "ovirtmgmt"


def test_device_without_alias_or_identity_cannot_be_keyed() -> None:
    xml = '<domain type="kvm"><name>n</name><devices><graphics type="vnc"/></devices></domain>'
    domain = devframe.parse_domain(xml, registry=registry())
    domain.dev_map["graphics"][0].metadata["displayIp"] = "192.0.2.1"
    with pytest.raises(MetadataError, match="no alias"):
        domain.to_xml()


def test_malformed_value_is_reported_with_its_path_on_use() -> None:
    xml = engine_xml().replace(
        '<ovirt-vm:memGuaranteedSize type="int">4096', '<ovirt-vm:memGuaranteedSize type="int">lots'
    )
    domain = devframe.parse_domain(xml, registry=registry())
    with pytest.raises(
        MetadataError, match=r"memGuaranteedSize.*'lots'|'lots'.*memGuaranteedSize|ovirt-vm:memGuaranteedSize"
    ):
        dict(domain.vm_metadata)
    with pytest.raises(MetadataError):
        domain.metadata_section.validate()


def test_default_registry_binds_the_engine_domain() -> None:
    domain = devframe.parse_domain(engine_xml())
    disks = [d for d in domain.devices if d.dev_type == "disk"]
    assert all(d.has_metadata for d in disks)
    assert [o.key for o in domain.orphan_metadata] == [{"mac_address": "00:1a:4a:16:01:99"}]


# -- property: random dev_maps with random metadata ---------------------------------------

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=6)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8,
)
metadata_maps = st.dictionaries(st.text(min_size=1, max_size=8), json_values, max_size=4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.sampled_from(["disk", "interface", "graphics"]), metadata_maps), max_size=8),
    st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: k != "device"), json_values, max_size=3),
)
def test_random_dev_map_with_metadata_survives_to_xml_and_parse(
    devices: list[tuple[str, dict[str, Any]]], vm_values: dict[str, Any]
) -> None:
    reg = registry()
    domain = devframe.parse_domain('<domain type="kvm"><name>p</name><devices/></domain>', registry=reg)
    expected: list[tuple[str, dict[str, Any]]] = []
    for index, (dev_type, values) in enumerate(devices):
        element = etree.Element(dev_type)
        if dev_type == "disk":
            etree.SubElement(element, "target").set("dev", f"vd{chr(97 + index)}")
        elif dev_type == "interface":
            etree.SubElement(element, "mac").set("address", f"56:6F:00:00:00:{index:02X}")
        else:
            etree.SubElement(element, "alias").set("name", f"ua-g{index}")
        device = reg.routes[dev_type].dev_class(element)
        device.metadata.update(values)
        domain.add(device)
        expected.append((dev_type, values))
    domain.vm_metadata.update(vm_values)
    again = devframe.parse_domain(domain.to_xml(), registry=reg)
    assert not again.orphan_metadata
    got = [(d.dev_type, d.metadata.to_dict()) for d in again.devices]
    assert len(got) == len(expected)
    for (t1, v1), (t2, v2) in zip(got, expected, strict=True):
        assert t1 == t2 and same_value(v1, v2), (v1, v2)
    assert same_value(again.vm_metadata.to_dict(), vm_values)
