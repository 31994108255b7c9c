"""The panic plugin's hooks: registers the ``<panic>`` device class.

VDSM's legacy conf flow produced no panic devices, so this plugin has no legacy rule.
"""

from devframe import DeviceTypeRegister, hookimpl
from devframe_panic.device import Panic


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Panic)
