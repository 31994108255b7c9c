"""A domain's address topology: what each device plugs into, and what is still free.

libvirt's guest addresses form a tree. PCI controllers each provide a bus (the
controller's ``index`` is the bus number) and plug into a slot of another bus; a root
port or a switch's downstream port provides a bus of one slot, the place where a PCIe
device can be hot-plugged. SCSI, IDE, SATA and floppy controllers hold ``drive``
addresses (bus, target, unit), USB controllers ports (``usb`` addresses, ``1.2`` behind a
hub), virtio-serial controllers ports, CCID controllers slots; s390 devices sit on the
channel subsystem (``ccw``); the rest (``isa``, ``spapr-vio``, ``virtio-mmio``, ``dimm``)
are listed by address type.

:func:`topology` reads the devices' XML only (no plugin needed: a bare core install
draws the same tree) and returns :class:`Node` trees plus warnings, the one that
matters most being that the next PCI hot-plug has nowhere to go. A controller that
devices refer to but the XML does not hold is shown as implicit: libvirt adds it when
the domain is defined. Slot ranges and port counts are libvirt's defaults for each
model (see the tables below).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devframe.core.device import Device
    from devframe.core.domain import Domain

__all__ = ["PCI_BUSES", "USB_PORTS", "Node", "Topology", "device_label", "element_label", "topology"]


@dataclass(frozen=True)
class BusModel:
    """What a PCI controller model's bus offers."""

    first: int
    last: int
    #: devices can be hot-plugged into its free slots
    hotplug: bool
    #: a PCIe port (one slot): where PCIe devices are hot-plugged
    port: bool = False


#: Each PCI controller model's bus: usable slots and whether they take hot-plug.
PCI_BUSES: Mapping[str, BusModel] = {
    "pci-root": BusModel(1, 31, True),
    "pcie-root": BusModel(1, 31, False),  # integrated endpoints and root ports; no hot-plug
    "pci-bridge": BusModel(1, 31, True),
    "dmi-to-pci-bridge": BusModel(0, 31, False),
    "pcie-to-pci-bridge": BusModel(1, 31, True),
    "pcie-root-port": BusModel(0, 0, True, port=True),
    "pcie-switch-upstream-port": BusModel(0, 31, False),  # holds downstream ports
    "pcie-switch-downstream-port": BusModel(0, 0, True, port=True),
    "pci-expander-bus": BusModel(0, 31, False),
    "pcie-expander-bus": BusModel(0, 31, False),  # holds root ports
}

#: Ports of a USB controller model when its ``ports`` attribute does not say.
USB_PORTS: Mapping[str, int] = {
    "piix3-uhci": 2,
    "piix4-uhci": 2,
    "vt82c686b-uhci": 2,
    "ich9-uhci1": 2,
    "ich9-uhci2": 2,
    "ich9-uhci3": 2,
    "ehci": 6,
    "ich9-ehci1": 6,
    "pci-ohci": 3,
    "nec-xhci": 4,
    "qemu-xhci": 4,
}
#: A USB hub's ports (QEMU's usb-hub).
HUB_PORTS = 8
#: virtio-serial ports when the controller's ``ports`` does not say (QEMU's default).
VIRTIO_SERIAL_PORTS = 31
#: Positions of the controllers with few: (bus, unit) pairs.
DRIVE_POSITIONS: Mapping[str, tuple[tuple[int, int], ...]] = {
    "ide": ((0, 0), (0, 1), (1, 0), (1, 1)),
    "fdc": ((0, 0), (0, 1)),
    "sata": tuple((0, unit) for unit in range(6)),
}
#: The controller type a drive address belongs to, by the disk's target bus.
_DRIVE_BUS = {"ide": "ide", "scsi": "scsi", "sata": "sata", "fdc": "fdc"}


@dataclass
class Node:
    """One place in the tree: a bus, a port or a device, and what hangs from it."""

    #: ``bus``, ``device``, ``free`` or ``group``
    kind: str
    label: str
    #: where it sits on its parent (``00:02.0``, ``port 3``, ``0:0:1``), if anywhere
    address: str = ""
    device: Device | None = None
    children: list[Node] = field(default_factory=list)
    #: a place left to plug a device into (a free slot, an empty root port)
    free: bool = False
    #: for a free place: the bus it is on (``pci-bridge index=9``)
    bus: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "label": self.label, "address": self.address or None}
        if self.device is not None:
            out["dev_type"] = self.device.dev_type
            out["alias"] = self.device.alias
        if self.free:
            out["free"] = True
        if self.children:
            out["children"] = [child.as_dict() for child in self.children]
        return out

    def walk(self) -> Iterable[Node]:
        """This node and every node under it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class Topology:
    """The trees (:attr:`roots`) and what is worth a warning."""

    roots: list[Node]
    warnings: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"roots": [root.as_dict() for root in self.roots], "warnings": list(self.warnings)}


def _int(value: str | None, default: int = 0) -> int:
    if value is None:
        return default
    try:
        return int(value, 0)
    except ValueError:
        try:
            return int(value, 16)
        except ValueError:
            return default


def _ranges(numbers: Iterable[int]) -> str:
    """``0x04-0x1a, 0x1c`` for slot numbers."""
    values = sorted(numbers)
    parts: list[str] = []
    start = previous = None
    for value in [*values, None]:
        if value is not None and previous is not None and value == previous + 1:
            previous = value
            continue
        if start is not None and previous is not None:
            parts.append(f"{start:#04x}" if start == previous else f"{start:#04x}-{previous:#04x}")
        start = previous = value
    return ", ".join(parts)


def _attr(element: Any, child: str, name: str) -> str:
    """The attribute ``name`` of the direct child ``child`` ("" when absent)."""
    found = element.find(child)
    return str(found.get(name, "")) if found is not None else ""


def device_label(device: Device) -> str:
    """``disk vda alias=ua-...``: the dev_type, what tells it apart, its alias."""
    return element_label(device.element, device.dev_type)


def element_label(element: Any, dev_type: str | None = None) -> str:
    """:func:`device_label` from a device's element alone (no plugin needed)."""
    kind = dev_type or str(element.tag)
    if kind == "controller":
        model = element.get("model")
        text = f"{element.get('type', '?')} controller index={element.get('index', '0')}"
        return f"{text} {model}" if model else text
    detail = (
        _attr(element, "mac", "address")
        or _attr(element, "target", "dev")
        or element.get("model")
        or _attr(element, "model", "type")
        or _attr(element, "target", "name")
        or element.get("type")
        or ""
    )
    label = f"{kind} {detail}".strip()
    alias = _attr(element, "alias", "name")
    return f"{label} alias={alias}" if alias else label


class _Builder:
    """Builds the trees from one domain's devices."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain
        self.warnings: list[str] = []
        self.by_type: dict[str, list[Device]] = {}
        self.controllers: dict[tuple[str, int], list[Device]] = {}
        self.unplaced: list[Device] = []
        for device in domain.devices:
            address = device.raw_address()
            if device.dev_type == "controller":
                key = (device.element.get("type", ""), _int(device.element.get("index")))
                self.controllers.setdefault(key, []).append(device)
            if address is None:
                if not self._is_root_controller(device):
                    self.unplaced.append(device)
                continue
            self.by_type.setdefault(address.get("type", "?"), []).append(device)
        self.placed: set[int] = set()

    @staticmethod
    def _is_root_controller(device: Device) -> bool:
        return device.dev_type == "controller" and device.element.get("model") in ("pci-root", "pcie-root")

    def _machine(self) -> tuple[str, str]:
        os_type = self.domain.root.find("os/type")
        if os_type is None:
            return "", ""
        return os_type.get("machine", ""), os_type.get("arch", "")

    # -- controllers and what they hold -----------------------------------------------------

    def controller_node(self, kind: str, index: int, address: str = "") -> Node:
        """The node of controller ``(kind, index)`` with its bus below it."""
        found = self.controllers.get((kind, index), [])
        main = next((d for d in found if d.element.find("master") is None), found[0] if found else None)
        if main is None:
            node = Node("bus", f"{kind} controller index={index} (implicit: libvirt adds it)", address)
        else:
            node = Node("device", device_label(main), address, main)
        node.children.extend(self.bus_of(kind, index, main))
        return node

    def bus_of(self, kind: str, index: int, controller: Device | None) -> list[Node]:
        if kind == "pci":
            return self.pci_bus(index, controller)
        if kind == "usb":
            return self.usb_ports(index, controller)
        if kind in ("scsi", "ide", "sata", "fdc"):
            return self.drive_units(kind, index)
        if kind == "virtio-serial":
            return self.serial_ports(index, controller)
        if kind == "ccid":
            return self.ccid_slots(index)
        return []

    def _take(self, address_type: str, match: Mapping[str, int]) -> list[Device]:
        """Devices of ``address_type`` whose address has these numbers (not yet placed)."""
        found = []
        for device in self.by_type.get(address_type, []):
            if id(device) in self.placed:
                continue
            address = device.raw_address() or {}
            if all(_int(address.get(key)) == value for key, value in match.items()):
                found.append(device)
        return found

    def _device_node(self, device: Device, address: str) -> Node:
        self.placed.add(id(device))
        node = Node("device", device_label(device), address, device)
        if device.dev_type == "controller" and device.element.find("master") is None:
            # A USB companion (<master>) shares its master's ports: they show under the master.
            kind = device.element.get("type", "")
            node.children.extend(self.bus_of(kind, _int(device.element.get("index")), device))
        elif device.dev_type == "hub":
            address_of = device.raw_address() or {}
            node.children.extend(self._usb_level(_int(address_of.get("bus")), address_of.get("port", ""), HUB_PORTS))
        return node

    # -- PCI ------------------------------------------------------------------------------

    def pci_bus(self, index: int, controller: Device | None) -> list[Node]:
        model = controller.element.get("model", "") if controller is not None else self.root_model()
        spec = PCI_BUSES.get(model)
        devices = sorted(
            self._take("pci", {"bus": index}),
            key=lambda d: (_number(d, "slot"), _number(d, "function")),
        )
        children = []
        used = set()
        for device in devices:
            address = device.raw_address() or {}
            used.add(_int(address.get("slot")))
            children.append(self._device_node(device, _pci_text(device)))
        if spec is None:
            return children
        bus = device_label(controller).split(" alias=")[0] if controller is not None else model
        hotplug = spec.hotplug and (controller is None or _attr(controller.element, "target", "hotplug") != "off")
        free = [slot for slot in range(spec.first, spec.last + 1) if slot not in used]
        if spec.port:
            if not used:
                what = "empty: the next hot-plugged PCIe device can go here" if hotplug else "empty (hotplug off)"
                children.append(Node("free", what, f"{index:02x}:00.0", free=hotplug, bus=bus))
        elif free:
            what = "free slots" + ("" if hotplug else " (no hot-plug on this bus)")
            children.append(Node("free", f"{what}: {_ranges(free)}", free=hotplug, bus=bus))
        return children

    def root_model(self) -> str:
        """The model of PCI bus 0: its controller's, else what libvirt adds for the machine."""
        for device in self.controllers.get(("pci", 0), []):
            model = device.element.get("model")
            if model:
                return model
        machine, arch = self._machine()
        if "q35" in machine or (arch in ("aarch64", "riscv64", "loongarch64") and "virt" in machine):
            return "pcie-root"
        return "pci-root"

    # -- drive, USB, virtio-serial, CCID -----------------------------------------------------

    def _drive_kind(self, device: Device) -> str:
        if device.dev_type == "disk":
            return _DRIVE_BUS.get(_attr(device.element, "target", "bus"), "scsi")
        return "scsi"  # hostdev type scsi, and anything else on a drive address

    def drive_units(self, kind: str, index: int) -> list[Node]:
        devices = [d for d in self._take("drive", {"controller": index}) if self._drive_kind(d) == kind]

        def position(device: Device) -> tuple[int, int, int]:
            address = device.raw_address() or {}
            return _int(address.get("bus")), _int(address.get("target")), _int(address.get("unit"))

        children = []
        used = set()
        for device in sorted(devices, key=position):
            bus, target, unit = position(device)
            used.add((bus, unit))
            children.append(self._device_node(device, f"{bus}:{target}:{unit}"))
        positions = DRIVE_POSITIONS.get(kind)
        if positions is not None:
            free = [f"{bus}:0:{unit}" for bus, unit in positions if (bus, unit) not in used]
            if free:
                children.append(Node("free", f"free (bus:target:unit): {', '.join(free)}", free=True))
            else:
                self.warnings.append(f"{kind} controller index={index}: every unit is taken")
        return children

    def usb_ports(self, index: int, controller: Device | None) -> list[Node]:
        count = None
        if controller is not None:
            given = controller.element.get("ports")
            count = _int(given) if given else USB_PORTS.get(controller.element.get("model", ""))
        children = self._usb_level(index, "", count)
        if count is not None and not any(child.free for child in children) and count:
            name = device_label(controller) if controller is not None else f"usb controller index={index}"
            self.warnings.append(f"{name}: every USB port is taken (add a hub or a controller)")
        return children

    def _usb_level(self, bus: int, parent: str, count: int | None) -> list[Node]:
        """The ports of a USB bus (``parent`` empty) or of the hub at port ``parent``."""
        here = {}
        for device in self._take("usb", {"bus": bus}):
            port = (device.raw_address() or {}).get("port", "")
            if port.rpartition(".")[0] == parent:
                here[port] = device
        children = [self._device_node(here[port], f"port {port}") for port in sorted(here, key=_port_key)]
        if count:
            prefix = f"{parent}." if parent else ""
            free = [f"{prefix}{n}" for n in range(1, count + 1) if f"{prefix}{n}" not in here]
            if free:
                children.append(Node("free", f"free ports: {', '.join(free)}", free=True))
        return children

    def serial_ports(self, index: int, controller: Device | None) -> list[Node]:
        devices = sorted(self._take("virtio-serial", {"controller": index}), key=lambda d: _number(d, "port"))
        given = controller.element.get("ports") if controller is not None else None
        count = _int(given) if given else VIRTIO_SERIAL_PORTS
        children = [self._device_node(d, f"port {_number(d, 'port')}") for d in devices]
        free = count - len(devices)
        if free > 0:
            children.append(Node("free", f"{free} of {count} ports free", free=True))
        else:
            self.warnings.append(f"virtio-serial controller index={index}: all {count} ports are taken")
        return children

    def ccid_slots(self, index: int) -> list[Node]:
        devices = sorted(self._take("ccid", {"controller": index}), key=lambda d: _number(d, "slot"))
        return [self._device_node(d, f"slot {_number(d, 'slot')}") for d in devices]

    # -- the whole domain ------------------------------------------------------------------

    def build(self) -> Topology:
        roots: list[Node] = []
        if self.by_type.get("pci") or any(kind == "pci" for kind, _ in self.controllers):
            model = self.root_model()
            implicit = "" if self.controllers.get(("pci", 0)) else " (implicit: libvirt adds it)"
            holder = next(iter(self.controllers.get(("pci", 0), [])), None)
            root = Node("bus", f"{model} (PCI bus 0x00){implicit}", "", holder)
            if root.device is not None:
                self.placed.add(id(root.device))
            root.children = self.pci_bus(0, root.device)
            roots.append(root)
            # Other PCI buses that plug into nothing: more host bridges (pseries' PHBs, ...).
            for (kind, index), found in sorted(self.controllers.items()):
                for device in found:
                    if kind == "pci" and id(device) not in self.placed and device.raw_address() is None:
                        self.placed.add(id(device))
                        head = Node("bus", f"{device_label(device)} (PCI bus {index:#04x})", "", device)
                        head.children = self.pci_bus(index, device)
                        roots.append(head)
            for index in sorted({_number(d, "bus") for d in self.by_type.get("pci", [])}):
                orphans = self._take("pci", {"bus": index})
                if orphans:  # a bus no controller provides
                    node = Node("bus", f"PCI bus {index:#04x}: no controller with index={index} provides it")
                    node.children = [self._device_node(d, _pci_text(d)) for d in orphans]
                    roots.append(node)
                    self.warnings.append(f"PCI bus {index:#04x} is used but no pci controller has index={index}")
            self._pci_hotplug(root)
        # Controllers not on PCI (isa, implicit, or without an address yet) head their own trees.
        for (kind, index), found in sorted(self.controllers.items()):
            if kind == "pci" or all(id(d) in self.placed for d in found):
                continue
            node = self.controller_node(kind, index)
            for device in found:
                self.placed.add(id(device))
            roots.append(node)
        # Controllers devices refer to that the XML does not hold.
        for kind, address_type, key in (
            ("usb", "usb", "bus"),
            ("virtio-serial", "virtio-serial", "controller"),
            ("ccid", "ccid", "controller"),
        ):
            waiting = [d for d in self.by_type.get(address_type, []) if id(d) not in self.placed]
            for index in sorted({_number(d, key) for d in waiting}):
                roots.append(self.controller_node(kind, index))
        for device in self.by_type.get("drive", []):
            if id(device) not in self.placed:
                kind = self._drive_kind(device)
                roots.append(self.controller_node(kind, _number(device, "controller")))
        roots.extend(self._ccw())
        roots.extend(self._others())
        unplaced = [d for d in self.unplaced if id(d) not in self.placed]
        if unplaced:
            group = Node(
                "group", "no guest address (libvirt gives one when it defines the domain, or the kind has none)"
            )
            group.children = [Node("device", device_label(d), "", d) for d in unplaced]
            roots.append(group)
        return Topology(roots, self.warnings)

    def _pci_hotplug(self, root: Node) -> None:
        ports = [n for n in root.walk() if n.kind == "free" and n.free and n.label.startswith("empty")]
        slots = [n for n in root.walk() if n.kind == "free" and n.free and n.label.startswith("free slots")]
        if ports:
            return
        if root.label.startswith("pcie-root"):
            fallback = f"; conventional PCI slots are left on {', '.join(n.bus for n in slots)}" if slots else ""
            self.warnings.append(
                "the next PCI hot-plug has nowhere to go: every pcie-root-port is taken "
                f"(add empty pcie-root-port controllers before the domain starts){fallback}"
            )
        elif not slots:
            self.warnings.append("the next PCI hot-plug has nowhere to go: no free slot on a hot-plug capable bus")

    def _ccw(self) -> list[Node]:
        devices = [d for d in self.by_type.get("ccw", []) if id(d) not in self.placed]
        if not devices:
            return []

        def number(device: Device) -> tuple[int, int, int]:
            address = device.raw_address() or {}
            return _int(address.get("cssid")), _int(address.get("ssid")), _int(address.get("devno"))

        root = Node("bus", "ccw (s390 channel subsystem)")
        for device in sorted(devices, key=number):
            cssid, ssid, devno = number(device)
            root.children.append(self._device_node(device, f"{cssid:x}.{ssid:x}.{devno:04x}"))
        return [root]

    def _others(self) -> list[Node]:
        roots = []
        for kind in sorted(self.by_type):
            devices = [d for d in self.by_type[kind] if id(d) not in self.placed]
            if not devices:
                continue
            node = Node("bus", f"{kind} addresses")
            for device in devices:
                address = device.raw_address() or {}
                text = ",".join(f"{k}={v}" for k, v in address.items() if k != "type")
                node.children.append(self._device_node(device, text))
            roots.append(node)
        return roots


def _number(device: Device, key: str) -> int:
    """A number of the device's guest address (0 when absent)."""
    return _int((device.raw_address() or {}).get(key))


def _pci_text(device: Device) -> str:
    """``bus:slot.function`` of a PCI address, in hex as lspci shows it."""
    return f"{_number(device, 'bus'):02x}:{_number(device, 'slot'):02x}.{_number(device, 'function'):x}"


def _port_key(port: str) -> tuple[int, ...]:
    return tuple(_int(part) for part in port.split(".") if part)


def topology(domain: Domain) -> Topology:
    """The address topology of ``domain`` (see the module doc)."""
    return _Builder(domain).build()
