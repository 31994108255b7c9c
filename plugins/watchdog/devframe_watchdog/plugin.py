"""The watchdog plugin's hooks: registers the ``<watchdog>`` device class.

VDSM's legacy conf flow produced no watchdog (engines before 3.3 sent none), so this
plugin has no legacy rule.
"""

from devframe import DeviceTypeRegister, hookimpl
from devframe_watchdog.device import Watchdog


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Watchdog)
