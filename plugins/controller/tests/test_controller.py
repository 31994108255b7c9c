"""Tests of the controller plugin, runnable with only the core and this plugin installed."""

from __future__ import annotations

import copy
import re
import warnings
from typing import Any

import pytest
from devframe_controller import CONTROLLER_TYPES, MODELS_BY_TYPE, Controller
from devframe_controller.plugin import LEGACY_ARCHES, legacy_controller_specs
from lxml import etree

import devframe
from devframe.testing import (
    assert_edit_changes_only,
    canonical,
    contract_tests,
    validate_against_schema,
    wrap_in_domain,
)

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
# libvirt 11's iothread mapping: virtio-scsi queues pinned to the domain's iothreads.
IOTHREADS = (
    "<controller type='scsi' index='1' model='virtio-scsi'><driver queues='4'><iothreads>"
    "<iothread id='2'><queue id='0'/><queue id='2'/></iothread><iothread id='3'/>"
    "</iothreads></driver></controller>"
)
NEWER.append(IOTHREADS)

TestContract = contract_tests("controller", samples=SAMPLES + NEWER, edit_values={"pcihole64_unit": "MiB"})

ARCHES = ("x86_64", "ppc64", "ppc64le", "s390x", "aarch64")


@pytest.fixture
def registry(devframe_registry: Any) -> devframe.Registry:
    return devframe_registry("controller")  # type: ignore[no-any-return]


def _ctrl(registry: devframe.Registry, xml: str) -> Controller:
    (device,) = devframe.parse_domain(wrap_in_domain(xml), registry=registry).dev_map["controller"]
    assert isinstance(device, Controller)
    return device


def _built(registry: devframe.Registry, spec: dict[str, Any]) -> Controller:
    ctrl = registry.device_from_spec(spec)
    assert isinstance(ctrl, Controller)
    return ctrl


def _legacy(registry: devframe.Registry, conf: Any, arch: str) -> list[dict[str, Any]]:
    results = registry.call_collected("devframe_spec_list_from_legacy_conf", conf=conf, arch=arch)
    return [spec for _plugin, specs in results for spec in specs]


# -- parsing and typed fields ---------------------------------------------------------


def test_samples_are_schema_valid() -> None:
    # An invalid sample would be skipped silently by the contract's schema check.
    for sample in SAMPLES:
        assert not validate_against_schema(wrap_in_domain(sample)), sample
    assert validate_against_schema(wrap_in_domain(NEWER[0]))  # memReserve: libvirt >= 9.3
    assert validate_against_schema(wrap_in_domain(IOTHREADS))  # iothreads: libvirt 11


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
    assert ctrl.unmapped_spec_keys == ("engineFlag",)  # kept, and reported


def test_custom_properties_are_metadata_by_design(registry: devframe.Registry) -> None:
    ctrl = registry.device_from_spec({"type": "controller", "device": "usb", "custom": {"hook": "on"}})
    assert ctrl.unmapped_spec_keys == () and ctrl.to_spec()["custom"] == {"hook": "on"}


# -- the engine's spellings ---------------------------------------------------------------------


def test_io_thread_id_reaches_the_driver(registry: devframe.Registry) -> None:
    spec = {
        "type": "controller",
        "device": "scsi",
        "model": "virtio-scsi",
        "index": 0,
        "specParams": {"ioThreadId": "2"},
    }
    ctrl = _built(registry, spec)
    assert ctrl.iothread == 2 and ctrl.element.find("driver").get("iothread") == "2"  # type: ignore[union-attr]
    out = ctrl.to_spec()
    assert out["specParams"] == {"driver": {"iothread": 2}} and ctrl.unmapped_spec_keys == ()
    assert registry.device_from_spec(out).to_spec() == out
    assert not validate_against_schema(wrap_in_domain(ctrl.to_xml()))


def test_index_and_model_in_spec_params_reach_the_element(registry: devframe.Registry) -> None:
    spec = {"type": "controller", "device": "usb", "specParams": {"index": "0", "model": "ich9-ehci1"}}
    ctrl = _built(registry, spec)
    assert (ctrl.element.get("index"), ctrl.element.get("model")) == ("0", "ich9-ehci1")
    out = ctrl.to_spec()
    assert (out["index"], out["model"], out["specParams"]) == (0, "ich9-ehci1", {})
    assert ctrl.unmapped_spec_keys == ()
    assert not validate_against_schema(wrap_in_domain(ctrl.to_xml()))


def test_vdsm_master_reaches_the_element(registry: devframe.Registry) -> None:
    spec = {"type": "controller", "device": "usb", "index": "0", "model": "ich9-uhci2", "master": {"startport": "2"}}
    ctrl = _built(registry, spec)
    assert ctrl.master_startport == 2
    assert canonical(ctrl.to_xml()) == canonical(
        "<controller type='usb' index='0' model='ich9-uhci2'><master startport='2'/></controller>"
    )
    out = ctrl.to_spec()
    assert "master" not in out and out["specParams"] == {"master": {"startport": 2}}
    assert ctrl.unmapped_spec_keys == ()
    assert not validate_against_schema(wrap_in_domain(ctrl.to_xml()))


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"specParams": {"ioThreadId": 1, "driver": {"iothread": 2}}}, "specParams.ioThreadId"),
        ({"index": 1, "specParams": {"index": 2}}, "specParams.index"),
        ({"model": "qemu-xhci", "specParams": {"model": "nec-xhci"}}, "specParams.model"),
        ({"master": {"startport": 0}, "specParams": {"master": {"startport": 4}}}, "master.startport"),
    ],
)
def test_contradicting_spellings_are_refused_naming_the_engine_key(
    registry: devframe.Registry, spec: dict[str, Any], key: str
) -> None:
    with pytest.raises(devframe.SpecError, match=re.escape(repr(key))):
        registry.device_from_spec({"type": "controller", "device": "usb", **spec})


def test_agreeing_spellings_are_accepted(registry: devframe.Registry) -> None:
    spec = {"type": "controller", "device": "usb", "index": 1, "specParams": {"index": "1", "ioThreadId": 3,
            "driver": {"iothread": "3"}}}  # fmt: skip
    ctrl = _built(registry, spec)
    assert (ctrl.index, ctrl.iothread) == (1, 3)


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"specParams": {"ioThreadId": "first"}}, "specParams.ioThreadId"),
        ({"specParams": {"index": -1}}, "specParams.index"),
        ({"master": {"startport": "x"}}, "master.startport"),
        ({"master": "0"}, "master"),
        ({"master": ["0"]}, "master"),
    ],
)
def test_bad_engine_spellings_name_the_engine_key(registry: devframe.Registry, spec: dict[str, Any], key: str) -> None:
    with pytest.raises(devframe.SpecError, match=re.escape(repr(key))):
        registry.device_from_spec({"type": "controller", "device": "usb", **spec})


def test_master_with_more_than_startport_reports_the_rest(registry: devframe.Registry) -> None:
    ctrl = _built(registry, {"type": "controller", "device": "usb", "master": {"startport": 0, "x": 1}})
    assert ctrl.master_startport == 0 and ctrl.unmapped_spec_keys == ("master.x",)


# -- libvirt 11.3: iothread mapping, typed numbers -------------------------------------------------


def test_iothread_mapping(registry: devframe.Registry) -> None:
    ctrl = _ctrl(registry, IOTHREADS)
    assert [(t.id, [q.id for q in t.queues]) for t in ctrl.iothreads] == [(2, [0, 2]), (3, [])]
    spec = ctrl.to_spec()
    assert spec["specParams"]["driver"] == {
        "queues": 4, "iothreads": [{"id": 2, "queues": [{"id": 0}, {"id": 2}]}, {"id": 3}],
    }  # fmt: skip
    built = _built(registry, spec)
    assert canonical(built.to_xml()) == canonical(IOTHREADS)
    built.iothreads = [{"id": 5}]
    assert [dict(t.attrib) for t in built.element.findall("driver/iothreads/iothread")] == [{"id": "5"}]
    assert built.element.find("driver").get("queues") == "4"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"target": {"chassis": 256}}, "specParams.target.chassis"),
        ({"target": {"busNr": -1}}, "specParams.target.busNr"),
        ({"target": {"port": 300}}, "specParams.target.port"),
        ({"driver": {"queues": -2}}, "specParams.driver.queues"),
        ({"pcihole64Unit": "furlongs"}, "specParams.pcihole64Unit"),
        ({"driver": {"iothreads": [{"id": "x"}]}}, "specParams.driver.iothreads"),
    ],
)
def test_out_of_schema_numbers_are_refused(registry: devframe.Registry, params: dict[str, Any], key: str) -> None:
    with pytest.raises(devframe.SpecError, match=re.escape(key)):
        registry.device_from_spec(
            {"type": "controller", "device": "pci", "model": "pcie-root-port", "specParams": params}
        )


@pytest.mark.parametrize(
    ("kind", "model"), [(kind, model) for kind, models in MODELS_BY_TYPE.items() if kind != "pci" for model in models]
)
def test_spec_per_model_is_schema_valid(registry: devframe.Registry, kind: str, model: str) -> None:
    ctrl = _built(registry, {"type": "controller", "device": kind, "index": 0, "model": model})
    assert ctrl.model == model
    assert not validate_against_schema(wrap_in_domain(ctrl.to_xml())), ctrl.to_xml()


EDITS: dict[str, list[Any]] = {
    "index": [3, 4], "model": ["nec-xhci", "pcie-root-port"], "ports": [4, 5], "vectors": [8, 9],
    "max_grant_frames": [128, 129], "max_event_channels": [4096, 4095], "model_name": ["ioh3420", "pcie-root-port"],
    "master_startport": [6, 7], "queues": [8, 9], "cmd_per_lun": [16, 17], "max_sectors": [1024, 1023],
    "ioeventfd": [False, True], "iothread": [5, 6], "chassis_nr": [3, 4], "chassis": [9, 10], "port": [0x1A, 0x1B],
    "bus_nr": [100, 101], "target_index": [2, 3], "hotplug": [False, True], "mem_reserve": [1024, 2048],
    "node": [3, 4], "pcihole64": [2048, 4096], "pcihole64_unit": ["MiB", "GiB"], "serial": ["other", "again"],
    "iommu": [False, True], "ats": [True, False], "packed": [False, True], "page_per_vq": [False, True],
    "acpi_index": [9, 10],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(EDITS))
def test_each_field_edit_changes_only_that_field(registry: devframe.Registry, name: str) -> None:
    assert_edit_changes_only(registry, Controller, SAMPLES + NEWER, name, EDITS[name])


def test_every_typed_field_has_an_edit_check() -> None:
    # type is structural; alias and address are the core's; iothreads is a list (edited above)
    assert set(Controller.fields) == set(EDITS) | {"type", "alias", "address", "iothreads"}


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
