"""devframe plugin for ``<audio>`` backends (where a guest's sound cards play and record)."""

from devframe_audio.device import AUDIO_TYPES, SAMPLE_FORMATS, SDL_DRIVERS, Audio

__all__ = ["AUDIO_TYPES", "SAMPLE_FORMATS", "SDL_DRIVERS", "Audio"]
