"""Tests of the drive plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest
from devframe_drive import Drive
from devframe_drive.device import drive_index, drive_name, index_to_letters, letters_to_index
from lxml import etree

import devframe
from devframe.testing import canonical, contract_tests, validate_against_schema, wrap_in_domain

sys.path.insert(0, str(Path(__file__).parent))
import samples as S

TestContract = contract_tests("drive", samples=S.SAMPLES)


@pytest.fixture
def registry(devframe_registry: Any) -> devframe.Registry:
    return devframe_registry("drive")  # type: ignore[no-any-return]


def parse(registry: devframe.Registry, xml: str) -> Drive:
    (device,) = devframe.parse_domain(wrap_in_domain(xml), registry=registry).devices
    assert isinstance(device, Drive)
    return device


# -- drive names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("letters", "index"),
    [("a", 0), ("b", 1), ("z", 25), ("aa", 26), ("ab", 27), ("az", 51), ("ba", 52), ("zz", 701), ("aaa", 702)],
)
def test_letters_and_index_both_ways(letters: str, index: int) -> None:
    assert letters_to_index(letters) == index
    assert index_to_letters(index) == letters


def test_drive_name_per_bus() -> None:
    assert drive_name("virtio", 0) == "vda"
    assert drive_name("virtio", 25) == "vdz"
    assert drive_name("virtio", 26) == "vdaa"
    assert drive_name("ide", 2) == "hdc"
    assert [drive_name(bus, 1) for bus in ("scsi", "sata", "usb")] == ["sdb"] * 3
    assert drive_name("fdc", 0) == "fda"
    assert drive_name("xen", 3) == "xvdd"


def test_drive_index_of_names() -> None:
    assert drive_index("vda") == ("vd", 0)
    assert drive_index("vdz") == ("vd", 25)
    assert drive_index("vdaa") == ("vd", 26)
    assert drive_index("xvdb") == ("xvd", 1)
    assert drive_index("hdc") == ("hd", 2)
    assert drive_index("sda1") == ("sd", 0)  # a partition does not change the drive
    assert drive_index("nic02") is None
    assert drive_index("test1") is None


@pytest.mark.parametrize("bad", [-1, True, "1"])
def test_bad_index_is_refused(bad: Any) -> None:
    with pytest.raises(ValueError, match="drive index"):
        index_to_letters(bad)


def test_unknown_bus_has_no_name() -> None:
    with pytest.raises(ValueError, match="nvme"):
        drive_name("nvme", 0)
    with pytest.raises(ValueError):
        letters_to_index("a1")


# -- parsing and dev_spec --------------------------------------------------------------------


def test_fields_are_typed(registry: devframe.Registry) -> None:
    drive = parse(registry, S.FILE_QCOW2)
    assert drive.device == "disk"
    assert drive.disk_type == "file"
    assert drive.path == "/var/lib/libvirt/images/vm.qcow2"
    assert drive.name == "vda" and drive.bus == "virtio" and drive.index == 0
    assert drive.format == "qcow2"
    assert drive.iothread == 1 and drive.ioeventfd is True and drive.event_idx is False
    assert drive.iotune is not None
    assert drive.iotune.total_bytes_sec == 10_000_000 and drive.iotune.group_name == "grp1"
    assert drive.boot_order == 1
    assert drive.device_id == S.UUID1
    assert drive.identity() == {"devtype": "disk", "name": "vda"}


def test_spec_of_file_disk(registry: devframe.Registry) -> None:
    spec = parse(registry, S.FILE_QCOW2).to_spec()
    assert spec["type"] == "disk" and spec["device"] == "disk" and spec["diskType"] == "file"
    assert spec["path"] == "/var/lib/libvirt/images/vm.qcow2"
    assert (spec["name"], spec["iface"], spec["index"]) == ("vda", "virtio", 0)
    assert spec["format"] == "cow"
    assert spec["propagateErrors"] == "off"
    assert spec["discard"] is True
    assert spec["cache"] == "none"
    assert spec["bootOrder"] == 1
    assert spec["serial"] == "WD-WMAP9A966149"
    assert spec["deviceId"] == S.UUID1
    params = spec["specParams"]
    assert params["ioTune"] == {
        "total_bytes_sec": 10_000_000,
        "read_iops_sec": 400,
        "write_iops_sec": 100,
        "total_bytes_sec_max": 20_000_000,
        "total_bytes_sec_max_length": 10,
        "size_iops_sec": 4096,
        "group_name": "grp1",
    }
    assert params["pinToIoThread"] == 1 and params["detectZeroes"] == "unmap"
    assert params["startupPolicy"] == "optional" and params["sourceIndex"] == 1
    # the backing chain, the seclabel and the metadata cache are modeled: nothing verbatim
    assert [layer.get("path") for layer in params["backingChain"]] == [
        "/var/lib/libvirt/images/base.qcow2",
        "/dev/vg/base0",
        None,
    ]
    assert params["seclabels"] == [{"model": "selinux", "relabel": False}]
    assert params["metadataCache"] == {"maxSize": 1024, "unit": "bytes"}
    assert "xml" not in params


@pytest.mark.parametrize(
    ("xml", "disk_type", "path"),
    [
        (S.BLOCK_LUN, "block", "/dev/disk/by-id/scsi-3600a0b80005adb0b0000ab2d4cae9254"),
        (S.NETWORK_RBD, "network", "pool/image"),
        (S.DIR_FLOPPY, "dir", "/srv/floppy"),
        (S.VHOSTUSER, "vhostuser", "/tmp/vhost-blk.sock"),
        (S.FLOPPY, "file", "/floppies/boot.img"),
    ],
)
def test_path_follows_disk_type(registry: devframe.Registry, xml: str, disk_type: str, path: str) -> None:
    drive = parse(registry, xml)
    spec = drive.to_spec()
    assert (spec["diskType"], spec["path"]) == (disk_type, path)
    again = registry.device_from_spec(spec)
    assert isinstance(again, Drive) and again.path == path


def test_network_spec(registry: devframe.Registry) -> None:
    spec = parse(registry, S.NETWORK_RBD).to_spec()
    assert spec["protocol"] == "rbd"
    assert spec["hosts"] == [{"name": "mon1.example.org", "port": 6789}, {"name": "10.0.0.2", "port": 6789}]
    assert spec["propagateErrors"] == "on" and spec["discard"] is False
    assert spec["specParams"]["auth"] == {
        "username": "admin",
        "secret": {"type": "ceph", "uuid": "4a4f8a4e-0000-4000-8000-00000000000c"},
    }
    assert (spec["specParams"]["snapshotName"], spec["specParams"]["configFile"]) == ("snap1", "/etc/ceph/ceph.conf")
    unix = parse(registry, S.NETWORK_NBD).to_spec()
    assert unix["hosts"] == [{"transport": "unix", "socket": "/var/run/nbdsock"}]
    assert unix["specParams"]["tls"] is True and unix["specParams"]["tlsHostname"] == "nbd.example.org"


def test_volume_and_nvme_spec(registry: devframe.Registry) -> None:
    volume = parse(registry, S.VOLUME).to_spec()
    assert "path" not in volume
    assert (volume["specParams"]["pool"], volume["specParams"]["volume"]) == ("default", "vol1.img")
    assert volume["address"] == {"type": "unassigned"}
    nvme = parse(registry, S.NVME).to_spec()["specParams"]
    assert nvme["nvmeNamespace"] == 1 and nvme["nvmeManaged"] is True and nvme["sourceType"] == "pci"
    assert nvme["nvmeAddress"] == {"domain": "0x0000", "bus": "0x01", "slot": "0x00", "function": "0x0"}


def test_lun_shared_and_ids(registry: devframe.Registry) -> None:
    spec = parse(registry, S.BLOCK_LUN).to_spec()
    assert spec["device"] == "lun" and spec["sgio"] == "unfiltered" and spec["specParams"]["rawio"] is True
    assert spec["shared"] == "shared"
    assert spec["specParams"]["wwn"] == "5000c50015ea71ad"
    assert spec["specParams"]["rotationRate"] == 7200
    assert parse(registry, S.GEOMETRY_BLOCKIO).to_spec()["shared"] == "transient"


def test_geometry_and_blockio_spec(registry: devframe.Registry) -> None:
    params = parse(registry, S.GEOMETRY_BLOCKIO).to_spec()["specParams"]
    assert params["geometry"] == {"cyls": 16383, "heads": 16, "secs": 63, "trans": "lba"}
    assert (params["logicalBlockSize"], params["physicalBlockSize"]) == (512, 4096)
    assert params["transientShare"] is True


def test_cdrom_tray_and_empty(registry: devframe.Registry) -> None:
    cdrom = parse(registry, S.CDROM_TRAY).to_spec()
    assert cdrom["device"] == "cdrom" and cdrom["readonly"] is True and cdrom["index"] == 2
    assert cdrom["specParams"]["tray"] == "open" and cdrom["specParams"]["bootLoadparm"] == "CD1"
    empty = parse(registry, S.CDROM_EMPTY)
    assert empty.path is None and "path" not in empty.to_spec()
    assert empty.to_spec()["specParams"]["removable"] is True


@pytest.mark.parametrize("xml", S.SAMPLES)
def test_spec_built_xml_equals_the_libvirt_ordered_original(registry: devframe.Registry, xml: str) -> None:
    drive = parse(registry, xml)
    built = registry.device_from_spec(drive.to_spec(secrets=True))  # rebuilt elsewhere: secrets too
    expected = etree.fromstring(xml)
    expected.set("device", expected.get("device", "disk"))  # the default is written out
    assert canonical(built.to_xml()) == canonical(expected)


# -- from a partial spec -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "name", "bus"),
    [
        ({"type": "disk"}, "vda", "virtio"),
        ({"type": "disk", "device": "cdrom"}, "hda", "ide"),
        ({"type": "disk", "device": "floppy"}, "fda", "fdc"),
        ({"type": "disk", "device": "lun", "diskType": "block", "path": "/dev/sdz"}, "sda", "scsi"),
        ({"type": "disk", "iface": "virtio", "index": 27, "path": "/i.img"}, "vdab", "virtio"),
        ({"type": "disk", "iface": "scsi", "index": "3", "path": "/i.img", "format": "cow"}, "sdd", "scsi"),
    ],
)
def test_partial_spec_gets_defaults_and_is_valid(
    registry: devframe.Registry, spec: dict[str, Any], name: str, bus: str
) -> None:
    drive = registry.device_from_spec(spec)
    assert isinstance(drive, Drive)
    assert (drive.name, drive.bus) == (name, bus)
    assert drive.disk_type in ("file", "block")
    assert not validate_against_schema(wrap_in_domain(drive.to_xml()))


def test_vdsm_style_spec(registry: devframe.Registry) -> None:
    spec = {
        "type": "disk",
        "device": "disk",
        "deviceId": S.UUID1,
        "diskType": "network",
        "protocol": "gluster",
        "path": "vol/img",
        "hosts": [{"name": "g1", "port": "24007", "transport": "tcp"}],
        "iface": "virtio",
        "index": 1,
        "format": "cow",
        "propagateErrors": "on",
        "shared": "exclusive",
        "discard": True,
        "specParams": {"ioTune": {"total_bytes_sec": "1000"}},
        "domainID": "d",
        "imageID": "i",
        "volumeID": "v",
        "volumeChain": [{"volumeID": "v"}],
    }
    drive = registry.device_from_spec(spec)
    assert isinstance(drive, Drive)
    assert drive.name == "vdb" and drive.alias == f"ua-{S.UUID1}"
    assert drive.format == "qcow2" and drive.error_policy == "enospace" and drive.discard == "unmap"
    assert drive.iotune is not None and drive.iotune.total_bytes_sec == 1000 and drive.hosts[0].port == 24007
    assert drive.shareable is False and drive.metadata["shared"] == "exclusive"
    assert drive.metadata["volumeChain"] == [{"volumeID": "v"}]
    assert drive.to_spec()["shared"] == "exclusive"
    assert not validate_against_schema(wrap_in_domain(drive.to_xml()))


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"type": "disk", "name": "vdb", "index": 3}, "index"),
        ({"type": "disk", "iface": "virtio", "index": -1}, "index"),
        ({"type": "disk", "iface": "virtio", "index": "x"}, "index"),
        ({"type": "disk", "iface": "nvme"}, "iface"),
        ({"type": "disk", "diskType": "network", "path": "img"}, "protocol"),
        ({"type": "disk", "diskType": "volume", "path": "/x"}, "path"),
        ({"type": "disk", "path": 3}, "path"),
        ({"type": "disk", "shared": "maybe"}, "shared"),
        ({"type": "disk", "bootOrder": "first"}, "bootOrder"),
        ({"type": "disk", "format": 7}, "format"),
        ({"type": "disk", "specParams": {"xml": {"disk": ["<backingStore"]}}}, "specParams.xml.disk[0]"),
        ({"type": "disk", "specParams": {"xml": {"disk": ["<!DOCTYPE x [<!ENTITY e 'x'>]><x>&e;</x>"]}}}, "xml"),
        ({"type": "disk", "specParams": {"xml": {"target": []}}}, "specParams.xml.target"),
        ({"type": "disk", "specParams": {"xml": "<auth/>"}}, "specParams.xml"),
    ],
)
def test_bad_spec_names_the_key(registry: devframe.Registry, spec: dict[str, Any], key: str) -> None:
    with pytest.raises(devframe.DevframeError, match=key.replace("[", r"\[")):
        registry.device_from_spec(spec)


def test_spec_does_not_drop_unknown_keys(registry: devframe.Registry) -> None:
    drive = registry.device_from_spec({"type": "disk", "path": "/a.img", "GUID": "g", "somethingNew": 1})
    assert drive.metadata["GUID"] == "g" and drive.metadata["somethingNew"] == 1


# -- editing -----------------------------------------------------------------------------------


def _edit_changes_only(registry: devframe.Registry, xml: str, setter: Any, expect: Any) -> None:
    drive = parse(registry, xml)
    expected = etree.fromstring(drive.to_xml())
    setter(drive)
    expect(expected)
    assert canonical(drive.to_xml()) == canonical(expected)


@pytest.mark.parametrize(
    ("setter", "expect"),
    [
        (lambda d: setattr(d, "path", "/new.qcow2"), lambda e: e.find("source").set("file", "/new.qcow2")),
        (lambda d: setattr(d, "format", "raw"), lambda e: e.find("driver").set("type", "raw")),
        (lambda d: setattr(d, "cache", "writeback"), lambda e: e.find("driver").set("cache", "writeback")),
        (lambda d: setattr(d, "name", "vdc"), lambda e: e.find("target").set("dev", "vdc")),
        (lambda d: setattr(d, "bus", "scsi"), lambda e: e.find("target").set("bus", "scsi")),
        (lambda d: setattr(d, "boot_order", 3), lambda e: e.find("boot").set("order", "3")),
        (lambda d: setattr(d, "serial", "NEW1"), lambda e: setattr(e.find("serial"), "text", "NEW1")),
        (
            lambda d: setattr(d.iotune, "read_iops_sec", 5),
            lambda e: setattr(e.find("iotune/read_iops_sec"), "text", "5"),
        ),
        (lambda d: setattr(d, "error_policy", "report"), lambda e: e.find("driver").set("error_policy", "report")),
    ],
)
def test_editing_one_field_changes_only_it(registry: devframe.Registry, setter: Any, expect: Any) -> None:
    _edit_changes_only(registry, S.FILE_QCOW2, setter, expect)


def test_editing_readonly_adds_only_the_flag(registry: devframe.Registry) -> None:
    drive = parse(registry, S.FLOPPY)
    before = etree.fromstring(drive.to_xml())
    drive.readonly = True
    after = etree.fromstring(drive.to_xml())
    assert after.find("readonly") is not None
    after.remove(after.find("readonly"))
    assert canonical(after) == canonical(before)


def test_editing_network_path_and_hosts(registry: devframe.Registry) -> None:
    drive = parse(registry, S.NETWORK_RBD)
    before = etree.fromstring(drive.to_xml())
    drive.path = "pool/other"
    drive.hosts = [{"name": "mon3", "port": 6790}]
    source = before.find("source")
    source.set("name", "pool/other")
    for host in source.findall("host"):
        source.remove(host)
    new = etree.Element("host", name="mon3", port="6790")
    source.insert(0, new)
    assert canonical(drive.to_xml()) == canonical(before)


# -- identity, metadata hooks, summary ---------------------------------------------------------


def test_identity_falls_back_to_serial_then_path(registry: devframe.Registry) -> None:
    drive = parse(registry, S.FILE_QCOW2)
    element = copy.deepcopy(drive.element)
    element.remove(element.find("target"))
    no_target = Drive(element)
    assert no_target.identity() == {"devtype": "disk", "serial": "WD-WMAP9A966149"}
    element.remove(element.find("serial"))
    assert Drive(element).identity() == {"devtype": "disk", "path": "/var/lib/libvirt/images/vm.qcow2"}
    element.remove(element.find("source"))
    assert Drive(element).identity() is None


def test_metadata_hooks(registry: devframe.Registry) -> None:
    route = registry.routes["disk"]
    assert route.metadata_schema.keys["volumeChain"] is list
    assert route.metadata_schema.coerce("leaseOffset", "1024") == 1024
    assert route.metadata_schema.coerce("managed", "true") is True
    drive = parse(registry, S.FILE_QCOW2)
    # one identity, used by metadata binding and correlation alike
    assert drive.checked_identity() == {"devtype": "disk", "name": "vda"}
    drive.element.remove(drive.element.find("target"))
    assert drive.checked_identity() != {"devtype": "disk", "name": "vda"}


def test_summary_shows_key_fields(registry: devframe.Registry) -> None:
    summary = parse(registry, S.NETWORK_RBD).summary()
    assert summary == {
        "name": "vdb",
        "device": "disk",
        "type": "network",
        "bus": "virtio",
        "path": "pool/image",
        "protocol": "rbd",
        "format": "raw",
    }
    broken = parse(registry, S.FILE_QCOW2.replace("order='1'", "order='first'"))
    assert broken.summary()["boot"] == "<invalid>"
    assert any("boot_order" in p for p in broken.problems())
    with pytest.raises(devframe.FieldValueError, match="boot_order"):
        broken.to_spec()
