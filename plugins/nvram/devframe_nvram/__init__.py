"""devframe plugin for the ``<nvram>`` device of pseries guests."""

from devframe_nvram.device import Nvram

__all__ = ["Nvram"]
