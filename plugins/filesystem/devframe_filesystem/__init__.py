"""devframe plugin for ``<filesystem>`` devices."""

from devframe_filesystem.device import Filesystem, IdMap

__all__ = ["Filesystem", "IdMap"]
