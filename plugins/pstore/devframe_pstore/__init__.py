"""devframe plugin for ``<pstore>`` devices (persistent storage for guest crash records)."""

from devframe_pstore.device import Pstore

__all__ = ["Pstore"]
