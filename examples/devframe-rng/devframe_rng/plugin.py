"""Hook implementations of the rng plugin."""

from devframe import DeviceType, hookimpl
from devframe_rng.device import Rng


@hookimpl
def devframe_device_types() -> list[DeviceType]:
    return [DeviceType("rng", Rng, description="random number generators")]
