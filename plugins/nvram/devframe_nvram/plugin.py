"""The nvram plugin's hook: registers the ``<nvram>`` device class.

Everything about ``<nvram>`` lives in :class:`devframe_nvram.device.Nvram`. VDSM's
legacy conf never produced one, so the plugin has no legacy-conf rule.
"""

from devframe import DeviceTypeRegister, hookimpl
from devframe_nvram.device import Nvram


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Nvram)
