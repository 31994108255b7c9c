"""devframe plugin for ``<interface>`` devices."""

from devframe_nic.device import Nic

__all__ = ["Nic"]
