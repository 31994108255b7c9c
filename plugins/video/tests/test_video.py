"""Tests of the video plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import pytest
from devframe_video import MODEL_TYPES, Video
from devframe_video.plugin import VNC_MODEL_BY_ARCH, legacy_video_specs
from lxml import etree

import devframe
from devframe.testing import (
    assert_edit_changes_only,
    canonical,
    contract_tests,
    validate_against_schema,
    wrap_in_domain,
)

UUID = "5d5b3a8e-0000-4000-8000-0000000000a1"

QXL = (
    "<video><model type='qxl' ram='65536' vram='32768' vram64='131072' vgamem='16384' heads='2' primary='yes'>"
    "<acceleration accel2d='yes'/></model>"
    f"<alias name='ua-{UUID}'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/></video>"
)
VIRTIO_3D = (
    "<video><driver iommu='on' ats='on' packed='off' page_per_vq='on'/>"
    "<model type='virtio' heads='1' primary='yes'>"
    "<acceleration accel3d='yes' rendernode='/dev/dri/renderD128'/>"
    "<resolution x='1920' y='1080'/></model>"
    "<alias name='video0'/><acpi index='4'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></video>"
)
VHOSTUSER = (
    "<video><driver name='vhostuser'/><model type='virtio' heads='1'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x06' function='0x0'/></video>"
)
VGA_CONF = "<video><driver name='qemu' vgaconf='io'/><model type='vga' vram='16384' heads='1'/></video>"
SIMPLE = [
    f"<video><model type='{m}' vram='16384' heads='1'/></video>" for m in ("cirrus", "vmvga", "xen", "vbox", "bochs")
]
BARE_MODELS = [f"<video><model type='{m}'/></video>" for m in ("gop", "ramfb", "none")]
CCW = "<video><model type='virtio' heads='1'/><address type='ccw' cssid='0xfe' ssid='0x0' devno='0x0002'/></video>"
NO_MODEL = "<video><alias name='video1'/></video>"

SAMPLES = [QXL, VIRTIO_3D, VHOSTUSER, VGA_CONF, *SIMPLE, *BARE_MODELS, CCW, NO_MODEL]

# libvirt 11.3's schema adds virtio-gpu blob resources; edid comes after 11.3. Neither is in 9.0's.
BLOB = "<video><model type='virtio' heads='1' primary='yes' blob='on'/><alias name='video2'/></video>"
EDID = "<video><model type='virtio' heads='1' edid='off'/></video>"
NEWER = [BLOB, EDID]

TestContract = contract_tests("video", samples=SAMPLES + NEWER, edit_values={"rendernode": "/dev/dri/renderD129"})

ARCHES = ("x86_64", "ppc64", "ppc64le", "s390x", "aarch64")


@pytest.fixture
def registry(devframe_registry: Any) -> devframe.Registry:
    return devframe_registry("video")  # type: ignore[no-any-return]


def _video(registry: devframe.Registry, xml: str) -> Video:
    (device,) = devframe.parse_domain(wrap_in_domain(xml), registry=registry).dev_map["video"]
    assert isinstance(device, Video)
    return device


def _legacy(registry: devframe.Registry, conf: Any, arch: str) -> list[dict[str, Any]]:
    results = registry.call_collected("devframe_spec_list_from_legacy_conf", conf=conf, arch=arch)
    return [spec for _plugin, specs in results for spec in specs]


# -- parsing and typed fields ---------------------------------------------------------


def test_samples_are_schema_valid() -> None:
    # Every sample but the libvirt-9.0-unknown ones must be valid, or the contract's
    # schema check would silently skip it.
    for sample in SAMPLES:
        assert not validate_against_schema(wrap_in_domain(sample)), sample


def test_qxl_fields_are_typed(registry: devframe.Registry) -> None:
    video = _video(registry, QXL)
    assert video.model_type == "qxl"
    assert (video.ram, video.vram, video.vram64, video.vgamem, video.heads) == (65536, 32768, 131072, 16384, 2)
    assert video.primary is True
    assert video.accel2d is True and video.accel3d is None
    assert video.device_id == UUID
    assert video.address == {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x02", "function": "0x0"}


def test_virtio_acceleration_resolution_driver(registry: devframe.Registry) -> None:
    video = _video(registry, VIRTIO_3D)
    assert video.model_type == "virtio"
    assert video.accel3d is True
    assert video.rendernode == "/dev/dri/renderD128"
    assert (video.resolution_x, video.resolution_y) == (1920, 1080)
    assert (video.iommu, video.ats, video.packed, video.page_per_vq) == (True, True, False, True)
    assert video.acpi_index == 4
    assert video.alias == "video0" and video.device_id is None


def test_vhostuser_and_vgaconf(registry: devframe.Registry) -> None:
    assert _video(registry, VHOSTUSER).driver_name == "vhostuser"
    vga = _video(registry, VGA_CONF)
    assert (vga.driver_name, vga.vgaconf) == ("qemu", "io")


@pytest.mark.parametrize("model", MODEL_TYPES)
def test_every_model_parses_and_round_trips(registry: devframe.Registry, model: str) -> None:
    video = _video(registry, f"<video><model type='{model}'/></video>")
    spec = video.to_spec()
    assert spec["device"] == model
    again = registry.device_from_spec(spec)
    assert again.to_spec() == spec
    assert canonical(again.to_xml()) == canonical(video.element)


def test_unknown_model_is_kept(registry: devframe.Registry) -> None:
    video = _video(registry, "<video><model type='future-gpu' vram='1'/></video>")
    assert video.model_type == "future-gpu"
    assert video.problems() == []
    assert "future-gpu" in video.to_xml()


def test_bad_number_is_reported_not_raised(registry: devframe.Registry) -> None:
    video = _video(registry, "<video><model type='qxl' vram='lots'/></video>")
    assert any("vram" in p for p in video.problems())
    with pytest.raises(devframe.FieldValueError, match="vram"):
        video.to_spec()
    assert "lots" in video.to_xml()


def test_unmodeled_xml_is_kept(registry: devframe.Registry) -> None:
    xml = "<video><model type='virtio' blob='x'><future/></model><extra a='1'/></video>"
    video = _video(registry, xml)
    video.heads = 2
    out = etree.fromstring(video.to_xml())
    assert out.find("extra").get("a") == "1"
    assert out.find("model/future") is not None and out.find("model").get("blob") == "x"


# -- dev_spec -------------------------------------------------------------------------


def test_spec_of_qxl(registry: devframe.Registry) -> None:
    spec = _video(registry, QXL).to_spec()
    assert spec == {
        "type": "video",
        "device": "qxl",
        "alias": f"ua-{UUID}",
        "deviceId": UUID,
        "address": {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x02", "function": "0x0"},
        "specParams": {
            "ram": 65536, "vram": 32768, "vram64": 131072, "vgamem": 16384, "heads": 2,
            "primary": True, "accel2d": True,
        },
    }  # fmt: skip


def test_spec_of_virtio(registry: devframe.Registry) -> None:
    spec = _video(registry, VIRTIO_3D).to_spec()
    assert spec["specParams"] == {
        "heads": 1,
        "primary": True,
        "accel3d": True,
        "rendernode": "/dev/dri/renderD128",
        "resolution": {"x": 1920, "y": 1080},
        "driver": {"iommu": True, "ats": True, "packed": False, "pagePerVq": True},
        "acpiIndex": 4,
    }


def test_engine_spec_with_string_numbers(registry: devframe.Registry) -> None:
    spec = {
        "type": "video",
        "device": "qxl",
        "deviceId": UUID,
        "specParams": {"vram": "65536", "ram": "65536", "vgamem": "16384", "heads": "1"},
    }
    video = registry.device_from_spec(spec)
    assert isinstance(video, Video)
    assert (video.vram, video.ram, video.vgamem, video.heads) == (65536, 65536, 16384, 1)
    assert video.alias == f"ua-{UUID}"
    assert not validate_against_schema(wrap_in_domain(video.to_xml()))
    # children come out in libvirt's order, wherever the spec put them
    assert [c.tag for c in etree.fromstring(video.to_xml())] == ["model", "alias"]


def test_spec_built_children_in_libvirt_order(registry: devframe.Registry) -> None:
    spec = _video(registry, VIRTIO_3D).to_spec()
    built = etree.fromstring(registry.device_from_spec(spec).to_xml())
    assert [c.tag for c in built] == ["driver", "model", "alias", "acpi", "address"]


def test_minimal_spec_is_schema_valid(registry: devframe.Registry) -> None:
    video = registry.device_from_spec({"type": "video"})
    assert isinstance(video, Video)
    assert video.model_type is None  # libvirt picks the arch's model
    assert not validate_against_schema(wrap_in_domain(video.to_xml()))
    qxl = registry.device_from_spec({"type": "video", "device": "qxl"})
    assert not validate_against_schema(wrap_in_domain(qxl.to_xml()))


def test_video_without_model_round_trips(registry: devframe.Registry) -> None:
    video = _video(registry, NO_MODEL)
    spec = video.to_spec()
    assert spec["device"] == "video"
    again = registry.device_from_spec(spec)
    assert again.element.find("model") is None
    assert canonical(again.to_xml()) == canonical(video.element)


def test_unmodeled_spec_keys_go_to_metadata(registry: devframe.Registry) -> None:
    video = registry.device_from_spec({"type": "video", "device": "qxl", "custom": {"a": 1}})
    assert video.metadata["custom"] == {"a": 1}
    assert video.unmapped_spec_keys == ()  # the engine's custom properties: metadata by design
    other = registry.device_from_spec({"type": "video", "device": "qxl", "specParams": {"vramSize": 4}})
    assert other.unmapped_spec_keys == ("specParams.vramSize",)
    assert other.to_spec()["specParams"]["vramSize"] == 4


def test_bad_spec_value_names_the_key(registry: devframe.Registry) -> None:
    with pytest.raises(devframe.DevframeError, match="vram"):
        registry.device_from_spec({"type": "video", "device": "qxl", "specParams": {"vram": "big"}})
    with pytest.raises(devframe.DevframeError, match="device"):
        registry.device_from_spec({"type": "video", "device": 7})


# -- editing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "path", "attr", "raw"),
    [
        ("vram", 65536, "model", "vram", "65536"),
        ("ram", 131072, "model", "ram", "131072"),
        ("vgamem", 32768, "model", "vgamem", "32768"),
        ("vram64", 0, "model", "vram64", "0"),
        ("heads", 4, "model", "heads", "4"),
        ("primary", False, "model", "primary", "no"),
        ("model_type", "virtio", "model", "type", "virtio"),
        ("accel2d", False, "model/acceleration", "accel2d", "no"),
    ],
)
def test_editing_changes_only_that_field(
    registry: devframe.Registry, name: str, value: Any, path: str, attr: str, raw: str
) -> None:
    video = _video(registry, QXL)
    expected = copy.deepcopy(video.element)
    expected.find(path).set(attr, raw)
    setattr(video, name, value)
    assert canonical(video.to_xml()) == canonical(expected)


def test_adding_resolution_creates_only_it(registry: devframe.Registry) -> None:
    video = _video(registry, QXL)
    expected = copy.deepcopy(video.element)
    etree.SubElement(expected.find("model"), "resolution", x="1280")
    video.resolution_x = 1280
    assert canonical(video.to_xml()) == canonical(expected)


def test_clearing_a_field_prunes_only_what_it_emptied(registry: devframe.Registry) -> None:
    video = _video(registry, QXL)
    video.accel2d = None
    assert video.element.find("model/acceleration") is None
    assert video.vram == 32768


# -- identity and display -----------------------------------------------------------------


def test_identity_is_the_address(registry: devframe.Registry) -> None:
    video = _video(registry, QXL)
    assert video.identity() == {
        "devtype": "video", "address": "bus=0x00,domain=0x0000,function=0x0,slot=0x02,type=pci",
    }  # fmt: skip
    assert _video(registry, "<video><model type='vga'/></video>").identity() is None


def test_summary_shows_key_fields(registry: devframe.Registry) -> None:
    summary = _video(registry, QXL).summary()
    assert summary["model_type"] == "qxl"
    assert summary["vram"] == 32768 and summary["heads"] == 2
    assert _video(registry, NO_MODEL).summary()["model_type"] == "(default)"


# -- legacy conf ----------------------------------------------------------------------------


@pytest.mark.parametrize("arch", ("x86_64", "ppc64", "ppc64le", "aarch64"))
@pytest.mark.parametrize("display", ("qxl", "qxlnc"))
def test_legacy_spice_one_qxl_by_default(registry: devframe.Registry, arch: str, display: str) -> None:
    specs = _legacy(registry, {"display": display}, arch)
    assert specs == [{"type": "video", "device": "qxl", "specParams": {"vram": 65536}}]


@pytest.mark.parametrize("arch", ("x86_64", "ppc64", "ppc64le", "aarch64"))
@pytest.mark.parametrize(("monitors", "vram"), [(1, 65536), ("2", 65536), (3, 32768), ("4", 32768)])
def test_legacy_spice_one_qxl_per_monitor(registry: devframe.Registry, arch: str, monitors: Any, vram: int) -> None:
    specs = _legacy(registry, {"display": "qxl", "spiceMonitors": monitors}, arch)
    assert len(specs) == int(monitors)
    assert all(s == {"type": "video", "device": "qxl", "specParams": {"vram": vram}} for s in specs)


def test_legacy_spice_on_s390x_is_refused(registry: devframe.Registry) -> None:
    with pytest.raises(devframe.DevframeError, match=r"display.*s390x"):
        _legacy(registry, {"display": "qxl"}, "s390x")


@pytest.mark.parametrize(
    ("arch", "model"),
    [("x86_64", "cirrus"), ("ppc64", "vga"), ("ppc64le", "vga"), ("s390x", "virtio"), ("aarch64", "virtio")],
)
@pytest.mark.parametrize("display", ("vnc", "anything-else"))
def test_legacy_vnc_gets_the_arch_default(registry: devframe.Registry, arch: str, model: str, display: str) -> None:
    assert _legacy(registry, {"display": display}, arch) == [{"type": "video", "device": model, "specParams": {}}]


def test_arch_table_covers_every_arch() -> None:
    assert set(VNC_MODEL_BY_ARCH) == set(ARCHES)


@pytest.mark.parametrize("arch", ARCHES)
def test_legacy_no_display_no_video(registry: devframe.Registry, arch: str) -> None:
    assert _legacy(registry, {}, arch) == []
    assert _legacy(registry, {"display": ""}, arch) == []
    assert _legacy(registry, {"spiceMonitors": 2}, arch) == []


@pytest.mark.parametrize("arch", ("i686", "riscv64", "", None, "X86_64"))
def test_legacy_unknown_arch(registry: devframe.Registry, arch: Any) -> None:
    with pytest.raises(devframe.DevframeError, match="arch"):
        _legacy(registry, {"display": "vnc"}, arch)
    with pytest.raises(devframe.DevframeError, match="arch"):
        _legacy(registry, {}, arch)


@pytest.mark.parametrize("monitors", ("two", 0, -1, "1.5", True, [1], 2.0))
def test_legacy_bad_monitors_names_the_key(registry: devframe.Registry, monitors: Any) -> None:
    with pytest.raises(devframe.DevframeError, match="spiceMonitors"):
        _legacy(registry, {"display": "qxl", "spiceMonitors": monitors}, "x86_64")


def test_legacy_bad_display_and_conf(registry: devframe.Registry) -> None:
    with pytest.raises(devframe.DevframeError, match="display"):
        _legacy(registry, {"display": 5}, "x86_64")
    with pytest.raises(devframe.DevframeError, match="conf"):
        legacy_video_specs(["display"], "x86_64")  # type: ignore[arg-type]


@pytest.mark.parametrize("arch", ARCHES)
def test_legacy_specs_build_schema_valid_devices(registry: devframe.Registry, arch: str) -> None:
    confs = [{"display": "vnc"}] + ([] if arch == "s390x" else [{"display": "qxl", "spiceMonitors": 3}])
    for conf in confs:
        specs = _legacy(registry, conf, arch)
        devices = [registry.device_from_spec(s) for s in specs]
        # the legacy spec is exactly what the device reports back
        assert [d.to_spec() for d in devices] == specs
        errors = validate_against_schema(wrap_in_domain(*(d.to_xml() for d in devices), arch=arch))
        assert not errors, (arch, conf, errors)


def test_legacy_through_the_public_flow(registry: devframe.Registry) -> None:
    flow = getattr(devframe, "spec_list_from_legacy_conf", None)
    if flow is None:
        pytest.skip("the core's legacy flow is not there yet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        specs = flow({"display": "qxl", "spiceMonitors": "2"}, "x86_64", registry=registry)
    assert [s["device"] for s in specs] == ["qxl", "qxl"]


# -- libvirt 11.3 and after: blob, edid; the schema's unsignedInt; every field edited ---------------


def test_newer_samples_are_outside_the_9_0_schema() -> None:
    for sample in NEWER:  # checked by hand against 11.3 (blob valid there; edid newer still)
        assert validate_against_schema(wrap_in_domain(sample)), sample


def test_blob_and_edid(registry: devframe.Registry) -> None:
    blob, edid = _video(registry, BLOB), _video(registry, EDID)
    assert (blob.blob, blob.edid, edid.edid) == (True, None, False)
    assert blob.to_spec()["specParams"] == {"heads": 1, "primary": True, "blob": True}
    for video, sample in ((blob, BLOB), (edid, EDID)):
        built = registry.device_from_spec(video.to_spec())
        assert canonical(built.to_xml()) == canonical(sample)


@pytest.mark.parametrize("key", ["vram", "heads", "ram", "vgamem", "vram64"])
def test_negative_sizes_are_refused(registry: devframe.Registry, key: str) -> None:
    with pytest.raises(devframe.SpecError, match=f"specParams.{key}"):
        registry.device_from_spec({"type": "video", "device": "qxl", "specParams": {key: -1}})


EDITS: dict[str, list[Any]] = {
    "model_type": ["vga", "bochs"], "vram": [8192, 4096], "vram64": [65536, 0], "ram": [32768, 16384],
    "vgamem": [8192, 4096], "heads": [3, 4], "primary": [False, True], "blob": [False, True], "edid": [True, False],
    "accel3d": [False, True], "accel2d": [False, True], "rendernode": ["/dev/dri/renderD130"],
    "resolution_x": [800, 640], "resolution_y": [600, 480], "driver_name": ["qemu", "vhostuser"],
    "vgaconf": ["on", "off"], "iommu": [False, True], "ats": [False, True], "packed": [True, False],
    "page_per_vq": [False, True], "acpi_index": [7, 8],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(EDITS))
def test_each_field_edit_changes_only_that_field(registry: devframe.Registry, name: str) -> None:
    assert_edit_changes_only(registry, Video, SAMPLES + NEWER, name, EDITS[name])


def test_every_typed_field_has_an_edit_check() -> None:
    assert set(Video.fields) == set(EDITS) | {"alias", "address"}
