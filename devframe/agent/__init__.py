"""The libvirt layer: a Host (one connection), its Guests (one domain each), monitoring.

Depends on the core; the core and the plugins never import it. Needs libvirt-python
(``pip install devframe[agent]``), imported only when a Host first connects.

::

    host = Host("qemu:///system")
    guest = host.create_guest(prepare_domain(load_domain("vm.xml"), host_resolvers(host)))
    guest.attach(nic)                 # nic now carries libvirt's alias and address
    guest.detach(nic, timeout=10)     # waits for libvirt's device-removed event
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
    GuestGoneError,
    HostUnavailableError,
    LibvirtMissingError,
)
from devframe.agent.events import (
    CONNECTION_CLOSED,
    DEVICE_ADDED,
    DEVICE_REMOVAL_FAILED,
    DEVICE_REMOVED,
    LIFECYCLE,
    Event,
    Subscription,
    Waiter,
)
from devframe.agent.guest import Guest
from devframe.agent.host import Host
from devframe.agent.resolvers import host_resolvers

__all__ = [
    "CONNECTION_CLOSED",
    "DEVICE_ADDED",
    "DEVICE_REMOVAL_FAILED",
    "DEVICE_REMOVED",
    "LIFECYCLE",
    "AgentError",
    "Correlation",
    "DetachFailedError",
    "DetachTimeoutError",
    "Event",
    "Guest",
    "GuestGoneError",
    "Host",
    "HostUnavailableError",
    "KnownDevices",
    "LibvirtMissingError",
    "Subscription",
    "Waiter",
    "correlate",
    "host_resolvers",
    "spec_changes",
]
