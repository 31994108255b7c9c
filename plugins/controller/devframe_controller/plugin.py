"""Hook implementations of the controller plugin."""

from __future__ import annotations

from devframe import DeviceType, hookimpl
from devframe_controller.device import Controller


@hookimpl
def devframe_device_types() -> list[DeviceType]:
    return [DeviceType("controller", Controller)]
