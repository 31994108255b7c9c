"""Hook implementations of the graphics plugin."""

from __future__ import annotations

from devframe import DeviceType, hookimpl
from devframe_graphics.device import Graphics


@hookimpl
def devframe_device_types() -> list[DeviceType]:
    return [DeviceType("graphics", Graphics)]
