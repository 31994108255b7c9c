"""devframe plugin for ``<disk>`` devices."""

from devframe_drive.device import Drive

__all__ = ["Drive"]
