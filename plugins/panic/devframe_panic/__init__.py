"""devframe plugin for ``<panic>`` devices (guest panic notifiers)."""

from devframe_panic.device import PANIC_MODELS, Panic

__all__ = ["PANIC_MODELS", "Panic"]
