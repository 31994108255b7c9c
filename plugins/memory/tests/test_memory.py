"""Tests of the memory plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from devframe_memory import Memory
from devframe_memory.device import format_kib, to_kib, unit_bytes
from lxml import etree

import devframe
from devframe.testing import (
    assert_set_refused,
    canonical,
    contract_tests,
    one_device,
    plugin_registry,
    validate_against_schema,
    wrap_in_domain,
)

GIB = 1024 * 1024  # KiB

# Every model and source/target variant of libvirt 9.0's schema (valid against the
# installed domain.rng).
SAMPLES = [
    # dimm: pagesize + nodemask, access, discard, alias, dimm address, size in GiB
    "<memory model='dimm' access='private' discard='yes'>"
    "<source><pagesize unit='KiB'>2048</pagesize><nodemask>0-1,^1</nodemask></source>"
    "<target><size unit='GiB'>2</size><node>0</node></target>"
    "<alias name='ua-9a4f0c2e-6b1d-4e73-8f25-c0d1e2f3a4b5'/><address type='dimm' slot='0' base='0x100000000'/>"
    "</memory>",
    # dimm: no unit (KiB), no node, acpi index
    "<memory model='dimm'><target><size>524288</size></target><acpi index='3'/></memory>",
    # dimm: sizes in MiB and in bytes, shared
    "<memory model='dimm' access='shared'><source><pagesize unit='b'>4096</pagesize></source>"
    "<target><size unit='MiB'>1536</size><node>1</node></target><address type='dimm' slot='2'/></memory>",
    # nvdimm: uuid, path, alignsize, pmem, label, readonly
    "<memory model='nvdimm' access='shared'><uuid>4f1c9a2b-7e3d-4a58-b6c0-d2e8f1a3b5c7</uuid>"
    "<source><path>/dev/dax1.0</path><alignsize unit='M'>2</alignsize><pmem/></source>"
    "<target><size unit='G'>8</size><node>1</node><label><size unit='KiB'>256</size></label><readonly/></target>"
    "<address type='dimm' slot='1'/></memory>",
    # nvdimm: a file, no label
    "<memory model='nvdimm'><source><path>/var/lib/libvirt/nvdimm/guest.img</path></source>"
    "<target><size unit='MiB'>512</size><node>0</node></target></memory>",
    # virtio-pmem: a file on a PCI address
    "<memory model='virtio-pmem' access='shared'><source><path>/srv/pmem/guest.img</path></source>"
    "<target><size unit='GiB'>4</size></target>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x0a' function='0x0'/></memory>",
    # virtio-mem: pagesize, nodemask, block, requested, current
    "<memory model='virtio-mem'><source><nodemask>1</nodemask><pagesize unit='KiB'>2048</pagesize></source>"
    "<target><size unit='GiB'>16</size><node>1</node><block unit='MiB'>2</block>"
    "<requested unit='GiB'>6</requested><current unit='KiB'>6291456</current></target>"
    "<alias name='virtiomem0'/><address type='pci' domain='0x0000' bus='0x00' slot='0x0b' function='0x0'/>"
    "</memory>",
    # sgx-epc: a host node mask, and without a source
    "<memory model='sgx-epc'><source><nodemask>0</nodemask></source>"
    "<target><size unit='MiB'>32</size><node>0</node></target></memory>",
    "<memory model='sgx-epc'><target><size unit='KiB'>16384</size></target></memory>",
]

# Newer than the libvirt 9.0 schema here (libvirt 11: a virtio-mem/pmem base address in
# guest memory, dynamic memslots): still parsed, rebuilt and converted.
NEWER = [
    "<memory model='virtio-mem'><target dynamicMemslots='yes'><size unit='GiB'>4</size><node>0</node>"
    "<block unit='KiB'>2048</block><requested unit='GiB'>1</requested><address base='0x140000000'/></target>"
    "</memory>",
    "<memory model='virtio-pmem'><source><path>/srv/pmem/b.img</path></source>"
    "<target><size unit='GiB'>1</size><address base='0x480000000'/></target></memory>",
]

# Sizes edited by the contract suite: a value every sample's unit holds whole (so the
# unit stays and only the number changes; the unit switch is tested below).
_EDIT = 3 * GIB
TestContract = contract_tests(
    "memory",
    samples=SAMPLES + NEWER,
    edit_values=dict.fromkeys(("size", "pagesize", "alignsize", "label_size", "block", "requested", "current"), _EDIT),
)


registry = plugin_registry("memory")


def _memory(registry: devframe.Registry, xml: str) -> Memory:
    return one_device(registry, xml, Memory)


def test_samples_are_schema_valid() -> None:
    for sample in SAMPLES:
        assert not validate_against_schema(wrap_in_domain(sample)), sample


def test_newer_samples_are_rejected_by_the_installed_schema() -> None:
    """They are 11.x-only; if the installed libvirt learns them, move them to SAMPLES."""
    for sample in NEWER:
        assert validate_against_schema(wrap_in_domain(sample)), sample


# -- sizes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "unit", "kib"),
    [
        ("2", "GiB", 2 * GIB),
        ("2", "G", 2 * GIB),
        ("2", "g", 2 * GIB),
        ("1536", "MiB", 1536 * 1024),
        ("1536", "M", 1536 * 1024),
        ("524288", None, 524288),
        ("524288", "KiB", 524288),
        ("524288", "k", 524288),
        ("4096", "b", 4),
        ("4096", "bytes", 4),
        ("1", "TiB", 1024 * GIB),
        ("1000", "KB", 1000 * 1000 // 1024 + 1),  # 1,000,000 bytes: rounded up as libvirt does
        ("1", "MB", 977),
        ("1", "GB", 976563),
        ("1", "byte", 1),
    ],
)
def test_a_size_reads_as_kib_in_any_unit(text: str, unit: str | None, kib: int) -> None:
    assert to_kib(text, unit) == kib


@pytest.mark.parametrize("unit", ["furlong", "", "KiBi", "iB"])
def test_unknown_units_are_refused(unit: str) -> None:
    with pytest.raises(ValueError, match="unit"):
        unit_bytes(unit)


def test_sizes_of_every_sample(registry: devframe.Registry) -> None:
    dimm = _memory(registry, SAMPLES[0])
    assert (dimm.size, dimm.pagesize, dimm.node, dimm.nodemask) == (2 * GIB, 2048, 0, "0-1,^1")
    assert (_memory(registry, SAMPLES[1]).size, _memory(registry, SAMPLES[1]).node) == (524288, None)
    mib = _memory(registry, SAMPLES[2])
    assert (mib.size, mib.pagesize) == (1536 * 1024, 4)
    nvdimm = _memory(registry, SAMPLES[3])
    assert (nvdimm.size, nvdimm.alignsize, nvdimm.label_size) == (8 * GIB, 2048, 256)
    virtio = _memory(registry, SAMPLES[6])
    assert (virtio.size, virtio.block, virtio.requested, virtio.current) == (16 * GIB, 2048, 6 * GIB, 6 * GIB)


def test_setting_a_size_keeps_its_unit_when_it_can(registry: devframe.Registry) -> None:
    dimm = _memory(registry, SAMPLES[0])
    expected = etree.fromstring(dimm.to_xml())
    dimm.size = 4 * GIB
    expected.find("target/size").text = "4"
    assert canonical(dimm.to_xml()) == canonical(expected)
    # 4.5 GiB is no whole number of GiB: written in KiB, the unit with it.
    dimm.size = 4 * GIB + 512 * 1024
    expected.find("target/size").text = str(4 * GIB + 512 * 1024)
    expected.find("target/size").set("unit", "KiB")
    assert canonical(dimm.to_xml()) == canonical(expected)
    assert dimm.size == 4 * GIB + 512 * 1024


def test_setting_a_size_without_unit_or_in_bytes(registry: devframe.Registry) -> None:
    plain = _memory(registry, SAMPLES[1])
    expected = etree.fromstring(plain.to_xml())
    plain.size = 1048576
    expected.find("target/size").text = "1048576"
    assert canonical(plain.to_xml()) == canonical(expected), "no unit was written: KiB is the default"
    in_bytes = _memory(registry, SAMPLES[2])
    expected = etree.fromstring(in_bytes.to_xml())
    in_bytes.pagesize = 2048
    expected.find("source/pagesize").text = str(2048 * 1024)
    assert canonical(in_bytes.to_xml()) == canonical(expected)


def test_a_new_size_is_written_in_kib_and_removing_one_prunes_its_container(registry: devframe.Registry) -> None:
    nvdimm = _memory(registry, SAMPLES[4])
    expected = etree.fromstring(nvdimm.to_xml())
    nvdimm.label_size = 128
    label = etree.SubElement(expected.find("target"), "label")
    etree.SubElement(label, "size", unit="KiB").text = "128"
    assert canonical(nvdimm.to_xml()) == canonical(expected)
    nvdimm.label_size = None
    expected.find("target").remove(label)
    assert canonical(nvdimm.to_xml()) == canonical(expected)


@pytest.mark.parametrize("value", [-1, 1.5, True, "1024"])
def test_a_size_must_be_a_non_negative_int(registry: devframe.Registry, value: Any) -> None:
    assert_set_refused(_memory(registry, SAMPLES[0]), "size", value)


@pytest.mark.parametrize(
    ("bad", "name"),
    [
        ("<size unit='GiB'>2</size>", "<size unit='parsec'>2</size>"),
        ("<size unit='GiB'>2</size>", "<size unit='GiB'>two</size>"),
        ("<size unit='GiB'>2</size>", "<size unit='GiB'>-2</size>"),
    ],
)
def test_a_size_that_is_none_is_reported_not_raised(registry: devframe.Registry, bad: str, name: str) -> None:
    broken = _memory(registry, SAMPLES[0].replace(bad, name))
    assert any("'size'" in problem for problem in broken.problems())
    with pytest.raises(devframe.DevframeError, match="size"):
        broken.to_spec()
    assert name.replace("'", '"') in broken.to_xml()
    assert broken.identity() is not None and "size" in (broken.identity() or {})
    assert broken.summary()["size"].startswith("<invalid")


def test_address_base_is_hex(registry: devframe.Registry) -> None:
    virtio = _memory(registry, NEWER[0])
    assert (virtio.address_base, virtio.dynamic_memslots) == (0x140000000, True)
    expected = etree.fromstring(virtio.to_xml())
    virtio.address_base = 0x180000000
    expected.find("target/address").set("base", "0x180000000")
    assert canonical(virtio.to_xml()) == canonical(expected)
    assert virtio.to_spec()["specParams"]["addressBase"] == 0x180000000


def test_editing_flags_changes_only_them(registry: devframe.Registry) -> None:
    nvdimm = _memory(registry, SAMPLES[4])
    expected = etree.fromstring(nvdimm.to_xml())
    nvdimm.pmem = True
    etree.SubElement(expected.find("source"), "pmem")
    nvdimm.readonly = True
    etree.SubElement(expected.find("target"), "readonly")
    assert canonical(nvdimm.to_xml()) == canonical(expected)


# -- dev_spec ----------------------------------------------------------------------------------


def test_vdsm_hotplug_spec_gives_a_dimm(registry: devframe.Registry) -> None:
    spec = {"type": "memory", "device": "memory", "size": 1024, "node": 0, "alias": "ua-mem0"}
    dimm = registry.device_from_spec(spec)
    assert canonical(dimm.to_xml()) == canonical(
        "<memory model='dimm'><target><size unit='KiB'>1048576</size><node>0</node></target>"
        "<alias name='ua-mem0'/></memory>"
    )
    assert not validate_against_schema(wrap_in_domain(dimm.to_xml()))
    assert dimm.to_spec() == {**spec, "deviceId": "mem0", "specParams": {"model": "dimm"}}


def test_minimal_spec(registry: devframe.Registry) -> None:
    dimm = registry.device_from_spec({"type": "memory", "size": "256"})
    assert canonical(dimm.to_xml()) == canonical(
        "<memory model='dimm'><target><size unit='KiB'>262144</size></target></memory>"
    )
    assert not validate_against_schema(wrap_in_domain(dimm.to_xml()))


@pytest.mark.parametrize(("mib", "kib"), [(1024, 1048576), ("2048", 2097152), (0.5, 512), ("1.5", 1536), (2.0, 2048)])
def test_spec_size_is_mib(registry: devframe.Registry, mib: Any, kib: int) -> None:
    device = registry.device_from_spec({"type": "memory", "size": mib})
    assert isinstance(device, Memory) and device.size == kib
    assert device.to_spec()["size"] == kib / 1024
    assert isinstance(device.to_spec()["size"], int if kib % 1024 == 0 else float)


def test_every_documented_key(registry: devframe.Registry) -> None:
    spec = {
        "type": "memory",
        "device": "memory",
        "size": 4096,
        "node": 1,
        "alias": "ua-3c2b1a09-8f7e-4d6c-b5a4-938271605f4e",
        "deviceId": "3c2b1a09-8f7e-4d6c-b5a4-938271605f4e",
        "address": {"type": "dimm", "slot": "1"},
        "specParams": {
            "model": "nvdimm", "access": "shared", "discard": False,
            "uuid": "0b1c2d3e-4f50-4a61-8b72-9c8d7e6f5a4b", "path": "/dev/dax0.1", "alignsize": 2048,
            "pmem": True, "labelSize": 128, "readonly": True, "acpiIndex": 2,
        },
    }  # fmt: skip
    nvdimm = registry.device_from_spec(spec)
    root = etree.fromstring(nvdimm.to_xml())
    assert dict(root.attrib) == {"model": "nvdimm", "access": "shared", "discard": "no"}
    assert root.findtext("uuid") == "0b1c2d3e-4f50-4a61-8b72-9c8d7e6f5a4b"
    assert [c.tag for c in root] == ["uuid", "source", "target", "alias", "acpi", "address"]
    assert [c.tag for c in root.find("source")] == ["path", "alignsize", "pmem"]
    assert root.find("target/label/size").text == "128" and root.find("target/readonly") is not None
    assert nvdimm.to_spec() == spec
    assert not validate_against_schema(wrap_in_domain(nvdimm.to_xml()))

    virtio_spec = {
        "type": "memory",
        "device": "memory",
        "size": 8192,
        "node": 0,
        "specParams": {
            "model": "virtio-mem", "pagesize": 2048, "nodemask": "0-1", "block": 2048,
            "requested": 2 * GIB, "current": GIB, "dynamicMemslots": True, "addressBase": 0x200000000,
        },
    }  # fmt: skip
    virtio = registry.device_from_spec(virtio_spec)
    target = etree.fromstring(virtio.to_xml()).find("target")
    assert target.get("dynamicMemslots") == "yes" and target.find("address").get("base") == "0x200000000"
    assert (target.find("requested").text, target.find("requested").get("unit")) == (str(2 * GIB), "KiB")
    assert virtio.to_spec() == virtio_spec


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({}, "'size'"),
        ({"device": "dimm", "size": 1024}, "'device'"),
        ({"device": ["memory"], "size": 1024}, "'device'"),
        ({"size": -1}, "size"),
        ({"size": "1G"}, "size"),
        ({"size": 0.0001}, "size"),
        ({"size": float("nan")}, "size"),
        ({"size": float("inf")}, "size"),
        ({"size": True}, "size"),
        ({"size": [1024]}, "size"),
        ({"size": 1024, "node": -1}, "node"),
        ({"size": 1024, "node": "first"}, "node"),
        ({"size": 1024, "specParams": {"pagesize": "2M"}}, "specParams.pagesize"),
        ({"size": 1024, "specParams": {"requested": -5}}, "specParams.requested"),
        ({"size": 1024, "specParams": {"addressBase": "base"}}, "specParams.addressBase"),
        ({"size": 1024, "specParams": {"discard": "sometimes"}}, "specParams.discard"),
        ({"size": 1024, "specParams": {"nodemask": ""}}, "specParams.nodemask"),
        ({"size": 1024, "specParams": {"nodemask": "0-"}}, "specParams.nodemask"),
        ({"size": 1024, "specParams": {"path": "relative.img"}}, "specParams.path"),
        ({"size": 1024, "specParams": {"uuid": "not-a-uuid"}}, "specParams.uuid"),
        ({"size": 1024, "specParams": {"pmem": "2"}}, "specParams.pmem"),
        ({"size": 1024, "specParams": {"readonly": {"on": True}}}, "specParams.readonly"),
    ],
)
def test_unusable_specs_name_the_key(registry: devframe.Registry, spec: dict[str, Any], key: str) -> None:
    with pytest.raises(devframe.DevframeError, match=key):
        registry.device_from_spec({"type": "memory", **spec})


def test_missing_size_and_wrong_device_are_spec_errors(registry: devframe.Registry) -> None:
    with pytest.raises(devframe.SpecError):
        registry.device_from_spec({"type": "memory"})
    with pytest.raises(devframe.SpecError):
        registry.device_from_spec({"type": "memory", "device": "nvdimm", "size": 1})


def test_spec_round_trip_of_every_sample(registry: devframe.Registry) -> None:
    for xml in SAMPLES + NEWER:
        device = _memory(registry, xml)
        spec = device.to_spec()
        assert spec["device"] == "memory" and spec["size"] * 1024 == device.size
        again = registry.device_from_spec(copy.deepcopy(spec))
        assert again.to_spec() == spec, xml


# -- identity ---------------------------------------------------------------------------------


def test_identity_is_node_size_and_address(registry: devframe.Registry) -> None:
    assert _memory(registry, SAMPLES[0]).identity() == {
        "devtype": "memory", "node": "0", "size": str(2 * GIB), "address": "base=0x100000000,slot=0,type=dimm",
    }  # fmt: skip
    assert _memory(registry, SAMPLES[1]).identity() == {"devtype": "memory", "size": "524288"}
    assert _memory(registry, SAMPLES[7]).identity() == {"devtype": "memory", "node": "0", "size": "32768"}


def test_identity_does_not_depend_on_the_unit(registry: devframe.Registry) -> None:
    gib = _memory(registry, SAMPLES[0])
    kib = _memory(registry, SAMPLES[0].replace("<size unit='GiB'>2</size>", f"<size unit='KiB'>{2 * GIB}</size>"))
    assert gib.identity() == kib.identity()
    other_node = _memory(registry, SAMPLES[0].replace("<node>0</node>", "<node>1</node>"))
    assert other_node.identity() != gib.identity()


def test_identity_never_raises(registry: devframe.Registry) -> None:
    assert _memory(registry, "<memory model='dimm'/>").identity() is None
    odd = _memory(registry, "<memory model='dimm'><target><size unit='??'>x</size><node>n</node></target></memory>")
    assert odd.identity() == {"devtype": "memory", "node": "n", "size": "x ??"}


def test_metadata_binds_by_identity_without_an_alias(registry: devframe.Registry) -> None:
    domain = devframe.parse_domain(wrap_in_domain(SAMPLES[2], SAMPLES[4]), registry=registry)
    domain.devices[1].metadata["slotHint"] = 3
    again = devframe.parse_domain(domain.to_xml(), registry=registry)
    assert again.devices[1].metadata.get("slotHint") == 3 and not again.devices[0].metadata


# -- secrets and display ----------------------------------------------------------------------


def test_no_field_is_secret() -> None:
    """libvirt's schema marks nothing of a memory device sensitive."""
    assert not [name for name, field in Memory.fields.items() if field.secret]


def test_summary_shows_sizes_in_whole_units(registry: devframe.Registry) -> None:
    assert _memory(registry, SAMPLES[0]).summary() == {
        "model": "dimm", "size": "2GiB", "node": 0, "access": "private", "discard": True, "pagesize": "2MiB",
        "nodemask": "0-1,^1",
    }  # fmt: skip
    assert _memory(registry, SAMPLES[6]).summary()["requested"] == "6GiB"
    assert (format_kib(1536 * 1024), format_kib(0), format_kib(1000)) == ("1536MiB", "0KiB", "1000KiB")
