"""The drive plugin resolves DRIVE-PATH: sources through the host's storage resolver."""

from __future__ import annotations

import pytest

import devframe
from devframe import DevframeError, Resolvers, prepare_domain
from devframe.testing import wrap_in_domain

IDS = {"domainID": "d1", "poolID": "p1", "imageID": "i1", "volumeID": "v1"}
METADATA = (
    "<metadata><ovirt-vm:vm xmlns:ovirt-vm='http://ovirt.org/vm/1.0'>"
    "<ovirt-vm:device devtype='disk' name='vda'>"
    + "".join(f"<ovirt-vm:{k}>{v}</ovirt-vm:{k}>" for k, v in IDS.items())
    + "</ovirt-vm:device></ovirt-vm:vm></metadata>"
)
DISK = "<disk type='file' device='disk'><source file='DRIVE-PATH:'/><target dev='vda' bus='virtio'/></disk>"


def _domain(registry: devframe.Registry) -> devframe.Domain:
    xml = wrap_in_domain(DISK).replace("<devices>", METADATA + "<devices>")
    return devframe.parse_domain(xml, registry=registry)


@pytest.mark.parametrize(
    ("resolved", "disk_type", "attr"),
    [("/rhev/data/d1/i1/v1", "file", "file"), ("/dev/d1/v1", "block", "dev")],
)
def test_drive_path_comes_from_the_storage_ids(devframe_registry, resolved, disk_type, attr):
    seen = []

    def storage_path(metadata):  # type: ignore[no-untyped-def]
        seen.append(metadata)
        return resolved

    domain = prepare_domain(_domain(devframe_registry("drive")), Resolvers(storage_path=storage_path))
    (disk,) = domain.dev_map["disk"]
    assert seen == [IDS]
    assert (disk.disk_type, disk.path) == (disk_type, resolved)
    assert disk.element.find("source").attrib == {attr: resolved}


def test_without_a_storage_resolver_the_error_names_drive_and_placeholder(devframe_registry):
    with pytest.raises(DevframeError, match="DRIVE-PATH:") as caught:
        prepare_domain(_domain(devframe_registry("drive")), Resolvers())
    assert "vda" in str(caught.value)
