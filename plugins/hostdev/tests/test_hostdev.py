"""Tests of the hostdev plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from devframe_hostdev import Hostdev
from devframe_hostdev.device import node_device_name, parse_node_device_name
from lxml import etree

import devframe
from devframe.testing import (
    canonical,
    contract_tests,
    one_device,
    plugin_registry,
    validate_against_schema,
    wrap_in_domain,
)

UUID_A = "7b3e9c41-5d2a-4f80-b6e1-93c0d4a8f215"
UUID_B = "c0ffee00-1234-4abc-8def-0123456789ab"

# Every variant of libvirt 9.0's schema (these validate against the installed domain.rng).
SAMPLES = [
    # pci: vfio, rom, boot with loadparm, acpi index, guest address, alias
    "<hostdev mode='subsystem' type='pci' managed='yes'><driver name='vfio'/>"
    "<source><address domain='0x0000' bus='0x3b' slot='0x00' function='0x0'/></source>"
    "<boot order='2' loadparm='BOOT1'/><alias name='ua-1f0e7a52-8c3d-4b19-a6f2-5e8d0c7b9a41'/><acpi index='7'/>"
    "<rom bar='on' file='/usr/share/vbios/test.rom'/>"
    "<address type='pci' domain='0x0000' bus='0x07' slot='0x00' function='0x0'/></hostdev>",
    # pci: kvm (legacy assignment), unmanaged, writeFiltering, startupPolicy, rom disabled
    "<hostdev mode='subsystem' type='pci' managed='no'><driver name='kvm'/>"
    "<source startupPolicy='optional' writeFiltering='yes'>"
    "<address domain='0x0002' bus='0x81' slot='0x1f' function='0x7'/></source><rom enabled='no'/></hostdev>",
    # pci: xen, no mode (subsystem is libvirt's default), address without domain
    "<hostdev type='pci' managed='yes'><driver name='xen'/>"
    "<source startupPolicy='mandatory'><address bus='0x05' slot='0x02' function='0x1'/></source></hostdev>",
    # pci: a transient SR-IOV VF teamed with a virtio NIC
    "<hostdev mode='subsystem' type='pci' managed='yes'>"
    "<source startupPolicy='requisite'><address domain='0x0000' bus='0x04' slot='0x10' function='0x3'/></source>"
    "<teaming type='transient' persistent='ua-net0'/></hostdev>",
    # usb: vendor and product, startupPolicy, guestReset
    "<hostdev mode='subsystem' type='usb' managed='yes'>"
    "<source startupPolicy='optional' guestReset='uninitialized'><vendor id='0x1d6b'/><product id='0x0104'/>"
    "</source><address type='usb' bus='0' port='1'/></hostdev>",
    # usb: host bus/device only (hex as libvirt accepts it)
    "<hostdev mode='subsystem' type='usb' managed='no'><source guestReset='off'>"
    "<address bus='0x02' device='0x07'/></source><boot order='3'/></hostdev>",
    # usb: vendor, product and the address that resolved them
    "<hostdev mode='subsystem' type='usb'><source guestReset='on'><vendor id='0x8086'/><product id='0x0b3a'/>"
    "<address bus='4' device='9'/></source></hostdev>",
    # scsi: adapter + address, sgio/rawio, readonly, guest drive address
    "<hostdev mode='subsystem' type='scsi' managed='no' sgio='filtered' rawio='no'>"
    "<source><adapter name='scsi_host6'/><address bus='0' target='1' unit='4'/></source>"
    "<readonly/><address type='drive' controller='1' bus='0' target='0' unit='2'/></hostdev>",
    # scsi: explicit protocol='adapter', adapter type, shareable, boot
    "<hostdev mode='subsystem' type='scsi'><source protocol='adapter'>"
    "<adapter type='scsi_host' name='scsi_host0'/><address bus='0' target='0' unit='0'/></source>"
    "<shareable/><boot order='1'/></hostdev>",
    # scsi: iscsi with two portals, CHAP by secret uuid, initiator
    "<hostdev mode='subsystem' type='scsi' managed='no'>"
    "<source protocol='iscsi' name='iqn.2014-08.org.example:storage/2'>"
    "<host name='192.0.2.10' port='3260'/><host name='192.0.2.11'/>"
    f"<auth username='initiator-user'><secret type='iscsi' uuid='{UUID_B}'/></auth>"
    "<initiator><iqn name='iqn.2014-08.org.example:client'/></initiator></source></hostdev>",
    # scsi: iscsi with CHAP by secret usage
    "<hostdev mode='subsystem' type='scsi'><source protocol='iscsi' name='iqn.2014-08.org.example:tape'>"
    "<host name='tape.example.org' port='3261'/>"
    "<auth username='chap'><secret type='iscsi' usage='tape-secret'/></auth></source></hostdev>",
    # scsi_host: vhost-scsi, each model and none
    "<hostdev mode='subsystem' type='scsi_host' model='virtio'>"
    "<source protocol='vhost' wwpn='naa.50014057667280d8'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x09' function='0x0'/></hostdev>",
    "<hostdev mode='subsystem' type='scsi_host' model='virtio-transitional'>"
    "<source protocol='vhost' wwpn='naa.5001405dfa7e1234'/></hostdev>",
    "<hostdev mode='subsystem' type='scsi_host' model='virtio-non-transitional'>"
    "<source protocol='vhost' wwpn='naa.5001405dfa7e5678'/></hostdev>",
    "<hostdev mode='subsystem' type='scsi_host'><source protocol='vhost' wwpn='naa.5001405dfa7e9abc'/></hostdev>",
    # mdev: vfio-pci with display and ramfb, vfio-ccw with a ccw address, vfio-ap
    f"<hostdev mode='subsystem' type='mdev' model='vfio-pci' display='on' ramfb='off'>"
    f"<source><address uuid='{UUID_A}'/></source><boot order='4'/></hostdev>",
    f"<hostdev mode='subsystem' type='mdev' model='vfio-ccw'><source><address uuid='{UUID_B}'/></source>"
    "<address type='ccw' cssid='0xfe' ssid='0x0' devno='0x0009'/></hostdev>",
    "<hostdev mode='subsystem' type='mdev' model='vfio-ap'>"
    "<source><address uuid='3a1b5c7d-9e0f-4a2b-8c4d-6e8f0a2b4c6d'/></source></hostdev>",
    # capabilities (LXC): storage, misc, net with addresses and a route
    "<hostdev mode='capabilities' type='storage'><source><block>/dev/sdf1</block></source></hostdev>",
    "<hostdev mode='capabilities' type='misc'><source><char>/dev/ttyUSB3</char></source></hostdev>",
    "<hostdev mode='capabilities' type='net'><source><interface>eth7</interface></source>"
    "<ip address='192.0.2.50' family='ipv4' prefix='24'/><ip address='2001:db8::50' family='ipv6' prefix='64'/>"
    "<route family='ipv4' address='0.0.0.0' gateway='192.0.2.1'/></hostdev>",
]

# Newer than the libvirt 9.0 schema here (the vfio variant driver's model, a pci
# hostdev's display and ramfb): still parsed, rebuilt and converted.
NEWER = [
    "<hostdev mode='subsystem' type='pci' managed='yes' display='on' ramfb='on'>"
    "<driver name='vfio' model='nvgrace_gpu_vfio_pci'/>"
    "<source><address domain='0x0009' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>",
]

# -- fc_host adapter (the schema's shared <adapter> definition) --------------------------------

FC_HOST = (
    "<hostdev mode='subsystem' type='scsi'><source>"
    "<adapter type='fc_host' parent='scsi_host5' managed='yes' parent_wwnn='20000000c9831b4b'"
    " parent_wwpn='10000000c9831b4b' parent_fabric_wwn='0x2002000573de9a81'"
    " wwnn='5001a4a93526d0a1' wwpn='5001a4ace3ee047d'/>"
    "<address bus='0' target='2' unit='1'/></source></hostdev>"
)

# -- a scsi_host adapter named by its parent's PCI address -------------------------------------

PARENT_ADDR = (
    "<hostdev mode='subsystem' type='scsi'><source>"
    "<adapter type='scsi_host'><parentaddr unique_id='3'>"
    "<address domain='0x0000' bus='0x00' slot='0x1f' function='0x2'/></parentaddr></adapter>"
    "<address bus='0' target='0' unit='0'/></source></hostdev>"
)

TestContract = contract_tests(
    "hostdev", samples=[*SAMPLES, FC_HOST, PARENT_ADDR, *NEWER], edit_values={"vendor_id": "0x1af4"}
)


registry = plugin_registry("hostdev")


def _hostdev(registry: devframe.Registry, xml: str) -> Hostdev:
    return one_device(registry, xml, Hostdev)


def _all(registry: devframe.Registry) -> list[Hostdev]:
    return [_hostdev(registry, xml) for xml in SAMPLES + NEWER]


def test_samples_are_schema_valid() -> None:
    for sample in SAMPLES:
        assert not validate_against_schema(wrap_in_domain(sample)), sample


def test_newer_samples_are_rejected_by_the_installed_schema() -> None:
    """They are 11.x-only; if the installed libvirt learns them, move them to SAMPLES."""
    for sample in NEWER:
        assert validate_against_schema(wrap_in_domain(sample)), sample


# -- fields -------------------------------------------------------------------------------------


def test_pci_fields(registry: devframe.Registry) -> None:
    pci = _hostdev(registry, SAMPLES[0])
    assert (pci.mode, pci.type, pci.managed, pci.driver_name) == ("subsystem", "pci", True, "vfio")
    assert pci.host_address == {"domain": "0x0000", "bus": "0x3b", "slot": "0x00", "function": "0x0"}
    assert pci.address == {"type": "pci", "domain": "0x0000", "bus": "0x07", "slot": "0x00", "function": "0x0"}
    assert (pci.boot_order, pci.boot_loadparm, pci.acpi_index) == (2, "BOOT1", 7)
    assert (pci.rom_bar, pci.rom_file, pci.rom_enabled) == (True, "/usr/share/vbios/test.rom", None)
    kvm = _hostdev(registry, SAMPLES[1])
    assert (kvm.driver_name, kvm.managed, kvm.startup_policy, kvm.write_filtering, kvm.rom_enabled) == (
        "kvm", False, "optional", True, False,
    )  # fmt: skip
    teamed = _hostdev(registry, SAMPLES[3])
    assert (teamed.teaming_type, teamed.teaming_persistent) == ("transient", "ua-net0")
    newer = _hostdev(registry, NEWER[0])
    assert (newer.display, newer.ramfb, newer.driver_model) == (True, True, "nvgrace_gpu_vfio_pci")


def test_usb_scsi_mdev_and_capabilities_fields(registry: devframe.Registry) -> None:
    usb = _hostdev(registry, SAMPLES[4])
    assert (usb.vendor_id, usb.product_id, usb.guest_reset, usb.host_address) == (
        "0x1d6b",
        "0x0104",
        "uninitialized",
        None,
    )
    scsi = _hostdev(registry, SAMPLES[7])
    assert (scsi.adapter, scsi.sgio, scsi.rawio, scsi.readonly, scsi.shareable) == (
        "scsi_host6", "filtered", False, True, False,
    )  # fmt: skip
    assert scsi.host_address == {"bus": "0", "target": "1", "unit": "4"}
    assert scsi.address == {"type": "drive", "controller": "1", "bus": "0", "target": "0", "unit": "2"}
    iscsi = _hostdev(registry, SAMPLES[9])
    assert (iscsi.protocol, iscsi.source_name) == ("iscsi", "iqn.2014-08.org.example:storage/2")
    assert [(h.name, h.port) for h in iscsi.hosts] == [("192.0.2.10", 3260), ("192.0.2.11", None)]
    assert (iscsi.auth_username, iscsi.auth_secret_type, iscsi.auth_secret_uuid) == ("initiator-user", "iscsi", UUID_B)
    assert iscsi.initiator == "iqn.2014-08.org.example:client"
    vhost = _hostdev(registry, SAMPLES[11])
    assert (vhost.model, vhost.protocol, vhost.wwpn) == ("virtio", "vhost", "naa.50014057667280d8")
    mdev = _hostdev(registry, SAMPLES[15])
    assert (mdev.model, mdev.display, mdev.ramfb, mdev.host_address) == ("vfio-pci", True, False, {"uuid": UUID_A})
    net = _hostdev(registry, SAMPLES[20])
    assert (net.mode, net.interface) == ("capabilities", "eth7")
    assert [(ip.address, ip.family, ip.prefix) for ip in net.ips] == [
        ("192.0.2.50", "ipv4", 24), ("2001:db8::50", "ipv6", 64),
    ]  # fmt: skip
    assert [(r.address, r.gateway) for r in net.routes] == [("0.0.0.0", "192.0.2.1")]
    assert _hostdev(registry, SAMPLES[18]).block == "/dev/sdf1"
    assert _hostdev(registry, SAMPLES[19]).char == "/dev/ttyUSB3"


def test_host_address_and_guest_address_are_never_confused(registry: devframe.Registry) -> None:
    pci = _hostdev(registry, SAMPLES[0])
    pci.address = {"type": "pci", "domain": "0x0000", "bus": "0x09", "slot": "0x01", "function": "0x0"}
    assert pci.host_address == {"domain": "0x0000", "bus": "0x3b", "slot": "0x00", "function": "0x0"}
    pci.host_address = {"domain": "0x0000", "bus": "0x3c", "slot": "0x00", "function": "0x0"}
    root = etree.fromstring(pci.to_xml())
    assert root.find("source/address").get("bus") == "0x3c"
    assert root.find("address").get("bus") == "0x09"
    assert pci.to_spec()["device"] == "pci_0000_3c_00_0"


# -- editing -------------------------------------------------------------------------------------


def _edited(device: Hostdev, change: Any) -> etree._Element:
    before = etree.fromstring(device.to_xml())
    change(before)
    return before


def test_editing_the_host_address_changes_only_source_address(registry: devframe.Registry) -> None:
    pci = _hostdev(registry, SAMPLES[0])
    new = {"domain": "0x0000", "bus": "0x3b", "slot": "0x00", "function": "0x1"}
    expected = _edited(pci, lambda e: e.find("source/address").set("function", "0x1"))
    pci.host_address = new
    assert canonical(pci.to_xml()) == canonical(expected)


def test_editing_usb_ids_and_flags_changes_only_them(registry: devframe.Registry) -> None:
    usb = _hostdev(registry, SAMPLES[6])
    expected = _edited(usb, lambda e: e.find("source/vendor").set("id", "0x046d"))
    usb.vendor_id = "0x046d"
    assert canonical(usb.to_xml()) == canonical(expected)
    with pytest.raises(devframe.FieldValueError, match="vendor_id"):
        usb.vendor_id = "0x12345"  # five hex digits: no USB id
    assert canonical(usb.to_xml()) == canonical(expected)

    scsi = _hostdev(registry, SAMPLES[7])
    expected = _edited(scsi, lambda e: e.find("address").addprevious(etree.Element("shareable")))
    scsi.shareable = True
    assert canonical(scsi.to_xml()) == canonical(expected)
    expected.remove(expected.find("readonly"))
    scsi.readonly = False
    assert canonical(scsi.to_xml()) == canonical(expected)


def test_editing_iscsi_portals_keeps_the_rest_of_the_source(registry: devframe.Registry) -> None:
    iscsi = _hostdev(registry, SAMPLES[9])
    iscsi.hosts = [{"name": "192.0.2.12", "port": 3262}]
    source = etree.fromstring(iscsi.to_xml()).find("source")
    assert [(h.get("name"), h.get("port")) for h in source.findall("host")] == [("192.0.2.12", "3262")]
    assert source.find("auth/secret").get("uuid") == UUID_B and source.find("initiator") is not None


def test_wwpn_is_checked(registry: devframe.Registry) -> None:
    vhost = _hostdev(registry, SAMPLES[12])
    with pytest.raises(devframe.FieldValueError, match="wwpn"):
        vhost.wwpn = "naa.123"
    bad = SAMPLES[12].replace("naa.5001405dfa7e1234", "wwn-5001405dfa7e1234")
    broken = _hostdev(registry, bad)
    assert any("wwpn" in problem for problem in broken.problems())
    assert "wwn-5001405dfa7e1234" in broken.to_xml()


def test_a_host_address_that_is_no_address_is_reported(registry: devframe.Registry) -> None:
    broken = _hostdev(registry, SAMPLES[0].replace("bus='0x3b'", "bus='0x1ff'"))
    assert any("host_address" in problem and "bus" in problem for problem in broken.problems())
    assert broken.to_spec()["device"] == "pci", "no node-device name for an address that is none"
    mdev = _hostdev(registry, SAMPLES[17].replace("3a1b5c7d", "not-a-uuid"))
    assert any("uuid" in problem for problem in mdev.problems())


# -- dev_spec ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("device", "source"),
    [
        ("pci_0000_00_19_0", "<source><address domain='0x0000' bus='0x00' slot='0x19' function='0x0'/></source>"),
        ("pci_000a_af_1f_7", "<source><address domain='0x000a' bus='0xaf' slot='0x1f' function='0x7'/></source>"),
        ("usb_0781_5583", "<source><vendor id='0x0781'/><product id='0x5583'/></source>"),
        ("usb_3_12", "<source><address bus='3' device='12'/></source>"),
        ("scsi_3_0_2_5", "<source><adapter name='scsi_host3'/><address bus='0' target='2' unit='5'/></source>"),
        (f"mdev_{UUID_A.replace('-', '_')}", f"<source><address uuid='{UUID_A}'/></source>"),
    ],
)
def test_vdsm_spec_names_the_host_device(registry: devframe.Registry, device: str, source: str) -> None:
    """VDSM's hostdev spec: the node-device name alone gives a complete, valid element."""
    built = registry.device_from_spec({"type": "hostdev", "device": device})
    kind = device.split("_")[0]
    model = " model='vfio-pci'" if kind == "mdev" else ""
    assert canonical(built.to_xml()) == canonical(f"<hostdev mode='subsystem' type='{kind}'{model}>{source}</hostdev>")
    assert not validate_against_schema(wrap_in_domain(built.to_xml()))
    spec = built.to_spec()
    assert spec["device"] == device and spec["specParams"]["type"] == kind
    assert registry.device_from_spec(spec).to_spec() == spec


def test_mdev_names_libvirt_also_writes(registry: devframe.Registry) -> None:
    for name in (f"mdev_{UUID_A}", f"mdev_{UUID_A.replace('-', '_')}_0000_00_02_0"):
        built = registry.device_from_spec({"type": "hostdev", "device": name})
        assert isinstance(built, Hostdev) and built.host_address == {"uuid": UUID_A}
        assert built.to_spec()["device"] == f"mdev_{UUID_A.replace('-', '_')}"


@pytest.mark.parametrize(
    ("device", "params", "xml"),
    [
        ("storage", {"block": "/dev/sdb"}, "<source><block>/dev/sdb</block></source>"),
        ("misc", {"char": "/dev/input/event0"}, "<source><char>/dev/input/event0</char></source>"),
        ("net", {"interface": "eth3"}, "<source><interface>eth3</interface></source>"),
    ],
)
def test_capabilities_specs_get_their_mode(registry: devframe.Registry, device: str, params: Any, xml: str) -> None:
    built = registry.device_from_spec({"type": "hostdev", "device": device, "specParams": params})
    assert canonical(built.to_xml()) == canonical(f"<hostdev mode='capabilities' type='{device}'>{xml}</hostdev>")
    assert not validate_against_schema(wrap_in_domain(built.to_xml()))


def test_required_values_are_filled(registry: devframe.Registry) -> None:
    vhost = registry.device_from_spec(
        {"type": "hostdev", "device": "scsi_host", "specParams": {"wwpn": "naa.5001405dfa7e0001"}}
    )
    assert canonical(vhost.to_xml()) == canonical(
        "<hostdev mode='subsystem' type='scsi_host'><source protocol='vhost' wwpn='naa.5001405dfa7e0001'/></hostdev>"
    )
    assert not validate_against_schema(wrap_in_domain(vhost.to_xml()))
    mdev = registry.device_from_spec(
        {"type": "hostdev", "specParams": {"type": "mdev", "hostAddress": {"uuid": UUID_A}}}
    )
    assert isinstance(mdev, Hostdev) and mdev.model == "vfio-pci"
    assert mdev.mode is None, "mode is optional for subsystem types: a spec that gives the type keeps it out"
    assert not validate_against_schema(wrap_in_domain(mdev.to_xml()))


def test_every_documented_key(registry: devframe.Registry) -> None:
    spec = {
        "type": "hostdev",
        "device": "pci_0000_65_00_0",
        "driver": "vfio",
        "bootOrder": 2,
        "deviceId": "0d1f2e3c-4b5a-4968-8776-a5b4c3d2e1f0",
        "address": {"type": "pci", "domain": "0x0000", "bus": "0x05", "slot": "0x00", "function": "0x0"},
        "specParams": {
            "mode": "subsystem", "type": "pci", "managed": True, "display": False, "ramfb": False,
            "driverModel": "vfio-pci", "teaming": {"type": "transient", "persistent": "ua-net0"},
            "startupPolicy": "optional", "writeFiltering": False,
            "hostAddress": {"domain": "0x0000", "bus": "0x65", "slot": "0x00", "function": "0x0"},
            "rom": {"bar": False, "file": "/srv/rom.bin", "enabled": True},
            "bootLoadparm": "X", "acpiIndex": 4,
        },
    }  # fmt: skip
    pci = registry.device_from_spec(spec)
    root = etree.fromstring(pci.to_xml())
    assert dict(root.attrib) == {"mode": "subsystem", "type": "pci", "managed": "yes", "display": "off", "ramfb": "off"}
    assert dict(root.find("driver").attrib) == {"name": "vfio", "model": "vfio-pci"}
    assert dict(root.find("teaming").attrib) == {"type": "transient", "persistent": "ua-net0"}
    assert dict(root.find("source").attrib) == {"startupPolicy": "optional", "writeFiltering": "no"}
    assert root.find("source/address").get("bus") == "0x65" and root.find("address").get("bus") == "0x05"
    assert dict(root.find("rom").attrib) == {"bar": "off", "file": "/srv/rom.bin", "enabled": "yes"}
    assert dict(root.find("boot").attrib) == {"order": "2", "loadparm": "X"}
    assert root.find("acpi").get("index") == "4"
    assert root.find("alias").get("name") == "ua-0d1f2e3c-4b5a-4968-8776-a5b4c3d2e1f0"
    assert pci.to_spec() == {**spec, "alias": "ua-0d1f2e3c-4b5a-4968-8776-a5b4c3d2e1f0"}

    iscsi_spec = {
        "type": "hostdev",
        "device": "scsi",
        "specParams": {
            "mode": "subsystem", "type": "scsi", "managed": False, "sgio": "unfiltered", "rawio": True,
            "protocol": "iscsi", "sourceName": "iqn.2014-08.org.example:lun/0",
            "hosts": [{"name": "192.0.2.7", "port": 3260}],
            "auth": {"username": "u", "secretType": "iscsi", "secretUsage": "chap-secret"},
            "initiator": "iqn.2014-08.org.example:me", "readonly": True, "shareable": True,
        },
    }  # fmt: skip
    iscsi = registry.device_from_spec(iscsi_spec)
    root = etree.fromstring(iscsi.to_xml())
    assert root.find("source/auth/secret").attrib == {"type": "iscsi", "usage": "chap-secret"}
    assert root.find("readonly") is not None and root.find("shareable") is not None
    assert iscsi.to_spec() == iscsi_spec
    assert not validate_against_schema(wrap_in_domain(iscsi.to_xml()))

    usb_spec = {
        "type": "hostdev",
        "device": "usb_1d6b_0104",
        "specParams": {
            "mode": "subsystem", "type": "usb", "vendorId": "0x1d6b", "productId": "0x0104",
            "hostAddress": {"bus": "1", "device": "2"}, "guestReset": "off", "startupPolicy": "optional",
        },
    }  # fmt: skip
    usb = registry.device_from_spec(usb_spec)
    assert [c.tag for c in etree.fromstring(usb.to_xml()).find("source")] == ["vendor", "product", "address"]
    assert usb.to_spec() == usb_spec
    assert not validate_against_schema(wrap_in_domain(usb.to_xml()))

    scsi_spec = {
        "type": "hostdev",
        "device": "scsi_2_0_0_1",
        "specParams": {
            "mode": "subsystem", "type": "scsi", "adapter": "scsi_host2", "adapterType": "scsi_host",
            "protocol": "adapter", "hostAddress": {"bus": "0", "target": "0", "unit": "1"},
        },
    }  # fmt: skip
    scsi = registry.device_from_spec(scsi_spec)
    assert scsi.to_spec() == scsi_spec
    assert not validate_against_schema(wrap_in_domain(scsi.to_xml()))

    net_spec = {
        "type": "hostdev",
        "device": "net",
        "specParams": {
            "mode": "capabilities", "type": "net", "interface": "eth0",
            "ips": [{"address": "192.0.2.3", "family": "ipv4", "prefix": 24, "peer": "192.0.2.4"}],
            "routes": [{"family": "ipv4", "address": "198.51.100.0", "netmask": "255.255.255.0",
                        "gateway": "192.0.2.1", "metric": 5}],
        },
    }  # fmt: skip
    net = registry.device_from_spec(net_spec)
    assert net.to_spec() == net_spec
    assert not validate_against_schema(wrap_in_domain(net.to_xml()))


def test_vendor_name_with_its_address_builds_the_schema_order(registry: devframe.Registry) -> None:
    """A usb source lists vendor and product before the address, whichever form gave them."""
    usb = registry.device_from_spec(
        {"type": "hostdev", "device": "usb_0781_5583", "specParams": {"hostAddress": {"bus": "2", "device": "3"}}}
    )
    assert [c.tag for c in etree.fromstring(usb.to_xml()).find("source")] == ["vendor", "product", "address"]
    assert not validate_against_schema(wrap_in_domain(usb.to_xml()))


def test_both_forms_may_be_given_when_they_agree(registry: devframe.Registry) -> None:
    spec = {
        "type": "hostdev",
        "device": "pci_0000_03_00_0",
        "specParams": {"type": "pci", "hostAddress": {"bus": "3", "slot": "0", "function": "0"}},
    }
    built = registry.device_from_spec(spec)
    assert isinstance(built, Hostdev) and built.host_address == {"bus": "3", "slot": "0", "function": "0"}
    usb = registry.device_from_spec(
        {"type": "hostdev", "device": "usb_3_12", "specParams": {"hostAddress": {"bus": "0x3", "device": "0xc"}}}
    )
    assert usb.to_spec()["device"] == "usb_3_12"


@pytest.mark.parametrize(
    ("spec", "keys"),
    [
        ({"device": "pci_0000_00_19_0", "specParams": {"type": "usb"}}, ("'device'", "'specParams.type'")),
        (
            {
                "device": "pci_0000_00_19_0",
                "specParams": {"hostAddress": {"bus": "0x00", "slot": "0x1a", "function": "0"}},
            },
            ("'device'", "'specParams.hostAddress'"),
        ),
        (
            {"device": "usb_0781_5583", "specParams": {"vendorId": "0x0781", "productId": "0x5584"}},
            ("'device'", "'specParams.vendorId'"),
        ),
        (
            {"device": "usb_3_12", "specParams": {"hostAddress": {"bus": "3", "device": "13"}}},
            ("'device'", "'specParams.hostAddress'"),
        ),
        (
            {"device": "scsi_3_0_2_5", "specParams": {"adapter": "scsi_host4"}},
            ("'device'", "'specParams.adapter'"),
        ),
        ({"device": f"mdev_{UUID_A}", "specParams": {"hostAddress": {"uuid": UUID_B}}}, ("'device'", "hostAddress")),
        ({"device": "storage", "specParams": {"type": "misc", "char": "/dev/x"}}, ("'device'", "'specParams.type'")),
    ],
)
def test_two_forms_that_disagree_are_refused_naming_both(
    registry: devframe.Registry, spec: dict[str, Any], keys: tuple[str, ...]
) -> None:
    with pytest.raises(devframe.SpecError) as raised:
        registry.device_from_spec({"type": "hostdev", **spec})
    for key in keys:
        assert key in str(raised.value)


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({}, "'device'"),
        ({"device": "hostdev"}, "'device'"),
        ({"device": "pci_00_19_0"}, "'device'"),
        ({"device": 7}, "'device'"),
        ({"device": "pci"}, "'specParams.hostAddress'"),
        ({"device": "usb"}, "'specParams.vendorId'"),
        ({"device": "scsi"}, "'specParams.adapter'"),
        ({"device": "scsi", "specParams": {"protocol": "iscsi"}}, "'specParams.sourceName'"),
        ({"device": "scsi_host"}, "'specParams.wwpn'"),
        ({"device": "mdev"}, "'specParams.hostAddress'"),
        ({"device": "storage"}, "'specParams.block'"),
        ({"device": "misc"}, "'specParams.char'"),
        ({"device": "net"}, "'specParams.interface'"),
        (
            {"device": "pci", "specParams": {"hostAddress": {"bus": "0x100", "slot": "0", "function": "0"}}},
            "hostAddress",
        ),
        ({"device": "mdev", "specParams": {"hostAddress": {"uuid": "nope"}}}, "hostAddress"),
    ],
)
def test_unusable_specs_are_spec_errors_naming_the_key(registry: devframe.Registry, spec: Any, key: str) -> None:
    with pytest.raises(devframe.SpecError, match=key):
        registry.device_from_spec({"type": "hostdev", **spec})


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"driver": {"name": "vfio"}}, "driver"),
        ({"bootOrder": "first"}, "bootOrder"),
        ({"specParams": {"managed": "maybe"}}, "specParams.managed"),
        ({"specParams": {"wwpn": "naa.1"}}, "specParams.wwpn"),
        ({"specParams": {"vendorId": "0xfffff"}}, "specParams.vendorId"),
        ({"specParams": {"hostAddress": "0000:00:19.0"}}, "hostAddress"),
        ({"specParams": {"hosts": "192.0.2.1"}}, "specParams.hosts"),
        ({"device": "storage", "specParams": {"block": ""}}, "specParams.block"),
        ({"specParams": {"readonly": "2"}}, "specParams.readonly"),
        ({"specParams": {"shareable": ["yes"]}}, "specParams.shareable"),
        ({"device": "misc", "specParams": {"char": "ttyS0"}}, "specParams.char"),
        ({"device": "net", "specParams": {"interface": "eth 0"}}, "specParams.interface"),
    ],
)
def test_bad_values_name_their_key(registry: devframe.Registry, params: dict[str, Any], key: str) -> None:
    spec = {"type": "hostdev", "device": "pci_0000_00_19_0", **params}
    if "specParams" in params:
        spec["specParams"] = params["specParams"]
    with pytest.raises(devframe.DevframeError, match=key):
        registry.device_from_spec(spec)


def test_spec_round_trip_of_every_sample(registry: devframe.Registry) -> None:
    for device in _all(registry):
        spec = device.to_spec()
        again = registry.device_from_spec(copy.deepcopy(spec))
        assert again.to_spec() == spec, device.to_xml()
        assert spec["device"] == (node_device_name(device.element) or device.type)


def test_node_device_names() -> None:
    assert parse_node_device_name("pci_0000_00_19_0") is not None
    for bad in ("pci_0_0_0_0", "usb_1234_12", "usb_1_", "scsi_1_2_3", "mdev_123", "net_eth0", "usb_0781_5583_x"):
        assert parse_node_device_name(bad) is None, bad
    named = parse_node_device_name("usb_0781_5583")
    assert named is not None and named.product == (0x0781, 0x5583) and named.address == {}
    named = parse_node_device_name("usb_3_12")
    assert named is not None and named.address == {"bus": 3, "device": 12} and named.product is None


# -- identity ---------------------------------------------------------------------------------


def test_identity_is_the_host_source(registry: devframe.Registry) -> None:
    expected = {
        0: ("pci", "0000:3b:00.0"),
        2: ("pci", "0000:05:02.1"),
        4: ("usb", "1d6b:0104"),
        5: ("usb", "bus=2,device=7"),
        6: ("usb", "8086:0b3a"),
        7: ("scsi", "scsi_host6:0:1:4"),
        9: ("scsi", "iqn.2014-08.org.example:storage/2"),
        11: ("scsi_host", "naa.50014057667280d8"),
        15: ("mdev", UUID_A),
        18: ("storage", "/dev/sdf1"),
        19: ("misc", "/dev/ttyUSB3"),
        20: ("net", "eth7"),
    }
    for index, (kind, source) in expected.items():
        assert _hostdev(registry, SAMPLES[index]).identity() == {"devtype": "hostdev", "type": kind, "source": source}


def test_identity_ignores_the_guest_address_and_how_numbers_are_written(registry: devframe.Registry) -> None:
    hex_form = _hostdev(registry, SAMPLES[5])
    decimal = _hostdev(registry, SAMPLES[5].replace("bus='0x02' device='0x07'", "bus='2' device='7'"))
    assert hex_form.identity() == decimal.identity()
    moved = _hostdev(registry, SAMPLES[0].replace("bus='0x07'", "bus='0x08'"))
    assert moved.identity() == _hostdev(registry, SAMPLES[0]).identity()
    upper = _hostdev(registry, SAMPLES[15].replace(UUID_A, UUID_A.upper()))
    assert upper.identity() == _hostdev(registry, SAMPLES[15]).identity()


def test_identity_never_raises_and_is_none_without_a_source(registry: devframe.Registry) -> None:
    assert _hostdev(registry, "<hostdev mode='subsystem' type='pci'/>").identity() is None
    assert _hostdev(registry, "<hostdev/>").identity() is None
    odd = _hostdev(registry, "<hostdev type='pci'><source><address bus='zz' slot='1' function='0'/></source></hostdev>")
    assert odd.identity() == {"devtype": "hostdev", "type": "pci", "source": "bus=zz,function=0,slot=1"}


def test_metadata_binds_by_identity_without_an_alias(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(SAMPLES[4], SAMPLES[7]), registry=registry)
    domain.devices[1].metadata["owner"] = "engine"
    again = devframe.parse_domain(domain.to_xml(), registry=registry)
    assert again.devices[1].metadata.get("owner") == "engine" and not again.devices[0].metadata


# -- secrets and display ------------------------------------------------------------------------


def test_no_field_is_secret_and_secret_references_stay_visible(registry: devframe.Registry) -> None:
    """libvirt marks nothing of a hostdev sensitive: CHAP refers to a secret object."""
    assert not [name for name, field in Hostdev.fields.items() if field.secret]
    iscsi = _hostdev(registry, SAMPLES[9])
    assert iscsi.to_spec()["specParams"]["auth"] == {
        "username": "initiator-user",
        "secretType": "iscsi",
        "secretUuid": UUID_B,
    }
    assert iscsi.summary()["auth_username"] == "initiator-user"


def test_summary_shows_the_host_device(registry: devframe.Registry) -> None:
    summary = _hostdev(registry, SAMPLES[0]).summary()
    assert summary == {
        "type": "pci", "device": "pci_0000_3b_00_0", "source": "0000:3b:00.0", "managed": True, "driver": "vfio",
        "boot": 2, "rom": "/usr/share/vbios/test.rom",
    }  # fmt: skip
    assert _hostdev(registry, SAMPLES[18]).summary() == {
        "mode": "capabilities",
        "type": "storage",
        "source": "/dev/sdf1",
    }
    broken = _hostdev(registry, SAMPLES[0].replace("managed='yes'", "managed='perhaps'"))
    assert broken.summary()["managed"] == "<invalid>"


def test_spec_built_children_in_libvirt_order(registry: devframe.Registry) -> None:
    pci = registry.device_from_spec(
        {"type": "hostdev", "device": "pci_0000_65_00_0", "driver": "vfio", "bootOrder": 1, "deviceId": "x",
         "address": {"type": "pci", "slot": "0x04"},
         "specParams": {"acpiIndex": 1, "rom": {"bar": True}, "teaming": {"type": "persistent"}}}
    )  # fmt: skip
    tags = [c.tag for c in etree.fromstring(pci.to_xml())]
    assert tags == ["driver", "source", "teaming", "boot", "alias", "acpi", "rom", "address"]


@pytest.mark.parametrize(
    ("value", "present"), [(True, True), ("yes", True), ("1", True), (False, False), ("no", False), ("", False)]
)
def test_flags_take_the_words_engines_send(registry: devframe.Registry, value: Any, present: bool) -> None:
    spec = {"type": "hostdev", "device": "scsi_3_0_2_5", "specParams": {"readonly": value}}
    scsi = registry.device_from_spec(spec)
    assert isinstance(scsi, Hostdev) and scsi.readonly is present
    assert scsi.to_spec()["specParams"].get("readonly") == (True if present else None)


def test_a_flag_takes_a_bool_word_not_a_number(registry: devframe.Registry) -> None:
    """The core's rule for every flag (a TPM's PCR bank alike): 1 is a number, "1" a word."""
    spec = {"type": "hostdev", "device": "scsi_3_0_2_5", "specParams": {"readonly": 1}}
    with pytest.raises(devframe.SpecError, match=r"specParams\.readonly"):
        registry.device_from_spec(spec)


def test_fc_host_adapter_attributes_are_fields_and_spec_keys(registry: devframe.Registry) -> None:
    fc = _hostdev(registry, FC_HOST)
    assert (fc.adapter_type, fc.adapter, fc.adapter_wwnn, fc.adapter_wwpn) == (
        "fc_host", None, "5001a4a93526d0a1", "5001a4ace3ee047d",
    )  # fmt: skip
    assert (fc.adapter_parent, fc.adapter_managed) == ("scsi_host5", True)
    assert (fc.adapter_parent_wwnn, fc.adapter_parent_wwpn, fc.adapter_parent_fabric_wwn) == (
        "20000000c9831b4b", "10000000c9831b4b", "0x2002000573de9a81",
    )  # fmt: skip
    params = fc.to_spec()["specParams"]
    assert {key: params[key] for key in params if key.startswith("adapter")} == {
        "adapterType": "fc_host",
        "adapterWwnn": "5001a4a93526d0a1",
        "adapterWwpn": "5001a4ace3ee047d",
        "adapterParent": "scsi_host5",
        "adapterManaged": True,
        "adapterParentWwnn": "20000000c9831b4b",
        "adapterParentWwpn": "10000000c9831b4b",
        "adapterParentFabricWwn": "0x2002000573de9a81",
    }


@pytest.mark.parametrize(
    "attribute",
    ["wwnn", "wwpn", "parent", "parent_wwnn", "parent_wwpn", "parent_fabric_wwn", "managed"],
)
def test_fc_host_adapter_attribute_round_trips_through_the_spec(registry: devframe.Registry, attribute: str) -> None:
    fc = _hostdev(registry, FC_HOST)
    built = registry.device_from_spec(fc.to_spec())
    assert canonical(built.to_xml()) == canonical(fc.to_xml())
    adapter = etree.fromstring(built.to_xml()).find("source/adapter")
    original = etree.fromstring(FC_HOST).find("source/adapter")
    assert adapter is not None and original is not None
    assert adapter.get(attribute) is not None and adapter.get(attribute) == original.get(attribute)
    assert not validate_against_schema(wrap_in_domain(built.to_xml()))


def test_fc_host_spec_without_its_wwns_is_refused(registry: devframe.Registry) -> None:
    spec = _hostdev(registry, FC_HOST).to_spec()
    del spec["specParams"]["adapterWwpn"]
    with pytest.raises(devframe.SpecError, match="adapterWwpn"):
        registry.device_from_spec(spec)


def test_fc_host_wwn_of_the_wrong_form_is_refused(registry: devframe.Registry) -> None:
    spec = _hostdev(registry, FC_HOST).to_spec()
    spec["specParams"]["adapterParentFabricWwn"] = "naa.2002000573de9a81"
    with pytest.raises(devframe.SpecError, match="adapterParentFabricWwn"):
        registry.device_from_spec(spec)


def test_parentaddr_is_modelled_not_escaped(registry: devframe.Registry) -> None:
    assert not validate_against_schema(wrap_in_domain(PARENT_ADDR))
    hostdev = _hostdev(registry, PARENT_ADDR)
    spec = hostdev.to_spec()
    assert spec["specParams"]["adapterParentAddr"] == {
        "uniqueId": 3, "domain": "0x0000", "bus": "0x00", "slot": "0x1f", "function": "0x2",
    }  # fmt: skip
    assert "xml" not in spec["specParams"]
    spec["specParams"]["adapterParentAddr"]["uniqueId"] = 4
    built = registry.device_from_spec(spec)
    assert etree.fromstring(built.to_xml()).find("source/adapter/parentaddr").get("unique_id") == "4"
    assert not validate_against_schema(wrap_in_domain(built.to_xml()))
