"""The crypto plugin's hook: registers the ``<crypto>`` device class.

Everything about ``<crypto>`` lives in :class:`devframe_crypto.device.Crypto`. VDSM's
legacy conf never produced a crypto device, so the plugin has no legacy-conf rule.
"""

from devframe import DeviceTypeRegister, hookimpl
from devframe_crypto.device import Crypto


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Crypto)
