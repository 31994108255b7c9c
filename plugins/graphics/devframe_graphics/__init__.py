"""devframe plugin for ``<graphics>`` devices."""

from devframe_graphics.device import Graphics

__all__ = ["Graphics"]
