"""devframe plugin for ``<video>`` devices."""

from devframe_video.device import MODEL_TYPES, Video

__all__ = ["MODEL_TYPES", "Video"]
