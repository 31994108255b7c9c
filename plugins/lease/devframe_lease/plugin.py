"""The lease plugin: registers the ``<lease>`` device class.

Everything about ``<lease>`` lives in :class:`devframe_lease.device.Lease`, including
the resolution of the engine's ``LEASE-PATH:``/``LEASE-OFFSET:`` placeholders
(``Lease.prepare``). VDSM's legacy conf flow never produced leases (VM leases came with
engine 4.1's dev_specs), so there is no legacy rule.
"""

from devframe import DeviceTypeRegister, hookimpl
from devframe_lease.device import Lease


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Lease)
