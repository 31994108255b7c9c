"""Tests of the tpm plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

from typing import Any

import pytest
from devframe_tpm import Tpm
from lxml import etree

import devframe
from devframe.testing import (
    assert_reported_not_raised,
    assert_set_changes_only,
    assert_set_refused,
    assert_spec_refused,
    canonical,
    contract_tests,
    edit_tests,
    one_device,
    plugin_registry,
    validate_against_schema,
    wrap_in_domain,
)

UUID = "5d5b3a8e-0000-4000-8000-00000000070a"
SECRET = "b3d7f1a2-9e64-4c85-a0b2-6d8e4f1c3a79"

PASSTHROUGH = "<tpm model='tpm-tis'><backend type='passthrough'><device path='/dev/tpm0'/></backend></tpm>"
EMULATOR_CRB = (
    "<tpm model='tpm-crb'><backend type='emulator' version='2.0' persistent_state='yes'>"
    f"<encryption secret='{SECRET}'/><active_pcr_banks><sha1/><sha256/><sha384/><sha512/></active_pcr_banks>"
    f"</backend><alias name='ua-{UUID}'/></tpm>"
)
EMULATOR_12 = "<tpm><backend type='emulator' version='1.2'/></tpm>"
EMULATOR_BARE = "<tpm model='tpm-tis'><backend type='emulator'/></tpm>"
EXTERNAL = (
    "<tpm model='tpm-tis'><backend type='external'>"
    "<source type='unix' mode='connect' path='/run/swtpm/vm.sock'/></backend><alias name='tpm0'/></tpm>"
)
PASSTHROUGH_NO_DEVICE = "<tpm model='tpm-crb'><backend type='passthrough'/></tpm>"
SPAPR = wrap_in_domain(
    "<tpm model='tpm-spapr'><backend type='emulator' version='2.0'/><address type='spapr-vio' reg='0x00004000'/></tpm>",
    arch="ppc64",
)
SPAPR_PROXY = wrap_in_domain(
    "<tpm model='spapr-tpm-proxy'><backend type='passthrough'><device path='/dev/tpmrm0'/></backend></tpm>",
    arch="ppc64",
)
# libvirt 11 only (the 9.0 schema here rejects them): state source, profile, debug
V11_FILE_STATE = (
    "<tpm model='tpm-crb'><backend type='emulator' version='2.0' debug='5'>"
    "<source type='file' path='/var/lib/swtpm/vm.permall'/>"
    "<profile source='local:restricted' removeDisabled='fips-host' name='custom:restricted'/>"
    "</backend></tpm>"
)
V11_DIR_STATE = (
    "<tpm model='tpm-tis'><backend type='emulator' version='2.0' persistent_state='no' debug='0x1f'>"
    f"<source type='dir' path='/var/lib/swtpm/vm'/><encryption secret='{SECRET.replace('-', '')}'/>"
    "<active_pcr_banks><sha256/></active_pcr_banks><profile removeDisabled='check'/></backend></tpm>"
)

SAMPLES = [
    PASSTHROUGH, EMULATOR_CRB, EMULATOR_12, EMULATOR_BARE, EXTERNAL, PASSTHROUGH_NO_DEVICE, SPAPR, SPAPR_PROXY,
    V11_FILE_STATE, V11_DIR_STATE,
]  # fmt: skip
VALID_FOR_9 = [s for s in SAMPLES if s not in (V11_FILE_STATE, V11_DIR_STATE)]

TestContract = contract_tests("tpm", samples=SAMPLES)


registry = plugin_registry("tpm")


def _tpm(registry: devframe.Registry, xml: str) -> Tpm:
    return one_device(registry, xml, Tpm)


# -- parsing ------------------------------------------------------------------------------


def test_samples_valid_for_libvirt_9_are_schema_valid() -> None:
    for sample in VALID_FOR_9:
        text = sample if sample.startswith("<domain") else wrap_in_domain(sample)
        assert not validate_against_schema(text), sample
    for sample in (V11_FILE_STATE, V11_DIR_STATE):  # what makes them libvirt 11 only
        assert validate_against_schema(wrap_in_domain(sample))


def test_fields_are_typed(registry: devframe.Registry) -> None:
    crb = _tpm(registry, EMULATOR_CRB)
    assert (crb.model, crb.backend, crb.version, crb.persistent_state) == ("tpm-crb", "emulator", "2.0", True)
    assert crb.encryption_secret == SECRET
    assert crb.active_pcr_banks == ["sha1", "sha256", "sha384", "sha512"]
    assert (crb.pcr_sha1, crb.pcr_sha512) == (True, True)
    assert crb.device_id == UUID
    passthrough = _tpm(registry, PASSTHROUGH)
    assert (passthrough.backend, passthrough.device_path, passthrough.active_pcr_banks) == (
        "passthrough",
        "/dev/tpm0",
        [],
    )
    external = _tpm(registry, EXTERNAL)
    assert (external.source_type, external.source_mode, external.source_path) == (
        "unix",
        "connect",
        "/run/swtpm/vm.sock",
    )


def test_libvirt_11_fields(registry: devframe.Registry) -> None:
    state = _tpm(registry, V11_FILE_STATE)
    assert (state.debug, state.source_type, state.source_path) == (5, "file", "/var/lib/swtpm/vm.permall")
    assert (state.profile_source, state.profile_remove_disabled, state.profile_name) == (
        "local:restricted", "fips-host", "custom:restricted",
    )  # fmt: skip
    directory = _tpm(registry, V11_DIR_STATE)
    assert (directory.debug, directory.source_type, directory.persistent_state) == (31, "dir", False)
    assert directory.active_pcr_banks == ["sha256"]


@pytest.mark.parametrize(
    ("xml", "field"),
    [
        ("<tpm><backend type='emulator' debug='300'/></tpm>", "debug"),
        ("<tpm><backend type='emulator' persistent_state='perhaps'/></tpm>", "persistent_state"),
        ("<tpm><backend type='emulator'><encryption secret='not-a-uuid'/></backend></tpm>", "encryption_secret"),
        ("<tpm><backend type='emulator'><profile source='bad name!'/></backend></tpm>", "profile_source"),
    ],
)
def test_bad_values_are_reported_not_raised(registry: devframe.Registry, xml: str, field: str) -> None:
    assert_reported_not_raised(_tpm(registry, xml), field, xml)


# -- dev_spec -----------------------------------------------------------------------------


def test_vdsm_spec_builds_vdsm_xml(registry: devframe.Registry) -> None:
    tpm = registry.device_from_spec({"type": "tpm", "device": "tpm", "specParams": {"model": "tpm-crb"}})
    assert canonical(tpm.to_xml()) == canonical("<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>")
    assert not validate_against_schema(wrap_in_domain(tpm.to_xml()))
    assert tpm.to_spec() == {
        "type": "tpm", "device": "tpm", "specParams": {"model": "tpm-crb", "backend": "emulator", "version": "2.0"},
    }  # fmt: skip


def test_a_minimal_spec_gets_the_emulator(registry: devframe.Registry) -> None:
    tpm = registry.device_from_spec({"type": "tpm"})
    assert canonical(tpm.to_xml()) == canonical("<tpm><backend type='emulator' version='2.0'/></tpm>")
    assert not validate_against_schema(wrap_in_domain(tpm.to_xml()))
    old = registry.device_from_spec({"type": "tpm", "specParams": {"version": "1.2"}})
    assert canonical(old.to_xml()) == canonical("<tpm><backend type='emulator' version='1.2'/></tpm>")


def test_the_backend_is_inferred_from_its_keys(registry: devframe.Registry) -> None:
    passthrough = registry.device_from_spec({"type": "tpm", "specParams": {"devicePath": "/dev/tpm0"}})
    assert canonical(passthrough.to_xml()) == canonical(
        "<tpm><backend type='passthrough'><device path='/dev/tpm0'/></backend></tpm>"
    )
    external = registry.device_from_spec({"type": "tpm", "specParams": {"source": {"type": "unix", "path": "/s"}}})
    assert canonical(external.to_xml()) == canonical(
        "<tpm><backend type='external'><source type='unix' path='/s' mode='connect'/></backend></tpm>"
    )
    for xml in (passthrough.to_xml(), external.to_xml()):
        assert not validate_against_schema(wrap_in_domain(xml)), xml


def test_an_external_source_gets_its_required_type_and_mode(registry: devframe.Registry) -> None:
    tpm = registry.device_from_spec(
        {"type": "tpm", "specParams": {"model": "tpm-tis", "backend": "external", "source": {"path": "/s"}}}
    )
    assert canonical(tpm.to_xml()) == canonical(
        "<tpm model='tpm-tis'><backend type='external'><source type='unix' mode='connect' path='/s'/></backend></tpm>"
    )
    assert not validate_against_schema(wrap_in_domain(tpm.to_xml()))


def test_an_emulator_state_path_needs_its_type(registry: devframe.Registry) -> None:
    with pytest.raises(devframe.SpecError, match=r"specParams\.source\.type"):
        registry.device_from_spec({"type": "tpm", "specParams": {"backend": "emulator", "source": {"path": "/s"}}})


def test_every_spec_key_builds_its_xml(registry: devframe.Registry) -> None:
    tpm = registry.device_from_spec(
        {
            "type": "tpm", "device": "tpm", "deviceId": UUID, "address": {"type": "spapr-vio", "reg": "0x00004000"},
            "specParams": {
                "model": "tpm-spapr", "backend": "emulator", "version": "2.0", "persistentState": "yes",
                "debug": "7", "source": {"type": "dir", "path": "/var/lib/swtpm/x"}, "encryptionSecret": SECRET,
                "activePcrBanks": {"sha256": True, "sha512": "yes", "sha1": False},
                "profile": {"source": "local:default", "removeDisabled": "check", "name": "default"},
            },
        }
    )  # fmt: skip
    expected = (
        "<tpm model='tpm-spapr'><backend type='emulator' version='2.0' persistent_state='yes' debug='7'>"
        f"<source type='dir' path='/var/lib/swtpm/x'/><encryption secret='{SECRET}'/>"
        "<active_pcr_banks><sha256/><sha512/></active_pcr_banks>"
        "<profile source='local:default' removeDisabled='check' name='default'/></backend>"
        f"<alias name='ua-{UUID}'/><address type='spapr-vio' reg='0x00004000'/></tpm>"
    )
    assert canonical(tpm.to_xml()) == canonical(expected)
    assert [c.tag for c in etree.fromstring(tpm.to_xml())] == ["backend", "alias", "address"]
    spec = tpm.to_spec()
    assert spec["specParams"]["activePcrBanks"] == {"sha256": True, "sha512": True}
    assert spec["specParams"]["debug"] == 7 and spec["specParams"]["persistentState"] is True


def test_passthrough_and_pcr_spec(registry: devframe.Registry) -> None:
    assert _tpm(registry, PASSTHROUGH).to_spec() == {
        "type": "tpm",
        "device": "tpm",
        "specParams": {"model": "tpm-tis", "backend": "passthrough", "devicePath": "/dev/tpm0"},
    }
    params = _tpm(registry, EMULATOR_CRB).to_spec()["specParams"]
    assert params["activePcrBanks"] == {"sha1": True, "sha256": True, "sha384": True, "sha512": True}


def test_spec_round_trip_of_every_sample(registry: devframe.Registry) -> None:
    for sample in SAMPLES:
        tpm = _tpm(registry, sample)
        spec = tpm.to_spec()
        rebuilt = registry.device_from_spec(spec)
        assert rebuilt.to_spec() == spec, sample
        expected = etree.fromstring(tpm.to_xml())
        if sample == V11_DIR_STATE:
            expected.find("backend").set("debug", "31")  # the spec's int, written as libvirt writes it
        assert canonical(rebuilt.to_xml()) == canonical(expected), sample


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"model": 2}, "specParams.model"),
        ({"version": 2.0}, "specParams.version"),
        ({"backend": ["emulator"]}, "specParams.backend"),
        ({"debug": 256}, "specParams.debug"),
        ({"debug": -1}, "specParams.debug"),
        ({"persistentState": "sometimes"}, "specParams.persistentState"),
        ({"encryptionSecret": "my-passphrase"}, "specParams.encryptionSecret"),
        ({"devicePath": 0}, "specParams.devicePath"),
        ({"activePcrBanks": {"sha256": "lots"}}, "specParams.activePcrBanks.sha256"),
        ({"activePcrBanks": {"sha1": 1}}, "specParams.activePcrBanks.sha1"),
        ({"profile": {"source": "has space"}}, "specParams.profile.source"),
        ({"source": {"type": 5, "path": "/s"}}, "specParams.source.type"),
    ],
)
def test_bad_spec_values_are_spec_errors_naming_the_key(
    registry: devframe.Registry, params: dict[str, Any], key: str
) -> None:
    assert_spec_refused(registry, {"type": "tpm", "device": "tpm", "specParams": params}, key)


# -- the encryption secret is a reference ----------------------------------------------------


def test_the_encryption_secret_uuid_is_a_reference_not_a_secret(registry: devframe.Registry) -> None:
    tpm = _tpm(registry, EMULATOR_CRB)
    assert not Tpm.encryption_secret.secret
    assert tpm.summary()["encryption_secret"] == SECRET
    assert tpm.to_spec()["specParams"]["encryptionSecret"] == SECRET


# -- editing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "place", "raw"),
    [
        ("model", "tpm-tis", "@model", "tpm-tis"),
        ("version", "1.2", "backend@version", "1.2"),
        ("persistent_state", False, "backend@persistent_state", "no"),
        ("encryption_secret", UUID, "backend/encryption@secret", UUID),
        ("debug", 9, "backend@debug", "9"),
    ],
)
def test_setting_a_field_changes_only_it(
    registry: devframe.Registry, name: str, value: Any, place: str, raw: str
) -> None:
    tpm = _tpm(registry, EMULATOR_CRB)
    assert_set_changes_only(tpm, name, value, place, raw)


def test_pcr_banks_are_added_and_removed_one_by_one(registry: devframe.Registry) -> None:
    tpm = _tpm(registry, EMULATOR_BARE)
    tpm.pcr_sha384 = True
    assert canonical(tpm.to_xml()) == canonical(
        "<tpm model='tpm-tis'><backend type='emulator'><active_pcr_banks><sha384/></active_pcr_banks></backend></tpm>"
    )
    tpm.pcr_sha1 = True
    assert tpm.active_pcr_banks == ["sha1", "sha384"]
    tpm.pcr_sha384 = False
    assert tpm.active_pcr_banks == ["sha1"]
    tpm.pcr_sha1 = False  # the last one: the emptied list goes too
    assert canonical(tpm.to_xml()) == canonical(EMULATOR_BARE)


def test_a_bad_uuid_is_refused_and_nothing_changes(registry: devframe.Registry) -> None:
    assert_set_refused(_tpm(registry, EMULATOR_CRB), "encryption_secret", "passphrase")


# -- identity and display ------------------------------------------------------------------


def test_identity_is_the_model(registry: devframe.Registry) -> None:
    assert _tpm(registry, EMULATOR_CRB).identity() == {"devtype": "tpm", "model": "tpm-crb"}
    assert _tpm(registry, SPAPR_PROXY).identity() == {"devtype": "tpm", "model": "spapr-tpm-proxy"}
    assert _tpm(registry, EMULATOR_12).identity() == {"devtype": "tpm"}


def test_a_spapr_tpm_and_its_proxy_keep_their_own_metadata(registry: devframe.Registry) -> None:
    spapr = "<tpm model='tpm-spapr'><backend type='emulator' version='2.0'/></tpm>"
    proxy = "<tpm model='spapr-tpm-proxy'><backend type='passthrough'><device path='/dev/tpmrm0'/></backend></tpm>"
    domain = devframe.parse_domain(wrap_in_domain(spapr, proxy, arch="ppc64"), registry=registry)
    domain.dev_map["tpm"][1].metadata["role"] = "proxy"
    domain.dev_map["tpm"][0].metadata["role"] = "vtpm"
    again = devframe.parse_domain(domain.to_xml(), registry=registry)
    assert [d.metadata["role"] for d in again.dev_map["tpm"]] == ["vtpm", "proxy"]


def test_summary(registry: devframe.Registry) -> None:
    assert _tpm(registry, EMULATOR_CRB).summary() == {
        "model": "tpm-crb",
        "backend": "emulator",
        "version": "2.0",
        "persistent_state": "yes",
        "encryption_secret": SECRET,
        "active_pcr_banks": "sha1,sha256,sha384,sha512",
    }
    assert _tpm(registry, EXTERNAL).summary() == {
        "model": "tpm-tis",
        "backend": "external",
        "source": "/run/swtpm/vm.sock",
    }
    broken = _tpm(registry, "<tpm><backend type='emulator' debug='x' persistent_state='x'/></tpm>")
    assert broken.summary()["persistent_state"] == "<invalid 'x'>"


# -- setting each modeled field changes only it ------------------------------------------------


CLASS = Tpm
#: new values for every modeled field (two: one differs from what any sample holds)
EDITS: dict[str, tuple[Any, ...]] = {
    "alias": ("ua-" + UUID, "tpm9"),
    "model": ("tpm-crb", "tpm-tis"),
    "backend": ("emulator", "passthrough"),
    "version": ("1.2", "2.0"),
    "persistent_state": (True, False),
    "debug": (1, 2),
    "device_path": ("/dev/tpm1", "/dev/tpmrm1"),
    "source_type": ("file", "dir"),
    "source_path": ("/a", "/b"),
    "source_mode": ("connect",),
    "encryption_secret": (UUID, SECRET),
    "pcr_sha1": (True, False),
    "pcr_sha256": (True, False),
    "pcr_sha384": (True, False),
    "pcr_sha512": (True, False),
    "profile_source": ("local:a", "local:b"),
    "profile_remove_disabled": ("check", "fips-host"),
    "profile_name": ("a", "b"),
}


TestEdits = edit_tests("tpm", CLASS, SAMPLES, EDITS)
