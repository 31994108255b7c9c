"""devframe plugin for ``<watchdog>`` devices."""

from devframe_watchdog.device import WATCHDOG_ACTIONS, WATCHDOG_MODELS, Watchdog

__all__ = ["WATCHDOG_ACTIONS", "WATCHDOG_MODELS", "Watchdog"]
