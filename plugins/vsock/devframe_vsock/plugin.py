"""The vsock plugin's hook: registers the ``<vsock>`` device class.

Everything about ``<vsock>`` lives in :class:`devframe_vsock.device.Vsock`. VDSM's
legacy conf never produced a vsock, so the plugin has no legacy-conf rule.
"""

from devframe import DeviceTypeRegister, hookimpl
from devframe_vsock.device import Vsock


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Vsock)
