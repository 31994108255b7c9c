"""devframe plugin for ``<video>`` devices."""

from devframe_video.device import Video

__all__ = ["Video"]
