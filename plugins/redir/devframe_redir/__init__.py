"""devframe plugin for USB redirection: ``<redirdev>`` devices and the ``<redirfilter>``."""

from devframe_redir.device import Redirdev, Redirfilter, UsbDevRule

__all__ = ["Redirdev", "Redirfilter", "UsbDevRule"]
