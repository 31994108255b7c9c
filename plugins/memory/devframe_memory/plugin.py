"""The memory plugin's hooks: registers the ``<memory>`` device class.

Everything about ``<memory>`` lives in :class:`devframe_memory.device.Memory`. VDSM's
legacy (pre-3.3) flat conf had no memory devices (memory hotplug came later, as a
dev_spec), so this plugin has no legacy conf rule.
"""

from __future__ import annotations

from devframe import DeviceTypeRegister, hookimpl
from devframe_memory.device import Memory


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Memory)
