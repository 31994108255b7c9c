"""Tests of the lease plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

from typing import Any

import pytest
from devframe_lease import Lease
from lxml import etree

import devframe
from devframe.testing import (
    assert_set_changes_only,
    assert_set_refused,
    canonical,
    contract_tests,
    edit_tests,
    one_device,
    plugin_registry,
    validate_against_schema,
    wrap_in_domain,
)

SD = "4f1e2a0c-9b7d-4e36-a58c-d2b6f3e10a97"
VM = "13c9f4e7-8a52-4d1b-b6f3-a0e7d2c85941"

FULL = (
    f"<lease><lockspace>{SD}</lockspace><key>{VM}</key>"
    f"<target path='/rhev/data-center/mnt/blockSD/{SD}/dom_md/xleases' offset='3145728'/></lease>"
)
NO_OFFSET = "<lease><lockspace>vm-locks</lockspace><key>disk-vda</key><target path='/var/lib/sanlock/locks'/></lease>"
REORDERED = (
    "<lease><target path='/var/lib/sanlock/locks' offset='0'/><key>scratch</key><lockspace>vm-locks</lockspace></lease>"
)
ENGINE = (
    f"<lease><lockspace>{SD}</lockspace><key>{VM}</key>"
    f"<target path='LEASE-PATH:{VM}:{SD}' offset='LEASE-OFFSET:{VM}:{SD}'/></lease>"
)

SAMPLES = [FULL, NO_OFFSET, REORDERED, ENGINE]

TestContract = contract_tests("lease", samples=SAMPLES)


registry = plugin_registry("lease")


def _lease(registry: devframe.Registry, xml: str) -> Lease:
    return one_device(registry, xml, Lease)


# -- parsing ------------------------------------------------------------------------------


def test_fields_are_typed(registry: devframe.Registry) -> None:
    lease = _lease(registry, FULL)
    assert (lease.lockspace, lease.key) == (SD, VM)
    assert lease.path == f"/rhev/data-center/mnt/blockSD/{SD}/dom_md/xleases"
    assert lease.offset == 3145728
    assert _lease(registry, NO_OFFSET).offset is None


def test_a_placeholder_offset_reads_as_its_text(registry: devframe.Registry) -> None:
    lease = _lease(registry, ENGINE)
    assert lease.offset == f"LEASE-OFFSET:{VM}:{SD}"
    assert lease.path == f"LEASE-PATH:{VM}:{SD}"
    assert lease.problems() == []
    assert lease.to_spec()["offset"] == f"LEASE-OFFSET:{VM}:{SD}"


def test_a_bad_offset_is_reported_not_raised(registry: devframe.Registry) -> None:
    for bad in ("-1", "lots", "4294967296", "OTHER-PLACEHOLDER:x"):
        lease = _lease(
            registry, f"<lease><lockspace>a</lockspace><key>b</key><target path='/p' offset='{bad}'/></lease>"
        )
        assert any("offset" in p for p in lease.problems()), bad
        with pytest.raises(devframe.FieldValueError, match="offset"):
            lease.to_spec()
        assert f'offset="{bad}"' in lease.to_xml()


def test_samples_other_than_the_engine_one_are_schema_valid() -> None:
    for sample in (FULL, NO_OFFSET, REORDERED):
        assert not validate_against_schema(wrap_in_domain(sample)), sample


# -- dev_spec -----------------------------------------------------------------------------


def test_spec_uses_vdsm_keys(registry: devframe.Registry) -> None:
    spec = _lease(registry, FULL).to_spec()
    assert spec == {
        "type": "lease",
        "device": "lease",
        "sd_id": SD,
        "lease_id": VM,
        "path": f"/rhev/data-center/mnt/blockSD/{SD}/dom_md/xleases",
        "offset": 3145728,
        "specParams": {},
    }


def test_every_spec_key_builds_its_xml(registry: devframe.Registry) -> None:
    lease = registry.device_from_spec(
        {"type": "lease", "device": "lease", "sd_id": "sd", "lease_id": "vm", "path": "/l", "offset": "1024"}
    )
    assert canonical(lease.to_xml()) == canonical(
        "<lease><lockspace>sd</lockspace><key>vm</key><target path='/l' offset='1024'/></lease>"
    )
    assert not validate_against_schema(wrap_in_domain(lease.to_xml()))


def test_a_minimal_spec_gets_the_engine_placeholders(registry: devframe.Registry) -> None:
    lease = registry.device_from_spec({"type": "lease", "sd_id": "sd1", "lease_id": "vm1"})
    assert isinstance(lease, Lease)
    assert canonical(lease.to_xml()) == canonical(
        "<lease><lockspace>sd1</lockspace><key>vm1</key>"
        "<target path='LEASE-PATH:vm1:sd1' offset='LEASE-OFFSET:vm1:sd1'/></lease>"
    )
    spec = lease.to_spec()
    assert (spec["path"], spec["offset"]) == ("LEASE-PATH:vm1:sd1", "LEASE-OFFSET:vm1:sd1")
    assert registry.device_from_spec(spec).to_spec() == spec


def test_a_spec_with_a_path_and_no_offset_gets_no_offset(registry: devframe.Registry) -> None:
    lease = registry.device_from_spec({"type": "lease", "sd_id": "sd1", "lease_id": "vm1", "path": "/l"})
    assert etree.fromstring(lease.to_xml()).find("target").attrib == {"path": "/l"}


def test_alias_address_and_device_id_go_to_metadata_not_xml(registry: devframe.Registry) -> None:
    spec = {
        "type": "lease", "device": "lease", "sd_id": "sd1", "lease_id": "vm1", "path": "/l", "offset": 0,
        "deviceId": "d-1", "alias": "ua-d-1", "address": {"type": "pci", "slot": "0x05"},
    }  # fmt: skip
    lease = registry.device_from_spec(spec)
    xml = etree.fromstring(lease.to_xml())
    assert xml.find("alias") is None and xml.find("address") is None
    assert lease.device_id == "d-1"
    assert lease.to_spec() == {**spec, "specParams": {}}
    # through a domain: the metadata is keyed by the lease's identity and binds back
    domain = devframe.parse_domain(wrap_in_domain(), registry=registry)
    domain.add(lease)
    again = devframe.parse_domain(domain.to_xml(), registry=registry).devices[0]
    assert again.to_spec() == lease.to_spec()


@pytest.mark.parametrize("missing", ["sd_id", "lease_id"])
def test_missing_ids_are_spec_errors_naming_the_key(registry: devframe.Registry, missing: str) -> None:
    spec = {"type": "lease", "sd_id": "sd1", "lease_id": "vm1", "path": "/l"}
    del spec[missing]
    with pytest.raises(devframe.SpecError, match=missing):
        registry.device_from_spec(spec)
    with pytest.raises(devframe.SpecError, match=missing):
        registry.device_from_spec({**spec, missing: "  "})


@pytest.mark.parametrize(
    ("key", "value"),
    [("offset", -1), ("offset", "lots"), ("offset", 1.5), ("offset", True), ("offset", 2**32),
     ("path", 7), ("sd_id", ["sd"]), ("lease_id", 5)],
)  # fmt: skip
def test_bad_values_are_spec_errors_naming_the_key(registry: devframe.Registry, key: str, value: Any) -> None:
    spec = {"type": "lease", "sd_id": "sd1", "lease_id": "vm1", "path": "/l", key: value}
    with pytest.raises(devframe.SpecError, match=repr(key)):
        registry.device_from_spec(spec)


def test_spec_round_trip_of_every_sample(registry: devframe.Registry) -> None:
    for sample in SAMPLES:
        spec = _lease(registry, sample).to_spec()
        assert registry.device_from_spec(spec).to_spec() == spec, sample


# -- placeholders -------------------------------------------------------------------------


def test_prepare_resolves_both_placeholders_through_lease_value(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(ENGINE), registry=registry)
    calls: list[tuple[str, str]] = []

    def lease(lease_id: str, sd_id: str) -> tuple[str, int]:
        calls.append((lease_id, sd_id))
        return f"/leases/{sd_id}/xleases", 1048576

    devframe.prepare_domain(domain, devframe.Resolvers(lease=lease))
    (resolved,) = domain.dev_map["lease"]
    assert isinstance(resolved, Lease)
    assert (resolved.path, resolved.offset) == (f"/leases/{SD}/xleases", 1048576)
    assert calls == [(VM, SD), (VM, SD)]
    assert not validate_against_schema(domain.to_xml())


def test_prepare_takes_explicit_values_first(registry: devframe.Registry) -> None:
    lease = _lease(registry, ENGINE)
    values = {f"LEASE-PATH:{VM}:{SD}": "/given", f"LEASE-OFFSET:{VM}:{SD}": "2048"}
    lease.prepare(devframe.Resolvers(values=values))
    assert (lease.path, lease.offset) == ("/given", 2048)


def test_prepare_leaves_a_resolved_lease_alone(registry: devframe.Registry) -> None:
    lease = _lease(registry, FULL)
    before = lease.to_xml()

    def lease_resolver(lease_id: str, sd_id: str) -> tuple[str, int]:
        raise AssertionError("no placeholder: the resolver must not be asked")

    lease.prepare(devframe.Resolvers(lease=lease_resolver))
    assert lease.to_xml() == before


def test_prepare_without_a_resolver_names_the_placeholder(registry: devframe.Registry) -> None:
    lease = _lease(registry, ENGINE)
    with pytest.raises(devframe.PlaceholderError, match="LEASE-PATH"):
        lease.prepare(devframe.Resolvers())


def test_a_resolved_offset_that_is_no_int_is_a_placeholder_error(registry: devframe.Registry) -> None:
    lease = _lease(registry, ENGINE)
    values = {f"LEASE-PATH:{VM}:{SD}": "/given", f"LEASE-OFFSET:{VM}:{SD}": "far"}
    with pytest.raises(devframe.PlaceholderError, match="LEASE-OFFSET") as info:
        lease.prepare(devframe.Resolvers(values=values))
    assert "far" in str(info.value)
    assert lease.offset == f"LEASE-OFFSET:{VM}:{SD}"  # left as it was


def test_a_spec_built_lease_prepares_to_a_schema_valid_domain(registry: devframe.Registry) -> None:
    domain = devframe.domain_from_spec_list(
        [{"type": "lease", "sd_id": "sd1", "lease_id": "vm1"}],
        name="leased", uuid=VM, memory_kib=1048576, vcpus=1, arch="x86_64", registry=registry,
    )  # fmt: skip
    devframe.prepare_domain(domain, devframe.Resolvers(lease=lambda lease_id, sd_id: ("/x", 512)))
    target = domain.root.find("devices/lease/target")
    assert target is not None and target.attrib == {"path": "/x", "offset": "512"}
    assert not validate_against_schema(domain.to_xml())


# -- editing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "place", "raw"),
    [
        ("offset", 4096, "target@offset", "4096"),
        ("offset", "LEASE-OFFSET:a:b", "target@offset", "LEASE-OFFSET:a:b"),
        ("path", "/other", "target@path", "/other"),
        ("key", "other-key", "key", "other-key"),
        ("lockspace", "other-space", "lockspace", "other-space"),
    ],
)
def test_setting_a_field_changes_only_it(
    registry: devframe.Registry, name: str, value: Any, place: str, raw: str
) -> None:
    lease = _lease(registry, FULL)
    assert_set_changes_only(lease, name, value, place, raw)


def test_setting_a_bad_offset_raises_and_changes_nothing(registry: devframe.Registry) -> None:
    assert_set_refused(_lease(registry, FULL), "offset", -5, "elsewhere", 1.0)


# -- identity -----------------------------------------------------------------------------


def test_identity_is_lockspace_and_key(registry: devframe.Registry) -> None:
    assert _lease(registry, FULL).identity() == {"devtype": "lease", "key": VM, "lockspace": SD}
    assert _lease(registry, REORDERED).identity() == {"devtype": "lease", "key": "scratch", "lockspace": "vm-locks"}
    assert _lease(registry, "<lease><key>k</key><target path='/p'/></lease>").identity() == {
        "devtype": "lease",
        "key": "k",
    }
    assert _lease(registry, "<lease><lockspace>s</lockspace><target path='/p'/></lease>").identity() is None
    assert _lease(registry, "<lease/>").identity() is None


def test_two_leases_of_one_lockspace_are_told_apart(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(NO_OFFSET, REORDERED), registry=registry)
    first, second = domain.dev_map["lease"]
    first.metadata["mine"] = 1
    again = devframe.parse_domain(domain.to_xml(), registry=registry)
    assert [dict(d.metadata) for d in again.dev_map["lease"]] == [{"mine": 1}, {}]
    assert first.identity() != second.identity()


def test_summary_and_repr(registry: devframe.Registry) -> None:
    lease = _lease(registry, FULL)
    summary = lease.summary()
    assert summary == {"lockspace": SD, "key": VM, "path": f"/rhev/data-center/mnt/blockSD/{SD}/dom_md/xleases",
                       "offset": 3145728}  # fmt: skip
    assert VM in repr(lease)


# -- setting each modeled field changes only it ------------------------------------------------


CLASS = Lease
#: new values for every modeled field (two: one differs from what any sample holds)
EDITS: dict[str, tuple[Any, ...]] = {
    "alias": ("lease9", "lease8"),
    "lockspace": ("space-a", "space-b"),
    "key": ("key-a", "key-b"),
    "path": ("/a", "/b"),
    "offset": (512, f"LEASE-OFFSET:{VM}:{SD}"),
}


TestEdits = edit_tests("lease", CLASS, SAMPLES, EDITS)
