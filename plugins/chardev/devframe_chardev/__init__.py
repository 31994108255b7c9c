"""devframe plugin for libvirt's character devices: ``<serial>``, ``<console>``,
``<channel>`` and ``<parallel>``, sharing the core's chardev source model."""

from devframe_chardev.device import Channel, Console, Parallel, Serial

__all__ = ["Channel", "Console", "Parallel", "Serial"]
