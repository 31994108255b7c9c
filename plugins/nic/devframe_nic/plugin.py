"""Hook implementations of the nic plugin."""

from __future__ import annotations

from devframe import DeviceType, hookimpl
from devframe_nic.device import Nic


@hookimpl
def devframe_device_types() -> list[DeviceType]:
    return [DeviceType("interface", Nic)]
