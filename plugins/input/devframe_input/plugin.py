"""The input plugin's hooks: registers the ``<input>`` device class.

VDSM's legacy conf flow produced no input devices (engines before 3.3 sent none; libvirt
adds the machine's PS/2 mouse and keyboard itself), so this plugin has no legacy rule.
"""

from devframe import DeviceTypeRegister, hookimpl
from devframe_input.device import Input


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Input)
