"""Tests of the controller plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import pytest
from devframe_controller import CONTROLLER_TYPES, MODELS_BY_TYPE, Controller
from devframe_controller.plugin import LEGACY_ARCHES, legacy_controller_specs
from lxml import etree

import devframe
from devframe.testing import canonical, contract_tests, validate_against_schema, wrap_in_domain

UUID = "5d5b3a8e-0000-4000-8000-0000000000c1"


def pci(slot: int, function: int = 0, multifunction: bool = False) -> str:
    extra = " multifunction='on'" if multifunction else ""
    return f"<address type='pci' domain='0x0000' bus='0x00' slot='0x{slot:02x}' function='0x{function:x}'{extra}/>"


IDE = f"<controller type='ide' index='0' model='piix4'><alias name='ide'/>{pci(1, 1)}</controller>"
FDC = "<controller type='fdc' index='0'/>"
SATA = f"<controller type='sata' index='0'><alias name='ide'/>{pci(0x1F, 2)}</controller>"
SCSI = (
    "<controller type='scsi' index='0' model='virtio-scsi'>"
    "<driver queues='4' cmd_per_lun='8' max_sectors='512' ioeventfd='on' iothread='2'"
    " iommu='on' ats='off' packed='on' page_per_vq='on'/>"
    f"<alias name='ua-{UUID}'/><acpi index='7'/>{pci(7)}</controller>"
)
SCSI_LSI = "<controller type='scsi' index='1' model='lsilogic'/>"
SCSI_SPAPR = "<controller type='scsi' index='0' model='ibmvscsi'><address type='spapr-vio' reg='0x2000'/></controller>"
USB_EHCI = [
    f"<controller type='usb' index='0' model='ich9-ehci1'>{pci(0x1D, 7)}</controller>",
    f"<controller type='usb' index='0' model='ich9-uhci1'><master startport='0'/>{pci(0x1D, 0, True)}</controller>",
    f"<controller type='usb' index='0' model='ich9-uhci2'><master startport='2'/>{pci(0x1D, 1)}</controller>",
    f"<controller type='usb' index='0' model='ich9-uhci3'><master startport='4'/>{pci(0x1D, 2)}</controller>",
]
USB_XHCI = f"<controller type='usb' index='0' model='qemu-xhci' ports='15'><alias name='usb'/>{pci(2)}</controller>"
USB_NONE = "<controller type='usb' index='0' model='none'/>"
CCID = "<controller type='ccid' index='0'><address type='usb' bus='0' port='1'/></controller>"
VIRTIO_SERIAL = (
    "<controller type='virtio-serial' index='0' model='virtio-non-transitional' ports='16' vectors='4'>"
    f"<driver iommu='on'/><alias name='virtio-serial0'/>{pci(6)}</controller>"
)
VIRTIO_SERIAL_CCW = (
    "<controller type='virtio-serial' index='1'>"
    "<address type='ccw' cssid='0xfe' ssid='0x0' devno='0x0003'/></controller>"
)
XENBUS = "<controller type='xenbus' index='0' maxGrantFrames='64' maxEventChannels='2047'/>"
ISA = "<controller type='isa' index='0'/>"
PCI_ROOT = "<controller type='pci' index='0' model='pci-root'><pcihole64 unit='KiB'>1048576</pcihole64></controller>"
PCIE_ROOT = (
    "<controller type='pci' index='0' model='pcie-root'><alias name='pcie.0'/><pcihole64>0</pcihole64></controller>"
)
SPAPR_PHB = (
    "<controller type='pci' index='1' model='pci-root'><model name='spapr-pci-host-bridge'/>"
    "<target index='1'><node>1</node></target><alias name='pci.1'/></controller>"
)
PCI_BRIDGE = (
    "<controller type='pci' index='1' model='pci-bridge'><model name='pci-bridge'/>"
    f"<target chassisNr='1' hotplug='off'/>{pci(3)}</controller>"
)
DMI = (
    "<controller type='pci' index='1' model='dmi-to-pci-bridge'><model name='i82801b11-bridge'/>"
    f"{pci(0x1E)}</controller>"
)
ROOT_PORT = (
    "<controller type='pci' index='2' model='pcie-root-port'><model name='pcie-root-port'/>"
    "<target chassis='2' port='0x10' hotplug='on'/><alias name='pci.2'/>"
    f"{pci(2, 0, True)}</controller>"
)
IOH3420 = (
    "<controller type='pci' index='3' model='pcie-root-port'><model name='ioh3420'/>"
    "<target chassis='3' port='0x11'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x1'/></controller>"
)
UPSTREAM = (
    "<controller type='pci' index='4' model='pcie-switch-upstream-port'><model name='x3130-upstream'/>"
    "<address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/></controller>"
)
DOWNSTREAM = (
    "<controller type='pci' index='5' model='pcie-switch-downstream-port'><model name='xio3130-downstream'/>"
    "<target chassis='5' port='0x0'/>"
    "<address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/></controller>"
)
PXB = (
    "<controller type='pci' index='6' model='pci-expander-bus'><model name='pxb'/>"
    f"<target busNr='254'><node>0</node></target>{pci(8)}</controller>"
)
PXB_PCIE = (
    "<controller type='pci' index='7' model='pcie-expander-bus'><model name='pxb-pcie'/>"
    f"<target busNr='220'><node>1</node></target>{pci(9)}</controller>"
)
PCIE_TO_PCI = (
    "<controller type='pci' index='8' model='pcie-to-pci-bridge'><model name='pcie-pci-bridge'/>"
    "<address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></controller>"
)
NO_INDEX = "<controller type='pci' model='pcie-root-port'/>"

SAMPLES = [
    IDE, FDC, SATA, SCSI, SCSI_LSI, SCSI_SPAPR, *USB_EHCI, USB_XHCI, USB_NONE, CCID, VIRTIO_SERIAL,
    VIRTIO_SERIAL_CCW, XENBUS, ISA, PCI_ROOT, PCIE_ROOT, SPAPR_PHB, PCI_BRIDGE, DMI, ROOT_PORT, IOH3420,
    UPSTREAM, DOWNSTREAM, PXB, PXB_PCIE, PCIE_TO_PCI, NO_INDEX,
]  # fmt: skip

# Newer than the libvirt 9.0 schema here, so outside the schema check, still parsed.
NEWER = [
    "<controller type='pci' index='9' model='pcie-root-port'><model name='pcie-root-port'/>"
    "<target chassis='9' port='0x18' memReserve='65536'/></controller>",
    "<controller type='nvme' index='0'><serial>nvme-ctrl-1</serial></controller>",
]

TestContract = contract_tests("controller", samples=SAMPLES + NEWER, edit_values={"pcihole64_unit": "MiB"})

ARCHES = ("x86_64", "ppc64", "ppc64le", "s390x", "aarch64")


@pytest.fixture
def registry(devframe_registry: Any) -> devframe.Registry:
    return devframe_registry("controller")  # type: ignore[no-any-return]


def _ctrl(registry: devframe.Registry, xml: str) -> Controller:
    (device,) = devframe.parse_domain(wrap_in_domain(xml), registry=registry).dev_map["controller"]
    assert isinstance(device, Controller)
    return device


def _legacy(registry: devframe.Registry, conf: Any, arch: str) -> list[dict[str, Any]]:
    results = registry.call_collected("devframe_spec_list_from_legacy_conf", conf=conf, arch=arch)
    return [spec for _plugin, specs in results for spec in specs]


# -- parsing and typed fields ---------------------------------------------------------


def test_samples_are_schema_valid() -> None:
    # An invalid sample would be skipped silently by the contract's schema check.
    for sample in SAMPLES:
        assert not validate_against_schema(wrap_in_domain(sample)), sample
    assert validate_against_schema(wrap_in_domain(NEWER[0]))  # memReserve: libvirt >= 9.3


def test_every_type_is_covered_by_samples(registry: devframe.Registry) -> None:
    seen = {_ctrl(registry, s).type for s in SAMPLES + NEWER}
    assert seen == set(CONTROLLER_TYPES)
    pci_models = {c.model for c in (_ctrl(registry, s) for s in SAMPLES) if c.type == "pci"}
    assert pci_models == set(MODELS_BY_TYPE["pci"])


def test_scsi_driver_options(registry: devframe.Registry) -> None:
    scsi = _ctrl(registry, SCSI)
    assert (scsi.type, scsi.index, scsi.model) == ("scsi", 0, "virtio-scsi")
    assert (scsi.queues, scsi.cmd_per_lun, scsi.max_sectors, scsi.iothread) == (4, 8, 512, 2)
    assert (scsi.ioeventfd, scsi.iommu, scsi.ats, scsi.packed, scsi.page_per_vq) == (True, True, False, True, True)
    assert scsi.acpi_index == 7
    assert scsi.device_id == UUID


def test_usb_companions(registry: devframe.Registry) -> None:
    starts = [_ctrl(registry, s).master_startport for s in USB_EHCI]
    assert starts == [None, 0, 2, 4]
    xhci = _ctrl(registry, USB_XHCI)
    assert (xhci.model, xhci.ports) == ("qemu-xhci", 15)
    assert _ctrl(registry, USB_NONE).model == "none"


def test_virtio_serial_and_xenbus(registry: devframe.Registry) -> None:
    vs = _ctrl(registry, VIRTIO_SERIAL)
    assert (vs.model, vs.ports, vs.vectors, vs.iommu) == ("virtio-non-transitional", 16, 4, True)
    xen = _ctrl(registry, XENBUS)
    assert (xen.max_grant_frames, xen.max_event_channels) == (64, 2047)


def test_pci_targets(registry: devframe.Registry) -> None:
    port = _ctrl(registry, ROOT_PORT)
    assert (port.model, port.model_name, port.chassis, port.port, port.hotplug) == (
        "pcie-root-port", "pcie-root-port", 2, 16, True,
    )  # fmt: skip
    bridge = _ctrl(registry, PCI_BRIDGE)
    assert (bridge.chassis_nr, bridge.hotplug) == (1, False)
    pxb = _ctrl(registry, PXB_PCIE)
    assert (pxb.model_name, pxb.bus_nr, pxb.node) == ("pxb-pcie", 220, 1)
    phb = _ctrl(registry, SPAPR_PHB)
    assert (phb.model_name, phb.target_index, phb.node) == ("spapr-pci-host-bridge", 1, 1)
    assert _ctrl(registry, NEWER[0]).mem_reserve == 65536


def test_pcihole64(registry: devframe.Registry) -> None:
    root = _ctrl(registry, PCI_ROOT)
    assert (root.pcihole64, root.pcihole64_unit) == (1048576, "KiB")
    assert (_ctrl(registry, PCIE_ROOT).pcihole64, _ctrl(registry, PCIE_ROOT).pcihole64_unit) == (0, None)


def test_nvme_serial(registry: devframe.Registry) -> None:
    assert _ctrl(registry, NEWER[1]).serial == "nvme-ctrl-1"


def test_unknown_model_is_kept(registry: devframe.Registry) -> None:
    ctrl = _ctrl(registry, "<controller type='usb' index='0' model='future-xhci' ports='8'/>")
    assert ctrl.model == "future-xhci" and ctrl.problems() == []
    assert ctrl.to_spec()["model"] == "future-xhci"


def test_bad_number_is_reported_not_raised(registry: devframe.Registry) -> None:
    ctrl = _ctrl(registry, "<controller type='virtio-serial' index='zero'/>")
    assert any("index" in p for p in ctrl.problems())
    with pytest.raises(devframe.FieldValueError, match="index"):
        ctrl.to_spec()
    assert ctrl.identity() == {"devtype": "controller", "type": "virtio-serial", "index": "zero"}
    assert "zero" in repr(ctrl)


def test_unmodeled_xml_is_kept(registry: devframe.Registry) -> None:
    xml = (
        "<controller type='scsi' index='0' model='virtio-scsi' future='1'>"
        "<driver queues='2'><iothreads><iothread id='1'/></iothreads></driver></controller>"
    )
    ctrl = _ctrl(registry, xml)
    ctrl.queues = 8
    out = etree.fromstring(ctrl.to_xml())
    assert out.get("future") == "1" and out.find("driver/iothreads/iothread").get("id") == "1"


# -- dev_spec -------------------------------------------------------------------------


def test_spec_of_scsi(registry: devframe.Registry) -> None:
    assert _ctrl(registry, SCSI).to_spec() == {
        "type": "controller",
        "device": "scsi",
        "index": 0,
        "model": "virtio-scsi",
        "alias": f"ua-{UUID}",
        "deviceId": UUID,
        "address": {"type": "pci", "domain": "0x0000", "bus": "0x00", "slot": "0x07", "function": "0x0"},
        "specParams": {
            "driver": {
                "queues": 4, "cmdPerLun": 8, "maxSectors": 512, "ioeventfd": True, "iothread": 2,
                "iommu": True, "ats": False, "packed": True, "pagePerVq": True,
            },
            "acpiIndex": 7,
        },
    }  # fmt: skip


def test_spec_of_pci_and_usb(registry: devframe.Registry) -> None:
    spec = _ctrl(registry, ROOT_PORT).to_spec()
    assert spec["specParams"] == {"modelName": "pcie-root-port", "target": {"chassis": 2, "port": 16, "hotplug": True}}
    assert _ctrl(registry, USB_EHCI[2]).to_spec()["specParams"] == {"master": {"startport": 2}}
    root = _ctrl(registry, PCI_ROOT).to_spec()
    assert root["specParams"] == {"pcihole64": 1048576, "pcihole64Unit": "KiB"}
    vs = _ctrl(registry, VIRTIO_SERIAL).to_spec()
    assert (vs["ports"], vs["specParams"]["vectors"]) == (16, 4)
    xen = _ctrl(registry, XENBUS).to_spec()
    assert xen["specParams"] == {"maxGrantFrames": 64, "maxEventChannels": 2047}


def test_engine_spec_with_string_numbers(registry: devframe.Registry) -> None:
    spec = {"type": "controller", "device": "usb", "index": "0", "model": "qemu-xhci", "ports": "8", "deviceId": UUID}
    ctrl = registry.device_from_spec(spec)
    assert isinstance(ctrl, Controller)
    assert (ctrl.type, ctrl.index, ctrl.model, ctrl.ports) == ("usb", 0, "qemu-xhci", 8)
    assert ctrl.alias == f"ua-{UUID}"
    assert not validate_against_schema(wrap_in_domain(ctrl.to_xml()))


def test_spec_built_port_is_hex_like_libvirt(registry: devframe.Registry) -> None:
    spec = _ctrl(registry, ROOT_PORT).to_spec()
    built = registry.device_from_spec(spec)
    assert built.element.find("target").get("port") == "0x10"
    assert canonical(built.to_xml()) == canonical(_ctrl(registry, ROOT_PORT).element)


def test_spec_built_children_in_libvirt_order(registry: devframe.Registry) -> None:
    spec = _ctrl(registry, SCSI).to_spec()
    spec["specParams"]["master"] = {"startport": 0}  # not meaningful for scsi; only the order matters
    built = etree.fromstring(registry.device_from_spec(spec).to_xml())
    assert [c.tag for c in built] == ["driver", "alias", "acpi", "master", "address"]
    spec = _ctrl(registry, PXB).to_spec()
    built = etree.fromstring(registry.device_from_spec(spec).to_xml())
    assert [c.tag for c in built] == ["model", "target", "address"]


def test_minimal_spec_gets_libvirts_default_type(registry: devframe.Registry) -> None:
    ctrl = registry.device_from_spec({"type": "controller"})
    assert isinstance(ctrl, Controller)
    assert ctrl.type == "ide" and ctrl.index is None
    assert not validate_against_schema(wrap_in_domain(ctrl.to_xml()))


@pytest.mark.parametrize("kind", [t for t in CONTROLLER_TYPES if t not in ("pci", "nvme")])
def test_minimal_spec_per_type_is_schema_valid(registry: devframe.Registry, kind: str) -> None:
    ctrl = registry.device_from_spec({"type": "controller", "device": kind})
    assert not validate_against_schema(wrap_in_domain(ctrl.to_xml())), ctrl.to_xml()


@pytest.mark.parametrize("model", MODELS_BY_TYPE["pci"])
def test_pci_spec_per_model_is_schema_valid(registry: devframe.Registry, model: str) -> None:
    ctrl = registry.device_from_spec({"type": "controller", "device": "pci", "index": 1, "model": model})
    assert not validate_against_schema(wrap_in_domain(ctrl.to_xml())), ctrl.to_xml()


def test_controller_without_type_round_trips(registry: devframe.Registry) -> None:
    ctrl = _ctrl(registry, "<controller index='0'/>")
    spec = ctrl.to_spec()
    assert spec["device"] == "controller"
    again = registry.device_from_spec(spec)
    assert isinstance(again, Controller)
    assert again.type is None
    assert canonical(again.to_xml()) == canonical(ctrl.element)


def test_bad_spec_value_names_the_key(registry: devframe.Registry) -> None:
    with pytest.raises(devframe.DevframeError, match="index"):
        registry.device_from_spec({"type": "controller", "device": "usb", "index": "first"})
    with pytest.raises(devframe.DevframeError, match="port"):
        registry.device_from_spec({"type": "controller", "device": "pci", "specParams": {"target": {"port": -1}}})
    with pytest.raises(devframe.DevframeError, match="device"):
        registry.device_from_spec({"type": "controller", "device": ["usb"]})


def test_unmodeled_spec_keys_go_to_metadata(registry: devframe.Registry) -> None:
    ctrl = registry.device_from_spec({"type": "controller", "device": "usb", "index": 0, "engineFlag": True})
    assert ctrl.metadata["engineFlag"] is True


# -- editing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "name", "value", "path", "attr", "raw"),
    [
        (USB_XHCI, "model", "nec-xhci", None, "model", "nec-xhci"),
        (USB_XHCI, "index", 1, None, "index", "1"),
        (USB_XHCI, "ports", 4, None, "ports", "4"),
        (VIRTIO_SERIAL, "vectors", 8, None, "vectors", "8"),
        (XENBUS, "max_grant_frames", 128, None, "maxGrantFrames", "128"),
        (USB_EHCI[1], "master_startport", 6, "master", "startport", "6"),
        (SCSI, "queues", 8, "driver", "queues", "8"),
        (SCSI, "iothread", 1, "driver", "iothread", "1"),
        (SCSI, "ioeventfd", False, "driver", "ioeventfd", "off"),
        (ROOT_PORT, "chassis", 9, "target", "chassis", "9"),
        (ROOT_PORT, "port", 0x1A, "target", "port", "0x1a"),
        (ROOT_PORT, "hotplug", False, "target", "hotplug", "off"),
        (ROOT_PORT, "model_name", "ioh3420", "model", "name", "ioh3420"),
        (PCI_BRIDGE, "chassis_nr", 3, "target", "chassisNr", "3"),
        (PXB, "bus_nr", 100, "target", "busNr", "100"),
        (PCI_ROOT, "pcihole64_unit", "MiB", "pcihole64", "unit", "MiB"),
    ],
)
def test_editing_changes_only_that_field(
    registry: devframe.Registry, sample: str, name: str, value: Any, path: str | None, attr: str, raw: str
) -> None:
    ctrl = _ctrl(registry, sample)
    expected = copy.deepcopy(ctrl.element)
    (expected if path is None else expected.find(path)).set(attr, raw)
    setattr(ctrl, name, value)
    assert canonical(ctrl.to_xml()) == canonical(expected)


def test_editing_text_fields(registry: devframe.Registry) -> None:
    root = _ctrl(registry, PCI_ROOT)
    expected = copy.deepcopy(root.element)
    expected.find("pcihole64").text = "2048"
    root.pcihole64 = 2048
    assert canonical(root.to_xml()) == canonical(expected)
    pxb = _ctrl(registry, PXB)
    expected = copy.deepcopy(pxb.element)
    expected.find("target/node").text = "3"
    pxb.node = 3
    assert canonical(pxb.to_xml()) == canonical(expected)


# -- identity and display -----------------------------------------------------------------


def test_identity_is_type_and_index(registry: devframe.Registry) -> None:
    assert _ctrl(registry, SCSI).identity() == {"devtype": "controller", "type": "scsi", "index": "0"}
    assert _ctrl(registry, ROOT_PORT).identity() == {"devtype": "controller", "type": "pci", "index": "2"}
    assert _ctrl(registry, NO_INDEX).identity() == {"devtype": "controller", "type": "pci"}
    assert _ctrl(registry, "<controller index='0'/>").identity() is None
    # companions share type and index with their EHCI master: identity says "same bus"
    # (identical identities pair in document order when correlated)
    identities = {tuple(_ctrl(registry, s).identity().items()) for s in USB_EHCI}  # type: ignore[union-attr]
    assert identities == {(("devtype", "controller"), ("type", "usb"), ("index", "0"))}


def test_summary_shows_key_fields(registry: devframe.Registry) -> None:
    summary = _ctrl(registry, ROOT_PORT).summary()
    assert {"type": "pci", "index": 2, "model": "pcie-root-port", "chassis": 2, "port": 16}.items() <= summary.items()


# -- legacy conf ----------------------------------------------------------------------------


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("conf", [{}, {"display": "qxl", "soundDevice": "ac97"}, {"devices": []}])
def test_legacy_always_one_virtio_serial(registry: devframe.Registry, arch: str, conf: dict[str, Any]) -> None:
    specs = _legacy(registry, conf, arch)
    assert specs == [{"type": "controller", "device": "virtio-serial", "index": 0, "specParams": {}}]
    (ctrl,) = [registry.device_from_spec(s) for s in specs]
    assert ctrl.to_spec() == specs[0]
    assert not validate_against_schema(wrap_in_domain(ctrl.to_xml(), arch=arch))


def test_legacy_arch_table_covers_every_arch() -> None:
    assert set(LEGACY_ARCHES) == set(ARCHES)


@pytest.mark.parametrize("arch", ("i686", "armv7l", "", None, "S390X"))
def test_legacy_unknown_arch(registry: devframe.Registry, arch: Any) -> None:
    with pytest.raises(devframe.DevframeError, match="arch"):
        _legacy(registry, {}, arch)


def test_legacy_conf_not_a_dict() -> None:
    with pytest.raises(devframe.DevframeError, match="conf"):
        legacy_controller_specs([("display", "vnc")], "x86_64")  # type: ignore[arg-type]


def test_legacy_through_the_public_flow(registry: devframe.Registry) -> None:
    flow = getattr(devframe, "spec_list_from_legacy_conf", None)
    if flow is None:
        pytest.skip("the core's legacy flow is not there yet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        specs = flow({}, "s390x", registry=registry)
    assert [s["device"] for s in specs] == ["virtio-serial"]
