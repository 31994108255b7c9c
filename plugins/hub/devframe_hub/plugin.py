"""The hub plugin's hooks: registers the ``<hub>`` device class.

VDSM's legacy conf flow produced no hubs, so this plugin has no legacy rule.
"""

from devframe import DeviceTypeRegister, hookimpl
from devframe_hub.device import Hub


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Hub)
