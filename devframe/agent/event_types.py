"""Typed libvirt events: one class per kind, and how each is read from libvirt's callback.

Every event is a frozen :class:`Event` (kind, host URI, domain name and UUID, device
alias, time) with the values of its kind as typed attributes, the :class:`Guest
<devframe.agent.Guest>` it concerns (``guest``) and the device it names (``device``,
resolved from the Guest's dev_map by alias, or by disk target for block events).
``kind`` is a stable name (``tray-change``, ``io-error``, ...); :meth:`Event.as_dict`
is plain JSON (the device as a label, never the object), the form a fleet sink sends.

:data:`LIBVIRT_EVENTS` lists the libvirt domain events devframe subscribes to and how
each callback's arguments become an event. Code numbers follow libvirt's stable ABI; a
number this table does not know is kept as its string.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from devframe.agent.correlate import device_label

if TYPE_CHECKING:
    from devframe.core.device import Device
    from devframe.core.domain import Domain

__all__ = [
    "AGENT_LIFECYCLE",
    "BALLOON_CHANGE",
    "BLOCK_JOB",
    "BLOCK_THRESHOLD",
    "CONNECTION_CLOSED",
    "DEVICE_ADDED",
    "DEVICE_REMOVAL_FAILED",
    "DEVICE_REMOVED",
    "DISK_CHANGE",
    "EVENT_CLASSES",
    "GRAPHICS",
    "IO_ERROR",
    "JOB_COMPLETED",
    "LIBVIRT_EVENTS",
    "LIFECYCLE",
    "LIFECYCLE_NAMES",
    "MEMORY_DEVICE_SIZE_CHANGE",
    "MEMORY_FAILURE",
    "METADATA_CHANGE",
    "NIC_MAC_CHANGE",
    "TRAY_CHANGE",
    "TUNABLE",
    "WATCHDOG",
    "AgentLifecycleEvent",
    "BalloonChangeEvent",
    "BlockJobEvent",
    "BlockThresholdEvent",
    "ConnectionClosedEvent",
    "DeviceAddedEvent",
    "DeviceRemovalFailedEvent",
    "DeviceRemovedEvent",
    "DiskChangeEvent",
    "Event",
    "EventSource",
    "GraphicsEvent",
    "IoErrorEvent",
    "JobCompletedEvent",
    "LifecycleEvent",
    "MemoryDeviceSizeChangeEvent",
    "MemoryFailureEvent",
    "MetadataChangeEvent",
    "NicMacChangeEvent",
    "TrayChangeEvent",
    "TunableEvent",
    "WatchdogEvent",
]

LIFECYCLE = "lifecycle"
CONNECTION_CLOSED = "connection-closed"
DEVICE_ADDED = "device-added"
DEVICE_REMOVED = "device-removed"
DEVICE_REMOVAL_FAILED = "device-removal-failed"
TRAY_CHANGE = "tray-change"
DISK_CHANGE = "disk-change"
IO_ERROR = "io-error"
BLOCK_JOB = "block-job"
BLOCK_THRESHOLD = "block-threshold"
BALLOON_CHANGE = "balloon-change"
GRAPHICS = "graphics"
MEMORY_DEVICE_SIZE_CHANGE = "memory-device-size-change"
MEMORY_FAILURE = "memory-failure"
WATCHDOG = "watchdog"
AGENT_LIFECYCLE = "agent-lifecycle"
TUNABLE = "tunable"
METADATA_CHANGE = "metadata-change"
JOB_COMPLETED = "job-completed"
NIC_MAC_CHANGE = "nic-mac-change"

# libvirt's enums, in its numbering (stable ABI).
LIFECYCLE_NAMES = (
    "defined",
    "undefined",
    "started",
    "suspended",
    "resumed",
    "stopped",
    "shutdown",
    "pmsuspended",
    "crashed",
)
TRAY_REASONS = ("open", "close")
DISK_CHANGE_REASONS = ("missing-on-start", "dropped-missing-on-start")
IO_ERROR_ACTIONS = ("none", "pause", "report")
BLOCK_JOB_TYPES = ("unknown", "pull", "copy", "commit", "active-commit", "backup")
BLOCK_JOB_STATUSES = ("completed", "failed", "canceled", "ready")
GRAPHICS_PHASES = ("connect", "initialize", "disconnect")
ADDRESS_FAMILIES = ("ipv4", "ipv6", "unix")
MEMORY_FAILURE_RECIPIENTS = ("hypervisor", "guest")
MEMORY_FAILURE_ACTIONS = ("ignore", "inject", "fatal", "reset")
WATCHDOG_ACTIONS = ("none", "pause", "reset", "poweroff", "shutdown", "debug", "inject-nmi")
AGENT_STATES = ("", "connected", "disconnected")
AGENT_REASONS = ("unknown", "domain-started", "channel")
METADATA_TYPES = ("description", "title", "element")


def _name(names: tuple[str, ...], code: int) -> str:
    return names[code] if 0 <= code < len(names) and names[code] else str(code)


def _disk_target(domain: Domain, target: str | None) -> Device | None:
    # Block events name a disk by its target dev, a backing image as "vda[2]".
    if not target:
        return None
    name = target.split("[", 1)[0]
    for device in domain.find(dev_type="disk"):
        element = next(device.element.iterchildren("target"), None)
        if element is not None and element.get("dev") == name:
            return device
    return None


def _first(domain: Domain, dev_type: str) -> Device | None:
    found = domain.find(dev_type=dev_type)
    return found[0] if found else None


@dataclass(frozen=True, kw_only=True)
class Event:
    """One event from a Host (see the module doc); every kind is a subclass.

    ``alias``: the device alias libvirt named, for device events. ``guest``: the Guest
    (None for connection events). ``device``: the Guest's device the event is about,
    when the Guest's dev_map has it (:meth:`resolve_device` reads libvirt when not).
    """

    kind: str
    uri: str
    domain: str | None = None
    uuid: str | None = None
    alias: str | None = None
    time: float = field(default_factory=time.time)
    guest: Any = field(default=None, repr=False, compare=False)
    device: Any = field(default=None, repr=False, compare=False)

    #: the attributes of the kind itself (``detail`` in :meth:`as_dict`)
    _BASE: ClassVar[frozenset[str]] = frozenset({"kind", "uri", "domain", "uuid", "alias", "time", "guest", "device"})

    @property
    def detail(self) -> dict[str, Any]:
        """The values of this kind (lifecycle event names, tray reason, ...), JSON-friendly."""
        return {name: _plain(getattr(self, name)) for name in _detail_names(type(self))}

    def locate(self, domain: Domain) -> Device | None:
        """The device of ``domain`` this event is about (by alias; subclasses by more)."""
        if not self.alias:
            return None
        found = domain.find(alias=self.alias)
        return found[0] if found else None

    def resolve_device(self) -> Device | None:
        """:attr:`device`, else the Guest's device read now (may ask libvirt)."""
        if self.device is None and self.guest is not None:
            try:
                found = self.locate(self.guest.tracked)
            except Exception:  # noqa: BLE001 - the domain may be gone: no device, not an error
                found = None
            object.__setattr__(self, "device", found)
        return self.device  # type: ignore[no-any-return]

    def as_dict(self) -> dict[str, Any]:
        """The event as plain JSON-ready values (the device as a label)."""
        device = self.device
        return {
            "kind": self.kind,
            "uri": self.uri,
            "domain": self.domain,
            "uuid": self.uuid,
            "alias": self.alias,
            "time": self.time,
            "detail": self.detail,
            "device": device_label(device) if device is not None else None,
        }


#: event class -> the fields that make its ``detail``
_DETAIL_NAMES: dict[type, tuple[str, ...]] = {}


def _detail_names(cls: type) -> tuple[str, ...]:
    """The fields of an event class that make its ``detail`` (read once per class: every
    event is turned into a dict, and ``dataclasses.fields`` walks the class each time)."""
    names = _DETAIL_NAMES.get(cls)
    if names is None:
        base: frozenset[str] = cls._BASE  # type: ignore[attr-defined]
        names = _DETAIL_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.name not in base)
    return names


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, kw_only=True)
class LifecycleEvent(Event):
    """The domain was defined, started, stopped, ... (``event``: the name)."""

    kind: str = LIFECYCLE
    event: str = ""
    event_code: int = -1
    detail_code: int = -1


@dataclass(frozen=True, kw_only=True)
class ConnectionClosedEvent(Event):
    """libvirt closed the Host's connection (``reason``: error, eof, keepalive, client)."""

    kind: str = CONNECTION_CLOSED
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class DeviceAddedEvent(Event):
    """A device was hot-plugged (``alias``)."""

    kind: str = DEVICE_ADDED


@dataclass(frozen=True, kw_only=True)
class DeviceRemovedEvent(Event):
    """A device unplug completed (``alias``)."""

    kind: str = DEVICE_REMOVED


@dataclass(frozen=True, kw_only=True)
class DeviceRemovalFailedEvent(Event):
    """The guest refused to release a device (``alias``)."""

    kind: str = DEVICE_REMOVAL_FAILED


@dataclass(frozen=True, kw_only=True)
class TrayChangeEvent(Event):
    """A removable medium's tray opened or closed (``reason``: open, close)."""

    kind: str = TRAY_CHANGE
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class DiskChangeEvent(Event):
    """A disk's source changed by itself (a missing medium dropped at start)."""

    kind: str = DISK_CHANGE
    old_source: str | None = None
    new_source: str | None = None
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class IoErrorEvent(Event):
    """An I/O error on a disk: ``source`` path, ``action`` taken (none, pause, report)
    and ``reason`` (libvirt's word: enospc, eio, ...)."""

    kind: str = IO_ERROR
    source: str | None = None
    action: str = ""
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class BlockJobEvent(Event):
    """A block job on disk ``disk`` (its target) reached ``status``."""

    kind: str = BLOCK_JOB
    disk: str = ""
    job_type: str = ""
    status: str = ""

    def locate(self, domain: Domain) -> Device | None:
        return _disk_target(domain, self.disk)


@dataclass(frozen=True, kw_only=True)
class BlockThresholdEvent(Event):
    """A disk's write threshold was crossed (``disk``: target, ``vda[2]`` for a backing image)."""

    kind: str = BLOCK_THRESHOLD
    disk: str = ""
    path: str | None = None
    threshold: int = 0
    excess: int = 0

    def locate(self, domain: Domain) -> Device | None:
        return _disk_target(domain, self.disk)


@dataclass(frozen=True, kw_only=True)
class BalloonChangeEvent(Event):
    """The balloon's size changed (``actual``: KiB the guest has)."""

    kind: str = BALLOON_CHANGE
    actual: int = 0

    def locate(self, domain: Domain) -> Device | None:
        return _first(domain, "memballoon")


@dataclass(frozen=True, kw_only=True)
class GraphicsEvent(Event):
    """A client connected to, authenticated on, or left a graphics console.

    ``local`` / ``remote``: ``{family, node, service}``; ``subject``: the client's
    identity as ``[[type, name], ...]`` (x509 name, SASL user). The device is the
    graphics whose port is the local service.
    """

    kind: str = GRAPHICS
    phase: str = ""
    local: dict[str, Any] = field(default_factory=dict)
    remote: dict[str, Any] = field(default_factory=dict)
    auth_scheme: str = ""
    subject: list[list[str]] = field(default_factory=list)

    def locate(self, domain: Domain) -> Device | None:
        service = str(self.local.get("service") or "")
        graphics = domain.find(dev_type="graphics")
        for device in graphics:
            if service and device.element.get("port") == service:
                return device
        return graphics[0] if len(graphics) == 1 else None


@dataclass(frozen=True, kw_only=True)
class MemoryDeviceSizeChangeEvent(Event):
    """A memory device (virtio-mem) changed size (``size``: KiB)."""

    kind: str = MEMORY_DEVICE_SIZE_CHANGE
    size: int = 0


@dataclass(frozen=True, kw_only=True)
class MemoryFailureEvent(Event):
    """A hardware memory error: who got it (hypervisor, guest) and what was done."""

    kind: str = MEMORY_FAILURE
    recipient: str = ""
    action: str = ""
    action_required: bool = False
    recursive: bool = False


@dataclass(frozen=True, kw_only=True)
class WatchdogEvent(Event):
    """The watchdog fired (``action``: none, pause, reset, poweroff, ...)."""

    kind: str = WATCHDOG
    action: str = ""

    def locate(self, domain: Domain) -> Device | None:
        return _first(domain, "watchdog")


@dataclass(frozen=True, kw_only=True)
class AgentLifecycleEvent(Event):
    """The guest agent (de)connected (``state``) and why (``reason``)."""

    kind: str = AGENT_LIFECYCLE
    state: str = ""
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class TunableEvent(Event):
    """Tunables changed (``params``: libvirt's typed parameters); ``disk`` is the target of
    a ``blkdeviotune`` change, whose device is that disk."""

    kind: str = TUNABLE
    params: dict[str, Any] = field(default_factory=dict)
    disk: str | None = None

    def locate(self, domain: Domain) -> Device | None:
        return _disk_target(domain, self.disk)


@dataclass(frozen=True, kw_only=True)
class MetadataChangeEvent(Event):
    """The domain's description, title or a metadata element (``namespace``) changed."""

    kind: str = METADATA_CHANGE
    metadata_type: str = ""
    namespace: str | None = None


@dataclass(frozen=True, kw_only=True)
class JobCompletedEvent(Event):
    """A domain job (migration, save, dump) completed; ``params``: its statistics."""

    kind: str = JOB_COMPLETED
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class NicMacChangeEvent(Event):
    """The guest changed a NIC's MAC address (libvirt 11.2 and later)."""

    kind: str = NIC_MAC_CHANGE
    old_mac: str = ""
    new_mac: str = ""


#: every kind's class, by kind
EVENT_CLASSES: Mapping[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        LifecycleEvent,
        ConnectionClosedEvent,
        DeviceAddedEvent,
        DeviceRemovedEvent,
        DeviceRemovalFailedEvent,
        TrayChangeEvent,
        DiskChangeEvent,
        IoErrorEvent,
        BlockJobEvent,
        BlockThresholdEvent,
        BalloonChangeEvent,
        GraphicsEvent,
        MemoryDeviceSizeChangeEvent,
        MemoryFailureEvent,
        WatchdogEvent,
        AgentLifecycleEvent,
        TunableEvent,
        MetadataChangeEvent,
        JobCompletedEvent,
        NicMacChangeEvent,
    )
}


# -- reading libvirt's callbacks ---------------------------------------------------------------

#: ``build(common, *args)``: the event from the callback's arguments between the domain
#: and the opaque value; ``common`` holds uri, domain and uuid.
Builder = Callable[..., Event]


@dataclass(frozen=True)
class EventSource:
    """One libvirt domain event devframe subscribes to: its ``VIR_DOMAIN_EVENT_ID_*``
    constant (skipped when this libvirt-python lacks it) and how to read it."""

    event_id: str
    build: Builder


def _lifecycle(common: dict[str, Any], event: int, detail: int) -> Event:
    return LifecycleEvent(**common, event=_name(LIFECYCLE_NAMES, event), event_code=event, detail_code=detail)


def _device(cls: type[Event]) -> Builder:
    def build(common: dict[str, Any], alias: str) -> Event:
        return cls(**common, alias=alias)

    return build


def _tray(common: dict[str, Any], alias: str, reason: int) -> Event:
    return TrayChangeEvent(**common, alias=alias, reason=_name(TRAY_REASONS, reason))


def _disk_change(common: dict[str, Any], old: str | None, new: str | None, alias: str, reason: int) -> Event:
    return DiskChangeEvent(
        **common, alias=alias, old_source=old, new_source=new, reason=_name(DISK_CHANGE_REASONS, reason)
    )


def _io_error(common: dict[str, Any], path: str | None, alias: str, action: int, reason: Any) -> Event:
    return IoErrorEvent(
        **common, alias=alias or None, source=path or None, action=_name(IO_ERROR_ACTIONS, action), reason=str(reason)
    )


def _block_job(common: dict[str, Any], disk: str, job_type: int, status: int) -> Event:
    return BlockJobEvent(
        **common, disk=disk, job_type=_name(BLOCK_JOB_TYPES, job_type), status=_name(BLOCK_JOB_STATUSES, status)
    )


def _block_threshold(common: dict[str, Any], dev: str, path: str | None, threshold: int, excess: int) -> Event:
    return BlockThresholdEvent(**common, disk=dev, path=path or None, threshold=threshold, excess=excess)


def _balloon(common: dict[str, Any], actual: int) -> Event:
    return BalloonChangeEvent(**common, actual=actual)


def _address(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        return {}
    out = {str(k): v for k, v in value.items()}
    family = out.get("family")
    if isinstance(family, int):
        out["family"] = _name(ADDRESS_FAMILIES, family)
    return out


def _graphics(common: dict[str, Any], phase: int, local: Any, remote: Any, scheme: str, subject: Any) -> Event:
    pairs = [[str(kind), str(name)] for kind, name in subject or ()]
    return GraphicsEvent(
        **common,
        phase=_name(GRAPHICS_PHASES, phase),
        local=_address(local),
        remote=_address(remote),
        auth_scheme=scheme or "",
        subject=pairs,
    )


def _memory_size(common: dict[str, Any], alias: str, size: int) -> Event:
    return MemoryDeviceSizeChangeEvent(**common, alias=alias, size=size)


def _memory_failure(common: dict[str, Any], recipient: int, action: int, flags: int) -> Event:
    return MemoryFailureEvent(
        **common,
        recipient=_name(MEMORY_FAILURE_RECIPIENTS, recipient),
        action=_name(MEMORY_FAILURE_ACTIONS, action),
        action_required=bool(flags & 1),
        recursive=bool(flags & 2),
    )


def _watchdog(common: dict[str, Any], action: int) -> Event:
    return WatchdogEvent(**common, action=_name(WATCHDOG_ACTIONS, action))


def _agent(common: dict[str, Any], state: int, reason: int) -> Event:
    return AgentLifecycleEvent(**common, state=_name(AGENT_STATES, state), reason=_name(AGENT_REASONS, reason))


def _tunable(common: dict[str, Any], params: Any) -> Event:
    values = {str(k): v for k, v in (params or {}).items()}
    disk = values.get("blkdeviotune.disk")
    return TunableEvent(**common, params=values, disk=str(disk) if disk else None)


def _metadata(common: dict[str, Any], mtype: int, namespace: str | None) -> Event:
    return MetadataChangeEvent(**common, metadata_type=_name(METADATA_TYPES, mtype), namespace=namespace or None)


def _job_completed(common: dict[str, Any], params: Any) -> Event:
    return JobCompletedEvent(**common, params={str(k): v for k, v in (params or {}).items()})


def _nic_mac(common: dict[str, Any], alias: str, old: str, new: str) -> Event:
    return NicMacChangeEvent(**common, alias=alias, old_mac=old, new_mac=new)


#: the domain events devframe subscribes to (IO_ERROR_REASON carries everything IO_ERROR
#: does, BLOCK_JOB_2 names the disk by target where BLOCK_JOB gives a path: those two
#: older forms are left out; reboot, RTC, PM, migration and vCPU events are not device events)
LIBVIRT_EVENTS: tuple[EventSource, ...] = (
    EventSource("VIR_DOMAIN_EVENT_ID_LIFECYCLE", _lifecycle),
    EventSource("VIR_DOMAIN_EVENT_ID_DEVICE_ADDED", _device(DeviceAddedEvent)),
    EventSource("VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED", _device(DeviceRemovedEvent)),
    EventSource("VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED", _device(DeviceRemovalFailedEvent)),
    EventSource("VIR_DOMAIN_EVENT_ID_TRAY_CHANGE", _tray),
    EventSource("VIR_DOMAIN_EVENT_ID_DISK_CHANGE", _disk_change),
    EventSource("VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON", _io_error),
    EventSource("VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2", _block_job),
    EventSource("VIR_DOMAIN_EVENT_ID_BLOCK_THRESHOLD", _block_threshold),
    EventSource("VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE", _balloon),
    EventSource("VIR_DOMAIN_EVENT_ID_GRAPHICS", _graphics),
    EventSource("VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE", _memory_size),
    EventSource("VIR_DOMAIN_EVENT_ID_MEMORY_FAILURE", _memory_failure),
    EventSource("VIR_DOMAIN_EVENT_ID_WATCHDOG", _watchdog),
    EventSource("VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE", _agent),
    EventSource("VIR_DOMAIN_EVENT_ID_TUNABLE", _tunable),
    EventSource("VIR_DOMAIN_EVENT_ID_METADATA_CHANGE", _metadata),
    EventSource("VIR_DOMAIN_EVENT_ID_JOB_COMPLETED", _job_completed),
    EventSource("VIR_DOMAIN_EVENT_ID_NIC_MAC_CHANGE", _nic_mac),
)
