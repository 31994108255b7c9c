"""Tests of the rng plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from devframe_rng import Rng
from devframe_rng.device import BACKEND_MODELS, MODELS, RANDOM_FILES
from lxml import etree

import devframe
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

UUID = "1b2c3d4e-5f60-4718-9a0b-c1d2e3f4a5b6"


def pci(slot: int) -> str:
    return f"<address type='pci' domain='0x0000' bus='0x00' slot='0x{slot:02x}' function='0x0'/>"


URANDOM = "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
SAMPLES = [
    URANDOM,
    "<rng model='virtio'><rate bytes='1234' period='2000'/><backend model='random'>/dev/random</backend>"
    f"<alias name='ua-{UUID}'/>{pci(7)}</rng>",
    "<rng model='virtio-transitional'><backend model='random'>/dev/hwrng</backend><rate bytes='4096'/></rng>",
    "<rng model='virtio'><backend model='random'/></rng>",
    "<rng model='virtio'><backend model='random'>/dev/entropy0</backend></rng>",
    "<rng model='virtio-non-transitional'><backend model='egd' type='tcp'>"
    "<source mode='connect' host='entropy.example.net' service='708'/><protocol type='raw'/></backend>"
    "<driver iommu='on' ats='on' packed='on' page_per_vq='on'/><acpi index='6'/></rng>",
    "<rng model='virtio'><backend model='egd' type='udp'><source mode='bind' service='1234'/>"
    "<source mode='connect' host='192.0.2.1' service='1234'/></backend></rng>",
    "<rng model='virtio'><backend model='egd' type='unix'><source mode='connect' path='/run/egd.sock'>"
    "<reconnect enabled='yes' timeout='5'/></source></backend></rng>",
    "<rng model='virtio'><backend model='egd' type='tcp'><source mode='connect' host='::1' service='709' tls='yes'/>"
    "<protocol type='telnet'/><log file='/var/log/vm/egd.log' append='on'/></backend></rng>",
    "<rng model='virtio'><backend model='egd' type='spicevmc'/></rng>",
    "<rng model='virtio-transitional'><backend model='builtin'/><alias name='rng3'/></rng>",
    "<rng model='virtio'><backend model='random'>/dev/urandom</backend><address type='ccw' cssid='0xfe' ssid='0x0'"
    " devno='0x0007'/></rng>",
]

TestContract = contract_tests("rng", samples=SAMPLES)


registry = plugin_registry("rng")


def _one(registry: devframe.Registry, xml: str) -> Rng:
    return one_device(registry, xml, Rng)


def test_samples_are_schema_valid() -> None:
    for sample in SAMPLES:
        assert not validate_against_schema(wrap_in_domain(sample)), sample


def test_samples_cover_every_model_and_backend(registry: devframe.Registry) -> None:
    rngs = [_one(registry, s) for s in SAMPLES]
    assert {r.model for r in rngs} == set(MODELS)
    assert {r.backend_model for r in rngs} == set(BACKEND_MODELS)
    assert {r.source for r in rngs} == {*RANDOM_FILES, "random", "egd", "builtin"}
    assert all(r.problems() == [] for r in rngs)


# -- fields ------------------------------------------------------------------------------------


def test_fields(registry: devframe.Registry) -> None:
    limited = _one(registry, SAMPLES[1])
    assert (limited.model, limited.backend_model, limited.backend_path) == ("virtio", "random", "/dev/random")
    assert (limited.rate_bytes, limited.rate_period, limited.device_id) == (1234, 2000, UUID)
    egd = _one(registry, SAMPLES[5])
    assert (egd.backend_model, egd.char_type, egd.protocol, egd.backend_path) == ("egd", "tcp", "raw", None)
    assert [(s.mode, s.host, s.service) for s in egd.sources] == [("connect", "entropy.example.net", "708")]
    assert (egd.iommu, egd.ats, egd.packed, egd.page_per_vq, egd.acpi_index) == (True, True, True, True, 6)
    udp = _one(registry, SAMPLES[6])
    assert [s.mode for s in udp.sources] == ["bind", "connect"]
    logged = _one(registry, SAMPLES[8])
    assert (logged.log_file, logged.log_append, logged.sources[0].tls) == ("/var/log/vm/egd.log", True, True)


def test_editing_changes_only_the_field(registry: devframe.Registry) -> None:
    rng = _one(registry, SAMPLES[1])
    expected = copy.deepcopy(rng.element)
    rng.backend_path = "/dev/urandom"
    expected.find("backend").text = "/dev/urandom"
    rng.rate_period = 1000
    expected.find("rate").set("period", "1000")
    assert canonical(rng.to_xml()) == canonical(expected)
    egd = _one(registry, SAMPLES[5])
    expected = copy.deepcopy(egd.element)
    egd.sources[0].service = "710"
    expected.find("backend/source").set("service", "710")
    egd.char_type = "udp"
    expected.find("backend").set("type", "udp")
    assert canonical(egd.to_xml()) == canonical(expected)


# -- dev_spec ----------------------------------------------------------------------------------


def test_vdsm_spec(registry: devframe.Registry) -> None:
    spec = {"type": "rng", "device": "virtio", "specParams": {"source": "urandom", "bytes": "1234", "period": "2000"}}
    rng = registry.device_from_spec(spec)
    assert isinstance(rng, Rng)
    assert canonical(rng.to_xml()) == canonical(
        "<rng model='virtio'><rate bytes='1234' period='2000'/><backend model='random'>/dev/urandom</backend></rng>"
    )
    assert rng.to_spec() == {
        "type": "rng",
        "device": "virtio",
        "specParams": {"bytes": 1234, "period": 2000, "source": "urandom"},
    }
    assert [c.tag for c in rng.element] == ["rate", "backend"]


@pytest.mark.parametrize(
    ("source", "backend"),
    [
        ("urandom", "<backend model='random'>/dev/urandom</backend>"),
        ("random", "<backend model='random'>/dev/random</backend>"),
        ("hwrng", "<backend model='random'>/dev/hwrng</backend>"),
        ("builtin", "<backend model='builtin'/>"),
    ],
)
def test_vdsm_sources_both_ways(registry: devframe.Registry, source: str, backend: str) -> None:
    xml = f"<rng model='virtio'>{backend}</rng>"
    rng = registry.device_from_spec({"type": "rng", "device": "virtio", "specParams": {"source": source}})
    assert canonical(rng.to_xml()) == canonical(xml)
    assert _one(registry, xml).to_spec()["specParams"] == {"source": source}


def test_other_files_and_no_file(registry: devframe.Registry) -> None:
    assert _one(registry, SAMPLES[4]).to_spec()["specParams"] == {"source": "random", "path": "/dev/entropy0"}
    assert _one(registry, SAMPLES[3]).to_spec()["specParams"] == {"source": "random", "path": ""}
    built = registry.device_from_spec({"type": "rng", "specParams": {"source": "random", "path": ""}})
    assert built.to_xml() == '<rng model="virtio"><backend model="random"/></rng>'
    by_path = registry.device_from_spec({"type": "rng", "specParams": {"path": "/dev/entropy0"}})
    assert canonical(by_path.to_xml()) == canonical(SAMPLES[4])
    # a VDSM name with an explicit file: the file wins, and reads back as 'random' + path
    custom = registry.device_from_spec({"type": "rng", "specParams": {"source": "hwrng", "path": "/dev/hwrng1"}})
    assert custom.to_spec()["specParams"] == {"source": "random", "path": "/dev/hwrng1"}


def test_minimal_spec_gets_defaults(registry: devframe.Registry) -> None:
    rng = registry.device_from_spec({"type": "rng"})
    assert canonical(rng.to_xml()) == canonical(URANDOM)
    assert not validate_against_schema(wrap_in_domain(rng.to_xml()))


def test_every_documented_key(registry: devframe.Registry) -> None:
    rng = registry.device_from_spec(
        {
            "type": "rng",
            "device": "virtio-non-transitional",
            "deviceId": UUID,
            "address": {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x09", "function": "0x0"},
            "specParams": {
                "source": "egd",
                "backendType": "tcp",
                "sources": [{"mode": "connect", "host": "egd.example.net", "service": "708", "tls": True}],
                "protocol": "raw",
                "log": {"file": "/var/log/egd.log", "append": False},
                "bytes": 512,
                "period": 100,
                "driver": {"iommu": True, "ats": "on", "packed": False, "pagePerVq": "off"},
                "acpiIndex": 2,
            },
        }
    )
    expected = (
        "<rng model='virtio-non-transitional'><rate bytes='512' period='100'/>"
        "<backend model='egd' type='tcp'><source mode='connect' host='egd.example.net' service='708' tls='yes'/>"
        "<protocol type='raw'/><log file='/var/log/egd.log' append='off'/></backend>"
        "<driver iommu='on' ats='on' packed='off' page_per_vq='off'/>"
        f"<alias name='ua-{UUID}'/><acpi index='2'/>{pci(9)}</rng>"
    )
    assert canonical(rng.to_xml()) == canonical(expected)
    assert [c.tag for c in rng.element] == ["rate", "backend", "driver", "alias", "acpi", "address"]
    assert list(rng.element.find("backend").attrib) == ["model", "type"]  # as libvirt writes it
    assert not validate_against_schema(wrap_in_domain(rng.to_xml()))


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"source": "urandom2"}, "specParams.source"),
        ({"source": 1}, "specParams.source"),
        ({"source": "builtin", "path": "/dev/urandom"}, "specParams.path"),
        ({"source": "egd", "path": "/dev/urandom"}, "specParams.path"),
        ({"path": 7}, "specParams.path"),
        ({"source": "egd"}, "specParams.backendType"),
        ({"source": "urandom", "backendType": "tcp"}, "specParams.backendType"),
        ({"source": "builtin", "sources": [{"path": "/x"}]}, "specParams.sources"),
        ({"source": "random", "protocol": "raw"}, "specParams.protocol"),
        ({"source": "random", "log": {"append": False}}, "specParams.log.append"),
        ({"period": 10}, "specParams.bytes"),
        ({"bytes": "many"}, "specParams.bytes"),
        ({"driver": {"iommu": "maybe"}}, "specParams.driver.iommu"),
    ],
)
def test_unusable_spec_values_name_the_key(registry: devframe.Registry, params: dict[str, Any], key: str) -> None:
    assert_spec_refused(registry, {"type": "rng", "specParams": params}, key)


@pytest.mark.parametrize(
    "params",
    [
        {"source": "egd", "backendType": "tcp"},
        {"source": "egd", "backendType": "file", "sources": [{"mode": "bind"}]},
    ],
)
def test_an_egd_source_libvirt_refuses_is_built_and_reported(
    registry: devframe.Registry, params: dict[str, Any]
) -> None:
    """Valid in libvirt's schema: built as given, reported, and its spec round-trips."""
    rng = registry.device_from_spec({"type": "rng", "specParams": params})
    assert any("character device needs" in problem for problem in rng.problems())
    assert_spec_round_trip(registry, rng)


def test_model_must_be_a_name(registry: devframe.Registry) -> None:
    with pytest.raises(devframe.DevframeError, match="device"):
        registry.device_from_spec({"type": "rng", "device": 1})


def test_spec_round_trip_of_every_sample(registry: devframe.Registry) -> None:
    for sample in SAMPLES:
        rng = _one(registry, sample)
        spec = rng.to_spec()
        again = registry.device_from_spec(spec)
        assert again.to_spec() == spec, sample
        assert _content(again.to_xml()) == _content(sample), sample


def _content(xml: str) -> tuple[dict[str, str], list[str]]:
    """Attributes and children, in any order: a spec-built rng has libvirt's child order."""
    element = etree.fromstring(xml)
    return dict(element.attrib), sorted(canonical(child) for child in element)


def test_spec_keys(registry: devframe.Registry) -> None:
    assert _one(registry, SAMPLES[6]).to_spec() == {
        "type": "rng",
        "device": "virtio",
        "specParams": {
            "backendType": "udp",
            "sources": [
                {"mode": "bind", "service": "1234"},
                {"mode": "connect", "host": "192.0.2.1", "service": "1234"},
            ],
            "source": "egd",
        },
    }


# -- checks, identity, summary --------------------------------------------------------------


def test_a_rate_without_bytes_read_from_xml_is_a_problem(registry: devframe.Registry) -> None:
    rng = _one(registry, "<rng model='virtio'><rate period='10'/><backend model='builtin'/></rng>")
    assert rng.problems() == ["a <rate> needs bytes"]
    egd = _one(registry, "<rng model='virtio'><backend model='egd' type='tcp'/></rng>")
    assert egd.problems() and "tcp" in egd.problems()[0]


def test_identity(registry: devframe.Registry) -> None:
    assert _one(registry, URANDOM).identity() == {"devtype": "rng", "model": "virtio", "backend": "random"}
    assert _one(registry, SAMPLES[5]).identity() == {
        "devtype": "rng", "model": "virtio-non-transitional", "backend": "egd",
    }  # fmt: skip
    assert _one(registry, "<rng><backend model='builtin'/></rng>").identity() == {
        "devtype": "rng",
        "backend": "builtin",
    }
    assert _one(registry, "<rng/>").identity() is None


def test_identical_rngs_share_an_identity_and_others_do_not(registry: devframe.Registry) -> None:
    """Alike rngs share their key (the core pairs them in document order); a different model
    or backend tells them apart."""
    first, builtin, second = devframe.parse_domain(
        wrap_in_domain(URANDOM, SAMPLES[10], URANDOM), registry=registry
    ).devices
    assert first.identity() == second.identity()
    assert builtin.identity() != first.identity()
    assert _one(registry, SAMPLES[2]).identity() != first.identity()  # virtio-transitional


def test_identity_binds_metadata_without_an_alias(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(URANDOM, SAMPLES[5]), registry=registry)
    domain.devices[1].metadata["entropySource"] = "egd-host"
    again = devframe.parse_domain(domain.to_xml(), registry=registry)
    assert again.devices[1].metadata.get("entropySource") == "egd-host"
    assert not again.devices[0].has_metadata


def test_summary(registry: devframe.Registry) -> None:
    assert _one(registry, SAMPLES[1]).summary() == {
        "model": "virtio",
        "backend_model": "random",
        "backend_path": "/dev/random",
        "rate_bytes": "1234",
        "rate_period": "2000",
        "source": "random",
    }
    assert _one(registry, SAMPLES[5]).summary() == {
        "model": "virtio-non-transitional",
        "backend_model": "egd",
        "source": "egd",
        "chardev": "tcp connect entropy.example.net:708",
    }


def test_nothing_is_secret() -> None:
    assert not [name for name, field in Rng.fields.items() if field.secret]


@pytest.mark.parametrize(
    ("xml", "problem"),
    [
        ("<rng model='virtio'/>", "an rng needs a <backend>"),
        ("<rng model='virtio'><backend>/dev/urandom</backend></rng>", "an rng needs a backend model"),
        ("<rng model='virtio'><backend model='egd'/></rng>", "the egd backend needs a chardev type"),
        ("<rng model='virtio'><backend model='random' type='tcp'/></rng>", "only the egd backend"),
        ("<rng model='virtio'><backend model='future'/></rng>", "backend model 'future' has no dev_spec source"),
        ("<rng model='virtio'><backend model='random'><source append=''/></backend></rng>", "only the egd backend"),
    ],
)
def test_backends_a_spec_cannot_express_are_problems(registry: devframe.Registry, xml: str, problem: str) -> None:
    rng = _one(registry, xml)
    assert any(problem in p for p in rng.problems())
    assert canonical(rng.to_xml()) == canonical(xml)  # kept as it is
    assert isinstance(rng.summary(), dict)


def test_an_rng_without_model_round_trips(registry: devframe.Registry) -> None:
    xml = "<rng><backend model='builtin'/></rng>"
    rng = _one(registry, xml)
    spec = rng.to_spec()
    assert spec["device"] == "rng"
    assert canonical(registry.device_from_spec(spec).to_xml()) == canonical(xml)
