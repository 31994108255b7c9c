"""The tpm plugin: registers the ``<tpm>`` device class.

Everything about ``<tpm>`` lives in :class:`devframe_tpm.device.Tpm`. VDSM's legacy
conf flow never produced TPMs (they came with engine 4.4's dev_specs), so there is no
legacy rule.
"""

from devframe import DeviceTypeRegister, hookimpl
from devframe_tpm.device import Tpm


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Tpm)
