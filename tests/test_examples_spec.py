"""Issue 15 item 6: every device of the project's own examples (``examples/*.xml``)
survives the dev_spec round trip: ``device_from_spec(d.to_spec())`` is the same kind of
device with the same dev_spec, and no disk needs the raw-XML escape."""

from __future__ import annotations

from pathlib import Path

import pytest

from devframe import UnknownDevice, default_registry, load_domain

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.xml"))


def test_the_examples_are_there() -> None:
    assert len(EXAMPLES) >= 2, EXAMPLES


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_every_example_device_survives_its_spec(path: Path) -> None:
    registry = default_registry()
    domain = load_domain(path, registry=registry)
    assert domain.devices, f"{path.name} has no devices"
    for device in domain.devices:
        spec = device.to_spec()
        again = registry.device_from_spec(spec)
        assert type(again) is type(device), f"{path.name}: {device!r} came back as {again!r}"
        assert again.to_spec() == spec, f"{path.name}: {device!r}"
        if device.dev_type == "disk":
            assert "xml" not in spec["specParams"], f"{path.name}: {device!r} needs the raw-XML escape"
    assert any(not isinstance(device, UnknownDevice) for device in domain.devices)
