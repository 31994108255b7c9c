"""devframe plugin for ``<smartcard>`` devices (host, host-certificates, passthrough)."""

from devframe_smartcard.device import Smartcard

__all__ = ["Smartcard"]
