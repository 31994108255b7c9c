"""Issue 15 item 3: the keys VDSM and the engine send that libvirt's element has no place
for are metadata by design in their plugin (``metadata_keys``): kept, given back by
``to_spec``, and never reported as unmapped. A key no plugin declares still is."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from devframe import default_registry, load_domain
from devframe.testing import canonical

_MAC = "00:1a:4a:16:01:51"

# (spec, the keys that are metadata by design in it)
CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        {"type": "lease", "device": "lease", "sd_id": "sd", "lease_id": "vm", "path": "/l", "offset": 0,
         "alias": "ua-lease", "address": {"type": "pci", "slot": "0x05"}},
        {"alias": "ua-lease", "address": {"type": "pci", "slot": "0x05"}},
    ),
    (
        {"type": "balloon", "device": "memballoon", "specParams": {"model": "virtio"}, "target": 4194304,
         "minimum": 2097152},
        {"target": 4194304, "minimum": 2097152},
    ),
    (
        {"type": "vsock", "device": "virtio", "specParams": {"cid": 3}, "custom": {"owner": "ops"}},
        {"custom": {"owner": "ops"}},
    ),
    (
        {"type": "interface", "device": "bridge", "network": "ovirtmgmt", "macAddr": _MAC, "nicModel": "pv",
         "linkRateMbps": 10000},
        {"linkRateMbps": 10000},
    ),
    (
        {"type": "disk", "device": "disk", "path": "/images/a.img", "iface": "virtio", "index": 0,
         "guestName": "/dev/vda", "truesize": "1073741824", "apparentsize": "2147483648",
         "diskReplicate": {"path": "/images/copy.img", "diskType": "file"}},
        {"guestName": "/dev/vda", "truesize": "1073741824", "apparentsize": "2147483648",
         "diskReplicate": {"path": "/images/copy.img", "diskType": "file"}},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "kept"), CASES, ids=[case[0]["type"] for case in CASES])
def test_engine_keys_are_metadata_by_design(
    spec: dict[str, Any], kept: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    registry = default_registry()
    with caplog.at_level(logging.WARNING, logger="devframe"):
        device = registry.device_from_spec(spec)
    assert device.unmapped_spec_keys == ()
    assert not [r for r in caplog.records if "mapped by no plugin" in r.getMessage()]
    out = device.to_spec()
    for key, value in kept.items():
        assert device.metadata[key] == value
        assert out[key] == value, key
    # An undeclared key of the same spec is still reported.
    device = registry.device_from_spec({**spec, "vendorOnlyKey": 1})
    assert device.unmapped_spec_keys == ("vendorOnlyKey",)


@pytest.mark.parametrize(
    ("shared", "shareable", "transient"),
    [("false", False, False), ("true", True, False), ("shared", True, False), ("transient", False, True),
     ("exclusive", False, False), ("none", False, False), (True, True, False), (False, False, False)],
)  # fmt: skip
def test_vdsm_shared_maps_to_the_disk_or_is_kept(shared: Any, shareable: bool, transient: bool) -> None:
    """VDSM's ``shared``: 'shared' is <shareable/>, 'transient' <transient/>; 'exclusive'
    (a lease) and 'none' have no XML; the engine's own word comes back as it was sent."""
    registry = default_registry()
    drive = registry.device_from_spec({"type": "disk", "device": "disk", "path": "/a.img", "shared": shared})
    assert (drive.element.find("shareable") is not None, drive.element.find("transient") is not None) == (
        shareable,
        transient,
    )
    assert drive.unmapped_spec_keys == ()
    again = registry.device_from_spec(drive.to_spec())
    assert canonical(again.to_xml()) == canonical(drive.to_xml())
    assert again.to_spec() == drive.to_spec()


def test_the_first_example_disk_with_shared_false_rebuilds() -> None:
    """Issue 15 item 6: examples/domain.xml's first disk carries ``shared: 'false'`` from
    its metadata, and its spec builds the disk again."""
    examples = Path(__file__).resolve().parent.parent / "examples"
    domain = load_domain(examples / "domain.xml", registry=default_registry())
    disk = domain.dev_map["disk"][0]
    spec = disk.to_spec()
    assert spec["shared"] == "false"
    again = default_registry().device_from_spec(spec)
    assert again.to_spec() == spec and again.unmapped_spec_keys == ()
