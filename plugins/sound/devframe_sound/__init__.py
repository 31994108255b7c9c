"""devframe plugin for ``<sound>`` devices."""

from devframe_sound.device import Codec, Sound

__all__ = ["Codec", "Sound"]
