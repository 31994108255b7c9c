"""devframe plugin for ``<graphics>`` devices."""

from devframe_graphics.device import Channel, Graphics, Listen
from devframe_graphics.plugin import LegacyConfError

__all__ = ["Channel", "Graphics", "LegacyConfError", "Listen"]
