"""The rng plugin: registers the <rng> device class."""

from devframe import DeviceTypeRegister, hookimpl
from devframe_myrng.device import Rng


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Rng)
