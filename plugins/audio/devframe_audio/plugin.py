"""The audio plugin's hooks: registers the ``<audio>`` backend class.

VDSM's legacy conf flow produced no audio backends (they are a libvirt 7.2 addition),
so this plugin has no legacy rule.
"""

from devframe import DeviceTypeRegister, hookimpl
from devframe_audio.device import Audio


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Audio)
