"""Tests of the redir plugin (redirdev, redirfilter), runnable with only the core and this
plugin installed."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from devframe_redir import Redirdev, Redirfilter, UsbDevRule

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

UUID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
USB = "<controller type='usb' index='0' model='qemu-xhci'/>"


def usb(port: int) -> str:
    return f"<address type='usb' bus='0' port='{port}'/>"


SPICE = "<redirdev bus='usb' type='spicevmc'/>"
REDIRDEVS = [
    SPICE,
    f"<redirdev bus='usb' type='spicevmc'><alias name='ua-{UUID}'/>{usb(3)}</redirdev>",
    "<redirdev bus='usb' type='spicevmc'><boot order='2'/><alias name='redir1'/></redirdev>",
    "<redirdev bus='usb' type='tcp'><source mode='connect' host='usbserver.example.net' service='4000'/>"
    f"{usb(4)}</redirdev>",
    "<redirdev bus='usb' type='tcp'><source mode='connect' host='192.0.2.3' service='4001'>"
    "<reconnect enabled='yes' timeout='10'/></source><protocol type='raw'/>"
    "<log file='/var/log/vm/usbredir.log' append='on'/></redirdev>",
    "<redirdev bus='usb' type='unix'><source mode='connect' path='/run/usbredir.sock'/></redirdev>",
    "<redirdev bus='usb' type='udp'><source mode='connect' host='192.0.2.4' service='4002'/></redirdev>",
    "<redirdev bus='usb' type='pty'/>",
    "<redirdev bus='usb' type='dev'><source path='/dev/ttyUSB1'/></redirdev>",
    "<redirdev bus='usb' type='file'><source path='/var/lib/usbredir.raw'/></redirdev>",
    "<redirdev bus='usb' type='pipe'><source path='/run/usbredir.pipe'/></redirdev>",
    "<redirdev bus='usb' type='null'/>",
    "<redirdev bus='usb' type='stdio'/>",
    "<redirdev bus='usb' type='vc'/>",
    "<redirdev bus='usb' type='spiceport'><source channel='org.spice.usbredir'/></redirdev>",
    "<redirdev bus='usb' type='nmdm'><source master='/dev/nmdm2A' slave='/dev/nmdm2B'/></redirdev>",
    "<redirdev bus='usb' type='qemu-vdagent'/>",
    "<redirdev bus='usb' type='dbus'><source channel='org.example.usb'/></redirdev>",
]
FILTERS = [
    "<redirfilter><usbdev class='0x08' vendor='0x15E1' product='0x2007' version='1.10' allow='yes'/>"
    "<usbdev class='0x03' allow='yes'/><usbdev class='-1' vendor='-1' product='-1' version='-1' allow='no'/>"
    "</redirfilter>",
    "<redirfilter><usbdev allow='no'/></redirfilter>",
    "<redirfilter/>",
]
SAMPLES = [f"<domain type='kvm'><name>redir</name><uuid>00000000-0000-0000-0000-000000000002</uuid>"
           f"<memory unit='KiB'>1048576</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>"
           f"<devices>{USB}{''.join(REDIRDEVS)}{FILTERS[0]}</devices></domain>",
           *REDIRDEVS, *FILTERS]  # fmt: skip

TestContract = contract_tests("redir", samples=SAMPLES)


registry = plugin_registry("redir")


def _one(registry: devframe.Registry, xml: str) -> Any:
    device = one_device(registry, xml)
    assert isinstance(device, (Redirdev, Redirfilter))
    return device


# -- samples ---------------------------------------------------------------------------------


def test_samples_are_schema_valid() -> None:
    for sample in REDIRDEVS + FILTERS:
        assert not validate_against_schema(wrap_in_domain(USB, sample)), sample
    assert not validate_against_schema(SAMPLES[0])


def test_samples_cover_every_chardev_type(registry: devframe.Registry) -> None:
    devices = [_one(registry, s) for s in REDIRDEVS]
    assert {d.char_type for d in devices} == set(CHAR_TYPES)
    assert all(type(d) is Redirdev and d.problems() == [] for d in devices)


# -- redirdev ----------------------------------------------------------------------------------


def test_redirdev_fields(registry: devframe.Registry) -> None:
    spice = _one(registry, REDIRDEVS[1])
    assert (spice.bus, spice.char_type, spice.device_id, spice.address) == (
        "usb", "spicevmc", UUID, {"type": "usb", "bus": "0", "port": "3"},
    )  # fmt: skip
    assert _one(registry, REDIRDEVS[2]).boot_order == 2
    tcp = _one(registry, REDIRDEVS[4])
    (source,) = tcp.sources
    assert (source.host, source.service, source.reconnect_enabled, source.reconnect_timeout) == (
        "192.0.2.3", "4001", True, 10,
    )  # fmt: skip
    assert (tcp.protocol, tcp.log_file, tcp.log_append) == ("raw", "/var/log/vm/usbredir.log", True)


def test_editing_redirdev_fields_changes_only_them(registry: devframe.Registry) -> None:
    tcp = _one(registry, REDIRDEVS[3])
    expected = copy.deepcopy(tcp.element)
    tcp.sources[0].host = "usbserver2.example.net"
    expected.find("source").set("host", "usbserver2.example.net")
    tcp.boot_order = 1
    boot = expected.makeelement("boot", {"order": "1"})
    expected.find("address").addprevious(boot)
    assert canonical(tcp.to_xml()) == canonical(expected)
    assert [c.tag for c in tcp.element] == ["source", "boot", "address"]


def test_vdsm_redir_spec(registry: devframe.Registry) -> None:
    spec = {"type": "redir", "device": "spicevmc", "specParams": {}}
    device = registry.device_from_spec(spec)
    assert isinstance(device, Redirdev) and device.dev_type == "redirdev"
    assert canonical(device.to_xml()) == canonical(SPICE)
    assert device.to_spec() == spec
    assert _one(registry, SPICE).to_spec() == spec
    # libvirt's tag builds it too
    assert isinstance(registry.device_from_spec({"type": "redirdev", "device": "tcp", "specParams": {
        "sources": [{"host": "h", "service": "1"}]}}), Redirdev)  # fmt: skip


def test_minimal_spec_gets_defaults(registry: devframe.Registry) -> None:
    device = registry.device_from_spec({"type": "redir"})
    assert canonical(device.to_xml()) == canonical(SPICE)
    assert not validate_against_schema(wrap_in_domain(USB, device.to_xml()))
    assert registry.device_from_spec({"type": "redirfilter"}).to_xml() == "<redirfilter/>"


def test_every_documented_redirdev_key(registry: devframe.Registry) -> None:
    device = registry.device_from_spec(
        {
            "type": "redir",
            "device": "tcp",
            "deviceId": UUID,
            "address": {"type": "usb", "bus": "0", "port": "5"},
            "bootOrder": "3",
            "specParams": {
                "bus": "usb",
                "bootLoadparm": "A1",
                "sources": [{"mode": "connect", "host": "h.example.net", "service": "4000", "tls": False}],
                "protocol": "raw",
                "log": {"file": "/var/log/r.log", "append": "off"},
            },
        }
    )
    expected = (
        "<redirdev bus='usb' type='tcp'><source mode='connect' host='h.example.net' service='4000' tls='no'/>"
        "<protocol type='raw'/><log file='/var/log/r.log' append='off'/><boot order='3' loadparm='A1'/>"
        f"<alias name='ua-{UUID}'/>{usb(5)}</redirdev>"
    )
    assert canonical(device.to_xml()) == canonical(expected)
    assert [c.tag for c in device.element] == ["source", "protocol", "log", "boot", "alias", "address"]
    assert not validate_against_schema(wrap_in_domain(USB, device.to_xml()))
    assert device.to_spec()["specParams"] == {
        "bootLoadparm": "A1",
        "sources": [{"mode": "connect", "host": "h.example.net", "service": "4000", "tls": False}],
        "protocol": "raw",
        "log": {"file": "/var/log/r.log", "append": False},
    }


def test_a_bus_other_than_usb_travels_in_the_spec(registry: devframe.Registry) -> None:
    odd = _one(registry, "<redirdev bus='future' type='spicevmc'/>")
    assert odd.to_spec()["specParams"] == {"bus": "future"}
    assert registry.device_from_spec(odd.to_spec()).to_xml() == '<redirdev bus="future" type="spicevmc"/>'


#: schema-valid redirdevs libvirt itself refuses (it needs a source's host and service,
#: path or channel): parsed or built from a spec, they are kept and reported
SOURCELESS = [
    "<redirdev bus='usb' type='tcp'/>",
    "<redirdev bus='usb' type='tcp'><source host='h'/></redirdev>",
    "<redirdev bus='usb' type='spiceport'/>",
    "<redirdev bus='usb' type='file'/>",
    "<redirdev bus='usb' type='udp'><source mode='bind' service='4000'/></redirdev>",
    "<redirdev bus='usb' type='nmdm'><source master='/dev/nmdm2A'/></redirdev>",
]


@pytest.mark.parametrize("xml", SOURCELESS)
def test_a_redirdev_without_the_source_libvirt_needs_round_trips(registry: devframe.Registry, xml: str) -> None:
    assert not validate_against_schema(wrap_in_domain(USB, xml)), "valid per libvirt's schema"
    redirdev = _one(registry, xml)
    assert redirdev.problems(), "what libvirt refuses is reported"
    spec = assert_spec_round_trip(registry, redirdev, xml)
    assert registry.device_from_spec(spec).problems() == redirdev.problems()


@pytest.mark.parametrize("char_type", CHAR_TYPES)
def test_every_chardev_type_without_a_source_round_trips(registry: devframe.Registry, char_type: str) -> None:
    redirdev = _one(registry, f"<redirdev bus='usb' type='{char_type}'/>")
    spec = redirdev.to_spec()
    assert spec == {"type": "redir", "device": char_type, "specParams": {}}
    assert registry.device_from_spec(spec).to_spec() == spec


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"device": 1}, "device"),
        ({"specParams": {"bus": 3}}, "specParams.bus"),
        ({"bootOrder": "first"}, "bootOrder"),
        ({"specParams": {"sources": [{"mode": "connect", "reconnect": {"enabled": "sometimes"}}]}}, "reconnect"),
    ],
)
def test_unusable_redirdev_spec_values_name_the_key(
    registry: devframe.Registry, spec: dict[str, Any], key: str
) -> None:
    assert_spec_refused(registry, {"type": "redir", **spec}, key)


def test_redirdev_identity(registry: devframe.Registry) -> None:
    assert _one(registry, REDIRDEVS[1]).identity() == {
        "devtype": "redirdev", "type": "spicevmc", "address": "bus=0,port=3,type=usb",
    }  # fmt: skip
    assert _one(registry, REDIRDEVS[3]).identity() == {
        "devtype": "redirdev", "type": "tcp", "address": "bus=0,port=4,type=usb",
    }  # fmt: skip
    assert _one(registry, SPICE).identity() is None  # alike until libvirt addresses them


def test_alike_redirdevs_keep_their_own_metadata(registry: devframe.Registry) -> None:
    """The engine's several spicevmc redirdevs have no address: metadata is keyed by alias."""
    xml = [f"<redirdev bus='usb' type='spicevmc'><alias name='ua-r{n}'/></redirdev>" for n in range(3)]
    domain = devframe.parse_domain(wrap_in_domain(USB, *xml), registry=registry)
    for number, device in enumerate(domain.dev_map["redirdev"]):
        device.metadata["slot"] = number
    again = devframe.parse_domain(domain.to_xml(), registry=registry)
    assert [d.metadata.get("slot") for d in again.dev_map["redirdev"]] == [0, 1, 2]


def test_redirdev_summary(registry: devframe.Registry) -> None:
    assert _one(registry, REDIRDEVS[2]).summary() == {"char_type": "spicevmc", "boot_order": "2"}
    assert _one(registry, REDIRDEVS[3]).summary() == {
        "char_type": "tcp", "source": "tcp connect usbserver.example.net:4000",
    }  # fmt: skip


# -- redirfilter -------------------------------------------------------------------------------


def test_redirfilter_fields_and_spec(registry: devframe.Registry) -> None:
    rules = _one(registry, FILTERS[0])
    assert isinstance(rules, Redirfilter) and rules.dev_type == "redirfilter"
    items = rules.usbdevs
    assert all(isinstance(item, UsbDevRule) for item in items)
    assert [(r.usb_class, r.vendor, r.product, r.version, r.allow) for r in items] == [
        ("0x08", "0x15E1", "0x2007", "1.10", True),
        ("0x03", None, None, None, True),
        ("-1", "-1", "-1", "-1", False),
    ]
    spec = rules.to_spec()
    assert spec == {
        "type": "redirfilter",
        "device": "redirfilter",
        "specParams": {
            "usbdevs": [
                {"class": "0x08", "vendor": "0x15E1", "product": "0x2007", "version": "1.10", "allow": True},
                {"class": "0x03", "allow": True},
                {"class": "-1", "vendor": "-1", "product": "-1", "version": "-1", "allow": False},
            ]
        },
    }
    again = registry.device_from_spec(spec)
    assert canonical(again.to_xml()) == canonical(FILTERS[0])
    assert again.to_spec() == spec


def test_redirfilter_rules_keep_their_order_when_edited(registry: devframe.Registry) -> None:
    rules = _one(registry, FILTERS[0])
    expected = copy.deepcopy(rules.element)
    rules.usbdevs[1].allow = False
    expected[1].set("allow", "no")
    assert canonical(rules.to_xml()) == canonical(expected)
    rules.usbdevs = [*rules.usbdevs[:2], {"vendor": "0x1234", "allow": "yes"}]
    assert [r.vendor for r in rules.usbdevs] == ["0x15E1", None, "0x1234"]


def test_redirfilter_has_no_alias_so_its_device_id_lives_in_metadata(registry: devframe.Registry) -> None:
    rules = registry.device_from_spec({"type": "redirfilter", "deviceId": UUID, "specParams": {"usbdevs": [
        {"allow": True}]}})  # fmt: skip
    assert rules.to_xml() == '<redirfilter><usbdev allow="yes"/></redirfilter>'
    assert rules.device_id == UUID
    assert rules.to_spec()["deviceId"] == UUID
    assert rules.identity() is None


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"usbdevs": [{"class": "0x08"}]}, "specParams.usbdevs"),
        ({"usbdevs": "all"}, "specParams.usbdevs"),
        ({"usbdevs": [{"allow": "perhaps"}]}, "allow"),
    ],
)
def test_unusable_redirfilter_spec_values_name_the_key(
    registry: devframe.Registry, params: dict[str, Any], key: str
) -> None:
    assert_spec_refused(registry, {"type": "redirfilter", "specParams": params}, key)
    with pytest.raises(devframe.SpecError, match="'device'"):
        registry.device_from_spec({"type": "redirfilter", "device": "usb"})


def test_a_rule_without_allow_read_from_xml_is_a_problem(registry: devframe.Registry) -> None:
    rules = _one(registry, "<redirfilter><usbdev allow='yes'/><usbdev class='0x08'/></redirfilter>")
    assert rules.problems() == ["usbdev 1 has no allow"]
    assert rules.summary() == {"usbdevs": ["allow", "allow=None class=0x08"]}


def test_redirfilter_summary(registry: devframe.Registry) -> None:
    assert _one(registry, FILTERS[0]).summary() == {
        "usbdevs": [
            "allow class=0x08 vendor=0x15E1 product=0x2007 version=1.10",
            "allow class=0x03",
            "deny class=-1 vendor=-1 product=-1 version=-1",
        ]
    }
    assert _one(registry, FILTERS[2]).summary() == {}


def test_spec_round_trip_of_every_sample(registry: devframe.Registry) -> None:
    for sample in REDIRDEVS + FILTERS:
        assert_spec_round_trip(registry, _one(registry, sample), sample)


def test_nothing_is_secret() -> None:
    for cls in (Redirdev, Redirfilter, UsbDevRule):
        assert not [name for name, field in cls.fields.items() if field.secret]
