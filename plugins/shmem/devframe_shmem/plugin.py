"""The shmem plugin: registers the ``<shmem>`` device class.

Everything about ``<shmem>`` lives in :class:`devframe_shmem.device.Shmem`. VDSM's
legacy conf flow never produced shared memory devices, so there is no legacy rule.
"""

from devframe import DeviceTypeRegister, hookimpl
from devframe_shmem.device import Shmem


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Shmem)
