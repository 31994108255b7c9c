"""The filesystem plugin: registers the ``<filesystem>`` device class.

Everything about ``<filesystem>`` lives in :class:`devframe_filesystem.device.Filesystem`.
VDSM's legacy conf flow never produced filesystems, so this plugin has no legacy rule.
"""

from devframe import DeviceTypeRegister, hookimpl
from devframe_filesystem.device import Filesystem


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Filesystem)
