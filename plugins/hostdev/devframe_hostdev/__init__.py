"""devframe plugin for ``<hostdev>`` devices (host device assignment)."""

from devframe_hostdev.device import Hostdev, IpAddress, IscsiHost, Route

__all__ = ["Hostdev", "IpAddress", "IscsiHost", "Route"]
