"""The engine's spellings of interface dev_spec keys (devframe_nic.engine): each reaches
the XML and comes back from to_spec in its canonical form, or is refused naming the key."""

from __future__ import annotations

from typing import Any

import pytest
from devframe_nic import Nic
from devframe_nic.engine import host_source_from_node_name

import devframe
from devframe import Registry, SpecError
from devframe.testing import validate_against_schema, wrap_in_domain

MAC = "00:1a:4a:16:01:51"
VF = "pci_0000_05_10_1"
VF_SOURCE = {"type": "pci", "domain": "0x0000", "bus": "0x05", "slot": "0x10", "function": "0x1"}


@pytest.fixture
def registry(devframe_registry: Any) -> Registry:
    reg: Registry = devframe_registry("nic")
    return reg


def build(registry: Registry, **spec: Any) -> Nic:
    nic = registry.device_from_spec({"type": "interface", "macAddr": MAC, **spec})
    assert isinstance(nic, Nic)
    assert not validate_against_schema(wrap_in_domain(nic.to_xml()))
    out = nic.to_spec()
    assert registry.device_from_spec(out).to_spec() == out  # the canonical form is stable
    return nic


def test_vlanid_is_one_vlan_tag(registry: Registry) -> None:
    nic = build(registry, device="hostdev", hostdev=VF, specParams={"vlanid": 42})
    assert [tag.id for tag in nic.vlan] == [42]
    assert '<vlan><tag id="42"/></vlan>' in nic.to_xml()
    params = nic.to_spec()["specParams"]
    assert params["vlan"] == [{"id": 42}] and "vlanid" not in params
    # The same tag given both ways is one tag; text is an engine's int too.
    same = build(registry, specParams={"vlanid": "42", "vlan": [{"id": 42}]})
    assert [tag.id for tag in same.vlan] == [42]


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"vlanid": 4096}, "specParams.vlanid"),
        ({"vlanid": "ten"}, "specParams.vlanid"),
        ({"vlanid": 42, "vlan": [{"id": 7}]}, "specParams.vlanid.*contradicts 'specParams.vlan'"),
    ],
)
def test_a_bad_vlanid_is_refused_naming_it(registry: Registry, params: dict[str, Any], match: str) -> None:
    with pytest.raises(SpecError, match=match):
        registry.device_from_spec({"type": "interface", "specParams": params})


def test_port_isolated_is_the_port_element(registry: Registry) -> None:
    nic = build(registry, network="ovirtmgmt", port_isolated=True)
    assert nic.port_isolated is True and '<port isolated="yes"/>' in nic.to_xml()
    spec = nic.to_spec()
    assert spec["specParams"]["portIsolated"] is True and "port_isolated" not in spec
    with pytest.raises(SpecError, match="'port_isolated'"):
        registry.device_from_spec({"type": "interface", "port_isolated": "sometimes"})
    with pytest.raises(SpecError, match=r"port_isolated.*contradicts"):
        registry.device_from_spec({"type": "interface", "port_isolated": False, "specParams": {"portIsolated": True}})


def test_custom_queues_reach_the_driver_and_follow_it(registry: Registry) -> None:
    nic = build(registry, network="ovirtmgmt", nicModel="pv", custom={"queues": "4", "hook": "x"})
    assert nic.queues == 4 and '<driver queues="4"/>' in nic.to_xml()
    spec = nic.to_spec()
    assert spec["specParams"]["driver"] == {"queues": 4}
    # The custom properties are metadata by design: kept, and saying what the driver says.
    assert spec["custom"] == {"queues": "4", "hook": "x"}
    nic.queues = 8
    edited = nic.to_spec()
    assert edited["custom"] == {"queues": "8", "hook": "x"} and edited["specParams"]["driver"] == {"queues": 8}
    assert registry.device_from_spec(edited).to_spec() == edited


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"custom": {"queues": "many"}}, "'custom.queues'"),
        ({"custom": {"queues": 0}}, "'custom.queues'"),
        ({"custom": {"queues": "2"}, "specParams": {"driver": {"queues": 4}}}, "custom.queues.*contradicts"),
        ({"vm_custom": {"sndbuf": -1}}, "'vm_custom.sndbuf'"),
        ({"vm_custom": {"sndbuf": 1}, "specParams": {"sndbuf": 2}}, "vm_custom.sndbuf.*contradicts"),
    ],
)
def test_bad_custom_properties_are_refused_naming_them(registry: Registry, spec: dict[str, Any], match: str) -> None:
    with pytest.raises(SpecError, match=match):
        registry.device_from_spec({"type": "interface", **spec})


def test_vm_custom_sndbuf_is_the_tap_send_buffer(registry: Registry) -> None:
    nic = build(registry, network="ovirtmgmt", vm_custom={"sndbuf": "0", "other": "1"})
    assert nic.sndbuf == 0 and "<tune><sndbuf>0</sndbuf></tune>" in nic.to_xml()
    spec = nic.to_spec()
    assert spec["specParams"]["sndbuf"] == 0 and spec["vm_custom"] == {"sndbuf": "0", "other": "1"}


def test_a_custom_property_bound_from_metadata_follows_an_edit(registry: Registry) -> None:
    xml = wrap_in_domain(
        f"<interface type='bridge'><mac address='{MAC}'/><source bridge='br0'/><driver queues='2'/></interface>"
    ).replace(
        "</devices>",
        "</devices><metadata><ovirt-vm:vm xmlns:ovirt-vm='http://ovirt.org/vm/1.0'>"
        f"<ovirt-vm:device mac_address='{MAC}'><ovirt-vm:custom><ovirt-vm:queues>2</ovirt-vm:queues>"
        "</ovirt-vm:custom></ovirt-vm:device></ovirt-vm:vm></metadata>",
    )
    (nic,) = devframe.parse_domain(xml, registry=registry).devices
    assert isinstance(nic, Nic)
    assert nic.to_spec()["custom"] == {"queues": "2"}
    nic.queues = 6
    spec = nic.to_spec()
    assert spec["custom"] == {"queues": "6"}
    assert registry.device_from_spec(spec).to_spec() == spec


def test_hostdev_names_the_virtual_function(registry: Registry) -> None:
    nic = build(registry, device="hostdev", hostdev=VF)
    assert nic.host_address == VF_SOURCE and nic.address is None
    spec = nic.to_spec()
    assert spec["specParams"]["hostAddress"] == VF_SOURCE and "hostdev" not in spec
    # A spec naming no type: the node device says hostdev.
    untyped = build(registry, hostdev=VF)
    assert untyped.type == "hostdev" and untyped.host_address == VF_SOURCE
    usb = build(registry, device="hostdev", hostdev="usb_0781_5583")
    assert (usb.host_vendor, usb.host_product) == ("0x0781", "0x5583")
    by_address = build(registry, device="hostdev", hostdev="usb_1_3")
    assert by_address.host_address == {"type": "usb", "bus": "1", "device": "3"}


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"device": "bridge", "hostdev": VF}, "'hostdev'.*interface type is 'bridge'"),
        ({"hostdev": "scsi_0_0_0_0"}, "'hostdev'.*not a pci or usb node-device name"),
        ({"hostdev": 19}, "'hostdev'"),
        ({"hostdev": VF, "specParams": {"hostAddress": {**VF_SOURCE, "function": "0x2"}}}, "hostdev.*contradicts"),
    ],
)
def test_a_bad_hostdev_is_refused_naming_it(registry: Registry, spec: dict[str, Any], match: str) -> None:
    with pytest.raises(SpecError, match=match):
        registry.device_from_spec({"type": "interface", **spec})


def test_node_device_names() -> None:
    assert host_source_from_node_name("pci_0001_af_1f_7") == {
        "hostAddress": {"type": "pci", "domain": "0x0001", "bus": "0xaf", "slot": "0x1f", "function": "0x7"}
    }
    assert host_source_from_node_name("pci_0000_00_19_8") is None  # functions are 0..7
    assert host_source_from_node_name("net_eth0_52_54_00_00_00_01") is None


def test_numa_node_is_refused(registry: Registry) -> None:
    with pytest.raises(SpecError, match=r"'numa_node'.*no NUMA node"):
        registry.device_from_spec({"type": "interface", "device": "hostdev", "hostdev": VF, "numa_node": 1})
    # An engine sending the key with no value says nothing.
    assert "numa_node" not in build(registry, network="br0", numa_node=None).to_spec()


def test_teaming_true_joins_a_failover_team(registry: Registry) -> None:
    primary = build(registry, network="ovirtmgmt", nicModel="virtio", alias="ua-net0", teaming=True)
    assert '<teaming type="persistent"/>' in primary.to_xml()
    spec = primary.to_spec()
    assert spec["specParams"]["teaming"] == {"type": "persistent"} and "teaming" not in spec
    vf = build(registry, device="hostdev", hostdev=VF, teaming=True, specParams={"teaming": {"persistent": "ua-net0"}})
    assert (vf.teaming_type, vf.teaming_persistent) == ("transient", "ua-net0")
    assert "<teaming" not in build(registry, network="br0", teaming=False).to_xml()


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"device": "hostdev", "hostdev": VF, "teaming": True}, "'teaming'.*partner"),
        ({"teaming": "yes"}, "'teaming'.*True or False"),
        ({"teaming": True, "specParams": {"teaming": {"type": "persistent", "persistent": "ua-a"}}}, "contradicts"),
        ({"teaming": False, "specParams": {"teaming": {"type": "persistent"}}}, "contradicts"),
    ],
)
def test_a_bad_teaming_is_refused_naming_it(registry: Registry, spec: dict[str, Any], match: str) -> None:
    with pytest.raises(SpecError, match=match):
        registry.device_from_spec({"type": "interface", **spec})
