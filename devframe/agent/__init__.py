"""The libvirt layer: a Host (one connection), its Guests (one domain each), monitoring.

Depends on the core; the core and the plugins never import it. Needs libvirt-python
(``pip install devframe[agent]``), imported only when a Host first connects.

::

    host = Host("qemu:///system")
    guest = host.create_guest(prepare_domain(load_domain("vm.xml"), host_resolvers(host)))
    guest.attach(nic)                 # nic now carries libvirt's alias and address
    guest.update(changed_nic)         # link down, another bridge, ...: the smallest libvirt call
    guest.detach(nic, timeout=10)     # waits for libvirt's device-removed event
    guest.subscribe(print)            # typed events: TrayChangeEvent, IoErrorEvent, ...
    host.device_stats()               # per-device statistics of every guest, one libvirt call
    report = correlate(known_specs, guest.domain())

``host.py`` and ``guest.py`` do not import each other (:mod:`devframe.agent.interfaces`
says what each sees of the other); this package is where the two meet: it makes
:class:`Guest` the class a :class:`Host` builds its guests with.
"""

from __future__ import annotations

from devframe.agent.correlate import Correlation, KnownDevices, correlate, spec_changes
from devframe.agent.errors import (
    AgentError,
    DetachFailedError,
    DetachTimeoutError,
    DeviceMissingError,
    EventLoopError,
    GuestGoneError,
    HostUnavailableError,
    LibvirtMissingError,
    UpdateRefusedError,
)
from devframe.agent.event_types import (
    AGENT_LIFECYCLE,
    BALLOON_CHANGE,
    BLOCK_JOB,
    BLOCK_THRESHOLD,
    CONNECTION_CLOSED,
    DEVICE_ADDED,
    DEVICE_REMOVAL_FAILED,
    DEVICE_REMOVED,
    DISK_CHANGE,
    EVENT_CLASSES,
    GRAPHICS,
    IO_ERROR,
    JOB_COMPLETED,
    LIFECYCLE,
    MEMORY_DEVICE_SIZE_CHANGE,
    MEMORY_FAILURE,
    METADATA_CHANGE,
    NIC_MAC_CHANGE,
    TRAY_CHANGE,
    TUNABLE,
    WATCHDOG,
    AgentLifecycleEvent,
    BalloonChangeEvent,
    BlockJobEvent,
    BlockThresholdEvent,
    ConnectionClosedEvent,
    DeviceAddedEvent,
    DeviceRemovalFailedEvent,
    DeviceRemovedEvent,
    DiskChangeEvent,
    Event,
    GraphicsEvent,
    IoErrorEvent,
    JobCompletedEvent,
    LifecycleEvent,
    MemoryDeviceSizeChangeEvent,
    MemoryFailureEvent,
    MetadataChangeEvent,
    NicMacChangeEvent,
    TrayChangeEvent,
    TunableEvent,
    WatchdogEvent,
)
from devframe.agent.events import EVENTS_ASYNCIO, EVENTS_THREAD, EventStream, Subscription, Waiter, event_loop_kind
from devframe.agent.guest import Guest
from devframe.agent.host import Host
from devframe.agent.resolvers import host_resolvers
from devframe.agent.stats import BalloonStats, BlockStats, GuestStats, InterfaceStats
from devframe.agent.update import UpdatePlan, UpdateStep

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
    "EVENTS_ASYNCIO",
    "EVENTS_THREAD",
    "EVENT_CLASSES",
    "GRAPHICS",
    "IO_ERROR",
    "JOB_COMPLETED",
    "LIFECYCLE",
    "MEMORY_DEVICE_SIZE_CHANGE",
    "MEMORY_FAILURE",
    "METADATA_CHANGE",
    "NIC_MAC_CHANGE",
    "TRAY_CHANGE",
    "TUNABLE",
    "WATCHDOG",
    "AgentError",
    "AgentLifecycleEvent",
    "BalloonChangeEvent",
    "BalloonStats",
    "BlockJobEvent",
    "BlockStats",
    "BlockThresholdEvent",
    "ConnectionClosedEvent",
    "Correlation",
    "DetachFailedError",
    "DetachTimeoutError",
    "DeviceAddedEvent",
    "DeviceMissingError",
    "DeviceRemovalFailedEvent",
    "DeviceRemovedEvent",
    "DiskChangeEvent",
    "Event",
    "EventLoopError",
    "EventStream",
    "GraphicsEvent",
    "Guest",
    "GuestGoneError",
    "GuestStats",
    "Host",
    "HostUnavailableError",
    "InterfaceStats",
    "IoErrorEvent",
    "JobCompletedEvent",
    "KnownDevices",
    "LibvirtMissingError",
    "LifecycleEvent",
    "MemoryDeviceSizeChangeEvent",
    "MemoryFailureEvent",
    "MetadataChangeEvent",
    "NicMacChangeEvent",
    "Subscription",
    "TrayChangeEvent",
    "TunableEvent",
    "UpdatePlan",
    "UpdateRefusedError",
    "UpdateStep",
    "Waiter",
    "WatchdogEvent",
    "correlate",
    "event_loop_kind",
    "host_resolvers",
    "spec_changes",
]
