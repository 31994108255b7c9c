"""devframe plugin for ``<tpm>`` devices."""

from devframe_tpm.device import Tpm

__all__ = ["Tpm"]
