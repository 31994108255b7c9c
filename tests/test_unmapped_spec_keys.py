"""Issue 15: a dev_spec key no plugin maps is reported (a warning naming it, and listed on
the device), never parked silently; keys a class lists as metadata stay quiet; the engine's
other spellings of a key are read as the canonical key (``spec_aliases``)."""

from __future__ import annotations

import json
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest
import structlog
from click.testing import CliRunner
from structlog.testing import capture_logs

from devframe import (
    INT,
    Device,
    DeviceTypeRegister,
    Field,
    Identity,
    SpecError,
    create_registry,
    hookimpl,
    parse_domain,
)
from devframe.cli import main
from devframe.testing import wrap_in_domain

EVENT = "dev_spec key mapped by no plugin, kept in metadata"


class Gadget(Device):
    """A made-up kind: one field at the top, two under ``specParams.driver``."""

    dev_type: ClassVar[str] = "gadget"
    tag: ClassVar[str] = "gadget"
    metadata_keys: ClassVar[Any] = {"guestName": str, "specParams.engineNote": str}
    spec_aliases: ClassVar[Any] = {"specParams.ioThreadId": "specParams.driver.iothread", "gadgetSize": "size"}

    size = Field("@size", INT, spec="size")
    iothread = Field("driver@iothread", INT, spec="specParams.driver.iothread")
    queues = Field("driver@queues", INT, spec="specParams.driver.queues")

    def identity(self) -> Identity | None:
        size = self.element.get("size")
        return {"devtype": "gadget", "size": size} if size else None


class Badge(Device):
    """A kind libvirt gives no alias: the engine's deviceId is core-kept metadata."""

    dev_type: ClassVar[str] = "badge"
    tag: ClassVar[str] = "badge"
    has_alias: ClassVar[bool] = False

    colour = Field("@colour", spec="specParams.colour")


class _Plugin:
    @hookimpl
    def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
        register(Gadget)
        register(Badge)


@pytest.fixture
def registry() -> Any:
    return create_registry(only=(), plugins=[("gadgets", _Plugin())], strict=True, env={})


@contextmanager
def captured() -> Iterator[list[MutableMapping[str, Any]]]:
    old = structlog.get_config()
    with capture_logs() as logs:
        yield logs
    structlog.configure(**old)


def warnings_of(logs: list[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    return [entry for entry in logs if entry["event"] == EVENT]


# -- reported, kept, listed ------------------------------------------------------------------


def test_unmapped_keys_are_warned_listed_and_kept(registry: Any) -> None:
    spec = {
        "type": "gadget",
        "size": 2,
        "alias": "ua-5d5b3a8e-0000-4000-8000-0000000000aa",
        "vendorFlag": True,
        "specParams": {"queues": 4, "futureKnob": "x", "driver": {"queues": 4, "newDriverOption": 1}},
    }
    with captured() as logs:
        gadget = registry.device_from_spec(spec)
    assert gadget.unmapped_spec_keys == (
        "vendorFlag",
        "specParams.queues",
        "specParams.futureKnob",
        "specParams.driver.newDriverOption",
    )
    found = warnings_of(logs)
    assert [entry["key"] for entry in found] == list(gadget.unmapped_spec_keys)
    assert all(entry["log_level"] == "warning" for entry in found)
    assert all(entry["dev_type"] == "gadget" and entry["alias"] == spec["alias"] for entry in found)
    # Lossless: every unmapped value comes back from to_spec, the mapped one from the XML.
    again = gadget.to_spec()
    assert again["vendorFlag"] is True
    assert again["specParams"]["futureKnob"] == "x" and again["specParams"]["queues"] == 4
    assert again["specParams"]["driver"] == {"queues": 4, "newDriverOption": 1}
    assert gadget.queues == 4 and "newDriverOption" not in gadget.to_xml()


def test_a_dict_outside_the_mapped_paths_is_one_unmapped_key(registry: Any) -> None:
    gadget = registry.device_from_spec({"type": "gadget", "vendor": {"a": 1, "b": {"c": 2}}})
    assert gadget.unmapped_spec_keys == ("vendor",)


def test_metadata_by_design_and_core_keys_are_quiet(registry: Any) -> None:
    spec = {"type": "gadget", "size": 1, "guestName": "sda", "specParams": {"engineNote": "n"}}
    with captured() as logs:
        gadget = registry.device_from_spec(spec)
    assert warnings_of(logs) == []
    assert gadget.unmapped_spec_keys == ()
    assert gadget.metadata["guestName"] == "sda" and gadget.to_spec()["specParams"]["engineNote"] == "n"
    with captured() as logs:
        badge = registry.device_from_spec({"type": "badge", "deviceId": "d-1", "specParams": {"colour": "red"}})
    assert warnings_of(logs) == [] and badge.unmapped_spec_keys == ()
    assert badge.metadata["deviceId"] == "d-1"


def test_a_spec_without_leftovers_logs_nothing(registry: Any) -> None:
    with captured() as logs:
        gadget = registry.device_from_spec({"type": "gadget", "size": 3, "specParams": {"driver": {"queues": 2}}})
    assert logs == [] and gadget.unmapped_spec_keys == ()


def test_the_warning_never_carries_the_value(registry: Any) -> None:
    with captured() as logs:
        gadget = registry.device_from_spec(
            {"type": "gadget", "specParams": {"vendorToken": "tok-93f1a", "x": "plain-77"}}
        )
    assert gadget.unmapped_spec_keys == ("specParams.vendorToken", "specParams.x")
    text = repr(logs)
    assert "tok-93f1a" not in text and "plain-77" not in text and "specParams.vendorToken" in text


def test_the_list_survives_the_domain_xml(registry: Any) -> None:
    gadget = registry.device_from_spec(
        {"type": "gadget", "size": 5, "alias": "ua-5d5b3a8e-0000-4000-8000-0000000000ab", "vendorFlag": "on",
         "specParams": {"futureKnob": 7}}
    )  # fmt: skip
    domain = parse_domain(wrap_in_domain(), registry=registry)
    domain.add(gadget)
    with captured() as logs:
        again = parse_domain(domain.to_xml(), registry=registry)
    (parsed,) = again.dev_map["gadget"]
    before = parsed.unmapped_spec_keys
    assert before == ("vendorFlag", "specParams.futureKnob")
    assert warnings_of(logs) == []  # reading XML reports through the list, not the log
    del parsed.metadata["vendorFlag"]
    after = parsed.unmapped_spec_keys
    assert after == ("specParams.futureKnob",)


def test_a_metadata_value_at_a_mapped_key_is_not_unmapped(registry: Any) -> None:
    gadget = Gadget(Gadget.new_element())
    gadget.metadata["specParams"] = {"driver": {"queues": 8}}
    assert gadget.unmapped_spec_keys == ()
    assert gadget.to_spec()["specParams"]["driver"]["queues"] == 8  # it fills in what the element lacks


def test_unmapped_spec_keys_is_read_only(registry: Any) -> None:
    gadget = registry.device_from_spec({"type": "gadget", "vendorFlag": 1})
    with pytest.raises(AttributeError):
        setattr(gadget, "unmapped_spec_keys", ())  # noqa: B010 - the point: it cannot be set


# -- aliases ------------------------------------------------------------------------------


def test_an_alias_reaches_the_xml_and_to_spec_writes_the_canonical_key(registry: Any) -> None:
    with captured() as logs:
        gadget = registry.device_from_spec({"type": "gadget", "gadgetSize": "6", "specParams": {"ioThreadId": "2"}})
    assert (gadget.size, gadget.iothread) == (6, 2)
    assert '<driver iothread="2"/>' in gadget.to_xml()
    spec = gadget.to_spec()
    assert spec["size"] == 6 and spec["specParams"] == {"driver": {"iothread": 2}}
    assert "gadgetSize" not in spec and "ioThreadId" not in spec["specParams"]
    assert warnings_of(logs) == [] and gadget.unmapped_spec_keys == ()


def test_an_alias_that_agrees_with_its_canonical_key_is_accepted(registry: Any) -> None:
    gadget = registry.device_from_spec({"type": "gadget", "specParams": {"ioThreadId": "3", "driver": {"iothread": 3}}})
    assert gadget.iothread == 3


def test_an_alias_that_contradicts_its_canonical_key_is_refused(registry: Any) -> None:
    with pytest.raises(SpecError, match=r"'specParams.ioThreadId'.*contradicts 'specParams.driver.iothread'"):
        registry.device_from_spec({"type": "gadget", "specParams": {"ioThreadId": 1, "driver": {"iothread": 2}}})


def test_a_bad_value_under_an_alias_names_the_alias(registry: Any) -> None:
    with pytest.raises(SpecError, match=r"dev_spec key 'specParams.ioThreadId'"):
        registry.device_from_spec({"type": "gadget", "specParams": {"ioThreadId": "many"}})


def test_an_alias_whose_canonical_parent_is_not_a_dict_is_refused(registry: Any) -> None:
    with pytest.raises(SpecError, match=r"'specParams.ioThreadId'"):
        registry.device_from_spec({"type": "gadget", "specParams": {"ioThreadId": 1, "driver": "virtio"}})


# -- the CLI shows them -------------------------------------------------------------------


def test_inspect_shows_unmapped_keys(registry: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gadget = registry.device_from_spec({"type": "gadget", "size": 1, "alias": "ua-g1", "vendorFlag": "on"})
    domain = parse_domain(wrap_in_domain(), registry=registry)
    domain.add(gadget)
    path = tmp_path / "gadget.xml"
    path.write_text(domain.to_xml())
    import devframe.cli as cli

    monkeypatch.setattr(cli, "get_registry", lambda ctx=None: registry)
    table = CliRunner().invoke(main, ["inspect", str(path)], catch_exceptions=False)
    row = next(line for line in table.stdout.splitlines() if line.startswith("gadget"))
    assert "unmapped=vendorFlag" in row
    as_json = CliRunner().invoke(main, ["inspect", "--json", str(path)], catch_exceptions=False)
    assert json.loads(as_json.stdout)["gadget"][0]["vendorFlag"] == "on"
    assert "gadget alias=ua-g1: dev_spec keys no plugin maps (kept in metadata): vendorFlag" in as_json.stderr


# -- a kind no plugin provides: everything but the core keys is unmapped, nothing is dropped ---


def test_an_unknown_kind_keeps_its_spec_params_and_device_word(registry: Any) -> None:
    spec = {"type": "gizmo", "device": "g1", "specParams": {"speed": 3}, "extra": True}
    device = registry.device_from_spec(spec)
    assert device.unmapped_spec_keys == ("extra", "specParams.speed", "device")
    again = device.to_spec()
    assert (again["device"], again["specParams"], again["extra"]) == ("g1", {"speed": 3}, True)
    assert registry.device_from_spec(again).to_spec() == again
    plain = registry.device_from_spec({"type": "gizmo", "device": "gizmo"})
    assert plain.unmapped_spec_keys == () and plain.to_spec()["device"] == "gizmo"
