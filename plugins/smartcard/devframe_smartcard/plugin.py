"""The smartcard plugin: registers the ``<smartcard>`` class.

Everything about the kind lives in :class:`devframe_smartcard.device.Smartcard`. It has
no legacy conf rule: smartcards come as dev_specs or domain XML.
"""

from devframe import DeviceTypeRegister, hookimpl
from devframe_smartcard.device import Smartcard


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Smartcard)
