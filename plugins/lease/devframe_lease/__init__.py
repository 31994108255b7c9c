"""devframe plugin for ``<lease>`` devices."""

from devframe_lease.device import Lease

__all__ = ["Lease"]
