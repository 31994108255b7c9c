"""The input plugin's hooks: registers the ``<input>`` device class.

No legacy conf rule: VDSM's legacy device conversion (its ``getConf*`` rules) produced
no input device. VDSM's domain XML builder added one to every VM instead, legacy or
not (a USB tablet when the conf's ``tabletEnable`` was true, else a mouse: PS/2 on x86,
USB elsewhere); that is domain building, not the conversion of a legacy conf into
dev_specs, which this plugin would own.
"""

from devframe import DeviceTypeRegister, hookimpl
from devframe_input.device import Input


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Input)
