"""devframe plugin for the ``<emulator>`` of a domain's devices (the emulator binary)."""

from devframe_emulator.device import Emulator

__all__ = ["Emulator"]
