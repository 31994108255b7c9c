"""The drive plugin's legacy conf rule (issue 5), through the collected hook."""

from __future__ import annotations

from typing import Any

import pytest
from devframe_drive import drive_name
from devframe_drive.plugin import ARCH_TABLE

import devframe
from devframe.testing import validate_against_schema, wrap_in_domain

ARCHES = ("x86_64", "ppc64", "ppc64le", "s390x", "aarch64")
DISK_BUS = {"x86_64": "ide", "ppc64": "scsi", "ppc64le": "scsi", "s390x": "virtio", "aarch64": "virtio"}
CDROM_BUS = {"x86_64": "ide", "ppc64": "scsi", "ppc64le": "scsi", "s390x": "scsi", "aarch64": "scsi"}


@pytest.fixture
def registry(devframe_registry: Any) -> devframe.Registry:
    return devframe_registry("drive")  # type: ignore[no-any-return]


def legacy(registry: devframe.Registry, conf: Any, arch: str = "x86_64") -> list[dict[str, Any]]:
    results = dict(registry.call_collected("devframe_spec_list_from_legacy_conf", conf=conf, arch=arch))
    return results["drive"]  # type: ignore[no-any-return]


def by_name(specs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {spec["name"]: spec for spec in specs}


def test_keys_are_declared(registry: devframe.Registry) -> None:
    keys = dict(registry.call_collected("devframe_legacy_conf_keys"))["drive"]
    assert set(keys) == {"drives", "hda", "hdb", "hdc", "hdd", "cdrom", "floppy"}


def disks(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The specs other than the removable CD-ROM every legacy conf gets."""
    return [spec for spec in specs if spec.get("device") != "cdrom"]


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("conf", [{"display": "vnc"}, {"cdrom": None}, {}])
def test_without_a_cdrom_path_the_cdrom_is_empty(registry: devframe.Registry, arch: str, conf: Any) -> None:
    (cdrom,) = legacy(registry, conf, arch)
    bus = CDROM_BUS[arch]
    assert cdrom == {
        "type": "disk",
        "device": "cdrom",
        "path": "",
        "index": 2,
        "iface": bus,
        "readonly": True,
        "format": "raw",
        "propagateErrors": "off",
        "diskType": "file",
        "name": drive_name(bus, 2),
    }
    drive = registry.device_from_spec(cdrom)
    element = drive.element
    assert element.get("device") == "cdrom" and element.find("source") is None
    assert element.find("target").attrib == {"dev": drive_name(bus, 2), "bus": bus}  # type: ignore[union-attr]
    assert element.find("readonly") is not None
    assert not validate_against_schema(wrap_in_domain(drive.to_xml(), arch=arch))


def test_the_arch_table_covers_every_arch_devframe_knows() -> None:
    assert set(ARCH_TABLE) == set(devframe.ARCHES) == set(ARCHES)
    assert {arch: row[1] for arch, row in ARCH_TABLE.items()} == CDROM_BUS


@pytest.mark.parametrize("arch", ARCHES)
def test_drives_list_gets_defaults(registry: devframe.Registry, arch: str) -> None:
    conf = {"drives": [{"path": "/images/a.img", "index": "0"}, {"path": "/dev/vg/lv", "index": 1, "format": "cow"}]}
    first, second = disks(legacy(registry, conf, arch))
    bus = DISK_BUS[arch]
    assert first == {
        "type": "disk",
        "device": "disk",
        "path": "/images/a.img",
        "index": 0,
        "iface": bus,
        "format": "raw",
        "propagateErrors": "off",
        "diskType": "file",
        "name": drive_name(bus, 0),
    }
    assert second["format"] == "cow" and second["diskType"] == "block" and second["index"] == 1


@pytest.mark.parametrize("arch", ARCHES)
def test_old_hdx_paths(registry: devframe.Registry, arch: str) -> None:
    specs = disks(legacy(registry, {"hda": "/a.img", "hdb": "/b.img", "hdd": "/d.img"}, arch))
    assert [(s["path"], s["index"], s["iface"]) for s in specs] == [
        ("/a.img", 0, DISK_BUS[arch]),
        ("/b.img", 1, DISK_BUS[arch]),
        ("/d.img", 3, DISK_BUS[arch]),
    ]
    assert all(s["format"] == "raw" and s["propagateErrors"] == "off" for s in specs)


@pytest.mark.parametrize("arch", ARCHES)
def test_cdrom_at_index_2_on_the_arch_bus(registry: devframe.Registry, arch: str) -> None:
    (cdrom,) = legacy(registry, {"cdrom": "/isos/x.iso"}, arch)
    assert cdrom["device"] == "cdrom" and cdrom["readonly"] is True
    assert (cdrom["iface"], cdrom["index"]) == (CDROM_BUS[arch], 2)
    assert cdrom["name"] == {"ide": "hdc", "scsi": "sdc"}[CDROM_BUS[arch]]


def test_empty_cdrom_has_no_source(registry: devframe.Registry) -> None:
    (cdrom,) = legacy(registry, {"cdrom": ""})
    drive = registry.device_from_spec(cdrom)
    assert drive.element.find("source") is None
    assert not validate_against_schema(wrap_in_domain(drive.to_xml()))


def test_floppy_on_x86(registry: devframe.Registry) -> None:
    cdrom, floppy = legacy(registry, {"floppy": "/f.img"}, "x86_64")
    assert (cdrom["device"], cdrom["path"]) == ("cdrom", "")
    assert (floppy["device"], floppy["iface"], floppy["index"], floppy["name"]) == ("floppy", "fdc", 0, "fda")


@pytest.mark.parametrize("arch", [a for a in ARCHES if a != "x86_64"])
def test_floppy_elsewhere_is_refused(registry: devframe.Registry, arch: str) -> None:
    with pytest.raises(devframe.DevframeError, match="floppy"):
        legacy(registry, {"floppy": "/f.img"}, arch)


def test_colliding_indices_are_normalized_per_interface(registry: devframe.Registry) -> None:
    conf = {
        "drives": [
            {"path": "/a.img", "index": 0},
            {"path": "/b.img", "index": 0},
            {"path": "/v.img", "index": 0, "iface": "virtio"},
        ],
        "hda": "/old.img",
        "hdc": "/c.img",
        "cdrom": "/x.iso",
    }
    specs = legacy(registry, conf)
    pairs = [(s["path"], s["iface"], s["index"], s["name"]) for s in specs]
    # taken in order drives, hda..hdd, cdrom; a taken index moves to the next free one
    assert pairs == [
        ("/a.img", "ide", 0, "hda"),
        ("/b.img", "ide", 1, "hdb"),
        ("/v.img", "virtio", 0, "vda"),
        ("/old.img", "ide", 2, "hdc"),
        ("/c.img", "ide", 3, "hdd"),
        ("/x.iso", "ide", 4, "hde"),
    ]


@pytest.mark.parametrize("arch", ARCHES)
def test_legacy_specs_build_a_valid_domain(registry: devframe.Registry, arch: str) -> None:
    conf = {"drives": [{"path": "/a.img", "index": 0}], "cdrom": "/x.iso"}
    if arch == "x86_64":
        conf["floppy"] = "/f.img"
    devices = [registry.device_from_spec(spec) for spec in legacy(registry, conf, arch)]
    errors = validate_against_schema(wrap_in_domain(*(d.to_xml() for d in devices), arch=arch))
    assert not errors


@pytest.mark.parametrize(
    ("conf", "key"),
    [
        ([("drives", [])], "conf must be a dict"),
        ({"drives": "a.img"}, "'drives'"),
        ({"drives": ["a.img"]}, r"'drives\[0\]'"),
        ({"drives": [{"index": 0}]}, r"drives\[0\].path"),
        ({"drives": [{"path": "/a.img"}]}, r"drives\[0\].index"),
        ({"drives": [{"path": "/a.img", "index": "x"}]}, r"drives\[0\].index"),
        ({"drives": [{"path": "/a.img", "index": -2}]}, r"drives\[0\].index"),
        ({"drives": [{"path": 5, "index": 0}]}, r"drives\[0\].path"),
        ({"drives": [{"path": "/a", "index": 0, "iface": "nvme"}]}, r"drives\[0\].iface"),
        ({"hda": 3}, "hda.path"),
    ],
)
def test_bad_input_names_the_key(registry: devframe.Registry, conf: Any, key: str) -> None:
    with pytest.raises(devframe.DevframeError, match=key):
        legacy(registry, conf)


def test_unknown_arch(registry: devframe.Registry) -> None:
    with pytest.raises(devframe.DevframeError, match="arch 'sparc'"):
        legacy(registry, {"hda": "/a.img"}, "sparc")
