"""The emulator plugin's hooks: registers the ``<emulator>`` device class.

VDSM's legacy conf flow named no emulator (libvirt picks the binary for the guest's
arch and machine when the domain has no ``<emulator>``), so this plugin has no legacy
rule.
"""

from devframe import DeviceTypeRegister, hookimpl
from devframe_emulator.device import Emulator


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Emulator)
