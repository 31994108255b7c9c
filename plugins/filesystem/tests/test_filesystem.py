"""Tests of the filesystem plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

from typing import Any

import pytest
from devframe_filesystem import Filesystem, IdMap
from lxml import etree

import devframe
from devframe.testing import (
    assert_reported_not_raised,
    assert_set_refused,
    assert_spec_refused,
    assert_spec_round_trip,
    canonical,
    contract_tests,
    edit_tests,
    one_device,
    plugin_registry,
    validate_against_schema,
    wrap_in_domain,
)

UUID = "5d5b3a8e-0000-4000-8000-0000000000f5"


def pci(slot: int) -> str:
    return f"<address type='pci' domain='0x0000' bus='0x00' slot='0x{slot:02x}' function='0x0'/>"


MOUNT_MAPPED = (
    "<filesystem type='mount' accessmode='mapped' multidevs='remap' fmode='0640' dmode='0750'>"
    "<driver type='path' wrpolicy='immediate'/><source dir='/srv/9p/share'/><target dir='share_9p'/>"
    "<readonly/></filesystem>"
)
HANDLE_SQUASH = (
    "<filesystem type='mount' accessmode='squash' model='virtio-transitional' multidevs='forbid' fmode='644'>"
    "<driver type='handle'/><source dir='/srv/9p/handle'/><target dir='handle_tag'/></filesystem>"
)
VIRTIOFS = (
    "<filesystem type='mount' accessmode='passthrough'>"
    "<driver type='virtiofs' queue='1024' iommu='on' ats='on' packed='off' page_per_vq='on'/>"
    "<binary path='/usr/libexec/virtiofsd' xattr='on'><cache mode='none'/><sandbox mode='namespace'/>"
    "<lock posix='off' flock='on'/><thread_pool size='8'/></binary>"
    "<source dir='/srv/virtiofs/data'/><target dir='data'/>"
    f"<boot order='2'/><alias name='ua-{UUID}'/><acpi index='4'/>{pci(8)}</filesystem>"
)
VIRTIOFS_SOCKET = (
    "<filesystem type='mount'><driver type='virtiofs'/><source socket='/run/virtiofsd/home.sock'/>"
    "<target dir='home'/><alias name='fs1'/></filesystem>"
)
NO_TYPE = (
    "<filesystem accessmode='passthrough' model='virtio-non-transitional' multidevs='default'>"
    "<source dir='/srv/untyped'/><target dir='untyped'/><boot order='1' loadparm='SYSTEM1'/></filesystem>"
)
MULTIDEVS_WARN = (
    "<filesystem type='mount' multidevs='warn'><source dir='/srv/warned'/><target dir='warned'/></filesystem>"
)
BIND = "<filesystem type='bind'><source dir='/srv/www'/><target dir='/var/www'/><readonly/></filesystem>"
BLOCK = (
    "<filesystem type='block' accessmode='passthrough'><source dev='/dev/vg0/logs'/>"
    "<target dir='/var/log/app'/></filesystem>"
)
FILE_LOOP = (
    "<filesystem type='file' accessmode='passthrough'><driver type='loop' format='raw'/>"
    "<source file='/var/lib/lxc/c1/data.img'/><target dir='/data'/>"
    "<space_hard_limit unit='GiB'>10</space_hard_limit><space_soft_limit>8589934592</space_soft_limit>"
    "</filesystem>"
)
FILE_NBD = (
    "<filesystem type='file' accessmode='passthrough'><driver type='nbd' format='qcow2'/>"
    "<source file='/var/lib/lxc/c1/cache.qcow2'/><target dir='/var/cache/app'/></filesystem>"
)
FILE_PLOOP = (
    "<filesystem type='file'><driver type='ploop' format='ploop'/>"
    "<source file='/vz/private/101/root.hdd'/><target dir='/'/></filesystem>"
)
TEMPLATE = "<filesystem type='template'><source name='debian-12'/><target dir='/opt/template'/></filesystem>"
RAM = (
    "<filesystem type='ram' accessmode='passthrough'><source usage='524288' units='KiB'/>"
    "<target dir='/run/scratch'/></filesystem>"
)
# libvirt 11 only (the 9.0 schema here rejects them): openfiles, idmap, mtp
VIRTIOFS_11 = (
    "<filesystem type='mount' accessmode='passthrough'><driver type='virtiofs' queue='512'/>"
    "<binary path='/usr/libexec/virtiofsd' xattr='off'><cache mode='always'/><sandbox mode='chroot'/>"
    "<openfiles max='4096'/></binary><source dir='/srv/virtiofs/idmapped'/><target dir='idmapped'/>"
    "<idmap><uid start='0' target='100000' count='65536'/><uid start='65536' target='0' count='1'/>"
    "<gid start='0' target='200000' count='1000'/></idmap></filesystem>"
)
MTP = "<filesystem type='mount'><driver type='mtp'/><source dir='/srv/mtp'/><target dir='mtp_tag'/></filesystem>"
# parsed by libvirt, missing from its RelaxNG schema (9.0 and 11.3 alike)
VOLUME = (
    "<filesystem type='volume' accessmode='passthrough'><source pool='lxc-pool' volume='rootfs-vol'/>"
    "<target dir='/srv/volume'/></filesystem>"
)

VALID_FOR_9 = [
    MOUNT_MAPPED, HANDLE_SQUASH, VIRTIOFS, VIRTIOFS_SOCKET, NO_TYPE, MULTIDEVS_WARN, BIND, BLOCK, FILE_LOOP,
    FILE_NBD, FILE_PLOOP, TEMPLATE, RAM,
]  # fmt: skip
V11_ONLY = [VIRTIOFS_11, MTP]
SAMPLES = [*VALID_FOR_9, *V11_ONLY, VOLUME]

TestContract = contract_tests("filesystem", samples=SAMPLES)


registry = plugin_registry("filesystem")


def _fs(registry: devframe.Registry, xml: str) -> Filesystem:
    return one_device(registry, xml, Filesystem)


def _spec(**params: Any) -> dict[str, Any]:
    return {"type": "filesystem", "device": "mount", "specParams": params}


# -- parsing ------------------------------------------------------------------------------


def test_samples_are_schema_valid_where_libvirt_9_knows_them() -> None:
    for sample in VALID_FOR_9:
        assert not validate_against_schema(wrap_in_domain(sample)), sample
    for sample in [*V11_ONLY, VOLUME]:
        assert validate_against_schema(wrap_in_domain(sample)), sample


def test_fields_are_typed(registry: devframe.Registry) -> None:
    fs = _fs(registry, VIRTIOFS)
    assert (fs.type, fs.accessmode, fs.driver_type, fs.queue) == ("mount", "passthrough", "virtiofs", 1024)
    assert (fs.iommu, fs.ats, fs.packed, fs.page_per_vq) == (True, True, False, True)
    assert (fs.binary_path, fs.xattr, fs.cache_mode, fs.sandbox_mode) == (
        "/usr/libexec/virtiofsd", True, "none", "namespace",
    )  # fmt: skip
    assert (fs.lock_posix, fs.lock_flock, fs.thread_pool_size) == (False, True, 8)
    assert (fs.source_dir, fs.target_dir, fs.readonly) == ("/srv/virtiofs/data", "data", False)
    assert (fs.boot_order, fs.acpi_index, fs.device_id) == (2, 4, UUID)
    mapped = _fs(registry, MOUNT_MAPPED)
    assert (mapped.fmode, mapped.dmode, mapped.multidevs, mapped.wrpolicy, mapped.readonly) == (
        "0640", "0750", "remap", "immediate", True,
    )  # fmt: skip
    ram = _fs(registry, RAM)
    assert (ram.type, ram.source_usage, ram.source_units) == ("ram", 524288, "KiB")
    loop = _fs(registry, FILE_LOOP)
    assert (loop.space_hard_limit, loop.space_hard_limit_unit) == (10, "GiB")
    assert (loop.space_soft_limit, loop.space_soft_limit_unit) == (8589934592, None)
    assert (loop.driver_type, loop.driver_format, loop.source_file) == ("loop", "raw", "/var/lib/lxc/c1/data.img")
    assert _fs(registry, NO_TYPE).type is None
    assert _fs(registry, NO_TYPE).boot_loadparm == "SYSTEM1"
    assert (_fs(registry, VOLUME).source_pool, _fs(registry, VOLUME).source_volume) == ("lxc-pool", "rootfs-vol")
    assert _fs(registry, BLOCK).source_dev == "/dev/vg0/logs"
    assert _fs(registry, TEMPLATE).source_name == "debian-12"
    assert _fs(registry, VIRTIOFS_SOCKET).source_socket == "/run/virtiofsd/home.sock"


def test_libvirt_11_fields(registry: devframe.Registry) -> None:
    fs = _fs(registry, VIRTIOFS_11)
    assert fs.openfiles_max == 4096
    assert [(m.start, m.target, m.count) for m in fs.uid_map] == [(0, 100000, 65536), (65536, 0, 1)]
    assert [(m.start, m.target, m.count) for m in fs.gid_map] == [(0, 200000, 1000)]
    assert all(isinstance(m, IdMap) for m in fs.uid_map)
    assert _fs(registry, MTP).driver_type == "mtp"


@pytest.mark.parametrize(
    ("xml", "field"),
    [
        ("<filesystem fmode='0999'><source dir='/s'/><target dir='t'/></filesystem>", "fmode"),
        ("<filesystem dmode='rwx'><source dir='/s'/><target dir='t'/></filesystem>", "dmode"),
        ("<filesystem type='ram'><source usage='lots' units='KiB'/><target dir='t'/></filesystem>", "source_usage"),
        ("<filesystem type='ram'><source usage='1' units='parsec'/><target dir='t'/></filesystem>", "source_units"),
        ("<filesystem><driver type='virtiofs' queue='-1'/><source dir='/s'/><target dir='t'/></filesystem>", "queue"),
        (
            "<filesystem><binary><openfiles max='0'/></binary><source dir='/s'/><target dir='t'/></filesystem>",
            "openfiles_max",
        ),
        ("<filesystem><source dir='/s'/><target dir='t'/><space_hard_limit>-4</space_hard_limit></filesystem>",
         "space_hard_limit"),
        ("<filesystem><source dir='/s'/><target dir='t'/><idmap><uid start='x' target='0' count='1'/></idmap>"
         "</filesystem>", "uid_map"),
    ],
)  # fmt: skip
def test_bad_values_are_reported_not_raised(registry: devframe.Registry, xml: str, field: str) -> None:
    assert_reported_not_raised(_fs(registry, xml), field, xml)


# -- dev_spec -----------------------------------------------------------------------------


def test_spec_of_a_virtiofs_share(registry: devframe.Registry) -> None:
    assert _fs(registry, VIRTIOFS).to_spec() == {
        "type": "filesystem",
        "device": "mount",
        "deviceId": UUID,
        "alias": f"ua-{UUID}",
        "address": {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x08", "function": "0x0"},
        "bootOrder": 2,
        "specParams": {
            "acpiIndex": 4,
            "driver": {
                "iommu": True,
                "ats": True,
                "packed": False,
                "pagePerVq": True,
                "type": "virtiofs",
                "queue": 1024,
            },
            "accessmode": "passthrough",
            "binary": {
                "path": "/usr/libexec/virtiofsd",
                "xattr": True,
                "cache": {"mode": "none"},
                "sandbox": {"mode": "namespace"},
                "lock": {"posix": False, "flock": True},
                "threadPool": {"size": 8},
            },
            "source": {"dir": "/srv/virtiofs/data"},
            "target": {"dir": "data"},
            "readonly": False,
        },
    }


def test_spec_of_libvirt_11_keys(registry: devframe.Registry) -> None:
    params = _fs(registry, VIRTIOFS_11).to_spec()["specParams"]
    assert params["binary"]["openfiles"] == {"max": 4096}
    assert params["idmap"] == {
        "uid": [{"start": 0, "target": 100000, "count": 65536}, {"start": 65536, "target": 0, "count": 1}],
        "gid": [{"start": 0, "target": 200000, "count": 1000}],
    }


def test_every_spec_key_builds_its_xml(registry: devframe.Registry) -> None:
    fs = registry.device_from_spec(
        {
            "type": "filesystem", "device": "mount", "deviceId": UUID, "bootOrder": "3",
            "address": {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x09", "function": "0x0"},
            "specParams": {
                "model": "virtio", "accessmode": "mapped", "multidevs": "remap", "fmode": "0600", "dmode": "0700",
                "driver": {"type": "path", "wrpolicy": "immediate", "iommu": True},
                "source": {"dir": "/srv/all"}, "target": {"dir": "all_tag"}, "readonly": True,
                "acpiIndex": 6, "bootLoadparm": "LP1",
            },
        }
    )  # fmt: skip
    expected = (
        "<filesystem type='mount' model='virtio' accessmode='mapped' multidevs='remap' fmode='0600' dmode='0700'>"
        "<driver type='path' wrpolicy='immediate' iommu='on'/><source dir='/srv/all'/><target dir='all_tag'/>"
        f"<readonly/><boot order='3' loadparm='LP1'/><alias name='ua-{UUID}'/><acpi index='6'/>{pci(9)}"
        "</filesystem>"
    )
    assert canonical(fs.to_xml()) == canonical(expected)
    assert [c.tag for c in etree.fromstring(fs.to_xml())] == [
        "driver", "source", "target", "readonly", "boot", "alias", "acpi", "address",
    ]  # fmt: skip
    assert not validate_against_schema(wrap_in_domain(fs.to_xml()))


def test_every_virtiofs_spec_key_builds_its_xml(registry: devframe.Registry) -> None:
    fs = registry.device_from_spec(
        _spec(
            driver={"type": "virtiofs", "queue": "256", "ats": "on", "packed": True, "pagePerVq": False},
            binary={
                "path": "/usr/libexec/virtiofsd", "xattr": "on", "cache": {"mode": "always"},
                "sandbox": {"mode": "chroot"}, "lock": {"posix": True, "flock": False}, "threadPool": {"size": 4},
                "openfiles": {"max": "1024"},
            },
            source={"socket": "/run/v.sock"}, target={"dir": "vfs"},
            idmap={
                "uid": [{"start": 0, "target": "1000", "count": 1}],
                "gid": [{"start": 0, "target": 1000, "count": 1}],
            },
        )
    )  # fmt: skip
    expected = (
        "<filesystem type='mount'><driver type='virtiofs' queue='256' ats='on' packed='on' page_per_vq='off'/>"
        "<binary path='/usr/libexec/virtiofsd' xattr='on'><cache mode='always'/><sandbox mode='chroot'/>"
        "<lock posix='on' flock='off'/><thread_pool size='4'/><openfiles max='1024'/></binary>"
        "<source socket='/run/v.sock'/><target dir='vfs'/>"
        "<idmap><uid start='0' target='1000' count='1'/><gid start='0' target='1000' count='1'/></idmap>"
        "</filesystem>"
    )
    assert canonical(fs.to_xml()) == canonical(expected)
    assert [c.tag for c in etree.fromstring(fs.to_xml())] == ["driver", "binary", "source", "target", "idmap"]


@pytest.mark.parametrize(
    ("device", "params", "xml"),
    [
        ("file", {"driver": {"type": "loop", "format": "raw"}, "source": {"file": "/i.img"},
                  "spaceHardLimit": 10, "spaceHardLimitUnit": "GiB", "spaceSoftLimit": "8", "spaceSoftLimitUnit": "G"},
         "<driver type='loop' format='raw'/><source file='/i.img'/><target dir='/t'/>"
         "<space_hard_limit unit='GiB'>10</space_hard_limit><space_soft_limit unit='G'>8</space_soft_limit>"),
        ("block", {"source": {"dev": "/dev/sdb1"}}, "<source dev='/dev/sdb1'/><target dir='/t'/>"),
        ("template", {"source": {"name": "tpl"}}, "<source name='tpl'/><target dir='/t'/>"),
        ("ram", {"source": {"usage": "1024", "units": "MiB"}}, "<source usage='1024' units='MiB'/><target dir='/t'/>"),
        ("bind", {"source": {"dir": "/b"}}, "<source dir='/b'/><target dir='/t'/>"),
        ("volume", {"source": {"pool": "p", "volume": "v"}}, "<source pool='p' volume='v'/><target dir='/t'/>"),
    ],
)  # fmt: skip
def test_each_type_builds_its_source(
    registry: devframe.Registry, device: str, params: dict[str, Any], xml: str
) -> None:
    fs = registry.device_from_spec(
        {"type": "filesystem", "device": device, "specParams": {**params, "target": {"dir": "/t"}}}
    )
    assert canonical(fs.to_xml()) == canonical(f"<filesystem type='{device}'>{xml}</filesystem>")
    errors = validate_against_schema(wrap_in_domain(fs.to_xml()))
    assert bool(errors) == (device == "volume"), errors  # volume: not in libvirt's schema


def test_a_minimal_spec_builds_a_mount(registry: devframe.Registry) -> None:
    fs = registry.device_from_spec(
        {"type": "filesystem", "specParams": {"source": {"dir": "/s"}, "target": {"dir": "t"}}}
    )
    assert canonical(fs.to_xml()) == canonical(
        "<filesystem type='mount'><source dir='/s'/><target dir='t'/></filesystem>"
    )
    assert not validate_against_schema(wrap_in_domain(fs.to_xml()))


def test_an_element_without_type_round_trips_without_one(registry: devframe.Registry) -> None:
    spec = _fs(registry, NO_TYPE).to_spec()
    assert spec["device"] == "filesystem"
    rebuilt = registry.device_from_spec(spec)
    assert rebuilt.element.get("type") is None
    assert canonical(rebuilt.to_xml()) == canonical(NO_TYPE)


def test_spec_round_trip_of_every_sample(registry: devframe.Registry) -> None:
    for sample in SAMPLES:
        assert_spec_round_trip(registry, _fs(registry, sample), sample)


def test_the_target_dir_is_required(registry: devframe.Registry) -> None:
    with pytest.raises(devframe.SpecError, match=r"specParams\.target\.dir"):
        registry.device_from_spec(_spec(source={"dir": "/s"}))
    with pytest.raises(devframe.SpecError, match=r"specParams\.target\.dir"):
        registry.device_from_spec(_spec(source={"dir": "/s"}, target={"dir": ""}))


@pytest.mark.parametrize(
    ("device", "source", "key"),
    [
        ("mount", {}, "specParams.source.dir' or 'specParams.source.socket"),
        ("filesystem", {"file": "/wrong-kind"}, "specParams.source.dir"),
        ("bind", {"socket": "/s"}, "specParams.source.dir"),
        ("file", {"dir": "/d"}, "specParams.source.file"),
        ("block", {}, "specParams.source.dev"),
        ("template", {}, "specParams.source.name"),
        ("ram", {"units": "KiB"}, "specParams.source.usage"),
        ("volume", {"pool": "p"}, "specParams.source.volume"),
        ("volume", {"volume": "v"}, "specParams.source.pool"),
    ],
)
def test_a_missing_source_is_a_spec_error_naming_the_key(
    registry: devframe.Registry, device: str, source: dict[str, Any], key: str
) -> None:
    spec = {"type": "filesystem", "device": device, "specParams": {"source": source, "target": {"dir": "t"}}}
    assert_spec_refused(registry, spec, key)


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"fmode": 644}, "specParams.fmode"),
        ({"fmode": "0999"}, "specParams.fmode"),
        ({"dmode": "u+rwx"}, "specParams.dmode"),
        ({"accessmode": 1}, "specParams.accessmode"),
        ({"driver": {"queue": -1}}, "specParams.driver.queue"),
        ({"driver": {"queue": "deep"}}, "specParams.driver.queue"),
        ({"driver": {"type": True}}, "specParams.driver.type"),
        ({"binary": {"xattr": "perhaps"}}, "specParams.binary.xattr"),
        ({"binary": {"openfiles": {"max": 0}}}, "specParams.binary.openfiles.max"),
        ({"binary": {"threadPool": {"size": 1.5}}}, "specParams.binary.threadPool.size"),
        ({"readonly": "maybe"}, "specParams.readonly"),
        ({"readonly": [1]}, "specParams.readonly"),
        ({"spaceHardLimit": -1}, "specParams.spaceHardLimit"),
        ({"spaceSoftLimitUnit": "parsec"}, "specParams.spaceSoftLimitUnit"),
        ({"idmap": {"uid": {"start": 0}}}, "specParams.idmap.uid"),
        ({"idmap": {"gid": [{"start": -1, "target": 0, "count": 1}]}}, "specParams.idmap.gid"),
        ({"target": {"dir": 7}}, "specParams.target.dir"),
    ],
)
def test_bad_spec_values_are_spec_errors_naming_the_key(
    registry: devframe.Registry, params: dict[str, Any], key: str
) -> None:
    spec = _spec(**{"source": {"dir": "/s"}, "target": {"dir": "t"}, **params})
    assert_spec_refused(registry, spec, key)


def test_a_ram_size_in_a_bad_unit_is_a_spec_error(registry: devframe.Registry) -> None:
    spec = {"type": "filesystem", "device": "ram",
            "specParams": {"source": {"usage": 1, "units": "furlongs"}, "target": {"dir": "t"}}}  # fmt: skip
    with pytest.raises(devframe.SpecError, match=r"specParams\.source\.units"):
        registry.device_from_spec(spec)


def test_a_device_that_is_not_a_string_is_a_spec_error(registry: devframe.Registry) -> None:
    with pytest.raises(devframe.SpecError, match="device"):
        registry.device_from_spec({"type": "filesystem", "device": 9, "specParams": {"target": {"dir": "t"}}})


# -- editing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "where", "attr", "raw"),
    [
        ("fmode", "0600", None, "fmode", "0600"),
        ("dmode", "755", None, "dmode", "755"),
        ("accessmode", "passthrough", None, "accessmode", "passthrough"),
        ("multidevs", "warn", None, "multidevs", "warn"),
        ("wrpolicy", "immediate", "driver", "wrpolicy", "immediate"),
        ("driver_type", "handle", "driver", "type", "handle"),
        ("target_dir", "renamed", "target", "dir", "renamed"),
        ("source_dir", "/srv/other", "source", "dir", "/srv/other"),
    ],
)
def test_setting_a_field_changes_only_it(
    registry: devframe.Registry, name: str, value: Any, where: str | None, attr: str, raw: str
) -> None:
    fs = _fs(registry, MOUNT_MAPPED)
    expected = etree.fromstring(fs.to_xml())
    setattr(fs, name, value)
    (expected if where is None else expected.find(where)).set(attr, raw)
    assert canonical(fs.to_xml()) == canonical(expected)
    assert getattr(fs, name) == value


def test_size_and_unit_fields_change_only_their_place(registry: devframe.Registry) -> None:
    fs = _fs(registry, FILE_LOOP)
    expected = etree.fromstring(fs.to_xml())
    fs.space_soft_limit_unit = "MiB"
    fs.space_hard_limit = 12
    expected.find("space_soft_limit").set("unit", "MiB")
    expected.find("space_hard_limit").text = "12"
    assert canonical(fs.to_xml()) == canonical(expected)
    ram = _fs(registry, RAM)
    ram.source_units = "MiB"
    assert etree.fromstring(ram.to_xml()).find("source").attrib == {"usage": "524288", "units": "MiB"}


def test_refused_values_change_nothing(registry: devframe.Registry) -> None:
    fs = _fs(registry, MOUNT_MAPPED)
    assert_set_refused(fs, "fmode", "0888", 420)
    assert_set_refused(fs, "space_hard_limit_unit", "furlongs")
    assert_set_refused(fs, "queue", -1)


def test_readonly_flag_adds_and_removes_the_element(registry: devframe.Registry) -> None:
    fs = _fs(registry, MOUNT_MAPPED)
    fs.readonly = False
    assert etree.fromstring(fs.to_xml()).find("readonly") is None
    fs.readonly = True
    assert canonical(fs.to_xml()) == canonical(MOUNT_MAPPED)


def test_idmap_ranges_are_replaced_keeping_the_other_kind(registry: devframe.Registry) -> None:
    fs = _fs(registry, VIRTIOFS_11)
    fs.uid_map = [{"start": 0, "target": 5000, "count": 10}]
    idmap = etree.fromstring(fs.to_xml()).find("idmap")
    assert [(c.tag, dict(c.attrib)) for c in idmap] == [
        ("uid", {"start": "0", "target": "5000", "count": "10"}),
        ("gid", {"start": "0", "target": "200000", "count": "1000"}),
    ]
    fs.uid_map = []
    fs.gid_map = []
    assert etree.fromstring(fs.to_xml()).find("idmap") is None


# -- identity and display ------------------------------------------------------------------


def test_identity_is_the_target_dir(registry: devframe.Registry) -> None:
    assert _fs(registry, VIRTIOFS).identity() == {"devtype": "filesystem", "target": "data"}
    assert _fs(registry, BIND).identity() == {"devtype": "filesystem", "target": "/var/www"}
    assert _fs(registry, "<filesystem><source dir='/s'/></filesystem>").identity() is None
    assert _fs(registry, "<filesystem><target dir=''/></filesystem>").identity() is None


def test_metadata_binds_by_target_without_an_alias(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(BIND, TEMPLATE, RAM), registry=registry)
    domain.dev_map["filesystem"][1].metadata["engineKey"] = "tpl"
    again = devframe.parse_domain(domain.to_xml(), registry=registry)
    assert [dict(d.metadata) for d in again.dev_map["filesystem"]] == [{}, {"engineKey": "tpl"}, {}]


def test_summary(registry: devframe.Registry) -> None:
    assert _fs(registry, VIRTIOFS).summary() == {
        "type": "mount", "driver": "virtiofs", "accessmode": "passthrough", "target": "data", "boot": "2",
        "source": "dir=/srv/virtiofs/data",
    }  # fmt: skip
    assert _fs(registry, NO_TYPE).summary()["type"] == "mount"  # libvirt's default, shown
    assert _fs(registry, BIND).summary()["readonly"] is True
    assert _fs(registry, RAM).summary()["source"] == "usage=524288,units=KiB"
    assert "data" in repr(_fs(registry, VIRTIOFS))


# -- setting each modeled field changes only it ------------------------------------------------


CLASS = Filesystem
#: new values for every modeled field (two: one differs from what any sample holds)
EDITS: dict[str, tuple[Any, ...]] = {
    "alias": ("ua-" + UUID, "fs9"),
    "acpi_index": (1, 2),
    "iommu": (True, False),
    "ats": (True, False),
    "packed": (True, False),
    "page_per_vq": (True, False),
    "boot_order": (5, 6),
    "boot_loadparm": ("LP2", "LP3"),
    "type": ("bind", "mount"),
    "model": ("virtio", "virtio-transitional"),
    "accessmode": ("mapped", "squash"),
    "multidevs": ("forbid", "warn"),
    "fmode": ("0600", "0644"),
    "dmode": ("0700", "755"),
    "driver_type": ("handle", "path"),
    "driver_format": ("qcow2", "raw"),
    "wrpolicy": ("immediate",),
    "queue": (64, 128),
    "binary_path": ("/opt/virtiofsd", "/usr/bin/virtiofsd"),
    "xattr": (True, False),
    "cache_mode": ("always", "none"),
    "sandbox_mode": ("chroot", "namespace"),
    "lock_posix": (True, False),
    "lock_flock": (True, False),
    "thread_pool_size": (2, 3),
    "openfiles_max": (10, 20),
    "source_dir": ("/srv/a", "/srv/b"),
    "source_socket": ("/run/a.sock", "/run/b.sock"),
    "source_file": ("/a.img", "/b.img"),
    "source_dev": ("/dev/sda1", "/dev/sdb1"),
    "source_name": ("tpl-a", "tpl-b"),
    "source_usage": (1, 2),
    "source_units": ("MiB", "G"),
    "source_pool": ("pool-a", "pool-b"),
    "source_volume": ("vol-a", "vol-b"),
    "target_dir": ("/mnt/a", "tag_b"),
    "readonly": (True, False),
    "space_hard_limit": (1, 2),
    "space_hard_limit_unit": ("KiB", "bytes"),
    "space_soft_limit": (1, 2),
    "space_soft_limit_unit": ("KiB", "bytes"),
}


TestEdits = edit_tests("filesystem", CLASS, SAMPLES, EDITS)
