"""Tests of the nic plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from devframe_nic import Nic
from devframe_nic.device import INTERFACE_TYPES, LINK_STATE, MAC
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

import devframe
from devframe import DevframeError, Registry, SpecError, domain_from_spec_list, parse_domain
from devframe.testing import (
    assert_edit_changes_only,
    canonical,
    contract_tests,
    validate_against_schema,
    wrap_in_domain,
)

# -- samples, written from libvirt's documented format (formatdomain), one per variant --
PCI = "<address type='pci' domain='0x0000' bus='0x00' slot='0x{slot:02x}' function='0x0'/>"

BRIDGE = (
    "<interface type='bridge' trustGuestRxFilters='yes'>"
    "<mac address='52:54:00:6d:90:01' type='static' check='yes'/>"
    "<source bridge='ovirtmgmt' macTableManager='libvirt'/>"
    "<vlan trunk='yes'><tag id='42'/><tag id='47' nativeMode='untagged'/></vlan>"
    "<virtualport type='openvswitch'>"
    "<parameters interfaceid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f' profileid='menial'/></virtualport>"
    "<target dev='vnet0' managed='no'/>"
    "<model type='virtio'/>"
    "<driver name='vhost' queues='4' txmode='iothread' ioeventfd='on' event_idx='off' rx_queue_size='512' "
    "tx_queue_size='256' iommu='on' ats='on' packed='on' page_per_vq='on' rss='on' rss_hash_report='off'>"
    "<host csum='off' gso='off' tso4='off' tso6='off' ecn='off' ufo='off' mrg_rxbuf='off'/>"
    "<guest csum='off' tso4='off' tso6='off' ecn='off' ufo='off'/></driver>"
    "<filterref filter='clean-traffic'><parameter name='IP' value='10.0.0.1'/>"
    "<parameter name='IP' value='10.0.0.2'/></filterref>"
    "<tune><sndbuf>1600</sndbuf></tune>"
    "<link state='down'/>"
    "<mtu size='9000'/>"
    "<bandwidth><inbound average='1000' peak='5000' burst='1024' floor='200'/>"
    "<outbound average='128' peak='256' burst='256'/></bandwidth>"
    "<coalesce><rx><frames max='7'/></rx></coalesce>"
    "<port isolated='yes'/>"
    "<boot order='1'/>"
    "<rom bar='on' file='/usr/share/ipxe/1af41000.rom' enabled='yes'/>"
    "<alias name='ua-5d5b3a8e-0000-4000-8000-000000000101'/>"
    "<acpi index='3'/>" + PCI.format(slot=3) + "</interface>"
)

NETWORK = (
    "<interface type='network'><mac address='52:54:00:6D:90:02'/>"
    "<source network='default' portgroup='engineering' portid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa01' bridge='virbr0'/>"
    "<virtualport type='802.1Qbh'><parameters profileid='finance'/></virtualport>"
    "<model type='e1000e'/><backend tap='/dev/net/tun' vhost='/dev/vhost-net'/>"
    "<alias name='net1'/>" + PCI.format(slot=4) + "</interface>"
)

DIRECT = (
    "<interface type='direct'><mac address='52:54:00:6d:90:03'/>"
    "<source dev='eth0' mode='vepa'/>"
    "<virtualport type='802.1Qbg'><parameters managerid='11' typeid='1193047' typeidversion='2' "
    "instanceid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f'/></virtualport>"
    "<model type='virtio'/></interface>"
)

DIRECT_PASSTHROUGH = (
    "<interface type='direct'><source dev='eth1' mode='passthrough'/>"
    "<virtualport type='midonet'><parameters interfaceid='0b2d64da-3d0e-431e-a525-c2e0ba1a6ba7'/></virtualport>"
    "</interface>"
)

USER = (
    "<interface type='user'><mac address='52:54:00:6d:90:04'/>"
    "<ip family='ipv4' address='172.17.2.0' prefix='24'/><ip family='ipv6' address='2001:db8:ac10:fd01::' prefix='64'/>"
    "<model type='rtl8139'/><backend type='passt' logFile='/var/log/passt.log'/></interface>"
)

ETHERNET = (
    "<interface type='ethernet'><mac address='52:54:00:6d:90:05'/>"
    "<source><ip address='10.0.0.10' prefix='24'/>"
    "<route family='ipv4' address='10.1.0.0' prefix='16' gateway='10.0.0.1'/></source>"
    "<ip address='192.168.122.5' prefix='24' peer='10.0.0.10'/>"
    "<route family='ipv4' address='192.168.122.0' prefix='24' gateway='192.168.122.1'/>"
    "<route family='ipv4' address='192.168.123.0' netmask='255.255.255.0' gateway='192.168.122.1' metric='2'/>"
    "<script path='/etc/qemu-ifup-mynet'/><downscript path='/etc/qemu-ifdown-mynet'/>"
    "<target dev='mytap1' managed='no'/><guest dev='eth0' actual='eth0'/><model type='virtio'/></interface>"
)

HOSTDEV = (
    "<interface type='hostdev' managed='yes'><mac address='52:54:00:6d:90:06'/>"
    "<source><address type='pci' domain='0x0000' bus='0x05' slot='0x10' function='0x1'/></source>"
    "<vlan><tag id='42'/></vlan>"
    "<alias name='ua-5d5b3a8e-0000-4000-8000-000000000106'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/></interface>"
)

HOSTDEV_USB = (
    "<interface type='hostdev'><mac address='52:54:00:6d:90:07'/>"
    "<source missing='no'><vendor id='0x1234'/><product id='0xbeef'/><address bus='1' device='2'/></source>"
    "<driver name='vfio'/></interface>"
)

VHOSTUSER = (
    "<interface type='vhostuser'><mac address='52:54:00:3b:83:1a'/>"
    "<source type='unix' path='/tmp/vhost1.sock' mode='server'><reconnect enabled='yes' timeout='10'/></source>"
    "<model type='virtio'/><driver queues='5'/></interface>"
)

PASST = (
    "<interface type='user'><mac address='52:54:00:6d:90:10'/><source dev='eth0'/>"
    "<ip family='ipv4' address='192.168.221.37' prefix='24'/>"
    "<portForward proto='tcp' address='192.168.0.1' dev='eth0'>"
    "<range start='2022' to='22'/><range start='5000' end='5020' to='6000'/>"
    "<range start='5010' end='5015' exclude='yes'/>"
    "</portForward><portForward proto='udp'><range start='10101'/></portForward>"
    "<model type='virtio'/><backend type='passt' logFile='/var/log/passt.log'/></interface>"
)

VDPA = "<interface type='vdpa'><mac address='52:54:00:6d:90:08'/><source dev='/dev/vhost-vdpa-0'/></interface>"

MCAST = (
    "<interface type='mcast'><mac address='52:54:00:6d:90:09'/><source address='230.0.0.1' port='5558'/></interface>"
)
SERVER = (
    "<interface type='server'><mac address='52:54:00:6d:90:0a'/><source address='192.168.0.1' port='5558'/></interface>"
)
CLIENT = (
    "<interface type='client'><mac address='52:54:00:6d:90:0b'/><source address='192.168.0.1' port='5558'/></interface>"
)
UDP = (
    "<interface type='udp'><mac address='52:54:00:6d:90:0c'/>"
    "<source address='192.168.0.1' port='11115'><local address='127.0.0.1' port='11116'/></source></interface>"
)
NULL = "<interface type='null'><mac address='52:54:00:6d:90:0d'/><model type='virtio'/></interface>"
VDS = (
    "<interface type='vds'><mac address='52:54:00:6d:90:0e'/>"
    "<source switchid='12345678-1234-1234-1234-123456789abc' portid='6' portgroupid='pg-4' connectionid='12345'/>"
    "</interface>"
)
INTERNAL = "<interface type='internal'><source name='intnet'/></interface>"
CCW = (
    "<interface type='network'><mac address='52:54:00:6d:90:0f'/><source network='default'/><model type='virtio'/>"
    "<boot order='2' loadparm='1'/><address type='ccw' cssid='0xfe' ssid='0x0' devno='0x0001'/></interface>"
)

#: A failover team: a virtio NIC and an SR-IOV VF sharing one MAC.
TEAM_PERSISTENT = (
    "<interface type='bridge'><mac address='00:11:22:33:44:55'/><source bridge='br0'/><model type='virtio'/>"
    "<teaming type='persistent'/><alias name='ua-backup0'/></interface>"
)
TEAM_TRANSIENT = (
    "<interface type='hostdev' managed='yes'><mac address='00:11:22:33:44:55'/>"
    "<source><address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/></source>"
    "<teaming type='transient' persistent='ua-backup0'/><alias name='ua-hostdev0'/></interface>"
)
TEAM_DOMAIN = wrap_in_domain(TEAM_PERSISTENT, TEAM_TRANSIENT)

#: A typeless <virtualport>: libvirt takes the type from the network's port profile.
VIRTUALPORT_TYPELESS = (
    "<interface type='network'><mac address='52:54:00:6d:90:12'/><source network='ovs-net'/>"
    "<virtualport><parameters instanceid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f' "
    "interfaceid='0b2d64da-3d0e-431e-a525-c2e0ba1a6ba7'/></virtualport><model type='virtio'/></interface>"
)
#: What VDSM writes for a NIC whose QoS it manages with no limit set.
VDSM_BANDWIDTH = (
    "<interface type='bridge'><mac address='52:54:00:6d:90:13'/><source bridge='ovirtmgmt'/><model type='virtio'/>"
    "<filterref filter='vdsm-no-mac-spoofing'/><link state='up'/><bandwidth/></interface>"
)
#: Every child libvirt's schema lets stand empty, empty.
EMPTY_CHILDREN = (
    "<interface type='network'><source network='default'/><virtualport><parameters/></virtualport>"
    "<target dev='tap7' managed='no'/><guest/><driver><host/><guest/></driver><backend/><tune/>"
    "<bandwidth><inbound/><outbound/></bandwidth><coalesce><rx><frames/></rx></coalesce><port/><rom/><acpi/>"
    "</interface>"
)
EMPTY_SOURCE = "<interface type='ethernet'><source/><target dev='tap8'/></interface>"

# -- libvirt 11 only (the machine's 9.0 schema refuses them) --
#: passt as a vhost-user backend: the interface names a host device, not a socket.
VHOSTUSER_PASST = (
    "<interface type='vhostuser'><mac address='52:54:00:6d:90:14'/><source dev='eth0'/>"
    "<ip family='ipv4' address='192.168.221.37' prefix='24'/>"
    "<portForward proto='tcp' address='192.168.0.1'><range start='2022' to='22'/></portForward>"
    "<model type='virtio'/><backend type='passt' logFile='/var/log/passt.log'/></interface>"
)
VHOSTUSER_DELAY = (
    "<interface type='vhostuser'><mac address='52:54:00:6d:90:15'/>"
    "<source type='unix' path='/run/vhu.sock' mode='client'><reconnect delay='5'/></source>"
    "<model type='virtio'/></interface>"
)
BACKEND_DEFAULT = (
    "<interface type='network'><mac address='52:54:00:6d:90:16'/><source network='default'/><model type='virtio'/>"
    "<backend type='default' tap='/dev/net/tun' vhost='/dev/vhost-net'/></interface>"
)
MAC_CURRENT = (
    "<interface type='network'><mac address='52:54:00:6d:90:17' currentAddress='52:54:00:6d:90:27'/>"
    "<source network='default'/></interface>"
)
HOSTDEV_DRIVER_MODEL = (
    "<interface type='hostdev' managed='yes'><mac address='52:54:00:6d:90:18'/>"
    "<source><address type='pci' domain='0x0000' bus='0x05' slot='0x10' function='0x2'/></source>"
    "<driver name='vfio' model='mlx5_vfio_pci'/></interface>"
)
VDS_MINIMAL = "<interface type='vds'><source switchid='12345678-1234-1234-1234-123456789abc'/></interface>"
LIBVIRT_11_ONLY = [VHOSTUSER_PASST, VHOSTUSER_DELAY, BACKEND_DEFAULT, MAC_CURRENT, HOSTDEV_DRIVER_MODEL, VDS_MINIMAL]

ELEMENTS = [
    BRIDGE,
    NETWORK,
    DIRECT,
    DIRECT_PASSTHROUGH,
    USER,
    PASST,
    ETHERNET,
    HOSTDEV,
    HOSTDEV_USB,
    VHOSTUSER,
    VDPA,
    MCAST,
    SERVER,
    CLIENT,
    UDP,
    NULL,
    VDS,
    INTERNAL,
    CCW,
    VIRTUALPORT_TYPELESS,
    VDSM_BANDWIDTH,
    EMPTY_CHILDREN,
    EMPTY_SOURCE,
    *LIBVIRT_11_ONLY,
]
SAMPLES = [*ELEMENTS, TEAM_DOMAIN]


TestContract = contract_tests(
    "nic",
    samples=SAMPLES,
    edit_values={
        "mac": "52:54:00:00:00:aa",
        "mac_current_address": "52:54:00:00:00:bb",
        "source_port": 6000,
        "local_port": 6001,
        "vp_instanceid": "0b2d64da-3d0e-431e-a525-c2e0ba1a6ba8",
        "vp_interfaceid": "0b2d64da-3d0e-431e-a525-c2e0ba1a6ba9",
    },
)

ARCHES = ("x86_64", "ppc64", "ppc64le", "s390x", "aarch64")


@pytest.fixture
def registry(devframe_registry: Any) -> Registry:
    reg: Registry = devframe_registry("nic")
    return reg


def parse_one(xml: str, registry: Registry) -> Nic:
    (nic,) = devframe.parse_domain(wrap_in_domain(xml), registry=registry).dev_map["interface"]
    assert isinstance(nic, Nic)
    return nic


def legacy(registry: Registry, conf: Any, arch: str = "x86_64") -> list[dict[str, Any]]:
    results = registry.call_collected("devframe_spec_list_from_legacy_conf", conf=conf, arch=arch)
    return [spec for _plugin, specs in results for spec in specs]


# -- parsing: typed fields ----------------------------------------------------------------


def test_bridge_fields_are_typed(registry: Registry) -> None:
    nic = parse_one(BRIDGE, registry)
    assert nic.type == "bridge"
    assert nic.mac == "52:54:00:6d:90:01"
    assert nic.mac_type == "static" and nic.mac_check is True
    assert nic.source_bridge == "ovirtmgmt"
    assert nic.model == "virtio"
    assert nic.target == "vnet0" and nic.target_managed is False
    assert nic.link_active is False
    assert nic.mtu == 9000
    assert nic.boot_order == 1
    assert nic.queues == 4 and nic.driver_name == "vhost" and nic.txmode == "iothread"
    assert nic.ioeventfd is True and nic.event_idx is False
    assert nic.rx_queue_size == 512 and nic.tx_queue_size == 256
    assert (nic.iommu, nic.ats, nic.packed, nic.page_per_vq) == (True, True, True, True)
    assert nic.host_csum is False and nic.host_mrg_rxbuf is False and nic.guest_ufo is False
    assert [(t.id, t.native_mode) for t in nic.vlan] == [(42, None), (47, "untagged")]
    assert nic.vlan_trunk is True
    assert nic.filter == "clean-traffic"
    assert [(p.name, p.value) for p in nic.filter_parameters] == [("IP", "10.0.0.1"), ("IP", "10.0.0.2")]
    assert (nic.inbound_average, nic.inbound_peak, nic.inbound_burst, nic.inbound_floor) == (1000, 5000, 1024, 200)
    assert (nic.outbound_average, nic.outbound_peak, nic.outbound_burst) == (128, 256, 256)
    assert nic.virtualport_type == "openvswitch"
    assert nic.vp_interfaceid == "09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f"
    assert nic.coalesce_rx_frames_max == 7
    assert nic.port_isolated is True
    assert (nic.rom_bar, nic.rom_file, nic.rom_enabled) == (True, "/usr/share/ipxe/1af41000.rom", True)
    assert nic.acpi_index == 3
    assert nic.sndbuf == 1600
    assert nic.trust_guest_rx_filters is True
    assert nic.device_id == "5d5b3a8e-0000-4000-8000-000000000101"
    assert nic.address == {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x03", "function": "0x0"}


def test_hostdev_host_address_is_not_the_guest_address(registry: Registry) -> None:
    nic = parse_one(HOSTDEV, registry)
    assert nic.host_address == {"type": "pci", "domain": "0x0000", "bus": "0x05", "slot": "0x10", "function": "0x1"}
    assert nic.address == {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x07", "function": "0x0"}
    spec = nic.to_spec()
    assert spec["address"]["bus"] == "0x00"
    assert spec["specParams"]["hostAddress"]["bus"] == "0x05"
    assert spec["specParams"]["managed"] is True
    # Setting the guest address leaves the host address alone, and the other way round.
    nic.address = {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x09", "function": "0x0"}
    assert nic.host_address is not None and nic.host_address["slot"] == "0x10"
    nic.host_address = {"type": "pci", "domain": "0x0000", "bus": "0x06", "slot": "0x00", "function": "0x2"}
    assert nic.address is not None and nic.address["slot"] == "0x09"


def test_hostdev_usb_source(registry: Registry) -> None:
    nic = parse_one(HOSTDEV_USB, registry)
    assert (nic.host_vendor, nic.host_product) == ("0x1234", "0xbeef")
    assert nic.host_address == {"bus": "1", "device": "2"}
    assert nic.source_missing is False
    assert nic.address is None


def test_other_sources(registry: Registry) -> None:
    network = parse_one(NETWORK, registry)
    assert (network.source_network, network.portgroup, network.source_bridge) == ("default", "engineering", "virbr0")
    assert network.virtualport_type == "802.1Qbh" and network.vp_profileid == "finance"
    assert (network.backend_tap, network.backend_vhost) == ("/dev/net/tun", "/dev/vhost-net")
    direct = parse_one(DIRECT, registry)
    assert (direct.source_dev, direct.source_mode) == ("eth0", "vepa")
    assert (direct.vp_managerid, direct.vp_typeid, direct.vp_typeidversion) == (11, 1193047, 2)
    vhost = parse_one(VHOSTUSER, registry)
    assert (vhost.source_type, vhost.source_path, vhost.source_mode) == ("unix", "/tmp/vhost1.sock", "server")
    assert (vhost.reconnect_enabled, vhost.reconnect_timeout) == (True, 10)
    udp = parse_one(UDP, registry)
    assert (udp.source_address, udp.source_port, udp.local_address, udp.local_port) == (
        "192.168.0.1",
        11115,
        "127.0.0.1",
        11116,
    )
    ethernet = parse_one(ETHERNET, registry)
    assert [(ip.address, ip.prefix, ip.peer) for ip in ethernet.ips] == [("192.168.122.5", 24, "10.0.0.10")]
    assert [(r.prefix, r.netmask, r.metric) for r in ethernet.routes] == [(24, None, None), (None, "255.255.255.0", 2)]
    assert (ethernet.script, ethernet.downscript) == ("/etc/qemu-ifup-mynet", "/etc/qemu-ifdown-mynet")
    assert (ethernet.guest_dev, ethernet.guest_actual) == ("eth0", "eth0")
    assert [(ip.address, ip.prefix) for ip in ethernet.source_ips] == [("10.0.0.10", 24)]
    assert [r.gateway for r in ethernet.source_routes] == ["10.0.0.1"]
    passt = parse_one(PASST, registry)
    forwards = passt.port_forwards
    assert [(f.proto, f.address, f.dev) for f in forwards] == [("tcp", "192.168.0.1", "eth0"), ("udp", None, None)]
    assert [(r.start, r.end, r.to, r.exclude) for r in forwards[0].ranges] == [
        (2022, None, 22, None),
        (5000, 5020, 6000, None),
        (5010, 5015, None, True),
    ]
    assert passt.to_spec()["specParams"]["portForwards"][1] == {"proto": "udp", "ranges": [{"start": 10101}]}
    user = parse_one(USER, registry)
    assert [ip.family for ip in user.ips] == ["ipv4", "ipv6"]
    assert (user.backend_type, user.backend_log_file) == ("passt", "/var/log/passt.log")
    vds = parse_one(VDS, registry)
    assert (vds.switchid, vds.portid, vds.portgroupid, vds.connectionid) == (
        "12345678-1234-1234-1234-123456789abc",
        "6",
        "pg-4",
        12345,
    )
    ccw = parse_one(CCW, registry)
    assert ccw.boot_loadparm == "1" and ccw.address is not None and ccw.address["type"] == "ccw"


def test_parsing_touches_no_field(registry: Registry) -> None:
    # A malformed value everywhere must not stop parsing: fields are read lazily.
    nic = parse_one(
        "<interface type='bridge'><mac address='zz'/><mtu size='big'/><link state='sideways'/></interface>", registry
    )
    assert len(nic.problems()) == 3


# -- dev_spec --------------------------------------------------------------------------------


def test_bridge_spec(registry: Registry) -> None:
    spec = parse_one(BRIDGE, registry).to_spec()
    assert spec["type"] == "interface"
    assert spec["device"] == "bridge"
    assert spec["deviceId"] == "5d5b3a8e-0000-4000-8000-000000000101"
    assert spec["macAddr"] == "52:54:00:6d:90:01"
    assert spec["nicModel"] == "virtio"
    assert spec["network"] == "ovirtmgmt"
    assert spec["linkActive"] is False
    assert spec["name"] == "vnet0"
    assert spec["bootOrder"] == 1
    assert spec["filter"] == "clean-traffic"
    assert spec["filterParameters"] == [{"name": "IP", "value": "10.0.0.1"}, {"name": "IP", "value": "10.0.0.2"}]
    assert spec["mtu"] == 9000
    params = spec["specParams"]
    assert params["inbound"] == {"average": 1000, "peak": 5000, "burst": 1024, "floor": 200}
    assert params["outbound"] == {"average": 128, "peak": 256, "burst": 256}
    assert params["vlan"] == [{"id": 42}, {"id": 47, "nativeMode": "untagged"}]
    assert params["vlanTrunk"] is True
    assert params["virtualport"] == {
        "type": "openvswitch",
        "parameters": {"profileid": "menial", "interfaceid": "09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f"},
    }
    assert params["driver"]["queues"] == 4
    assert params["driver"]["host"]["mrg_rxbuf"] is False
    assert params["coalesce"] == {"rx": {"frames": {"max": 7}}}
    assert params["rom"] == {"bar": True, "file": "/usr/share/ipxe/1af41000.rom", "enabled": True}


def test_network_key_names_the_typed_source(registry: Registry) -> None:
    network = parse_one(NETWORK, registry).to_spec()
    assert network["network"] == "default"
    assert network["specParams"]["sourceBridge"] == "virbr0"
    assert network["specParams"]["portgroup"] == "engineering"
    built = registry.device_from_spec(network)
    assert isinstance(built, Nic)
    assert (built.source_network, built.source_bridge) == ("default", "virbr0")
    bridge = registry.device_from_spec({"type": "interface", "device": "bridge", "network": "ovirtmgmt"})
    assert isinstance(bridge, Nic)
    assert bridge.source_bridge == "ovirtmgmt" and bridge.source_network is None
    assert bridge.metadata["network"] == "ovirtmgmt"
    # A type with no named source keeps the engine's network only in metadata.
    direct = registry.device_from_spec(
        {"type": "interface", "device": "direct", "network": "lan", "specParams": {"sourceDev": "eth0"}}
    )
    assert isinstance(direct, Nic)
    assert direct.source_bridge is None and direct.source_network is None
    assert direct.metadata["network"] == "lan"
    assert direct.to_spec()["network"] == "lan"


@pytest.mark.parametrize("xml", [*ELEMENTS, TEAM_DOMAIN])
def test_spec_round_trip_and_schema(registry: Registry, xml: str) -> None:
    domain = devframe.parse_domain(xml if xml.startswith("<domain") else wrap_in_domain(xml), registry=registry)
    for nic in domain.dev_map["interface"]:
        assert not nic.problems()
        spec = nic.to_spec()
        again = registry.device_from_spec(spec)
        assert again.to_spec() == spec
        # Everything in the samples is modeled, so the spec rebuilds the same element.
        assert canonical(again.to_xml()) == canonical(nic.to_xml())
        # The schema (9.0 here; DEVFRAME_DOMAIN_RNG names another) takes the spec-built
        # element exactly when it takes the sample; every sample but the libvirt 11 ones
        # is valid from 9.0 on.
        sample_errors = validate_against_schema(wrap_in_domain(nic.to_xml()))
        assert bool(validate_against_schema(wrap_in_domain(again.to_xml()))) == bool(sample_errors)
        if xml not in LIBVIRT_11_ONLY:
            assert not sample_errors


def test_the_samples_cover_every_type_backend_and_virtualport(registry: Registry) -> None:
    nics = [parse_one(xml, registry) for xml in ELEMENTS]
    assert {nic.type for nic in nics} == set(INTERFACE_TYPES)
    passt_types = {nic.type for nic in nics if nic.backend_type == "passt"}
    assert passt_types == {"user", "vhostuser"} and any(nic.backend_type == "default" for nic in nics)
    virtualports = {nic.virtualport_type for nic in nics if nic.element.find("virtualport") is not None}
    assert virtualports == {"openvswitch", "802.1Qbg", "802.1Qbh", "midonet", None}  # None: typeless


def test_empty_children_round_trip_through_the_spec(registry: Registry) -> None:
    vdsm = parse_one(VDSM_BANDWIDTH, registry)
    assert vdsm.to_spec()["specParams"]["emptyElements"] == ["bandwidth"]
    assert "<bandwidth/>" in registry.device_from_spec(vdsm.to_spec()).to_xml()
    every = parse_one(EMPTY_CHILDREN, registry)
    assert every.empty_elements == [
        "virtualport/parameters", "guest", "backend", "driver/host", "driver/guest", "tune",
        "bandwidth/inbound", "bandwidth/outbound", "coalesce/rx/frames", "port", "rom", "acpi",
    ]  # fmt: skip
    assert parse_one(EMPTY_SOURCE, registry).empty_elements == ["source"]
    # An element holding a value is never listed: its field rebuilds it.
    assert "emptyElements" not in parse_one(BRIDGE, registry).to_spec()["specParams"]
    with pytest.raises(DevframeError, match="emptyElements"):
        registry.device_from_spec({"type": "interface", "specParams": {"emptyElements": ["mac"]}})


def test_vhostuser_socket_defaults_only_where_the_spec_is_silent(registry: Registry) -> None:
    # A vhost-user element without a mode (valid in 11.3) keeps having none through its spec.
    bare = parse_one("<interface type='vhostuser'><source type='unix' path='/run/a.sock'/></interface>", registry)
    spec = bare.to_spec()
    assert spec["specParams"]["sourceMode"] is None and spec["specParams"]["sourceType"] == "unix"
    again = registry.device_from_spec(spec)
    assert canonical(again.to_xml()) == canonical(bare.to_xml()) and again.to_spec() == spec
    # passt names a host device: no socket defaults, and none written as None.
    passt = parse_one(VHOSTUSER_PASST, registry)
    assert "sourceMode" not in passt.to_spec()["specParams"]
    built = registry.device_from_spec(
        {"type": "interface", "device": "vhostuser", "specParams": {"backend": {"type": "passt"}}}
    )
    assert isinstance(built, Nic) and built.element.find("source") is None


def test_pv_means_virtio(registry: Registry) -> None:
    nic = registry.device_from_spec({"type": "interface", "nicModel": "pv", "macAddr": "00:1a:4a:16:01:51"})
    assert isinstance(nic, Nic)
    assert nic.model == "virtio"
    assert nic.to_spec()["nicModel"] == "virtio"


def test_minimal_specs_get_defaults_and_are_valid(registry: Registry) -> None:
    bare = registry.device_from_spec({"type": "interface"})
    assert isinstance(bare, Nic) and bare.type == "bridge"
    assert not validate_against_schema(wrap_in_domain(bare.to_xml()))
    network = registry.device_from_spec({"type": "interface", "device": "network"})
    assert isinstance(network, Nic) and network.source_network == "default"
    assert not validate_against_schema(wrap_in_domain(network.to_xml()))
    vhost = registry.device_from_spec(
        {"type": "interface", "device": "vhostuser", "specParams": {"sourcePath": "/run/vhu.sock"}}
    )
    assert isinstance(vhost, Nic) and (vhost.source_type, vhost.source_mode) == ("unix", "client")
    assert not validate_against_schema(wrap_in_domain(vhost.to_xml()))
    mcast = registry.device_from_spec({"type": "interface", "device": "mcast", "specParams": {"sourcePort": 5558}})
    assert isinstance(mcast, Nic) and mcast.source_address == "127.0.0.1"
    assert not validate_against_schema(wrap_in_domain(mcast.to_xml()))


def test_engine_style_spec_builds_libvirt_order(registry: Registry) -> None:
    spec = {
        "type": "interface",
        "device": "bridge",
        "deviceId": "8f1c2d4e-0000-4000-8000-00000000abcd",
        "macAddr": "00:1a:4a:16:01:51",
        "nicModel": "pv",
        "network": "ovirtmgmt",
        "linkActive": "true",
        "bootOrder": "2",
        "filter": "vdsm-no-mac-spoofing",
        "filterParameters": [{"name": "CTRL_IP_LEARNING", "value": "dhcp"}],
        "mtu": "1500",
        "specParams": {"inbound": {"average": "1000"}, "outbound": {"average": 128}},
        "address": {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x03", "function": "0x0"},
        "portMirroring": ["ovirtmgmt"],
        "custom": {"queues": "4"},
    }
    nic = registry.device_from_spec(spec)
    assert isinstance(nic, Nic)
    tags = [child.tag for child in nic.element]
    assert tags == [
        "mac", "source", "model", "driver", "filterref", "link", "mtu", "bandwidth", "boot", "alias", "address"
    ]  # fmt: skip
    assert nic.link_active is True and nic.boot_order == 2 and nic.inbound_average == 1000
    assert nic.queues == 4  # the engine's custom property reaches the XML
    assert nic.metadata["portMirroring"] == ["ovirtmgmt"] and nic.metadata["custom"] == {"queues": "4"}
    assert not validate_against_schema(wrap_in_domain(nic.to_xml()))
    again = nic.to_spec()
    assert again["portMirroring"] == ["ovirtmgmt"]
    assert again["deviceId"] == spec["deviceId"]


def test_unmodeled_spec_params_are_not_dropped(registry: Registry) -> None:
    spec = {
        "type": "interface",
        "macAddr": "00:1a:4a:16:01:51",
        "specParams": {"vmfexProfile": "gold", "inbound": {"average": 5}},
    }
    nic = registry.device_from_spec(spec)
    out = nic.to_spec()
    assert out["specParams"]["vmfexProfile"] == "gold"
    assert out["specParams"]["inbound"] == {"average": 5}
    assert registry.device_from_spec(out).to_spec() == out


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("mac", ["00:11:22:33:44", "00-11-22-33-44-55", "zz:11:22:33:44:55", "01:00:5e:00:00:01", 12])
def test_malformed_mac_in_spec_names_the_key(registry: Registry, mac: Any) -> None:
    with pytest.raises(DevframeError, match="macAddr"):
        registry.device_from_spec({"type": "interface", "macAddr": mac})


def test_malformed_mac_in_xml_is_kept_and_reported(registry: Registry) -> None:
    nic = parse_one(
        "<interface type='network'><mac address='52:54:00:zz:00:01'/><source network='default'/></interface>", registry
    )
    assert any("mac" in problem for problem in nic.problems())
    assert "52:54:00:zz:00:01" in nic.to_xml()
    assert nic.identity() == {"mac_address": "52:54:00:zz:00:01"}
    with pytest.raises(DevframeError, match="mac"):
        nic.to_spec()


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"network": 5}, "network"),
        ({"specParams": "fast"}, "specParams"),
        ({"linkActive": "maybe"}, "linkActive"),
        ({"bootOrder": "first"}, "bootOrder"),
        ({"mtu": "jumbo"}, "mtu"),
        ({"filterParameters": "IP=1"}, "filterParameters"),
        ({"device": "network", "network": "a", "specParams": {"sourceNetwork": "b"}}, "sourceNetwork"),
        # libvirt's schema ranges: a spec cannot build XML the schema refuses
        ({"specParams": {"vlan": [{"id": 4096}]}}, "specParams.vlan.id"),
        ({"mtu": 65536}, "mtu"),
        ({"specParams": {"driver": {"queues": 0}}}, "specParams.driver.queues"),
        ({"device": "udp", "specParams": {"sourcePort": 70000}}, "sourcePort"),
        ({"specParams": {"inbound": {"average": 0}}}, "specParams.inbound.average"),
        ({"specParams": {"macCurrentAddress": "01:00:5e:00:00:01"}}, "macCurrentAddress"),
        ({"specParams": {"virtualport": {"parameters": {"typeid": 2**24}}}}, "typeid"),
        ({"specParams": {"virtualport": {"parameters": {"instanceid": "not-a-uuid"}}}}, "instanceid"),
        ({"nicModel": "virtio net"}, "nicModel"),
        ({"specParams": {"portForwards": [{"proto": "tcp", "ranges": [{"start": 70000}]}]}}, "start"),
        ({"specParams": {"reconnect": {"delay": -1}}}, "reconnect.delay"),
    ],
)
def test_bad_spec_values_name_the_key(registry: Registry, spec: dict[str, Any], key: str) -> None:
    with pytest.raises(DevframeError, match=key):
        registry.device_from_spec({"type": "interface", **spec})


# -- editing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "place"),
    [
        ("mac", "52:54:00:aa:bb:cc", ("mac", "address")),
        ("model", "e1000e", ("model", "type")),
        ("source_bridge", "br1", ("source", "bridge")),
        ("target", "vnet9", ("target", "dev")),
        ("link_active", True, ("link", "state")),
        ("mtu", 1500, ("mtu", "size")),
        ("boot_order", 4, ("boot", "order")),
        ("filter", "no-mac-spoofing", ("filterref", "filter")),
        ("queues", 8, ("driver", "queues")),
        ("inbound_average", 2000, ("bandwidth/inbound", "average")),
        ("virtualport_type", "802.1Qbg", ("virtualport", "type")),
        ("coalesce_rx_frames_max", 9, ("coalesce/rx/frames", "max")),
        ("rom_bar", False, ("rom", "bar")),
    ],
)
def test_editing_one_field_changes_only_it(registry: Registry, field: str, value: Any, place: tuple[str, str]) -> None:
    nic = parse_one(BRIDGE, registry)
    expected = copy.deepcopy(nic.element)
    setattr(nic, field, value)
    raw = getattr(Nic, field).raw(nic)
    node = expected.find(place[0])
    assert node is not None
    node.set(place[1], raw)
    assert canonical(nic.to_xml()) == canonical(expected)
    assert getattr(nic, field) == value


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("mac_current_address", ["52:54:00:00:00:cc"]),
        ("reconnect_delay", [9]),
        ("reconnect_timeout", [11]),
        ("driver_model", ["vfio_pci"]),
        ("backend_type", ["default", "passt"]),
        ("backend_log_file", ["/var/log/other.log"]),
        ("source_dev", ["eth9"]),
        ("connectionid", [7]),
        ("vp_typeid", [7]),
        ("vp_profileid", ["gold"]),
        ("sndbuf", [2048]),
        ("port_isolated", [False]),
        ("teaming_type", ["transient"]),
        ("bandwidth_class_id", [5]),
        ("outbound_floor", [64]),
    ],
)
def test_setting_a_field_changes_only_its_xml(registry: Registry, name: str, values: list[Any]) -> None:
    assert_edit_changes_only(registry, Nic, ELEMENTS, name, values)


def test_editing_children_keeps_the_rest(registry: Registry) -> None:
    nic = parse_one(BRIDGE, registry)
    nic.vlan = [{"id": 7}]
    assert [t.id for t in nic.vlan] == [7]
    assert nic.vlan_trunk is True
    nic.filter_parameters = [{"name": "IP", "value": "10.1.1.1"}]
    assert nic.filter == "clean-traffic"
    assert etree.fromstring(nic.to_xml()).find("filterref/parameter").get("value") == "10.1.1.1"


def test_setting_a_bad_mac_raises_and_keeps_the_old(registry: Registry) -> None:
    nic = parse_one(BRIDGE, registry)
    with pytest.raises(DevframeError, match="mac"):
        nic.mac = "not-a-mac"
    assert nic.mac == "52:54:00:6d:90:01"


# -- identity and metadata -------------------------------------------------------------------


def test_identity_is_the_mac_case_insensitive(registry: Registry) -> None:
    nic = parse_one(NETWORK, registry)
    assert nic.identity() == {"mac_address": "52:54:00:6d:90:02"}
    assert parse_one("<interface type='user'/>", registry).identity() is None


def test_team_members_share_a_mac_but_not_an_identity(registry: Registry) -> None:
    nics = devframe.parse_domain(TEAM_DOMAIN, registry=registry).dev_map["interface"]
    assert [n.mac for n in nics] == ["00:11:22:33:44:55"] * 2
    identities = [n.identity() for n in nics]
    assert identities == [
        {"mac_address": "00:11:22:33:44:55", "alias": "ua-backup0"},
        {"mac_address": "00:11:22:33:44:55", "alias": "ua-hostdev0"},
    ]
    assert nics[1].teaming_persistent == "ua-backup0"
    assert nics[1].to_spec()["specParams"]["teaming"] == {"type": "transient", "persistent": "ua-backup0"}


def test_identity_looks_at_one_nic_only(registry: Registry) -> None:
    # NICs sharing a MAC without teaming have equal identities (correlation pairs
    # them in order); identity never scans sibling NICs, which made callers quadratic.
    nic = "<interface type='network'><mac address='52:54:00:00:00:0{}'/><source network='{}'/>{}</interface>"
    first = nic.format(1, "a", "<alias name='net0'/>")
    second = nic.format(1, "b", "<alias name='net1'/>")
    other = nic.format(2, "c", "")
    nics = devframe.parse_domain(wrap_in_domain(first, second, other), registry=registry).dev_map["interface"]
    assert [n.identity() for n in nics] == [
        {"mac_address": "52:54:00:00:00:01"},
        {"mac_address": "52:54:00:00:00:01"},
        {"mac_address": "52:54:00:00:00:02"},
    ]


def test_metadata_identity_and_schema(registry: Registry) -> None:
    route = registry.routes["interface"]
    # The MAC in NETWORK is written in mixed case; the key is lower case.
    assert route.dev_class(etree.fromstring(NETWORK)).identity() == {"mac_address": "52:54:00:6d:90:02"}
    assert route.dev_class(etree.fromstring("<interface type='user'/>")).identity() is None
    assert set(route.metadata_schema.keys) == {"network", "portMirroring", "custom", "linkRateMbps"}
    assert route.metadata_schema.keys["portMirroring"] is list


def test_summary_shows_key_fields(registry: Registry) -> None:
    summary = parse_one(BRIDGE, registry).summary()
    assert summary["type"] == "bridge"
    assert summary["mac"] == "52:54:00:6d:90:01"
    assert summary["model"] == "virtio"
    assert summary["source"] == "ovirtmgmt"
    assert summary["link"] == "down"
    assert summary["vlan"] == "42,47"
    assert parse_one(HOSTDEV, registry).summary()["source"] == "type=pci,domain=0x0000,bus=0x05,slot=0x10,function=0x1"
    assert parse_one(UDP, registry).summary()["source"] == "192.168.0.1:11115"
    broken = parse_one("<interface type='bridge'><mac address='oops'/></interface>", registry).summary()
    assert broken["mac"] == "<invalid 'oops'>"


# -- legacy conf -----------------------------------------------------------------------------


@pytest.mark.parametrize("arch", ARCHES)
def test_legacy_zip_per_arch(registry: Registry, arch: str) -> None:
    conf = {
        "macAddr": "00:1a:4a:16:01:51,00:1a:4a:16:01:52",
        "nicModel": "pv,e1000",
        "bridge": "ovirtmgmt,storage",
    }
    specs = legacy(registry, conf, arch)
    assert specs == [
        {
            "type": "interface",
            "device": "bridge",
            "macAddr": "00:1a:4a:16:01:51",
            "nicModel": "virtio",
            "network": "ovirtmgmt",
        },
        {
            "type": "interface",
            "device": "bridge",
            "macAddr": "00:1a:4a:16:01:52",
            "nicModel": "e1000",
            "network": "storage",
        },
    ]
    for spec in specs:
        nic = registry.device_from_spec(spec)
        assert not validate_against_schema(wrap_in_domain(nic.to_xml(), arch=arch))


MACS3 = "00:1a:4a:16:01:51,00:1a:4a:16:01:52,00:1a:4a:16:01:53"


@pytest.mark.parametrize("arch", ARCHES)
def test_legacy_short_bridge_lists_are_padded_per_arch(registry: Registry, arch: str) -> None:
    specs = legacy(registry, {"macAddr": MACS3, "nicModel": "pv, rtl8139,pv", "bridge": "ovirtmgmt"}, arch)
    assert [s["macAddr"] for s in specs] == MACS3.split(",")
    assert [s["network"] for s in specs] == ["ovirtmgmt"] * 3
    assert [s["nicModel"] for s in specs] == ["virtio", "rtl8139", "virtio"]
    domain = domain_from_spec_list(
        specs, name="nics", uuid="4ea8aa2b-7fd5-4e4b-98d0-d1c5c2ddd1a7", memory_kib=1024, vcpus=1, arch=arch,
        registry=registry,
    )  # fmt: skip
    assert len(parse_domain(domain.to_xml(), registry=registry).dev_map["interface"]) == 3


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize(
    ("macs", "needle"),
    [
        ("00:1a:4a:16:01:51", r"1 MAC\(s\) for 3 NICs"),  # padding would repeat the MAC (issue 20 item 9)
        ("00:1a:4a:16:01:51,00:1a:4a:16:01:52", r"2 MAC\(s\) for 3 NICs"),  # one short of the boundary
        ("00:1a:4a:16:01:51,00:1A:4A:16:01:51,00:1a:4a:16:01:53", "NICs 0 and 1"),  # the same MAC, any case
    ],
)
def test_legacy_macs_are_one_per_nic(registry: Registry, arch: str, macs: str, needle: str) -> None:
    with pytest.raises(SpecError, match=needle) as caught:
        legacy(registry, {"macAddr": macs, "nicModel": "pv,rtl8139,pv", "bridge": "ovirtmgmt"}, arch)
    assert "macAddr" in str(caught.value)


@pytest.mark.parametrize("arch", ARCHES)
def test_legacy_unzippable_lists_per_arch(registry: Registry, arch: str) -> None:
    with pytest.raises(DevframeError, match=r"macAddr.*nicModel"):
        legacy(registry, {"macAddr": "00:1a:4a:16:01:51,00:1a:4a:16:01:52", "nicModel": "pv", "bridge": "b"}, arch)
    with pytest.raises(DevframeError, match=r"macAddr.*nicModel"):
        legacy(registry, {"macAddr": "00:1a:4a:16:01:51", "nicModel": "", "bridge": "b"}, arch)
    with pytest.raises(DevframeError, match=r"bridge.*nicModel"):
        legacy(registry, {"macAddr": "00:1a:4a:16:01:51", "nicModel": "pv", "bridge": "a,b"}, arch)
    with pytest.raises(DevframeError, match="bridge"):
        legacy(registry, {"macAddr": "00:1a:4a:16:01:51", "nicModel": "pv"}, arch)


def test_legacy_without_nics(registry: Registry) -> None:
    assert legacy(registry, {}) == []
    assert legacy(registry, {"nicModel": ""}) == []


def test_legacy_bad_input(registry: Registry) -> None:
    with pytest.raises(DevframeError, match="arch"):
        legacy(registry, {"nicModel": "pv", "macAddr": "00:1a:4a:16:01:51", "bridge": "b"}, "sparc")
    with pytest.raises(DevframeError, match="dict"):
        legacy(registry, ["nicModel=pv"])
    with pytest.raises(DevframeError, match="macAddr"):
        legacy(registry, {"nicModel": "pv", "macAddr": "00:1a:4a:16:01", "bridge": "b"})
    with pytest.raises(DevframeError, match="nicModel"):
        legacy(registry, {"nicModel": "pv,,e1000", "macAddr": "00:1a:4a:16:01:51", "bridge": "b"})
    with pytest.raises(DevframeError, match="bridge"):
        legacy(registry, {"nicModel": "pv", "macAddr": "00:1a:4a:16:01:51", "bridge": 7})


def test_legacy_keys_declared(registry: Registry) -> None:
    assert registry.call_collected("devframe_legacy_conf_keys") == [("nic", ["macAddr", "nicModel", "bridge"])]


_HEX = "0123456789abcdefABCDEFg"
_MAC_LIKE = st.lists(st.text(alphabet=_HEX, min_size=1, max_size=3), min_size=5, max_size=7).map(":".join)


@settings(max_examples=500, deadline=None)
@given(_MAC_LIKE | st.text(alphabet=_HEX + ":-\n ", max_size=20))
def test_the_readers_mac_shortcut_takes_exactly_what_the_kind_parses(raw: str) -> None:
    # The compiled reader (devframe.core.specgen) takes a MAC the shortcut matches as it is,
    # and gives any other text to the kind's parse (which says why it is refused).
    kind, match = MAC.fast_parse()
    assert kind == "match"
    try:
        parsed: str | None = MAC.parse(raw)
    except ValueError:
        parsed = None
    assert (match(raw) is not None) == (parsed == raw)


def test_the_readers_link_state_words_are_the_kinds() -> None:
    kind, words = LINK_STATE.fast_parse()
    assert kind == "words" and words == {"up": LINK_STATE.parse("up"), "down": LINK_STATE.parse("down")}
