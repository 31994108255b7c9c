"""devframe plugin for ``<rng>`` devices (random, egd and builtin backends)."""

from devframe_rng.device import Rng

__all__ = ["Rng"]
