"""devframe plugin for ``<hub>`` devices (USB hubs)."""

from devframe_hub.device import HUB_TYPES, Hub

__all__ = ["HUB_TYPES", "Hub"]
