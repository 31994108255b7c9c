"""Tests of the chardev plugin (serial, console, channel, parallel), runnable with only the
core and this plugin installed."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from devframe_chardev import Channel, Console, Parallel, Serial
from devframe_chardev.device import (
    CHANNEL_TARGET_TYPES,
    CONSOLE_TARGET_TYPES,
    PARALLEL_TARGET_TYPES,
    SERIAL_TARGET_MODELS,
    SERIAL_TARGET_TYPES,
)
from lxml import etree

import devframe
from devframe import CHAR_TYPES
from devframe.testing import (
    assert_spec_refused,
    assert_spec_round_trip,
    canonical,
    contract_tests,
    one_device,
    plugin_registry,
    validate_against_schema,
    wrap_in_domain,
)

UUID = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
VMID = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"


def pci(slot: int) -> str:
    return f"<address type='pci' domain='0x0000' bus='0x00' slot='0x{slot:02x}' function='0x0'/>"


def vser(port: int) -> str:
    return f"<address type='virtio-serial' controller='0' bus='0' port='{port}'/>"


SERIALS = [
    # pty, as a running VM reports it: tty, source path, log, alias, acpi index
    "<serial type='pty' tty='/dev/pts/4'><source path='/dev/pts/4'/>"
    "<log file='/var/log/libvirt/qemu/vm-serial0.log' append='on'/>"
    "<target type='isa-serial' port='0'><model name='isa-serial'/></target>"
    "<alias name='serial0'/><acpi index='3'/></serial>",
    "<serial type='dev'><source path='/dev/ttyS0'/>"
    "<target type='usb-serial' port='1'><model name='usb-serial'/></target>"
    "<address type='usb' bus='0' port='2'/></serial>",
    "<serial type='file'><source path='/var/log/vm/serial2.txt' append='off'>"
    "<seclabel model='selinux' relabel='yes'><label>system_u:object_r:virt_log_t:s0</label></seclabel>"
    "<seclabel model='dac' relabel='no'/></source>"
    f"<target type='pci-serial' port='2'><model name='pci-serial'/></target>{pci(9)}</serial>",
    "<serial type='pipe'><source path='/run/vm/serial3.pipe'/>"
    "<target type='spapr-vio-serial' port='3'><model name='spapr-vty'/></target>"
    "<address type='spapr-vio' reg='0x30000000'/></serial>",
    "<serial type='unix'><source mode='connect' path='/run/vm/serial4.sock'><reconnect enabled='yes' timeout='10'/>"
    "</source><target type='system-serial' port='4'><model name='pl011'/></target></serial>",
    "<serial type='tcp'><source mode='bind' host='0.0.0.0' service='4555' tls='yes'/><protocol type='telnet'/>"
    "<target type='sclp-serial' port='5'><model name='sclpconsole'/></target></serial>",
    "<serial type='tcp'><source mode='connect' host='console.example.net' service='7003'>"
    "<reconnect enabled='no'/></source><protocol type='telnets'/>"
    "<target type='sclp-serial' port='6'><model name='sclplmconsole'/></target></serial>",
    "<serial type='tcp'><source mode='connect' host='192.0.2.9' service='7004'/><protocol type='tls'/>"
    "<target type='isa-serial' port='7'><model name='16550a'/></target></serial>",
    "<serial type='tcp'><source mode='bind' host='::' service='7005'/><protocol type='raw'/>"
    "<target port='8'/></serial>",
    "<serial type='udp'><source mode='bind' host='0.0.0.0' service='9002'/>"
    "<source mode='connect' host='192.0.2.200' service='9001'/>"
    "<target type='isa-debug' port='9'><model name='isa-debugcon'/></target></serial>",
    "<serial type='null'><target port='10'/></serial>",
    "<serial type='stdio'><target port='11'/></serial>",
    "<serial type='vc'><target port='12'/></serial>",
    "<serial type='spicevmc'><target port='13'/></serial>",
    "<serial type='spiceport'><source channel='org.qemu.console.serial.0'/><target port='14'/></serial>",
    "<serial type='nmdm'><source master='/dev/nmdm0A' slave='/dev/nmdm0B'/><target port='15'/></serial>",
    "<serial type='dbus'><source channel='org.example.serial'/><target port='16'/></serial>",
    "<serial type='qemu-vdagent'><target port='17'/></serial>",
    "<serial type='file'><source path='/var/log/vm/serial18.txt'><seclabel model='dac' labelskip='yes'/></source>"
    "<target port='18'/></serial>",
]
CONSOLES = [
    # The VDSM console: a unix socket for ovirt-vmconsole, on the first serial port.
    f"<console type='unix'><source mode='bind' path='/var/run/ovirt-vmconsole-console/{VMID}.sock'/>"
    f"<target type='serial' port='0'/><alias name='ua-{UUID}'/></console>",
    "<console type='pty' tty='/dev/pts/5'><source path='/dev/pts/5'/><target type='virtio' port='1'/>"
    "<alias name='console1'/></console>",
    "<console type='pty'><target type='xen' port='0'/></console>",
    "<console type='pty'><target type='uml' port='0'/></console>",
    "<console type='pty'><target type='lxc' port='0'/></console>",
    "<console type='pty'><target type='openvz' port='0'/></console>",
    "<console type='pty'><target type='sclp' port='0'/></console>",
    "<console type='pty'><target type='sclplm' port='1'/></console>",
    "<console type='tcp'><source mode='bind' host='127.0.0.1' service='2445'/><protocol type='telnet'/>"
    "<log file='/var/log/vm/console.log'/><target type='virtio' port='2'/></console>",
    "<console type='pty'/>",
]
CHANNELS = [
    "<channel type='unix'><source mode='bind' path='/var/lib/libvirt/qemu/channel/target/vm/org.qemu.guest_agent.0'/>"
    f"<target type='virtio' name='org.qemu.guest_agent.0' state='connected'/><alias name='channel0'/>{vser(1)}"
    "</channel>",
    # VDSM's own channel, as the engine sends it (the socket path named by the host)
    f"<channel type='unix'><source mode='bind' path='/var/lib/libvirt/qemu/channels/{VMID}.ovirt-guest-agent.0'/>"
    f"<target type='virtio' name='ovirt-guest-agent.0'/><alias name='ua-{UUID}'/></channel>",
    f"<channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0' state='disconnected'/>{vser(3)}"
    "</channel>",
    "<channel type='qemu-vdagent'><source><clipboard copypaste='yes'/><mouse mode='server'/></source>"
    "<target type='virtio' name='com.redhat.spice.0'/></channel>",
    "<channel type='dbus'><source channel='org.example.bus'/><target type='virtio' name='org.example.bus'/></channel>",
    "<channel type='spiceport'><source channel='org.spice-space.webdav.0'/>"
    "<target type='virtio' name='org.spice-space.webdav.0'/></channel>",
    "<channel type='pty'><target type='virtio' name='org.example.debug'/></channel>",
    "<channel type='tcp'><source mode='connect' host='127.0.0.1' service='8765'/><protocol type='raw'/>"
    "<log file='/var/log/vm/metrics.log' append='off'/><target type='virtio' name='org.example.metrics'/></channel>",
    "<channel type='pipe'><source path='/run/vm/fwd'/><target type='guestfwd' address='10.0.2.1' port='4600'/>"
    "</channel>",
    "<channel type='pty'><target type='xen' name='org.example.xen'/></channel>",
    "<channel type='unix'><target type='virtio'/></channel>",
]
PARALLELS = [
    "<parallel type='pty' tty='/dev/pts/8'><source path='/dev/pts/8'/><target port='0'/>"
    "<alias name='parallel0'/></parallel>",
    "<parallel type='file'><source path='/var/spool/vm/lpt1.prn' append='on'/><target port='1'/></parallel>",
    "<parallel type='dev'><source path='/dev/parport0'/><target port='2'/></parallel>",
    "<parallel type='udp'><source service='9100'/><target port='3'/></parallel>",
    "<parallel type='unix'><source mode='bind' path='/run/vm/lpt.sock'/><target port='0'/>"
    "<address type='isa' iobase='0x378'/></parallel>",
]
# The schema's shared chardev target (qemucdevTgtDef) on a console and a parallel port:
# a console's <model>, a parallel port's type and <model>.
SHARED_TARGETS = [
    "<console type='pty'><target type='serial' port='0'><model name='isa-serial'/></target></console>",
    "<parallel type='pty'><target type='isa-serial' port='0'/></parallel>",
    "<parallel type='file'><source path='/var/spool/vm/lpt2.prn'/><target type='xen' port='1'>"
    "<model name='16550a'/></target></parallel>",
]
SAMPLES = SERIALS + CONSOLES + CHANNELS + PARALLELS + SHARED_TARGETS

# Newer than the libvirt 9.0 schema here (reconnect delay: libvirt 11's shared reconnect).
NEWER = [
    "<serial type='unix'><source mode='connect' path='/run/vm/s.sock'><reconnect delay='5'/></source>"
    "<target port='19'/></serial>",
]

TestContract = contract_tests("chardev", samples=SAMPLES + NEWER)

KINDS = {"serial": Serial, "console": Console, "channel": Channel, "parallel": Parallel}


registry = plugin_registry("chardev")


def _one(registry: devframe.Registry, xml: str) -> Any:
    device = one_device(registry, xml)
    assert isinstance(device, tuple(KINDS.values()))
    return device


def _type_of(xml: str) -> str | None:
    return etree.fromstring(xml).get("type")


# -- samples cover the schema ---------------------------------------------------------------


def test_samples_are_schema_valid() -> None:
    for sample in SAMPLES:
        assert not validate_against_schema(wrap_in_domain(sample)), sample
    assert validate_against_schema(wrap_in_domain(NEWER[0]))  # delay: not in libvirt 9.0's schema


def test_samples_cover_every_variant(registry: devframe.Registry) -> None:
    assert {_type_of(s) for s in SERIALS} == set(CHAR_TYPES)
    serials = [_one(registry, s) for s in SERIALS]
    assert {s.target_type for s in serials} - {None} == set(SERIAL_TARGET_TYPES)
    assert {s.target_model for s in serials} - {None} == set(SERIAL_TARGET_MODELS)
    assert {_one(registry, s).console_type for s in CONSOLES} - {None} == set(CONSOLE_TARGET_TYPES)
    assert {_one(registry, s).target_type for s in CHANNELS} == set(CHANNEL_TARGET_TYPES)
    modes = {(s.mode or "") for sample in SAMPLES for s in _one(registry, sample).sources}
    assert {"bind", "connect"} <= modes
    protocols = {_one(registry, s).protocol for s in SAMPLES} - {None}
    assert protocols == {"raw", "telnet", "telnets", "tls"}


def test_every_kind_parses_into_its_class(registry: devframe.Registry) -> None:
    for group, cls in ((SERIALS, Serial), (CONSOLES, Console), (CHANNELS, Channel), (PARALLELS, Parallel)):
        for sample in group:
            device = _one(registry, sample)
            assert type(device) is cls and device.dev_type == cls.dev_type
            assert device.problems() == [], sample


# -- typed fields ----------------------------------------------------------------------------


def test_serial_fields(registry: devframe.Registry) -> None:
    serial = _one(registry, SERIALS[0])
    assert (serial.char_type, serial.tty, serial.target_type, serial.port, serial.target_model) == (
        "pty", "/dev/pts/4", "isa-serial", 0, "isa-serial",
    )  # fmt: skip
    assert (serial.log_file, serial.log_append, serial.acpi_index, serial.alias) == (
        "/var/log/libvirt/qemu/vm-serial0.log", True, 3, "serial0",
    )  # fmt: skip
    assert [s.path for s in serial.sources] == ["/dev/pts/4"]


def test_console_channel_parallel_fields(registry: devframe.Registry) -> None:
    console = _one(registry, CONSOLES[0])
    assert (console.char_type, console.console_type, console.port) == ("unix", "serial", 0)
    assert console.device_id == UUID
    agent = _one(registry, CHANNELS[0])
    assert (agent.char_type, agent.target_type, agent.name, agent.state) == (
        "unix", "virtio", "org.qemu.guest_agent.0", "connected",
    )  # fmt: skip
    assert agent.address == {"type": "virtio-serial", "controller": "0", "bus": "0", "port": "1"}
    fwd = _one(registry, CHANNELS[8])
    assert (fwd.target_type, fwd.target_address, fwd.target_port, fwd.name) == ("guestfwd", "10.0.2.1", 4600, None)
    parallel = _one(registry, PARALLELS[4])
    assert (parallel.char_type, parallel.port, parallel.address) == (
        "unix", 0, {"type": "isa", "iobase": "0x378"},
    )  # fmt: skip


# -- editing ---------------------------------------------------------------------------------


def test_editing_target_fields_changes_only_them(registry: devframe.Registry) -> None:
    serial = _one(registry, SERIALS[0])
    expected = copy.deepcopy(serial.element)
    serial.port = 3
    expected.find("target").set("port", "3")
    serial.target_model = "16550a"
    expected.find("target/model").set("name", "16550a")
    assert canonical(serial.to_xml()) == canonical(expected)

    channel = _one(registry, CHANNELS[0])
    expected = copy.deepcopy(channel.element)
    channel.state = None
    del expected.find("target").attrib["state"]
    channel.sources = [{"mode": "bind", "path": "/run/agent.sock"}]
    expected.find("source").set("path", "/run/agent.sock")
    assert canonical(channel.to_xml()) == canonical(expected)


def test_new_target_goes_before_alias_and_address(registry: devframe.Registry) -> None:
    console = _one(registry, "<console type='pty'><alias name='console0'/><acpi index='1'/></console>")
    console.port = 0
    console.sources = [{"path": "/dev/pts/1"}]
    assert [c.tag for c in console.element] == ["source", "target", "alias", "acpi"]


# -- dev_spec --------------------------------------------------------------------------------


def test_vdsm_console_spec(registry: devframe.Registry) -> None:
    spec = {"type": "console", "device": "console", "specParams": {"consoleType": "serial", "enableSocket": True}}
    console = registry.device_from_spec(spec)
    assert isinstance(console, Console)
    assert canonical(console.to_xml()) == canonical(
        "<console type='unix'><source mode='bind'/><target type='serial'/></console>"
    )
    assert not validate_against_schema(wrap_in_domain(console.to_xml()))
    assert console.to_spec() == {
        "type": "console",
        "device": "console",
        "specParams": {"consoleType": "serial", "type": "unix", "sources": [{"mode": "bind"}], "enableSocket": True},
    }
    plain = registry.device_from_spec({"type": "console", "device": "console", "specParams": {"consoleType": "virtio"}})
    assert canonical(plain.to_xml()) == canonical("<console type='pty'><target type='virtio'/></console>")
    assert "enableSocket" not in plain.to_spec()["specParams"]


def test_vdsm_console_socket_is_the_source_path(registry: devframe.Registry) -> None:
    path = f"/var/run/ovirt-vmconsole-console/{VMID}.sock"
    spec = {
        "type": "console",
        "device": "console",
        "specParams": {"consoleType": "serial", "enableSocket": "true", "sources": [{"mode": "bind", "path": path}]},
    }
    console = registry.device_from_spec(spec)
    assert canonical(console.to_xml()) == canonical(
        f"<console type='unix'><source mode='bind' path='{path}'/><target type='serial'/></console>"
    )
    assert console.to_spec()["specParams"]["enableSocket"] is True
    assert _one(registry, CONSOLES[0]).to_spec()["specParams"]["sources"] == [{"mode": "bind", "path": path}]


def test_vdsm_channel_spec(registry: devframe.Registry) -> None:
    path = f"/var/lib/libvirt/qemu/channels/{VMID}.org.qemu.guest_agent.0"
    spec = {
        "type": "channel",
        "device": "unix",
        "deviceId": UUID,
        "specParams": {"name": "org.qemu.guest_agent.0", "sources": [{"mode": "bind", "path": path}]},
    }
    channel = registry.device_from_spec(spec)
    assert canonical(channel.to_xml()) == canonical(
        f"<channel type='unix'><source mode='bind' path='{path}'/>"
        f"<target type='virtio' name='org.qemu.guest_agent.0'/><alias name='ua-{UUID}'/></channel>"
    )
    assert channel.to_spec() == {
        "type": "channel",
        "device": "unix",
        "alias": f"ua-{UUID}",
        "deviceId": UUID,
        "specParams": {
            "targetType": "virtio",
            "name": "org.qemu.guest_agent.0",
            "sources": [{"mode": "bind", "path": path}],
        },
    }
    spice = registry.device_from_spec(
        {"type": "channel", "device": "spicevmc", "specParams": {"name": "com.redhat.spice.0"}}
    )
    assert spice.to_xml() == '<channel type="spicevmc"><target type="virtio" name="com.redhat.spice.0"/></channel>'


@pytest.mark.parametrize(
    ("dev_type", "xml"),
    [
        ("serial", "<serial type='pty'/>"),
        ("console", "<console type='pty'/>"),
        ("channel", "<channel type='unix'><target type='virtio'/></channel>"),
        ("parallel", "<parallel type='pty'/>"),
    ],
)
def test_minimal_spec_gets_libvirt_defaults(registry: devframe.Registry, dev_type: str, xml: str) -> None:
    device = registry.device_from_spec({"type": dev_type})
    assert isinstance(device, KINDS[dev_type])
    assert canonical(device.to_xml()) == canonical(xml)
    assert not validate_against_schema(wrap_in_domain(device.to_xml()))


def test_every_documented_key(registry: devframe.Registry) -> None:
    serial = registry.device_from_spec(
        {
            "type": "serial", "device": "tcp", "alias": "ua-s", "address": {"type": "isa", "iobase": "0x3f8"},
            "specParams": {
                "tty": "/dev/pts/1", "acpiIndex": 2, "targetType": "isa-serial", "port": "0",
                "targetModel": "isa-serial", "protocol": "telnet",
                "log": {"file": "/var/log/s.log", "append": "on"},
                "sources": [{"mode": "bind", "host": "::", "service": "4000", "tls": "yes",
                             "reconnect": {"enabled": True, "timeout": 3}}],
            },
        }
    )  # fmt: skip
    expected = (
        "<serial type='tcp' tty='/dev/pts/1'><source mode='bind' host='::' service='4000' tls='yes'>"
        "<reconnect enabled='yes' timeout='3'/></source><protocol type='telnet'/>"
        "<log file='/var/log/s.log' append='on'/><target type='isa-serial' port='0'><model name='isa-serial'/>"
        "</target><alias name='ua-s'/><acpi index='2'/><address type='isa' iobase='0x3f8'/></serial>"
    )
    assert canonical(serial.to_xml()) == canonical(expected)
    assert [c.tag for c in serial.element] == ["source", "protocol", "log", "target", "alias", "acpi", "address"]
    assert not validate_against_schema(wrap_in_domain(serial.to_xml()))

    fwd = registry.device_from_spec(
        {"type": "channel", "device": "pipe", "specParams": {"targetType": "guestfwd", "targetAddress": "10.0.2.1",
         "targetPort": "4600", "sources": [{"path": "/run/fwd"}]}}
    )  # fmt: skip
    assert canonical(fwd.to_xml()) == canonical(
        "<channel type='pipe'><source path='/run/fwd'/><target type='guestfwd' address='10.0.2.1' port='4600'/>"
        "</channel>"
    )
    xen = registry.device_from_spec(
        {"type": "channel", "device": "pty", "specParams": {"targetType": "xen", "name": "x"}}
    )
    assert xen.to_xml() == '<channel type="pty"><target type="xen" name="x"/></channel>'
    state = registry.device_from_spec({"type": "channel", "specParams": {"name": "n", "state": "connected"}})
    assert state.to_xml() == '<channel type="unix"><target type="virtio" name="n" state="connected"/></channel>'
    parallel = registry.device_from_spec(
        {"type": "parallel", "device": "file", "specParams": {"port": 1, "sources": [{"path": "/p", "append": True}]}}
    )
    assert parallel.to_xml() == '<parallel type="file"><source path="/p" append="on"/><target port="1"/></parallel>'


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"type": "serial", "specParams": {"port": "first"}}, "specParams.port"),
        ({"type": "serial", "device": 3}, "device"),
        ({"type": "console", "device": "pty"}, "device"),
        ({"type": "console", "specParams": {"enableSocket": "perhaps"}}, "specParams.enableSocket"),
        ({"type": "console", "specParams": {"enableSocket": True, "type": "tcp"}}, "specParams.enableSocket"),
        ({"type": "console", "specParams": {"enableSocket": False, "type": "unix"}}, "specParams.enableSocket"),
        ({"type": "channel", "specParams": {"targetType": "guestfwd", "targetPort": 1}}, "specParams.targetAddress"),
        ({"type": "channel", "specParams": {"targetType": "guestfwd", "targetAddress": "a"}}, "specParams.targetPort"),
        ({"type": "channel", "specParams": {"targetType": "guestfwd", "targetAddress": "a", "targetPort": 1,
                                            "name": "n"}}, "specParams.name"),
        ({"type": "channel", "specParams": {"targetAddress": "10.0.2.1"}}, "specParams.targetAddress"),
        ({"type": "channel", "specParams": {"targetType": "xen", "state": "connected"}}, "specParams.state"),
        ({"type": "channel", "specParams": {"targetPort": "x"}}, "specParams.targetPort"),
    ],
)  # fmt: skip
def test_unusable_spec_values_name_the_key(registry: devframe.Registry, spec: dict[str, Any], key: str) -> None:
    assert_spec_refused(registry, spec, key)


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "serial", "device": "file"},
        {"type": "serial", "device": "tcp", "specParams": {"sources": [{"host": "h"}]}},
        {"type": "parallel", "device": "spiceport"},
    ],
)
def test_a_source_libvirt_refuses_is_built_and_reported(registry: devframe.Registry, spec: dict[str, Any]) -> None:
    """Valid in libvirt's schema (every part of a source is optional): built as given,
    reported as when read from XML, and its spec round-trips."""
    device = registry.device_from_spec(spec)
    assert any("character device needs" in problem for problem in device.problems())
    assert_spec_round_trip(registry, device)


def test_spec_round_trip_of_every_sample(registry: devframe.Registry) -> None:
    for sample in SAMPLES + NEWER:
        assert_spec_round_trip(registry, _one(registry, sample), sample)


def test_spec_keys(registry: devframe.Registry) -> None:
    assert _one(registry, SERIALS[9]).to_spec() == {
        "type": "serial",
        "device": "udp",
        "specParams": {
            "targetType": "isa-debug",
            "port": 9,
            "targetModel": "isa-debugcon",
            "sources": [
                {"mode": "bind", "host": "0.0.0.0", "service": "9002"},
                {"mode": "connect", "host": "192.0.2.200", "service": "9001"},
            ],
        },
    }
    assert _one(registry, CONSOLES[1]).to_spec()["specParams"] == {
        "tty": "/dev/pts/5", "consoleType": "virtio", "port": 1, "type": "pty", "sources": [{"path": "/dev/pts/5"}],
    }  # fmt: skip
    assert _one(registry, CHANNELS[3]).to_spec()["specParams"] == {
        "targetType": "virtio",
        "name": "com.redhat.spice.0",
        "sources": [{"clipboard": {"copypaste": True}, "mouse": {"mode": "server"}}],
    }


# -- identity and summary ------------------------------------------------------------------


def test_identity(registry: devframe.Registry) -> None:
    assert _one(registry, SERIALS[0]).identity() == {"devtype": "serial", "target_type": "isa-serial", "port": "0"}
    assert _one(registry, SERIALS[10]).identity() == {"devtype": "serial", "port": "10"}
    assert _one(registry, CONSOLES[0]).identity() == {"devtype": "console", "target_type": "serial", "port": "0"}
    assert _one(registry, CONSOLES[-1]).identity() is None  # no target: matched by order
    assert _one(registry, "<console type='pty'><target type='virtio'/></console>").identity() is None
    assert _one(registry, CHANNELS[0]).identity() == {
        "devtype": "channel", "target_type": "virtio", "name": "org.qemu.guest_agent.0",
    }  # fmt: skip
    assert _one(registry, CHANNELS[8]).identity() == {
        "devtype": "channel", "target_type": "guestfwd", "address": "10.0.2.1", "port": "4600",
    }  # fmt: skip
    assert _one(registry, CHANNELS[9]).identity() == {
        "devtype": "channel",
        "target_type": "xen",
        "name": "org.example.xen",
    }
    assert _one(registry, CHANNELS[10]).identity() is None  # an unnamed virtio port
    assert _one(registry, PARALLELS[1]).identity() == {"devtype": "parallel", "port": "1"}
    assert _one(registry, "<parallel type='pty'><target port='0x1'/></parallel>").identity()["port"] == "1"
    assert _one(registry, "<serial type='pty'><target port='COM1'/></serial>").identity()["port"] == "COM1"
    assert _one(registry, "<channel type='pty'/>").identity() is None
    assert _one(registry, "<channel type='pty'><target type='guestfwd' port='1'/></channel>").identity() is None


def test_identity_keys_metadata_without_an_alias(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(CHANNELS[4], CHANNELS[2], SERIALS[1]), registry=registry)
    agent = domain.devices[1]
    agent.metadata["vdsmName"] = "spice-agent"
    assert agent.alias is None
    again = devframe.parse_domain(domain.to_xml(), registry=registry)
    assert again.devices[1].metadata.get("vdsmName") == "spice-agent"
    assert not again.devices[0].has_metadata


def test_summary(registry: devframe.Registry) -> None:
    assert _one(registry, SERIALS[9]).summary() == {
        "char_type": "udp",
        "source": "udp bind 0.0.0.0:9002 connect 192.0.2.200:9001",
        "target_type": "isa-debug",
        "port": "9",
        "target_model": "isa-debugcon",
    }
    assert _one(registry, CHANNELS[0]).summary()["name"] == "org.qemu.guest_agent.0"
    assert _one(registry, SERIALS[10]).summary() == {"char_type": "null", "port": "10"}  # no source to show
    assert _one(registry, CONSOLES[0]).summary()["source"].startswith("unix bind /var/run/ovirt-vmconsole-console/")
    assert _one(registry, "<parallel type='pty'><target port='x'/></parallel>").summary()["port"] == "<invalid 'x'>"


def test_nothing_is_secret() -> None:
    """tls='yes' is a switch; libvirt's chardevs hold no password."""
    for cls in KINDS.values():
        assert not [name for name, field in cls.fields.items() if field.secret]


def test_devices_without_identity_key_metadata_by_alias(registry: devframe.Registry) -> None:
    """Two port-less consoles share no identity: each entry is keyed by its own alias."""
    consoles = [f"<console type='pty'><target type='virtio'/><alias name='ua-c{n}'/></console>" for n in (1, 2)]
    domain = devframe.parse_domain(wrap_in_domain(*consoles), registry=registry)
    for number, console in enumerate(domain.devices, 1):
        console.metadata["n"] = number
    again = devframe.parse_domain(domain.to_xml(), registry=registry)
    assert [d.metadata.get("n") for d in again.devices] == [1, 2]


def test_a_socket_console_without_a_source_round_trips(registry: devframe.Registry) -> None:
    """QEMU names the socket of a unix console without a path: nothing is added to it."""
    xml = "<console type='unix'><target type='virtio' port='2'/></console>"
    console = _one(registry, xml)
    spec = console.to_spec()
    assert spec["specParams"] == {"consoleType": "virtio", "port": 2, "type": "unix", "enableSocket": True}
    assert canonical(registry.device_from_spec(spec).to_xml()) == canonical(xml)


def test_a_console_without_type_round_trips(registry: devframe.Registry) -> None:
    """The schema's tty-only console (no @type, libvirt reads pty) keeps having none."""
    xml = "<console tty='/dev/pts/2'/>"
    assert not validate_against_schema(wrap_in_domain(xml))
    console = _one(registry, xml)
    assert console.char_type is None and console.problems() == []
    spec = console.to_spec()
    assert spec["specParams"] == {"tty": "/dev/pts/2", "type": ""}
    assert canonical(registry.device_from_spec(spec).to_xml()) == canonical(xml)
    with pytest.raises(devframe.SpecError, match="enableSocket"):
        registry.device_from_spec({"type": "console", "specParams": {"type": "", "enableSocket": True}})


@pytest.mark.parametrize(
    ("dev_type", "xml"),
    [
        ("serial", "<serial><target port='0'/></serial>"),
        ("parallel", "<parallel><target port='0'/></parallel>"),
        ("channel", "<channel><target type='virtio' name='n'/></channel>"),
    ],
)
def test_an_element_without_chardev_type_round_trips(registry: devframe.Registry, dev_type: str, xml: str) -> None:
    device = _one(registry, xml)
    spec = device.to_spec()
    assert spec["device"] == dev_type  # the kind's own name: no chardev type
    assert canonical(registry.device_from_spec(spec).to_xml()) == canonical(xml)


def test_a_channel_without_target_type_is_a_problem(registry: devframe.Registry) -> None:
    for xml in ("<channel type='pty'/>", "<channel type='pty'><target name='x'/></channel>"):
        assert _one(registry, xml).problems() == ["a channel needs a <target type>"]


def test_editing_console_and_parallel_fields_changes_only_them(registry: devframe.Registry) -> None:
    console = _one(registry, CONSOLES[1])
    expected = copy.deepcopy(console.element)
    console.console_type = "serial"
    expected.find("target").set("type", "serial")
    console.port = 0
    expected.find("target").set("port", "0")
    console.tty = "/dev/pts/6"
    expected.set("tty", "/dev/pts/6")
    assert canonical(console.to_xml()) == canonical(expected)

    parallel = _one(registry, PARALLELS[1])
    expected = copy.deepcopy(parallel.element)
    parallel.sources[0].append = False
    expected.find("source").set("append", "off")
    parallel.port = 2
    expected.find("target").set("port", "2")
    parallel.char_type = "pipe"
    expected.set("type", "pipe")
    assert canonical(parallel.to_xml()) == canonical(expected)


def test_every_documented_console_key(registry: devframe.Registry) -> None:
    console = registry.device_from_spec(
        {
            "type": "console", "device": "console", "alias": "ua-c",
            "specParams": {
                "type": "tcp", "consoleType": "virtio", "port": 1, "tty": "/dev/pts/9", "acpiIndex": 3,
                "sources": [{"mode": "bind", "host": "127.0.0.1", "service": "2445"}], "protocol": "telnet",
                "log": {"file": "/var/log/c.log", "append": True},
            },
        }
    )  # fmt: skip
    assert canonical(console.to_xml()) == canonical(
        "<console type='tcp' tty='/dev/pts/9'><source mode='bind' host='127.0.0.1' service='2445'/>"
        "<protocol type='telnet'/><log file='/var/log/c.log' append='on'/><target type='virtio' port='1'/>"
        "<alias name='ua-c'/><acpi index='3'/></console>"
    )
    assert not validate_against_schema(wrap_in_domain(console.to_xml()))


# -- the schema's shared target on consoles and parallel ports ---------------------------------


def test_shared_target_paths_are_fields(registry: devframe.Registry) -> None:
    console = _one(registry, SHARED_TARGETS[0])
    assert (console.console_type, console.port, console.target_model) == ("serial", 0, "isa-serial")
    parallel = _one(registry, SHARED_TARGETS[2])
    assert (parallel.target_type, parallel.port, parallel.target_model) == ("xen", 1, "16550a")
    assert set(PARALLEL_TARGET_TYPES) == set(CONSOLE_TARGET_TYPES) | set(SERIAL_TARGET_TYPES)


@pytest.mark.parametrize(
    ("xml", "key", "value"),
    [
        ("<console type='pty'><target><model name='isa-serial'/></target></console>", "targetModel", "isa-serial"),
        ("<console type='pty'><target type='virtio' port='2'/></console>", "consoleType", "virtio"),
        ("<console type='pty'><target type='virtio' port='2'/></console>", "port", 2),
        ("<parallel type='pty'><target type='isa-serial'/></parallel>", "targetType", "isa-serial"),
        ("<parallel type='pty'><target type='sclp'/></parallel>", "targetType", "sclp"),
        ("<parallel type='pty'><target><model name='pl011'/></target></parallel>", "targetModel", "pl011"),
    ],
)
def test_each_shared_target_path_round_trips_and_validates(
    registry: devframe.Registry, xml: str, key: str, value: object
) -> None:
    spec = assert_spec_round_trip(registry, _one(registry, xml))
    assert spec["specParams"][key] == value
    built = registry.device_from_spec(spec).to_xml()
    assert canonical(built) == canonical(xml)
    assert not validate_against_schema(wrap_in_domain(built))


def test_parallel_target_from_a_spec(registry: devframe.Registry) -> None:
    built = registry.device_from_spec(
        {"type": "parallel", "device": "pty", "specParams": {"targetType": "isa-serial", "targetModel": "16550a"}}
    )
    assert canonical(built.to_xml()) == canonical(
        "<parallel type='pty'><target type='isa-serial'><model name='16550a'/></target></parallel>"
    )
    with pytest.raises(devframe.SpecError, match="targetModel"):
        registry.device_from_spec({"type": "parallel", "device": "pty", "specParams": {"targetModel": 3}})
