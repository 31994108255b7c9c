"""devframe plugin for ``<controller>`` devices."""

from devframe_controller.device import Controller

__all__ = ["Controller"]
