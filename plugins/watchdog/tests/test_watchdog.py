"""Tests of the watchdog plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

from typing import Any

import pytest
from devframe_watchdog import WATCHDOG_ACTIONS, WATCHDOG_MODELS, Watchdog
from lxml import etree

import devframe
from devframe.testing import (
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

UUID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"

I6300ESB = (
    f"<watchdog model='i6300esb' action='reset'><alias name='ua-{UUID}'/><acpi index='3'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x09' function='0x0'/></watchdog>"
)
IB700 = "<watchdog model='ib700' action='poweroff'><alias name='watchdog0'/></watchdog>"
DIAG288 = "<watchdog model='diag288' action='inject-nmi'/>"
NO_ACTION = "<watchdog model='i6300esb'/>"
ACTIONS = [f"<watchdog model='ib700' action='{a}'/>" for a in ("shutdown", "pause", "none", "dump")]
# libvirt 11.x only (9.0's schema has no itco): the contract suite skips its schema check.
ITCO = "<watchdog model='itco' action='reset'><alias name='watchdog1'/></watchdog>"

SAMPLES = [I6300ESB, IB700, DIAG288, NO_ACTION, *ACTIONS, ITCO]

TestContract = contract_tests("watchdog", samples=SAMPLES)


registry = plugin_registry("watchdog")


def _watchdog(registry: devframe.Registry, xml: str) -> Watchdog:
    return one_device(registry, xml, Watchdog)


def test_samples_cover_every_model_and_action() -> None:
    for model in WATCHDOG_MODELS:
        assert any(f"model='{model}'" in sample for sample in SAMPLES), model
    for action in WATCHDOG_ACTIONS:
        assert any(f"action='{action}'" in sample for sample in SAMPLES), action


def test_fields(registry: devframe.Registry) -> None:
    watchdog = _watchdog(registry, I6300ESB)
    assert (watchdog.model, watchdog.action, watchdog.acpi_index) == ("i6300esb", "reset", 3)
    assert watchdog.device_id == UUID
    assert _watchdog(registry, NO_ACTION).action is None


def test_spec_is_vdsms(registry: devframe.Registry) -> None:
    assert _watchdog(registry, I6300ESB).to_spec() == {
        "type": "watchdog",
        "device": "watchdog",
        "alias": f"ua-{UUID}",
        "deviceId": UUID,
        "address": {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x09", "function": "0x0"},
        "specParams": {"model": "i6300esb", "action": "reset", "acpiIndex": 3},
    }


def test_vdsm_spec_builds_libvirt_xml(registry: devframe.Registry) -> None:
    watchdog = registry.device_from_spec(
        {"type": "watchdog", "device": "watchdog", "specParams": {"model": "ib700", "action": "pause"}}
    )
    assert canonical(watchdog.to_xml()) == canonical("<watchdog model='ib700' action='pause'/>")
    assert not validate_against_schema(wrap_in_domain(watchdog.to_xml()))


def test_minimal_spec_gets_the_required_model_only(registry: devframe.Registry) -> None:
    watchdog = registry.device_from_spec({"type": "watchdog"})
    assert watchdog.to_xml() == '<watchdog model="i6300esb"/>'  # action: libvirt's default (reset)
    assert not validate_against_schema(wrap_in_domain(watchdog.to_xml()))


def test_full_spec_builds_valid_xml_in_libvirt_order(registry: devframe.Registry) -> None:
    watchdog = registry.device_from_spec(
        {
            "type": "watchdog",
            "device": "watchdog",
            "deviceId": UUID,
            "address": {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x0a", "function": "0x0"},
            "specParams": {"model": "i6300esb", "action": "dump", "acpiIndex": "5"},
        }
    )
    assert [child.tag for child in etree.fromstring(watchdog.to_xml())] == ["alias", "acpi", "address"]
    assert not validate_against_schema(wrap_in_domain(watchdog.to_xml()))


@pytest.mark.parametrize(
    ("spec_params", "key"),
    [({"model": ["ib700"]}, "specParams.model"), ({"action": {"do": "reset"}}, "specParams.action"),
     ({"action": True}, "specParams.action")],
)  # fmt: skip
def test_unusable_spec_values_are_spec_errors_naming_the_key(
    registry: devframe.Registry, spec_params: dict[str, Any], key: str
) -> None:
    assert_spec_refused(registry, {"type": "watchdog", "device": "watchdog", "specParams": spec_params}, key)


def test_spec_round_trip_of_every_sample(registry: devframe.Registry) -> None:
    for sample in SAMPLES:
        assert_spec_round_trip(registry, _watchdog(registry, sample))


@pytest.mark.parametrize(
    ("name", "value", "place", "raw"),
    [
        ("model", "ib700", "@model", "ib700"),
        ("action", "inject-nmi", "@action", "inject-nmi"),
        ("acpi_index", 8, "acpi@index", "8"),
    ],
)
def test_setting_a_field_changes_only_it(
    registry: devframe.Registry, name: str, value: Any, place: str, raw: str
) -> None:
    watchdog = _watchdog(registry, I6300ESB)
    assert_set_changes_only(watchdog, name, value, place, raw)


def test_a_missing_model_is_reported_not_raised(registry: devframe.Registry) -> None:
    watchdog = _watchdog(registry, "<watchdog action='reset'/>")
    assert [p for p in watchdog.problems() if "'model'" in p and "missing" in p]
    assert watchdog.action == "reset"
    assert not _watchdog(registry, NO_ACTION).problems()


def test_identity_is_the_model(registry: devframe.Registry) -> None:
    assert _watchdog(registry, I6300ESB).identity() == {"devtype": "watchdog", "model": "i6300esb"}
    assert _watchdog(registry, "<watchdog action='reset'/>").identity() is None


def test_itco_beside_another_watchdog_keeps_its_own_identity(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(ITCO, I6300ESB), registry=registry)
    itco, esb = domain.dev_map["watchdog"]
    assert itco.identity() != esb.identity()


def test_summary(registry: devframe.Registry) -> None:
    assert _watchdog(registry, I6300ESB).summary() == {"model": "i6300esb", "action": "reset", "acpi_index": 3}


def test_samples_valid_against_the_installed_schema() -> None:
    for sample in SAMPLES[:-1]:  # ITCO is libvirt 11.x
        assert not validate_against_schema(wrap_in_domain(sample)), sample
    assert validate_against_schema(wrap_in_domain(ITCO))
