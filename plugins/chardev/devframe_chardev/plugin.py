"""The chardev plugin: registers the serial, console, channel and parallel classes.

Everything about each kind lives in its class (:mod:`devframe_chardev.device`). There is
no legacy conf rule: these kinds come as dev_specs or domain XML.
"""

from devframe import DeviceTypeRegister, hookimpl
from devframe_chardev.device import Channel, Console, Parallel, Serial


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    for dev_class in (Serial, Console, Channel, Parallel):
        register(dev_class)
