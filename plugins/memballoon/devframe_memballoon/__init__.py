"""devframe plugin for ``<memballoon>`` devices (VDSM's ``balloon``)."""

from devframe_memballoon.device import BALLOON_MODELS, Memballoon

__all__ = ["BALLOON_MODELS", "Memballoon"]
