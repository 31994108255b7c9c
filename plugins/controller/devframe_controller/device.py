"""The ``<controller>`` dev_class.

Models libvirt's ``<controller>`` element (formatdomain "Controllers")::

    <controller type='pci' index='1' model='pcie-root-port'>
      <model name='pcie-root-port'/>
      <driver queues='4' cmd_per_lun='8' max_sectors='512' ioeventfd='on' iothread='1'
              iommu='on' ats='on' packed='on' page_per_vq='on'>
        <iothreads><iothread id='1'><queue id='0'/></iothread></iothreads>
      </driver>
      <target chassisNr='1' chassis='1' port='0x10' busNr='254' index='1' hotplug='off'
              memReserve='65536'><node>0</node></target>
      <pcihole64 unit='KiB'>1048576</pcihole64>
      <alias name='pci.1'/>
      <acpi index='1'/>
      <master startport='0'/>
      <address type='pci' .../>
    </controller>

plus ``ports``/``vectors`` (usb, virtio-serial) and ``maxGrantFrames``/
``maxEventChannels`` (xenbus) on the element itself.

dev_spec mapping (engine key on the left, XML place on the right):

================================= ============================================
``device``                        ``@type`` (ide, fdc, scsi, sata, usb, ccid,
                                  virtio-serial, xenbus, pci, isa, nvme)
``index``                         ``@index`` (int)
``model``                         ``@model`` (per type, see ``MODELS_BY_TYPE``)
``ports``                         ``@ports`` (usb, virtio-serial)
``alias``                         ``alias@name``
``deviceId``                      the ``<deviceId>`` of a ``ua-<deviceId>`` alias
``address``                       the direct child ``address`` (a dict)
``specParams.vectors``            ``@vectors`` (virtio-serial)
``specParams.maxGrantFrames``     ``@maxGrantFrames`` (xenbus)
``specParams.maxEventChannels``   ``@maxEventChannels`` (xenbus)
``specParams.modelName``          ``model@name`` (the QEMU device of a pci model)
``specParams.master.startport``   ``master@startport`` (USB1 companion of EHCI)
``specParams.driver.queues``      ``driver@queues``
``specParams.driver.cmdPerLun``   ``driver@cmd_per_lun``
``specParams.driver.maxSectors``  ``driver@max_sectors``
``specParams.driver.ioeventfd``   ``driver@ioeventfd`` (bool, on/off)
``specParams.driver.iothread``    ``driver@iothread``
``specParams.driver.iothreads``   ``driver/iothreads/iothread`` children as
                                  ``[{"id": N, "queues": [{"id": Q}, ...]}]``
                                  (virtio-scsi queues pinned to iothreads;
                                  libvirt 11)
``specParams.driver.iommu``       ``driver@iommu`` (bool, on/off)
``specParams.driver.ats``         ``driver@ats`` (bool, on/off)
``specParams.driver.packed``      ``driver@packed`` (bool, on/off)
``specParams.driver.pagePerVq``   ``driver@page_per_vq`` (bool, on/off)
``specParams.target.chassisNr``   ``target@chassisNr`` (pci-bridge)
``specParams.target.chassis``     ``target@chassis`` (pcie ports)
``specParams.target.port``        ``target@port`` (pcie ports; ``0x10`` -> 16)
``specParams.target.busNr``       ``target@busNr`` (expander buses)
``specParams.target.index``       ``target@index`` (spapr-pci-host-bridge)
``specParams.target.hotplug``     ``target@hotplug`` (bool, on/off)
``specParams.target.memReserve``  ``target@memReserve`` (KiB, pcie-root-port)
``specParams.target.node``        ``target/node`` text (NUMA node of a pxb)
``specParams.pcihole64``          ``pcihole64`` text (pci-root, pcie-root)
``specParams.pcihole64Unit``      ``pcihole64@unit`` (default KiB)
``specParams.serial``             ``serial`` text (nvme)
``specParams.acpiIndex``          ``acpi@index``
================================= ============================================

Engines send numbers as strings (``'index': '0'``) as often as ints; both are
accepted, and ``to_spec`` gives ints. Everything else in the element is kept. Numbers
are typed as the schema types them: ``unsignedInt`` (no negative value), ``uint8`` for
the pci ``target`` numbers (0..255).

The engine's spellings (``spec_aliases``), read as the canonical key and never written
back by ``to_spec``; a spec that gives both spellings with different values is a
:class:`devframe.SpecError` naming the engine's key:

================================= ============================================
``specParams.ioThreadId``         ``specParams.driver.iothread`` (VDSM's key)
``specParams.index``              ``index`` (where the engine's converter puts it)
``specParams.model``              ``model`` (same)
``master.startport``              ``specParams.master.startport`` (VDSM's
                                  ``master`` dict of a USB companion controller;
                                  a ``master`` that is not a dict is refused)
================================= ============================================

Metadata by design: ``custom`` (the engine's device custom properties).

Defaults: a spec without ``device`` builds an ``ide`` controller, libvirt's own
default when ``type`` is missing (the schema requires a type). ``index`` is left to
libvirt when a spec omits it (libvirt gives the first free index of that type, which
one spec cannot know); ``model`` too (libvirt picks it per machine type: a pci
controller at index 0 is pci-root on ``pc`` but pcie-root on ``q35``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from devframe import (
    INT,
    ON_OFF,
    UINT,
    UINT8,
    AcpiIndex,
    Children,
    Choice,
    Device,
    ElementView,
    Field,
    Identity,
    IntRange,
    Pattern,
    SpecError,
    VirtioOptions,
)

__all__ = [
    "CONTROLLER_TYPES",
    "HEX_INT",
    "MODELS_BY_TYPE",
    "PCI_MODEL_NAMES",
    "Controller",
    "HexInt",
    "IoThread",
    "IoThreadQueue",
]

#: Every controller ``@type`` libvirt documents.
CONTROLLER_TYPES = (
    "ide", "fdc", "scsi", "sata", "usb", "ccid", "virtio-serial", "xenbus", "pci", "isa", "nvme",
)  # fmt: skip

#: The documented ``@model`` values of each controller type.
MODELS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "ide": ("piix3", "piix4", "ich6"),
    "scsi": (
        "auto", "buslogic", "lsilogic", "lsisas1068", "vmpvscsi", "ibmvscsi", "virtio-scsi",
        "lsisas1078", "virtio-transitional", "virtio-non-transitional", "ncr53c90", "dc390",
        "am53c974",
    ),
    "usb": (
        "piix3-uhci", "piix4-uhci", "ehci", "ich9-ehci1", "ich9-uhci1", "ich9-uhci2",
        "ich9-uhci3", "vt82c686b-uhci", "pci-ohci", "nec-xhci", "qusb1", "qusb2",
        "qemu-xhci", "none",
    ),
    "pci": (
        "pci-root", "pcie-root", "pci-bridge", "dmi-to-pci-bridge", "pcie-to-pci-bridge",
        "pcie-root-port", "pcie-switch-upstream-port", "pcie-switch-downstream-port",
        "pci-expander-bus", "pcie-expander-bus",
    ),
    "virtio-serial": ("virtio", "virtio-transitional", "virtio-non-transitional"),
}  # fmt: skip

#: The QEMU devices ``<model name=...>`` may name for pci controllers.
PCI_MODEL_NAMES = (
    "spapr-pci-host-bridge", "pci-bridge", "i82801b11-bridge", "pcie-pci-bridge", "ioh3420",
    "pcie-root-port", "x3130-upstream", "xio3130-downstream", "pxb", "pxb-pcie",
)  # fmt: skip

_ALL_MODELS = tuple(dict.fromkeys(m for models in MODELS_BY_TYPE.values() for m in models))

_NO_TYPE = "controller"  # the spec ``device`` of a controller without @type (Device.spec_device)


class HexInt(IntRange):
    """A uint8 read in decimal or ``0x`` hex, written in hex as libvirt writes it.

    libvirt formats a PCIe port number as ``0x10``; building from a spec writes the
    same text libvirt would, so a spec-built element compares equal to live XML.
    """

    def __init__(self) -> None:
        super().__init__(0, 255, name="hexint(0..255)")

    def format(self, value: int) -> str:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected int, got {type(value).__name__}")
        return f"0x{self._checked(value):x}"


HEX_INT = HexInt()
#: libvirt's size unit (b, KiB, M, GB, ...)
UNIT = Pattern("unit", r"([bB]([yY][tT][eE][sS]?)?)|([kKmMgGtTpPeE]([iI]?[bB])?)")


class IoThreadQueue(ElementView):
    """One ``<queue id=.../>`` of an iothread: a virtqueue it serves."""

    tag: ClassVar[str] = "queue"
    id = Field("@id", UINT, spec="id", doc="virtqueue number")


class IoThread(ElementView):
    """One ``<iothread id=...>`` of ``driver/iothreads``, with the queues pinned to it."""

    tag: ClassVar[str] = "iothread"
    id = Field("@id", UINT, spec="id", doc="the domain's iothread id")
    queues = Children("queue", IoThreadQueue, spec="queues", doc="virtqueues it serves (none: all)")


def _type_from_spec(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a controller type, got {type(value).__name__}")
    return value


class Controller(VirtioOptions, AcpiIndex, Device):
    """A bus controller. Identity without an alias: its type and index."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "controller"
    identity_devtype: ClassVar[str | None] = "controller"  # every identity() holds it
    tag: ClassVar[str] = "controller"
    description: ClassVar[str] = "bus controllers (<controller type=... index=...>)"
    child_order: ClassVar[tuple[str, ...]] = (
        "model", "driver", "target", "pcihole64", "serial", "alias", "acpi", "master", "address",
    )  # fmt: skip

    metadata_keys: ClassVar[Mapping[str, type | None]] = {"custom": dict}
    spec_aliases: ClassVar[Mapping[str, str]] = {
        "specParams.ioThreadId": "specParams.driver.iothread",
        "specParams.index": "index",
        "specParams.model": "model",
        "master.startport": "specParams.master.startport",
    }

    type = Field(
        "@type", Choice(*CONTROLLER_TYPES), spec="device", default="ide", from_spec=_type_from_spec,
        doc="controller type",
    )  # fmt: skip
    index = Field("@index", UINT, spec="index", doc="the controller's number among those of its type")
    model = Field("@model", Choice(*_ALL_MODELS), spec="model", doc="controller model (per type)")
    ports = Field("@ports", UINT, spec="ports", doc="ports (usb, virtio-serial)")
    vectors = Field("@vectors", UINT, spec="specParams.vectors", doc="MSI-X vectors (virtio-serial)")
    max_grant_frames = Field("@maxGrantFrames", UINT, spec="specParams.maxGrantFrames", doc="xenbus")
    max_event_channels = Field("@maxEventChannels", UINT, spec="specParams.maxEventChannels", doc="xenbus")
    model_name = Field("model@name", Choice(*PCI_MODEL_NAMES), spec="specParams.modelName", doc="QEMU device (pci)")
    master_startport = Field("master@startport", UINT, spec="specParams.master.startport", doc="USB companion")
    queues = Field("driver@queues", UINT, spec="specParams.driver.queues")
    cmd_per_lun = Field("driver@cmd_per_lun", UINT, spec="specParams.driver.cmdPerLun")
    max_sectors = Field("driver@max_sectors", UINT, spec="specParams.driver.maxSectors")
    ioeventfd = Field("driver@ioeventfd", ON_OFF, spec="specParams.driver.ioeventfd")
    iothread = Field("driver@iothread", UINT, spec="specParams.driver.iothread")
    iothreads = Children(
        "driver/iothreads/iothread", IoThread, spec="specParams.driver.iothreads", doc="queues pinned to iothreads"
    )
    chassis_nr = Field("target@chassisNr", UINT8, spec="specParams.target.chassisNr")
    chassis = Field("target@chassis", UINT8, spec="specParams.target.chassis")
    port = Field("target@port", HEX_INT, spec="specParams.target.port")
    bus_nr = Field("target@busNr", UINT8, spec="specParams.target.busNr")
    target_index = Field("target@index", UINT8, spec="specParams.target.index")
    hotplug = Field("target@hotplug", ON_OFF, spec="specParams.target.hotplug")
    mem_reserve = Field("target@memReserve", UINT, spec="specParams.target.memReserve", doc="KiB")
    node = Field("target/node", UINT, spec="specParams.target.node", doc="NUMA node")
    pcihole64 = Field("pcihole64", UINT, spec="specParams.pcihole64", doc="64-bit PCI hole size")
    pcihole64_unit = Field("pcihole64@unit", UNIT, spec="specParams.pcihole64Unit", doc="its unit (KiB)")
    serial = Field("serial", spec="specParams.serial", doc="serial number (nvme)")

    def read_spec(self, rest: dict[str, Any]) -> None:
        """Build no ``@type`` for ``device == "controller"``: what an element without one reports
        (so such an element round-trips through its spec unchanged). Refuse a ``master``
        that is not VDSM's ``{"startport": N}`` dict (its ``startport`` is an alias)."""
        if rest.get("device") == _NO_TYPE:
            self.type = None
        master = rest.get("master")
        if master is not None and not isinstance(master, Mapping):
            raise SpecError(
                f"{self.describe()}: dev_spec key 'master' must be a dict {{'startport': N}} "
                f"(a USB companion's master port), got {type(master).__name__}"
            )

    def identity(self) -> Identity | None:
        """Type and index; None when the element has no type (nothing to match on)."""
        element = self.element  # read directly: binding asks every controller without an alias
        kind = element.get("type")
        if kind is None:
            return None
        identity = {"devtype": "controller", "type": kind}
        raw_index = element.get("index")
        if raw_index:
            try:
                identity["index"] = str(INT.parse(raw_index))
            except ValueError:
                identity["index"] = raw_index  # keep the raw text: identity must never raise
        return identity
