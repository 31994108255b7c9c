"""The pstore plugin's hook: registers the ``<pstore>`` device class.

Everything about ``<pstore>`` lives in :class:`devframe_pstore.device.Pstore`. VDSM's
legacy conf never produced a pstore, so the plugin has no legacy-conf rule.
"""

from devframe import DeviceTypeRegister, hookimpl
from devframe_pstore.device import Pstore


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Pstore)
