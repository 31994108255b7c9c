"""The shared character-device source model (devframe/core/chardev.py): one description of
``@type``, ``<source>``, ``<protocol>`` and ``<log>`` for every kind that has one."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any, ClassVar

import pytest
from lxml import etree

import devframe
from devframe import (
    CHAR_PROTOCOLS,
    CHAR_SOURCE_MODES,
    CHAR_TYPES,
    CharSource,
    CharSourceElement,
    Children,
    Device,
    DeviceTypeRegister,
    Field,
    FieldValueError,
    SourceSeclabel,
    SpecError,
    TextList,
    hookimpl,
)
from devframe.testing import DOMAIN_RNG, canonical, wrap_in_domain


class Port(CharSource, Device):
    """A chardev at the device element itself, like <serial>."""

    dev_type: ClassVar[str] = "port"
    tag: ClassVar[str] = "port"
    char_type_default: ClassVar[str | None] = "pty"
    child_order: ClassVar[tuple[str, ...]] = ("source", "protocol", "log", "target", "alias", "address")

    number = Field("target@port", devframe.INT, spec="specParams.port")


class Gadget(CharSource, Device):
    """A chardev one element down with its own type key, like rng's egd backend."""

    dev_type: ClassVar[str] = "gadget"
    tag: ClassVar[str] = "gadget"
    char_path: ClassVar[str] = "backend"
    char_type_spec: ClassVar[str] = "specParams.backendType"


class SubPort(Port):
    """A subclass that changes nothing keeps its parent's chardev fields."""

    dev_type: ClassVar[str] = "subport"
    tag: ClassVar[str] = "subport"


def _port(xml: str) -> Port:
    return Port(etree.fromstring(xml))


UDP = (
    "<port type='udp'><source mode='bind' host='0.0.0.0' service='9002'/>"
    "<source mode='connect' host='192.0.2.7' service='9001'/><target port='1'/></port>"
)
TCP = (
    "<port type='tcp'><source mode='connect' host='cc.example.net' service='7003' tls='yes'>"
    "<reconnect enabled='yes' timeout='15'/></source><protocol type='telnets'/>"
    "<log file='/var/log/port.log' append='on'/><target port='0'/></port>"
)
FILE = (
    "<port type='file'><source path='/var/log/out.txt' append='off'>"
    "<seclabel model='selinux' relabel='yes'><label>system_u:object_r:virt_log_t:s0</label></seclabel>"
    "<seclabel model='dac' relabel='no'/></source></port>"
)
VDAGENT = "<port type='qemu-vdagent'><source><clipboard copypaste='yes'/><mouse mode='client'/></source></port>"


# -- the model and its place ------------------------------------------------------------------


def test_public_api_exports_the_model() -> None:
    for name in ("CharSource", "CharSourceElement", "SourceSeclabel", "TextList", "CHAR_TYPES"):
        assert name in devframe.__all__ and hasattr(devframe, name)


def test_fields_at_the_device_element() -> None:
    fields = Port.fields
    assert (fields["char_type"].path, fields["char_type"].spec) == ("@type", "device")
    assert fields["char_type"].default == "pty"
    assert isinstance(fields["sources"], Children) and fields["sources"].spec == "specParams.sources"
    assert Port.char_spec_keys() == {
        "char_type": "device",
        "sources": "specParams.sources",
        "protocol": "specParams.protocol",
        "log_file": "specParams.log.file",
        "log_append": "specParams.log.append",
    }


def test_fields_relocated_under_char_path_with_their_own_type_key() -> None:
    fields = Gadget.fields
    assert fields["char_type"].path == "backend@type"
    assert fields["char_type"].spec == "specParams.backendType"
    assert fields["char_type"].default is None
    assert fields["sources"].path == "backend/source"
    assert fields["protocol"].path == "backend/protocol@type"
    assert (fields["log_file"].path, fields["log_append"].path) == ("backend/log@file", "backend/log@append")
    # The mixin's own declaration is untouched, and a plain subclass inherits its parent's.
    assert CharSource.char_type.path == "@type" and CharSource.char_type.default is None
    assert SubPort.fields["char_type"] is Port.fields["char_type"]


def test_relocated_fields_read_and_write_the_nested_element() -> None:
    gadget = Gadget(etree.fromstring("<gadget><backend model='egd' type='unix'><source path='/s'/></backend></gadget>"))
    assert gadget.char_type == "unix"
    assert [s.path for s in gadget.sources] == ["/s"]
    gadget.protocol = "raw"
    gadget.log_file = "/l"
    assert canonical(gadget.to_xml()) == canonical(
        "<gadget><backend model='egd' type='unix'><source path='/s'/><protocol type='raw'/><log file='/l'/>"
        "</backend></gadget>"
    )


# -- reading ------------------------------------------------------------------------------------


def test_every_source_attribute_is_typed() -> None:
    tcp = _port(TCP)
    (source,) = tcp.sources
    assert isinstance(source, CharSourceElement)
    assert (source.mode, source.host, source.service, source.tls) == ("connect", "cc.example.net", "7003", True)
    assert (source.reconnect_enabled, source.reconnect_timeout, source.reconnect_delay) == (True, 15, None)
    assert (tcp.protocol, tcp.log_file, tcp.log_append) == ("telnets", "/var/log/port.log", True)

    file = _port(FILE)
    (source,) = file.sources
    assert (source.path, source.append) == ("/var/log/out.txt", False)
    labels = source.seclabels
    assert all(isinstance(label, SourceSeclabel) for label in labels)
    assert [(s.model, s.relabel, s.labels) for s in labels] == [
        ("selinux", True, ["system_u:object_r:virt_log_t:s0"]),
        ("dac", False, []),
    ]

    (vdagent,) = _port(VDAGENT).sources
    assert (vdagent.clipboard_copypaste, vdagent.mouse_mode) == (True, "client")

    nmdm = _port("<port type='nmdm'><source master='/dev/nmdm0A' slave='/dev/nmdm0B'/></port>").sources[0]
    assert (nmdm.master, nmdm.slave) == ("/dev/nmdm0A", "/dev/nmdm0B")
    assert _port("<port type='spiceport'><source channel='org.qemu.console.0'/></port>").sources[0].channel == (
        "org.qemu.console.0"
    )
    delay = _port("<port type='unix'><source path='/s'><reconnect delay='4'/></source></port>").sources[0]
    assert delay.reconnect_delay == 4


def test_udp_keeps_both_ends_in_order() -> None:
    udp = _port(UDP)
    assert [(s.mode, s.host, s.service) for s in udp.sources] == [
        ("bind", "0.0.0.0", "9002"),
        ("connect", "192.0.2.7", "9001"),
    ]


def test_value_sets_cover_the_installed_schema() -> None:
    """Every chardev type, mode-less protocol value libvirt's schema lists is a Choice value."""
    text = (Path(DOMAIN_RNG).parent / "domaincommon.rng").read_text(encoding="utf-8")
    block = re.search(r'<define name="qemucdevSrcTypeChoice">(.*?)</define>', text, re.S)
    assert block is not None
    assert set(re.findall(r"<value>([^<]+)</value>", block.group(1))) == set(CHAR_TYPES)
    protocol = re.search(r'<element name="protocol">(.*?)</element>', text, re.S)
    assert protocol is not None
    assert set(re.findall(r"<value>([^<]+)</value>", protocol.group(1))) == set(CHAR_PROTOCOLS)
    assert set(CHAR_SOURCE_MODES) == {"bind", "connect"}


# -- writing ------------------------------------------------------------------------------------


def test_editing_one_source_attribute_changes_only_it() -> None:
    tcp = _port(TCP)
    expected = copy.deepcopy(tcp.element)
    tcp.sources[0].service = "7004"
    expected.find("source").set("service", "7004")
    assert canonical(tcp.to_xml()) == canonical(expected)
    tcp.sources[0].reconnect_timeout = 30
    expected.find("source/reconnect").set("timeout", "30")
    assert canonical(tcp.to_xml()) == canonical(expected)
    tcp.log_append = False
    expected.find("log").set("append", "off")
    assert canonical(tcp.to_xml()) == canonical(expected)


def test_replacing_sources_keeps_every_other_child() -> None:
    udp = _port(UDP)
    udp.sources = [{"mode": "connect", "host": "192.0.2.8", "service": "9003"}]
    assert canonical(udp.to_xml()) == canonical(
        "<port type='udp'><source mode='connect' host='192.0.2.8' service='9003'/><target port='1'/></port>"
    )
    udp.sources = []
    assert canonical(udp.to_xml()) == canonical("<port type='udp'><target port='1'/></port>")


def test_sources_are_created_in_libvirt_order() -> None:
    port = _port("<port type='unix'><target port='0'/><alias name='p0'/></port>")
    port.log_file = "/l"
    port.sources = [{"mode": "bind", "path": "/s"}]
    port.protocol = "raw"
    assert [c.tag for c in port.element] == ["source", "protocol", "log", "target", "alias"]


def test_text_list_replaces_only_its_children() -> None:
    file = _port(FILE)
    label = file.sources[0].seclabels[0]
    label.labels = ["a", "b"]
    assert [e.text for e in label.element.iterchildren("label")] == ["a", "b"]
    assert label.model == "selinux"  # attributes untouched
    label.labels = []
    assert label.element.find("label") is None and label.relabel is True
    with pytest.raises(FieldValueError):
        label.labels = "not-a-list"  # type: ignore[assignment]
    with pytest.raises(FieldValueError):
        label.labels = [1]  # type: ignore[list-item]
    with pytest.raises(FieldValueError):
        label.labels = ["\x00"]


def test_text_list_as_a_standalone_field() -> None:
    class Holder(Device):
        dev_type: ClassVar[str] = "holder"
        tag: ClassVar[str] = "holder"
        names = TextList("name", spec="specParams.names")

    holder = Holder.from_spec({"type": "holder", "specParams": {"names": ["x", "y"]}})
    assert holder.to_xml() == "<holder><name>x</name><name>y</name></holder>"
    assert holder.to_spec()["specParams"] == {"names": ["x", "y"]}
    with pytest.raises(devframe.DevframeError, match=r"specParams\.names"):
        Holder.from_spec({"type": "holder", "specParams": {"names": "x"}})
    with pytest.raises(ValueError):
        TextList("a@b")


# -- dev_spec -----------------------------------------------------------------------------------


def test_spec_keys_and_round_trip() -> None:
    for xml in (UDP, TCP, FILE, VDAGENT):
        port = _port(xml)
        spec = port.to_spec()
        again = Port.from_spec(spec)
        assert again.to_spec() == spec
        assert canonical(again.to_xml()) == canonical(xml)
    spec = _port(TCP).to_spec()
    assert spec["device"] == "tcp"
    assert spec["specParams"] == {
        "port": 0,
        "sources": [
            {
                "mode": "connect",
                "host": "cc.example.net",
                "service": "7003",
                "tls": True,
                "reconnect": {"enabled": True, "timeout": 15},
            }
        ],
        "protocol": "telnets",
        "log": {"file": "/var/log/port.log", "append": True},
    }
    assert _port(FILE).to_spec()["specParams"]["sources"][0]["seclabels"] == [
        {"model": "selinux", "relabel": True, "labels": ["system_u:object_r:virt_log_t:s0"]},
        {"model": "dac", "relabel": False},
    ]
    assert _port(VDAGENT).to_spec()["specParams"] == {
        "sources": [{"clipboard": {"copypaste": True}, "mouse": {"mode": "client"}}]
    }


def test_type_default_and_relocated_spec_key() -> None:
    assert Port.from_spec({"type": "port"}).to_xml() == '<port type="pty"/>'
    gadget = Gadget.from_spec(
        {"type": "gadget", "specParams": {"backendType": "tcp", "sources": [{"host": "h", "service": "1"}]}}
    )
    assert gadget.to_xml() == '<gadget><backend type="tcp"><source host="h" service="1"/></backend></gadget>'
    assert gadget.to_spec()["specParams"]["backendType"] == "tcp"
    assert Gadget.from_spec({"type": "gadget"}).to_xml() == "<gadget/>"  # no default: nothing built


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"device": 7}, "device"),
        ({"device": ["unix"]}, "device"),
        ({"specParams": {"sources": "nope"}}, "specParams.sources"),
        ({"specParams": {"sources": [{"tls": "maybe"}]}}, "tls"),
        ({"specParams": {"sources": [{"reconnect": {"timeout": "soon"}}]}}, "reconnect.timeout"),
        ({"specParams": {"log": {"append": 3}}}, "specParams.log.append"),
    ],
)
def test_bad_spec_values_name_their_key(spec: dict[str, Any], key: str) -> None:
    with pytest.raises(devframe.DevframeError, match=re.escape(key)):
        Port.from_spec({"type": "port", **spec})


# -- what libvirt refuses -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("xml", "problem"),
    [
        ("<port type='file'/>", "file character device needs a <source path>"),
        ("<port type='dev'><source mode='bind'/></port>", "dev character device needs a <source path>"),
        ("<port type='pipe'/>", "pipe character device"),
        ("<port type='tcp'><source host='h'/></port>", "tcp character device"),
        ("<port type='tcp'><source service='1'/></port>", "tcp character device"),
        ("<port type='udp'><source mode='bind' service='1'/></port>", "udp character device"),
        ("<port type='spiceport'/>", "spiceport character device needs a <source channel>"),
        ("<port type='dbus'><source/></port>", "dbus character device"),
        ("<port type='nmdm'><source master='/a'/></port>", "nmdm"),
    ],
)
def test_sources_libvirt_refuses_are_problems_and_spec_errors(xml: str, problem: str) -> None:
    port = _port(xml)
    assert problem in (port.char_source_problem() or "")
    assert any(problem in p for p in port.problems())
    with pytest.raises(SpecError, match=r"specParams\.sources"):
        port.check_char_source()


@pytest.mark.parametrize(
    "xml",
    [
        "<port type='pty'/>",
        "<port type='unix'/>",  # QEMU makes the socket
        "<port type='udp'><source service='1'/></port>",
        "<port type='nmdm'/>",
        "<port type='spicevmc'/>",
        "<port/>",
        "<port type='something-new'/>",
        UDP,
        TCP,
        FILE,
        VDAGENT,
    ],
)
def test_sources_libvirt_takes_are_fine(xml: str) -> None:
    port = _port(xml)
    assert port.char_source_problem() is None
    port.check_char_source()
    assert port.problems() == []


#: ``<source>``, ``<protocol>`` and ``<log>`` of a chardev, none to all: every part is optional in
#: libvirt's schema (qemucdevSrcDef) whatever the type, so each is a valid element.
SOURCE_VARIANTS = {
    "no source": "",
    "empty source": "<source/>",
    "mode only": "<source mode='connect'/>",
    "host only": "<source host='h.example.net'/>",
    "service only": "<source mode='bind' service='4000'/>",
    "path": "<source path='/run/x.sock'/>",
    "channel": "<source channel='org.qemu.console.0'/>",
    "master only": "<source master='/dev/nmdm0A'/>",
    "two ends": "<source mode='bind' service='1'/><source mode='connect' host='h' service='2'/>",
    "every part": (
        "<source mode='connect' host='h' service='1' path='/p' channel='c' master='/m' slave='/s' append='on'"
        " tls='no'><reconnect enabled='yes' timeout='5'/><seclabel model='dac' relabel='no'/>"
        "<clipboard copypaste='yes'/><mouse mode='server'/></source>"
        "<protocol type='raw'/><log file='/var/log/x.log' append='off'/>"
    ),
}


@pytest.mark.parametrize("variant", sorted(SOURCE_VARIANTS))
@pytest.mark.parametrize("char_type", CHAR_TYPES)
def test_every_type_round_trips_through_its_spec_with_and_without_its_parts(char_type: str, variant: str) -> None:
    """What libvirt itself refuses (a tcp device without host) is a problem, parsed or
    built from a spec alike; the spec never loses the element (device_from_spec(spec)
    .to_spec() == spec)."""
    xml = f"<port type='{char_type}'>{SOURCE_VARIANTS[variant]}<target port='0'/></port>"
    port = _port(xml)
    spec = port.to_spec()
    again = Port.from_spec(spec)
    assert again.to_spec() == spec
    assert canonical(again.to_xml()) == canonical(xml)
    assert again.problems() == port.problems()


def test_relocated_source_is_checked_where_it_lives() -> None:
    gadget = Gadget(etree.fromstring("<gadget type='file'><backend type='tcp'/></gadget>"))
    assert "tcp" in (gadget.char_source_problem() or "")
    assert Gadget(etree.fromstring("<gadget/>")).char_source_problem() is None


def test_summary_source_line_only_when_it_says_more_than_the_type() -> None:
    tcp = _port(TCP)
    assert tcp.char_source_detail() == "tcp connect cc.example.net:7003"
    assert _port("<port type='pty'/>").char_source_detail() is None
    assert _port("<port/>").char_source_detail() is None
    summary = tcp.char_summary(["char_type", "protocol", ("port", "number")])
    assert list(summary.items()) == [
        ("char_type", "tcp"), ("source", "tcp connect cc.example.net:7003"), ("protocol", "telnets"), ("port", "0"),
    ]  # fmt: skip
    assert _port("<port type='pty'><target port='1'/></port>").char_summary(["char_type", ("port", "number")]) == {
        "char_type": "pty",
        "port": "1",
    }
    assert _port(FILE).char_summary([("port", "number")]) == {"source": "file /var/log/out.txt"}


def test_source_text_for_summaries() -> None:
    assert _port(UDP).char_source_text() == "udp bind 0.0.0.0:9002 connect 192.0.2.7:9001"
    assert _port(TCP).char_source_text() == "tcp connect cc.example.net:7003"
    assert _port(FILE).char_source_text() == "file /var/log/out.txt"
    assert _port("<port type='pty'/>").char_source_text() == "pty"
    assert _port("<port/>").char_source_text() is None


# -- through a registry, like a plugin ----------------------------------------------------------


class _Plugin:
    @staticmethod
    @hookimpl
    def devframe_register_device_types(register: DeviceTypeRegister) -> None:
        register(Port)
        register(Gadget)


def test_a_class_on_the_model_parses_and_rebuilds_losslessly(devframe_temp_plugin: Any) -> None:
    registry = devframe_temp_plugin(_Plugin, name="ports", strict=True)
    xml = wrap_in_domain(UDP, TCP, FILE, VDAGENT, "<gadget><backend type='unix'><source path='/s'/></backend></gadget>")
    domain = devframe.parse_domain(xml, registry=registry)
    assert [type(d) for d in domain.devices] == [Port, Port, Port, Port, Gadget]
    assert canonical(domain.to_xml()) == canonical(xml)
    for device in domain.devices:
        assert registry.device_from_spec(device.to_spec()).to_spec() == device.to_spec()


def test_nothing_in_the_model_is_secret() -> None:
    """libvirt's chardev source holds no password: tls is a switch, not a credential."""
    views: list[type[Any]] = [Port, CharSourceElement, SourceSeclabel]
    for view in views:
        assert not [name for name, field in view.fields.items() if field.secret], view
