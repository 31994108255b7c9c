"""Tests of the crypto plugin, runnable with only the core and this plugin installed.

``<crypto>`` is newer than the libvirt 9.0 schema installed here, so the contract suite
cannot schema-check it: :func:`_check_11_3` checks what libvirt 11.3's schema requires of
the element by hand.
"""

from __future__ import annotations

from typing import Any

import pytest
from devframe_crypto import Crypto
from devframe_crypto.device import BACKENDS, MODELS, TYPES
from lxml import etree

import devframe
from devframe.testing import (
    assert_reported_not_raised,
    assert_set_changes_only,
    assert_spec_refused,
    assert_spec_round_trip,
    canonical,
    contract_tests,
    one_device,
    plugin_registry,
    validate_against_schema,
    wrap_in_domain,
)

UUID = "7e2a4b6c-8d0e-4f1a-b2c3-0000000c0de0"

BUILTIN = (
    "<crypto model='virtio' type='qemu'><backend model='builtin' queues='2'/>"
    "<alias name='crypto0'/>"
    "<address type='pci' domain='0x0000' bus='0x07' slot='0x00' function='0x0'/></crypto>"
)
LKCF_DRIVER = (
    "<crypto model='virtio' type='qemu'><backend model='lkcf'/>"
    "<driver iommu='on' ats='off' packed='on' page_per_vq='on'/></crypto>"
)
MINIMAL = "<crypto model='virtio' type='qemu'><backend model='builtin'/></crypto>"
LKCF_QUEUES = (
    "<crypto model='virtio' type='qemu'><backend model='lkcf' queues='4'/>"
    f"<alias name='ua-{UUID}'/><address type='ccw' cssid='0xfe' ssid='0x0' devno='0x0007'/></crypto>"
)
SAMPLES = [BUILTIN, LKCF_DRIVER, MINIMAL, LKCF_QUEUES]

TestContract = contract_tests("crypto", samples=SAMPLES)

_VIRTIO_OPTIONS = {"iommu", "ats", "packed", "page_per_vq"}


def _check_11_3(xml: str) -> None:
    """Assert what libvirt 11.3's schema (``<define name="crypto">``) requires."""
    element = etree.fromstring(xml)
    assert element.tag == "crypto"
    assert element.get("model") in MODELS, "model is required: virtio"
    assert element.get("type") in TYPES, "type is required: qemu"
    assert set(element.attrib) == {"model", "type"}
    tags = [child.tag for child in element]
    assert tags.count("backend") == 1, "exactly one <backend>"
    assert set(tags) <= {"backend", "driver", "alias", "address"}
    assert all(tags.count(tag) <= 1 for tag in tags)
    backend = element.find("backend")
    assert backend.get("model") in BACKENDS, "backend model is required: builtin or lkcf"
    assert set(backend.attrib) <= {"model", "queues"} and len(backend) == 0
    if "queues" in backend.attrib:
        assert backend.get("queues").isdigit() and int(backend.get("queues")) >= 1
    driver = element.find("driver")
    if driver is not None:
        assert set(driver.attrib) <= _VIRTIO_OPTIONS
        assert set(driver.attrib.values()) <= {"on", "off"}


registry = plugin_registry("crypto")


def _crypto(registry: devframe.Registry, xml: str) -> Crypto:
    return one_device(registry, xml, Crypto)


# -- parsing ----------------------------------------------------------------------------


def test_samples_meet_the_11_3_schema_and_are_unknown_to_9_0() -> None:
    for sample in SAMPLES:
        _check_11_3(sample)
        assert validate_against_schema(wrap_in_domain(sample)), "libvirt 9.0 has no <crypto>: update the tests"


def test_the_11_3_check_refuses_what_the_schema_refuses() -> None:
    for bad in (
        "<crypto type='qemu'><backend model='builtin'/></crypto>",
        "<crypto model='virtio'><backend model='builtin'/></crypto>",
        "<crypto model='virtio' type='qemu'/>",
        "<crypto model='virtio' type='qemu'><backend/></crypto>",
        "<crypto model='virtio' type='qemu'><backend model='builtin' queues='0'/></crypto>",
        "<crypto model='virtio' type='qemu'><backend model='builtin'/><acpi index='1'/></crypto>",
    ):
        with pytest.raises(AssertionError):
            _check_11_3(bad)


def test_fields_are_typed(registry: devframe.Registry) -> None:
    builtin = _crypto(registry, BUILTIN)
    assert (builtin.model, builtin.type, builtin.backend, builtin.queues) == ("virtio", "qemu", "builtin", 2)
    assert builtin.alias == "crypto0" and builtin.device_id is None
    assert builtin.address == {"type": "pci", "domain": "0x0000", "bus": "0x07", "slot": "0x00", "function": "0x0"}
    lkcf = _crypto(registry, LKCF_DRIVER)
    assert (lkcf.backend, lkcf.queues) == ("lkcf", None)
    assert (lkcf.iommu, lkcf.ats, lkcf.packed, lkcf.page_per_vq) == (True, False, True, True)
    assert _crypto(registry, LKCF_QUEUES).device_id == UUID


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_round_trips(registry: devframe.Registry, backend: str) -> None:
    crypto = _crypto(registry, f"<crypto model='virtio' type='qemu'><backend model='{backend}' queues='1'/></crypto>")
    assert assert_spec_round_trip(registry, crypto)["specParams"]["backend"] == backend
    _check_11_3(crypto.to_xml())


@pytest.mark.parametrize("raw", ["0", "-2", "many"])
def test_bad_queues_are_reported_not_raised(registry: devframe.Registry, raw: str) -> None:
    xml = f"<crypto model='virtio' type='qemu'><backend model='builtin' queues='{raw}'/></crypto>"
    assert_reported_not_raised(_crypto(registry, xml), "queues", xml)


def test_unknown_values_are_kept(registry: devframe.Registry) -> None:
    xml = "<crypto model='virtio-next' type='vhost'><backend model='future' extra='1'/><more/></crypto>"
    crypto = _crypto(registry, xml)
    assert (crypto.model, crypto.type, crypto.backend) == ("virtio-next", "vhost", "future")
    assert crypto.problems() == []
    crypto.queues = 3
    out = etree.fromstring(crypto.to_xml())
    assert out.find("backend").attrib == {"model": "future", "extra": "1", "queues": "3"}
    assert out.find("more") is not None
    assert registry.device_from_spec(crypto.to_spec()).to_spec() == crypto.to_spec()


# -- dev_spec ---------------------------------------------------------------------------


def test_spec_of_every_key(registry: devframe.Registry) -> None:
    assert _crypto(registry, BUILTIN).to_spec() == {
        "type": "crypto",
        "device": "virtio",
        "alias": "crypto0",
        "address": {"type": "pci", "domain": "0x0000", "bus": "0x07", "slot": "0x00", "function": "0x0"},
        "specParams": {"type": "qemu", "backend": "builtin", "queues": 2},
    }
    assert _crypto(registry, LKCF_DRIVER).to_spec()["specParams"] == {
        "type": "qemu",
        "backend": "lkcf",
        "driver": {"iommu": True, "ats": False, "packed": True, "pagePerVq": True},
    }


def test_minimal_spec_gets_every_required_value(registry: devframe.Registry) -> None:
    crypto = registry.device_from_spec({"type": "crypto"})
    assert isinstance(crypto, Crypto)
    assert canonical(crypto.to_xml()) == canonical(MINIMAL)
    _check_11_3(crypto.to_xml())
    assert crypto.to_spec() == {
        "type": "crypto", "device": "virtio", "specParams": {"type": "qemu", "backend": "builtin"},
    }  # fmt: skip


def test_engine_spec_with_every_documented_key(registry: devframe.Registry) -> None:
    spec = {
        "type": "crypto",
        "device": "virtio",
        "deviceId": UUID,
        "address": {"type": "pci", "domain": "0x0000", "bus": "0x08", "slot": "0x00", "function": "0x0"},
        "specParams": {
            "type": "qemu",
            "backend": "lkcf",
            "queues": "4",  # engines send numbers as strings too
            "driver": {"iommu": "on", "ats": True, "packed": False, "pagePerVq": True},
        },
    }
    crypto = registry.device_from_spec(spec)
    assert isinstance(crypto, Crypto)
    expected = (
        "<crypto model='virtio' type='qemu'><backend model='lkcf' queues='4'/>"
        "<driver iommu='on' ats='on' packed='off' page_per_vq='on'/>"
        f"<alias name='ua-{UUID}'/>"
        "<address type='pci' domain='0x0000' bus='0x08' slot='0x00' function='0x0'/></crypto>"
    )
    assert canonical(crypto.to_xml()) == canonical(expected)
    assert [c.tag for c in etree.fromstring(crypto.to_xml())] == ["backend", "driver", "alias", "address"]
    _check_11_3(crypto.to_xml())
    out = crypto.to_spec()
    assert out["specParams"]["queues"] == 4 and out["deviceId"] == UUID
    assert registry.device_from_spec(out).to_spec() == out


def test_crypto_without_model_round_trips(registry: devframe.Registry) -> None:
    crypto = _crypto(registry, "<crypto type='qemu'><backend model='builtin'/></crypto>")
    spec = crypto.to_spec()
    assert spec["device"] == "crypto"
    again = registry.device_from_spec(spec)
    assert again.element.get("model") is None
    assert canonical(again.to_xml()) == canonical(crypto.element)


@pytest.mark.parametrize("sample", SAMPLES)
def test_spec_round_trip(registry: devframe.Registry, sample: str) -> None:
    assert_spec_round_trip(registry, _crypto(registry, sample), sample)
    _check_11_3(sample)


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"queues": 0}, "specParams.queues"),
        ({"queues": -1}, "specParams.queues"),
        ({"queues": "many"}, "specParams.queues"),
        ({"queues": True}, "specParams.queues"),
        ({"backend": 3}, "specParams.backend"),
        ({"backend": ""}, "specParams.backend"),
        ({"type": ["qemu"]}, "specParams.type"),
        ({"type": ""}, "specParams.type"),
    ],
)
def test_bad_spec_value_is_a_spec_error_naming_the_key(
    registry: devframe.Registry, params: dict[str, Any], key: str
) -> None:
    assert_spec_refused(registry, {"type": "crypto", "device": "virtio", "specParams": params}, key)


@pytest.mark.parametrize("device", [7, "", ["virtio"]])
def test_bad_device_is_a_spec_error(registry: devframe.Registry, device: Any) -> None:
    with pytest.raises(devframe.SpecError, match="'device'"):
        registry.device_from_spec({"type": "crypto", "device": device})


def test_bad_driver_option_names_the_key(registry: devframe.Registry) -> None:
    with pytest.raises(devframe.DevframeError, match="packed"):
        registry.device_from_spec({"type": "crypto", "specParams": {"driver": {"packed": "tight"}}})


# -- editing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "place", "raw"),
    [
        ("model", "virtio-next", "@model", "virtio-next"),
        ("type", "other", "@type", "other"),
        ("backend", "lkcf", "backend@model", "lkcf"),
        ("queues", 8, "backend@queues", "8"),
        ("iommu", False, "driver@iommu", "off"),
        ("ats", True, "driver@ats", "on"),
        ("packed", False, "driver@packed", "off"),
        ("page_per_vq", False, "driver@page_per_vq", "off"),
    ],
)
def test_editing_changes_only_that_field(
    registry: devframe.Registry, name: str, value: Any, place: str, raw: str
) -> None:
    crypto = _crypto(registry, "<crypto model='virtio' type='qemu'><backend model='builtin' queues='1'/>"
                     "<driver iommu='on' ats='off' packed='on' page_per_vq='on'/></crypto>")  # fmt: skip
    assert_set_changes_only(crypto, name, value, place, raw)


def test_adding_a_driver_option_puts_it_after_the_backend(registry: devframe.Registry) -> None:
    crypto = _crypto(registry, BUILTIN)
    crypto.packed = True
    assert [c.tag for c in crypto.element] == ["backend", "driver", "alias", "address"]
    _check_11_3(crypto.to_xml())


# -- identity and display ---------------------------------------------------------------


def test_identity_is_model_and_backend(registry: devframe.Registry) -> None:
    assert _crypto(registry, BUILTIN).identity() == {"devtype": "crypto", "model": "virtio", "backend": "builtin"}
    assert _crypto(registry, LKCF_DRIVER).identity() == {"devtype": "crypto", "model": "virtio", "backend": "lkcf"}
    assert _crypto(registry, "<crypto type='qemu'><backend model='lkcf'/></crypto>").identity() == {
        "devtype": "crypto", "backend": "lkcf",
    }  # fmt: skip
    assert _crypto(registry, "<crypto type='qemu'><backend/></crypto>").identity() is None


def test_metadata_binds_by_identity_without_an_alias(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(MINIMAL, LKCF_DRIVER), registry=registry)
    builtin, lkcf = domain.dev_map["crypto"]
    builtin.metadata["n"] = 1
    lkcf.metadata["n"] = 2
    again = devframe.parse_domain(domain.to_xml(), registry=registry)
    assert [d.metadata.get("n") for d in again.dev_map["crypto"]] == [1, 2]


def test_devices_sharing_an_identity_key_their_metadata_by_alias(registry: devframe.Registry) -> None:
    # model + backend is all that tells crypto devices apart: two alike ones key their
    # metadata by alias, and without an alias writing it is refused, saying why.
    domain = devframe.parse_domain(wrap_in_domain(MINIMAL, MINIMAL), registry=registry)
    first, second = domain.dev_map["crypto"]
    assert first.identity() == second.identity()
    first.metadata["n"] = 1
    second.metadata["n"] = 2
    with pytest.raises(devframe.MetadataError, match="same identity"):
        domain.to_xml()
    first.alias, second.alias = "ua-c1", "ua-c2"
    again = devframe.parse_domain(domain.to_xml(), registry=registry)
    assert [d.metadata["n"] for d in again.dev_map["crypto"]] == [1, 2]


def test_summary_shows_key_fields_first(registry: devframe.Registry) -> None:
    summary = _crypto(registry, LKCF_DRIVER).summary()
    assert list(summary)[:3] == ["model", "type", "backend"]
    assert summary == {"model": "virtio", "type": "qemu", "backend": "lkcf", "iommu": True, "packed": True,
                       "page_per_vq": True}  # fmt: skip
