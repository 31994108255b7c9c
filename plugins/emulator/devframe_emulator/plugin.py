"""The emulator plugin's hooks: registers the ``<emulator>`` device class.

No legacy conf rule: VDSM's legacy device conversion produced no emulator (libvirt
picks the binary for the guest's arch and machine when the domain has none; later VDSM
releases wrote ``/usr/bin/qemu-system-<arch>`` while building every VM's domain XML,
which is no conversion of a legacy conf).
"""

from devframe import DeviceTypeRegister, hookimpl
from devframe_emulator.device import Emulator


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Emulator)
