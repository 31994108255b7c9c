"""Tests of the smartcard plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from devframe_smartcard import Smartcard
from devframe_smartcard.device import MODES
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

UUID = "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7"


def ccid(controller: int, slot: int = 0) -> str:
    return f"<address type='ccid' controller='{controller}' slot='{slot}'/>"


HOST = f"<smartcard mode='host'>{ccid(0)}</smartcard>"
CERTS = (
    "<smartcard mode='host-certificates'><certificate>cert-auth</certificate><certificate>cert-sign</certificate>"
    f"<certificate>cert-encrypt</certificate><database>/etc/pki/sample-nssdb</database>{ccid(0, 1)}</smartcard>"
)
CERTS_NO_DB = (
    "<smartcard mode='host-certificates'><certificate>a</certificate><certificate>b</certificate>"
    "<certificate>c</certificate></smartcard>"
)
SPICE = "<smartcard mode='passthrough' type='spicevmc'/>"
PASSTHROUGH = [
    SPICE,
    f"<smartcard mode='passthrough' type='spicevmc'><acpi index='5'/>{ccid(1)}</smartcard>",
    "<smartcard mode='passthrough' type='tcp'><source mode='connect' host='127.0.0.1' service='2001'/>"
    "<protocol type='raw'/></smartcard>",
    "<smartcard mode='passthrough' type='tcp'><source mode='bind' host='0.0.0.0' service='2002' tls='yes'/>"
    "<protocol type='telnet'/></smartcard>",
    "<smartcard mode='passthrough' type='unix'><source mode='bind' path='/run/vm/smartcard.sock'/>"
    "<log file='/var/log/vm/smartcard.log' append='on'/></smartcard>",
    "<smartcard mode='passthrough' type='udp'><source mode='connect' host='192.0.2.1' service='2003'/></smartcard>",
    "<smartcard mode='passthrough' type='pty'/>",
    "<smartcard mode='passthrough' type='file'><source path='/var/log/vm/ccid.raw' append='off'/></smartcard>",
    "<smartcard mode='passthrough' type='dev'><source path='/dev/ttyUSB0'/></smartcard>",
    "<smartcard mode='passthrough' type='pipe'><source path='/run/vm/ccid.pipe'/></smartcard>",
    "<smartcard mode='passthrough' type='null'/>",
    "<smartcard mode='passthrough' type='stdio'/>",
    "<smartcard mode='passthrough' type='vc'/>",
    "<smartcard mode='passthrough' type='spiceport'><source channel='org.spice.smartcard'/></smartcard>",
    "<smartcard mode='passthrough' type='nmdm'><source master='/dev/nmdm1A' slave='/dev/nmdm1B'/></smartcard>",
    "<smartcard mode='passthrough' type='qemu-vdagent'/>",
    "<smartcard mode='passthrough' type='dbus'><source channel='org.example.ccid'/></smartcard>",
]
# -- target (the schema's shared chardev target) ---------------------------------------------

TARGETED = (
    "<smartcard mode='passthrough' type='tcp'><source mode='connect' host='127.0.0.1' service='2004'/>"
    "<target type='virtio' port='1'><model name='isa-serial'/></target></smartcard>"
)
SAMPLES = [HOST, CERTS, CERTS_NO_DB, *PASSTHROUGH, TARGETED]

# libvirt writes an <alias> on smartcards (and keeps the engine's ua- alias), although its
# schema has none for them: outside the schema check, still parsed.
WITH_ALIAS = [
    f"<smartcard mode='passthrough' type='spicevmc'><alias name='ua-{UUID}'/>{ccid(0)}</smartcard>",
    f"<smartcard mode='host'><alias name='smartcard0'/>{ccid(0)}</smartcard>",
]

TestContract = contract_tests("smartcard", samples=SAMPLES + WITH_ALIAS)


registry = plugin_registry("smartcard")


def _one(registry: devframe.Registry, xml: str) -> Smartcard:
    return one_device(registry, xml, Smartcard)


# -- samples ---------------------------------------------------------------------------------


def test_samples_are_schema_valid() -> None:
    for sample in SAMPLES:
        assert not validate_against_schema(wrap_in_domain(sample)), sample
    for sample in WITH_ALIAS:
        assert validate_against_schema(wrap_in_domain(sample)), sample  # the schema's gap


def test_samples_cover_every_mode_and_chardev_type(registry: devframe.Registry) -> None:
    cards = [_one(registry, s) for s in SAMPLES]
    assert {c.mode for c in cards} == set(MODES)
    assert {c.char_type for c in cards} - {None} == set(CHAR_TYPES)
    assert all(c.problems() == [] for c in cards)


# -- fields ----------------------------------------------------------------------------------


def test_fields(registry: devframe.Registry) -> None:
    certs = _one(registry, CERTS)
    assert (certs.mode, certs.certificates, certs.database) == (
        "host-certificates", ["cert-auth", "cert-sign", "cert-encrypt"], "/etc/pki/sample-nssdb",
    )  # fmt: skip
    assert certs.char_type is None and certs.sources == []
    tcp = _one(registry, PASSTHROUGH[2])
    assert (tcp.mode, tcp.char_type, tcp.protocol) == ("passthrough", "tcp", "raw")
    assert [(s.mode, s.host, s.service) for s in tcp.sources] == [("connect", "127.0.0.1", "2001")]
    spice = _one(registry, PASSTHROUGH[1])
    assert (spice.acpi_index, spice.address) == (5, {"type": "ccid", "controller": "1", "slot": "0"})
    assert _one(registry, WITH_ALIAS[0]).device_id == UUID


def test_editing_certificates_changes_only_them(registry: devframe.Registry) -> None:
    card = _one(registry, CERTS)
    expected = copy.deepcopy(card.element)
    card.certificates = ["x", "y", "z"]
    for element, text in zip(expected.iterchildren("certificate"), "xyz", strict=True):
        element.text = text
    assert canonical(card.to_xml()) == canonical(expected)
    card.database = "/etc/pki/other"
    expected.find("database").text = "/etc/pki/other"
    assert canonical(card.to_xml()) == canonical(expected)


def test_editing_the_passthrough_source(registry: devframe.Registry) -> None:
    card = _one(registry, PASSTHROUGH[2])
    expected = copy.deepcopy(card.element)
    card.sources[0].service = "2010"
    expected.find("source").set("service", "2010")
    card.protocol = "telnet"
    expected.find("protocol").set("type", "telnet")
    assert canonical(card.to_xml()) == canonical(expected)


# -- dev_spec --------------------------------------------------------------------------------


def test_vdsm_spec(registry: devframe.Registry) -> None:
    spec = {"type": "smartcard", "device": "smartcard", "specParams": {"mode": "passthrough", "type": "spicevmc"}}
    card = registry.device_from_spec(spec)
    assert isinstance(card, Smartcard)
    assert canonical(card.to_xml()) == canonical(SPICE)
    assert card.to_spec() == spec
    assert _one(registry, SPICE).to_spec() == spec


def test_minimal_spec_gets_defaults(registry: devframe.Registry) -> None:
    card = registry.device_from_spec({"type": "smartcard"})
    assert canonical(card.to_xml()) == canonical(SPICE)
    assert not validate_against_schema(wrap_in_domain(card.to_xml()))
    host = registry.device_from_spec({"type": "smartcard", "specParams": {"mode": "host"}})
    assert host.to_xml() == '<smartcard mode="host"/>'


def test_every_documented_key(registry: devframe.Registry) -> None:
    certs = registry.device_from_spec(
        {
            "type": "smartcard",
            "device": "smartcard",
            "deviceId": UUID,
            "address": {"type": "ccid", "controller": "0", "slot": "1"},
            "specParams": {
                "mode": "host-certificates",
                "certificates": ["cert-auth", "cert-sign", "cert-encrypt"],
                "database": "/etc/pki/sample-nssdb",
                "acpiIndex": 4,
            },
        }
    )
    assert canonical(certs.to_xml()) == canonical(
        "<smartcard mode='host-certificates'><certificate>cert-auth</certificate><certificate>cert-sign</certificate>"
        "<certificate>cert-encrypt</certificate><database>/etc/pki/sample-nssdb</database>"
        f"<alias name='ua-{UUID}'/><acpi index='4'/>{ccid(0, 1)}</smartcard>"
    )
    tcp = registry.device_from_spec(
        {
            "type": "smartcard",
            "specParams": {
                "type": "tcp",
                "sources": [{"mode": "connect", "host": "127.0.0.1", "service": "2001"}],
                "protocol": "raw",
                "log": {"file": "/var/log/ccid.log", "append": False},
            },
        }
    )
    assert canonical(tcp.to_xml()) == canonical(
        "<smartcard mode='passthrough' type='tcp'><source mode='connect' host='127.0.0.1' service='2001'/>"
        "<protocol type='raw'/><log file='/var/log/ccid.log' append='off'/></smartcard>"
    )
    assert not validate_against_schema(wrap_in_domain(tcp.to_xml()))


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"mode": "host-certificates"}, "specParams.certificates"),
        ({"mode": "host-certificates", "certificates": ["a", "b"]}, "specParams.certificates"),
        ({"mode": "host-certificates", "certificates": "abc"}, "specParams.certificates"),
        ({"mode": "host", "certificates": ["a", "b", "c"]}, "specParams.certificates"),
        ({"mode": "passthrough", "database": "/etc/pki/nssdb"}, "specParams.database"),
        ({"mode": "host", "type": "spicevmc"}, "specParams.type"),
        ({"mode": "host", "sources": [{"path": "/x"}]}, "specParams.sources"),
        ({"type": 5}, "specParams.type"),
        ({"acpiIndex": "first"}, "specParams.acpiIndex"),
    ],
)
def test_unusable_spec_values_name_the_key(registry: devframe.Registry, params: dict[str, Any], key: str) -> None:
    assert_spec_refused(registry, {"type": "smartcard", "specParams": params}, key)


@pytest.mark.parametrize("params", [{"type": "tcp"}, {"type": "file", "sources": [{}]}])
def test_a_source_libvirt_refuses_is_built_and_reported(registry: devframe.Registry, params: dict[str, Any]) -> None:
    """Valid in libvirt's schema: built as given, reported, and its spec round-trips."""
    smartcard = registry.device_from_spec({"type": "smartcard", "specParams": params})
    assert any("character device needs" in problem for problem in smartcard.problems())
    assert_spec_round_trip(registry, smartcard)


def test_device_must_be_smartcard(registry: devframe.Registry) -> None:
    with pytest.raises(devframe.SpecError, match="'device'"):
        registry.device_from_spec({"type": "smartcard", "device": "spicevmc"})


def test_spec_round_trip_of_every_sample(registry: devframe.Registry) -> None:
    for sample in SAMPLES + WITH_ALIAS:
        spec = assert_spec_round_trip(registry, _one(registry, sample), sample)
        assert spec["type"] == "smartcard" and spec["device"] == "smartcard"


def test_spec_keys(registry: devframe.Registry) -> None:
    assert _one(registry, CERTS).to_spec() == {
        "type": "smartcard",
        "device": "smartcard",
        "address": {"type": "ccid", "controller": "0", "slot": "1"},
        "specParams": {
            "mode": "host-certificates",
            "certificates": ["cert-auth", "cert-sign", "cert-encrypt"],
            "database": "/etc/pki/sample-nssdb",
        },
    }
    assert _one(registry, PASSTHROUGH[4]).to_spec()["specParams"] == {
        "mode": "passthrough",
        "type": "unix",
        "sources": [{"mode": "bind", "path": "/run/vm/smartcard.sock"}],
        "log": {"file": "/var/log/vm/smartcard.log", "append": True},
    }


# -- mismatches read from XML are problems, not errors --------------------------------------


@pytest.mark.parametrize(
    "xml",
    [
        "<smartcard mode='host-certificates'><certificate>a</certificate></smartcard>",
        "<smartcard mode='host' type='tcp'/>",
        "<smartcard mode='passthrough'/>",
        "<smartcard mode='passthrough' type='file'/>",
    ],
)
def test_mismatched_elements_are_reported(registry: devframe.Registry, xml: str) -> None:
    card = _one(registry, xml)
    assert card.problems()
    assert isinstance(card.summary(), dict) and isinstance(repr(card), str)
    assert canonical(card.to_xml()) == canonical(xml)


# -- identity, summary, secrets --------------------------------------------------------------


def test_identity(registry: devframe.Registry) -> None:
    assert _one(registry, HOST).identity() == {
        "devtype": "smartcard", "mode": "host", "address": "controller=0,slot=0,type=ccid",
    }  # fmt: skip
    assert _one(registry, PASSTHROUGH[1]).identity() == {
        "devtype": "smartcard", "mode": "passthrough", "address": "controller=1,slot=0,type=ccid",
    }  # fmt: skip
    assert _one(registry, SPICE).identity() is None  # no address yet: keyed by alias, paired in order
    assert _one(registry, "<smartcard><address type='ccid' controller='0' slot='0'/></smartcard>").identity() is None


def test_identity_binds_metadata_without_an_alias(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(HOST, CERTS), registry=registry)
    domain.devices[1].metadata["nssdb"] = "sample"
    again = devframe.parse_domain(domain.to_xml(), registry=registry)
    assert again.devices[1].metadata.get("nssdb") == "sample"
    assert not again.devices[0].has_metadata


def test_summary(registry: devframe.Registry) -> None:
    assert _one(registry, CERTS).summary() == {
        "mode": "host-certificates",
        "database": "/etc/pki/sample-nssdb",
        "certificates": ["cert-auth", "cert-sign", "cert-encrypt"],
    }
    assert _one(registry, PASSTHROUGH[2]).summary() == {
        "mode": "passthrough",
        "char_type": "tcp",
        "source": "tcp connect 127.0.0.1:2001",
    }
    assert _one(registry, SPICE).summary() == {"mode": "passthrough", "char_type": "spicevmc"}
    assert (
        _one(registry, "<smartcard mode='passthrough' type='spicevmc'><acpi index='x'/></smartcard>").summary()[
            "acpi_index"
        ]
        == "<invalid 'x'>"
    )


def test_certificates_are_names_not_secrets() -> None:
    """They name certificates in the host's NSS database; no key material is in the XML."""
    assert not [name for name, field in Smartcard.fields.items() if field.secret]
    assert etree.fromstring(CERTS).findtext("certificate") == "cert-auth"


def test_a_smartcard_without_mode_is_a_problem(registry: devframe.Registry) -> None:
    card = _one(registry, "<smartcard><address type='ccid' controller='0' slot='0'/></smartcard>")
    assert card.problems() == ["a smartcard needs a mode"]
    assert card.summary() == {}


def test_target_is_fields_and_spec_keys(registry: devframe.Registry) -> None:
    card = _one(registry, TARGETED)
    assert (card.target_type, card.target_port, card.target_model) == ("virtio", 1, "isa-serial")
    params = card.to_spec()["specParams"]
    assert (params["targetType"], params["targetPort"], params["targetModel"]) == ("virtio", 1, "isa-serial")


@pytest.mark.parametrize(
    ("key", "target", "value"),
    [
        ("targetType", "<target type='virtio'/>", "virtio"),
        ("targetPort", "<target port='1'/>", 1),
        ("targetModel", "<target><model name='isa-serial'/></target>", "isa-serial"),
    ],
)
def test_each_target_path_round_trips_and_validates(
    registry: devframe.Registry, key: str, target: str, value: object
) -> None:
    xml = f"<smartcard mode='passthrough' type='spicevmc'>{target}</smartcard>"
    spec = assert_spec_round_trip(registry, _one(registry, xml))
    assert spec["specParams"][key] == value
    built = registry.device_from_spec(spec).to_xml()
    assert canonical(built) == canonical(xml)
    assert not validate_against_schema(wrap_in_domain(built))


def test_target_only_on_a_passthrough_smartcard(registry: devframe.Registry) -> None:
    spec = _one(registry, HOST).to_spec()
    spec["specParams"]["targetType"] = "serial"
    with pytest.raises(devframe.SpecError, match="targetType"):
        registry.device_from_spec(spec)
    del spec["specParams"]["targetType"]
    spec["specParams"]["targetModel"] = "pl011"
    with pytest.raises(devframe.SpecError, match="targetModel"):
        registry.device_from_spec(spec)


def test_target_port_must_be_a_number(registry: devframe.Registry) -> None:
    spec = _one(registry, TARGETED).to_spec()
    spec["specParams"]["targetPort"] = "first"
    with pytest.raises(devframe.SpecError, match="targetPort"):
        registry.device_from_spec(spec)
