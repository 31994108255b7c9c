"""devframe plugin for ``<input>`` devices (mice, tablets, keyboards, evdev passthrough)."""

from devframe_input.device import BUSES, INPUT_TYPES, MODELS, Input

__all__ = ["BUSES", "INPUT_TYPES", "MODELS", "Input"]
