"""Hook implementations of the video plugin."""

from __future__ import annotations

from devframe import DeviceType, hookimpl
from devframe_video.device import Video


@hookimpl
def devframe_device_types() -> list[DeviceType]:
    return [DeviceType("video", Video)]
