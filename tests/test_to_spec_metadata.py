"""to_spec's metadata merge reads a decoded DeviceMetadata's store directly and a bound
entry as before (branch spec5): the spec must be the one the plain merge
(``_merge_missing`` of ``values_view()``) gives, decoded or not, with or without secrets,
and an entry holding no values is not decoded by to_spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree

import devframe
from devframe import DeviceMetadata, parse_domain
from devframe.core.metadata import codec
from devframe.core.specread import plan_for
from devframe.testing import sample_domain_files

REGISTRY = devframe.create_registry()


def _domains() -> list[Path]:
    return [path for path in sample_domain_files() if b"<metadata" in path.read_bytes()]


def _documents() -> list[bytes]:
    """The sample domains with metadata, and the benchmarks' mix domain (an oVirt entry
    for every disk and NIC)."""
    from benchmark_scripts import generated

    return [path.read_bytes() for path in _domains()] + [generated("mix", 120)]


class _General(DeviceMetadata):
    """Not DeviceMetadata itself: to_spec asks it through bool() and values_view(), the
    way it asked every device's metadata before."""


@pytest.mark.parametrize("secrets", [False, True])
def test_pending_and_decoded_metadata_give_the_general_merge(secrets: bool) -> None:
    merged = 0
    for document in _documents():
        devices = parse_domain(document, registry=REGISTRY).devices
        twins = parse_domain(document, registry=REGISTRY).devices
        for device, twin in zip(devices, twins, strict=True):
            first = device.to_spec(secrets=secrets)  # a bound entry: wrapped, asked, decoded here
            again = device.to_spec(secrets=secrets)  # a decoded DeviceMetadata: its store read directly
            assert first == again, device.describe()
            assert list(first) == list(again)
            metadata = device.metadata_if_any()
            if metadata is not None:
                twin.metadata_source = _General(metadata.to_dict())
                expected = twin.to_spec(secrets=secrets)
                assert first == expected, device.describe()
                assert list(first) == list(expected)
                merged += bool(metadata)
    assert merged > 40, merged  # the mix domain binds an entry to every disk and NIC


def test_an_entry_without_values_is_not_decoded_by_to_spec() -> None:
    device = next(
        d
        for path in _domains()
        for d in parse_domain(path.read_bytes(), registry=REGISTRY).devices
        if d.metadata_source is not None
    )
    entry = device.metadata_source
    for child in list(entry.element):  # type: ignore[union-attr]
        entry.element.remove(child)  # type: ignore[union-attr]
    device.to_spec()
    metadata = device.metadata_if_any()
    assert metadata is not None and metadata.pending  # asked whether it holds values, not decoded


def test_a_subclass_of_device_metadata_is_asked_as_before() -> None:
    class Counting(DeviceMetadata):
        asked = 0

        def values_view(self) -> Any:
            type(self).asked += 1
            return super().values_view()

    path = next(path for path in _domains())
    domain = parse_domain(path.read_bytes(), registry=REGISTRY)
    device = domain.devices[0]
    device.metadata_source = Counting({"someKey": "v", "apiPassword": "hidden"})
    spec = device.to_spec()
    assert Counting.asked == 1
    assert spec["someKey"] == "v" and "apiPassword" not in spec
    assert device.to_spec(secrets=True)["apiPassword"] == "hidden"


def test_edited_metadata_reaches_the_next_spec() -> None:
    device = next(
        d
        for path in _domains()
        for d in parse_domain(path.read_bytes(), registry=REGISTRY).devices
        if d.metadata_source is not None
    )
    device.to_spec()
    device.metadata["addedKey"] = {"nested": [1, {"deep": "x"}]}
    device.metadata["someToken"] = "hidden"
    spec = device.to_spec()
    assert spec["addedKey"] == {"nested": [1, {"deep": "x"}]}
    assert "someToken" not in spec
    spec["addedKey"]["nested"][1]["deep"] = "changed"  # a copy: the store is not touched
    assert device.metadata["addedKey"]["nested"][1]["deep"] == "x"


def test_the_retyper_is_called_only_for_the_keys_it_converts() -> None:
    calls: list[str] = []

    def coerce(key: str, text: str) -> Any:
        calls.append(key)
        return int(text)

    retype = codec.coercer(coerce, {"count": int, "name": str, "free": None})
    assert retype is not None
    ns = "http://ovirt.org/vm/1.0"
    element = etree.fromstring(
        f"<e xmlns:o='{ns}'><o:count>3</o:count><o:name>x</o:name><o:free>y</o:free><o:other>z</o:other></e>"
    )
    decoded = codec.decode_map(element, ns=ns, retype=retype)
    assert decoded == {"count": 3, "name": "x", "free": "y", "other": "z"}
    assert calls == ["count"]
    # and what any retyper returns for the others is the text as it is
    assert retype("other", "z") == "z" and retype("count", "4") == 4


def test_a_run_of_fields_under_one_child_is_tested_once() -> None:
    """The generated reader's run test (specgen._runs), which the sample comparisons of
    tests/test_specread.py then exercise, is made for a NIC's fields under its <driver>."""
    nic = next(
        d
        for path in sample_domain_files()
        for d in parse_domain(path.read_bytes(), registry=REGISTRY).devices
        if d.dev_type == "interface"
    )
    stores = plan_for(type(nic), "spec").source.split("if want_device:", 1)[1]
    runs = [line for line in stores.splitlines() if line.startswith("    if c") and line.endswith(" is not None:")]
    assert runs, stores[:2000]
