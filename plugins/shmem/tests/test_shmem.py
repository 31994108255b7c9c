"""Tests of the shmem plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

from typing import Any

import pytest
from devframe_shmem import Shmem
from lxml import etree

import devframe
from devframe.testing import (
    assert_reported_not_raised,
    assert_set_refused,
    assert_spec_refused,
    assert_spec_round_trip,
    canonical,
    contract_tests,
    edit_tests,
    one_device,
    plugin_registry,
    validate_against_schema,
    wrap_in_domain,
)

UUID = "5d5b3a8e-0000-4000-8000-0000000005e1"


def pci(slot: int) -> str:
    return f"<address type='pci' domain='0x0000' bus='0x00' slot='0x{slot:02x}' function='0x0'/>"


IVSHMEM = (
    "<shmem name='legacy_shm'><model type='ivshmem'/><size unit='M'>4</size>"
    "<server path='/run/ivshmem/legacy.sock'/><msi vectors='16' ioeventfd='off'/></shmem>"
)
PLAIN = (
    "<shmem name='plain_shm'><model type='ivshmem-plain'/><size unit='KiB'>65536</size>"
    f"<alias name='ua-{UUID}'/><acpi index='5'/>{pci(9)}</shmem>"
)
DOORBELL_MASTER = (
    "<shmem name='bell_shm' role='master'><model type='ivshmem-doorbell'/>"
    "<server path='/run/ivshmem/bell.sock'/><msi vectors='32' ioeventfd='on'/>"
    f"<alias name='shmem2'/>{pci(10)}</shmem>"
)
DOORBELL_PEER = "<shmem name='peer_shm' role='peer'><model type='ivshmem-doorbell'/><size>8</size><server/></shmem>"
NO_MODEL = "<shmem name='bare_shm'><size unit='G'>1</size></shmem>"
NAME_ONLY = "<shmem name='named only'/>"

SAMPLES = [IVSHMEM, PLAIN, DOORBELL_MASTER, DOORBELL_PEER, NO_MODEL, NAME_ONLY]

TestContract = contract_tests("shmem", samples=SAMPLES)


registry = plugin_registry("shmem")


def _shmem(registry: devframe.Registry, xml: str) -> Shmem:
    return one_device(registry, xml, Shmem)


# -- parsing ------------------------------------------------------------------------------


def test_samples_are_schema_valid() -> None:
    for sample in SAMPLES:
        assert not validate_against_schema(wrap_in_domain(sample)), sample


def test_fields_are_typed(registry: devframe.Registry) -> None:
    shmem = _shmem(registry, DOORBELL_MASTER)
    assert (shmem.name, shmem.role, shmem.model) == ("bell_shm", "master", "ivshmem-doorbell")
    assert (shmem.server, shmem.server_path) == (True, "/run/ivshmem/bell.sock")
    assert (shmem.msi_vectors, shmem.msi_ioeventfd) == (32, True)
    plain = _shmem(registry, PLAIN)
    assert (plain.size, plain.size_unit, plain.acpi_index, plain.device_id) == (65536, "KiB", 5, UUID)
    assert plain.server is False and plain.server_path is None
    peer = _shmem(registry, DOORBELL_PEER)
    assert (peer.server, peer.server_path, peer.size, peer.size_unit) == (True, None, 8, None)


@pytest.mark.parametrize(
    ("xml", "field"),
    [
        ("<shmem name='a'><size>big</size></shmem>", "size"),
        ("<shmem name='a'><size unit='parsecs'>1</size></shmem>", "size_unit"),
        ("<shmem name='a'><msi vectors='-2'/></shmem>", "msi_vectors"),
        ("<shmem name='a'><msi ioeventfd='maybe'/></shmem>", "msi_ioeventfd"),
        ("<shmem name='a/b'/>", "name"),
    ],
)
def test_bad_values_are_reported_not_raised(registry: devframe.Registry, xml: str, field: str) -> None:
    assert_reported_not_raised(_shmem(registry, xml), field, xml)


# -- dev_spec -----------------------------------------------------------------------------


def test_spec(registry: devframe.Registry) -> None:
    assert _shmem(registry, DOORBELL_MASTER).to_spec() == {
        "type": "shmem",
        "device": "ivshmem-doorbell",
        "alias": "shmem2",
        "address": {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x0a", "function": "0x0"},
        "specParams": {
            "name": "bell_shm",
            "role": "master",
            "server": True,
            "serverPath": "/run/ivshmem/bell.sock",
            "msi": {"vectors": 32, "ioeventfd": True},
        },
    }
    assert _shmem(registry, NO_MODEL).to_spec() == {
        "type": "shmem",
        "device": "shmem",
        "specParams": {"name": "bare_shm", "size": 1, "sizeUnit": "G"},
    }


def test_every_spec_key_builds_its_xml(registry: devframe.Registry) -> None:
    shmem = registry.device_from_spec(
        {
            "type": "shmem", "device": "ivshmem-doorbell", "deviceId": UUID,
            "address": {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x0b", "function": "0x0"},
            "specParams": {
                "name": "all", "role": "peer", "size": "16", "sizeUnit": "MiB", "server": True,
                "serverPath": "/run/s.sock", "msi": {"vectors": "8", "ioeventfd": "on"}, "acpiIndex": 2,
            },
        }
    )  # fmt: skip
    expected = (
        "<shmem name='all' role='peer'><model type='ivshmem-doorbell'/><size unit='MiB'>16</size>"
        "<server path='/run/s.sock'/><msi vectors='8' ioeventfd='on'/>"
        f"<alias name='ua-{UUID}'/><acpi index='2'/>{pci(11)}</shmem>"
    )
    assert canonical(shmem.to_xml()) == canonical(expected)
    assert [c.tag for c in etree.fromstring(shmem.to_xml())] == [
        "model", "size", "server", "msi", "alias", "acpi", "address",
    ]  # fmt: skip
    assert not validate_against_schema(wrap_in_domain(shmem.to_xml()))


def test_a_minimal_spec_builds_a_valid_shmem(registry: devframe.Registry) -> None:
    shmem = registry.device_from_spec({"type": "shmem", "specParams": {"name": "m"}})
    assert canonical(shmem.to_xml()) == canonical("<shmem name='m'/>")
    assert not validate_against_schema(wrap_in_domain(shmem.to_xml()))
    plain = registry.device_from_spec({"type": "shmem", "device": "ivshmem-plain", "specParams": {"name": "p"}})
    assert canonical(plain.to_xml()) == canonical("<shmem name='p'><model type='ivshmem-plain'/></shmem>")


def test_a_default_server_survives_the_spec(registry: devframe.Registry) -> None:
    spec = _shmem(registry, DOORBELL_PEER).to_spec()
    assert spec["specParams"]["server"] is True and "serverPath" not in spec["specParams"]
    rebuilt = registry.device_from_spec(spec)
    assert canonical(rebuilt.to_xml()) == canonical(DOORBELL_PEER)


def test_spec_round_trip_of_every_sample(registry: devframe.Registry) -> None:
    for sample in SAMPLES:
        assert_spec_round_trip(registry, _shmem(registry, sample), sample)


def test_the_name_is_required(registry: devframe.Registry) -> None:
    with pytest.raises(devframe.SpecError, match=r"specParams\.name"):
        registry.device_from_spec({"type": "shmem", "device": "ivshmem-plain"})


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"name": "a/b"}, "specParams.name"),
        ({"name": "a", "size": -1}, "specParams.size"),
        ({"name": "a", "size": "4M"}, "specParams.size"),
        ({"name": "a", "sizeUnit": "parsecs"}, "specParams.sizeUnit"),
        ({"name": "a", "sizeUnit": 1024}, "specParams.sizeUnit"),
        ({"name": "a", "msi": {"vectors": 2**32}}, "specParams.msi.vectors"),
        ({"name": "a", "msi": {"ioeventfd": "sometimes"}}, "specParams.msi.ioeventfd"),
        ({"name": "a", "role": 1}, "specParams.role"),
        ({"name": "a", "server": "maybe"}, "specParams.server"),
        ({"name": "a", "server": [True]}, "specParams.server"),
        ({"name": "a", "acpiIndex": "first"}, "specParams.acpiIndex"),
    ],
)
def test_bad_spec_values_name_the_key(registry: devframe.Registry, params: dict[str, Any], key: str) -> None:
    assert_spec_refused(registry, {"type": "shmem", "device": "ivshmem-plain", "specParams": params}, key)


def test_a_device_that_is_not_a_string_is_a_spec_error(registry: devframe.Registry) -> None:
    with pytest.raises(devframe.SpecError, match="device"):
        registry.device_from_spec({"type": "shmem", "device": 7, "specParams": {"name": "a"}})


# -- editing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "where", "attr", "raw"),
    [
        ("size", 128, "size", None, "128"),
        ("size_unit", "GiB", "size", "unit", "GiB"),
        ("msi_vectors", 4, "msi", "vectors", "4"),
        ("msi_ioeventfd", False, "msi", "ioeventfd", "off"),
        ("server_path", "/run/other.sock", "server", "path", "/run/other.sock"),
        ("model", "ivshmem-plain", "model", "type", "ivshmem-plain"),
        ("role", "peer", None, "role", "peer"),
        ("name", "renamed", None, "name", "renamed"),
    ],
)
def test_setting_a_field_changes_only_it(
    registry: devframe.Registry, name: str, value: Any, where: str | None, attr: str | None, raw: str
) -> None:
    shmem = _shmem(registry, IVSHMEM)
    expected = etree.fromstring(shmem.to_xml())
    setattr(shmem, name, value)
    node = expected if where is None else expected.find(where)
    if attr is None:
        node.text = raw
    else:
        node.set(attr, raw)
    assert canonical(shmem.to_xml()) == canonical(expected)
    assert getattr(shmem, name) == value


def test_server_flag_adds_and_removes_the_element(registry: devframe.Registry) -> None:
    shmem = _shmem(registry, NO_MODEL)
    shmem.server = True
    assert canonical(shmem.to_xml()) == canonical("<shmem name='bare_shm'><size unit='G'>1</size><server/></shmem>")
    shmem.server = False
    assert canonical(shmem.to_xml()) == canonical(NO_MODEL)


def test_a_bad_unit_is_refused_and_nothing_changes(registry: devframe.Registry) -> None:
    assert_set_refused(_shmem(registry, IVSHMEM), "size_unit", "furlongs")


# -- identity and display ------------------------------------------------------------------


def test_identity_is_the_name(registry: devframe.Registry) -> None:
    assert _shmem(registry, PLAIN).identity() == {"devtype": "shmem", "name": "plain_shm"}
    assert _shmem(registry, NAME_ONLY).identity() == {"devtype": "shmem", "name": "named only"}
    assert _shmem(registry, "<shmem><size>1</size></shmem>").identity() is None
    assert _shmem(registry, "<shmem name=''/>").identity() is None


def test_metadata_binds_by_name_without_an_alias(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(NO_MODEL, IVSHMEM), registry=registry)
    domain.dev_map["shmem"][1].metadata["note"] = "second"
    again = devframe.parse_domain(domain.to_xml(), registry=registry)
    assert [dict(d.metadata) for d in again.dev_map["shmem"]] == [{}, {"note": "second"}]


def test_summary(registry: devframe.Registry) -> None:
    summary = _shmem(registry, DOORBELL_MASTER).summary()
    assert summary["name"] == "bell_shm" and summary["model"] == "ivshmem-doorbell"
    assert summary["server_path"] == "/run/ivshmem/bell.sock"
    assert "bell_shm" in repr(_shmem(registry, DOORBELL_MASTER))


# -- setting each modeled field changes only it ------------------------------------------------


CLASS = Shmem
#: new values for every modeled field (two: one differs from what any sample holds)
EDITS: dict[str, tuple[Any, ...]] = {
    "alias": ("ua-" + UUID, "shm9"),
    "acpi_index": (1, 2),
    "model": ("ivshmem-plain", "ivshmem-doorbell"),
    "name": ("shm-a", "shm-b"),
    "role": ("master", "peer"),
    "size": (1, 2),
    "size_unit": ("MiB", "b"),
    "server": (True, False),
    "server_path": ("/run/a.sock", "/run/b.sock"),
    "msi_vectors": (1, 2),
    "msi_ioeventfd": (True, False),
}


TestEdits = edit_tests("shmem", CLASS, SAMPLES, EDITS)
