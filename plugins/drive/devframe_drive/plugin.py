"""Hook implementations of the drive plugin."""

from __future__ import annotations

from devframe import DeviceType, hookimpl
from devframe_drive.device import Drive


@hookimpl
def devframe_device_types() -> list[DeviceType]:
    return [DeviceType("disk", Drive)]
