"""The rng plugin: registers the ``<rng>`` class.

Everything about the kind lives in :class:`devframe_rng.device.Rng`. There is no legacy
conf rule: rngs come as dev_specs or domain XML.
"""

from devframe import DeviceTypeRegister, hookimpl
from devframe_rng.device import Rng


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Rng)
