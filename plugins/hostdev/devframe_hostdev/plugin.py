"""The hostdev plugin's hooks: registers the ``<hostdev>`` device class.

Everything about ``<hostdev>`` lives in :class:`devframe_hostdev.device.Hostdev`. VDSM's
legacy (pre-3.3) flat conf had no host devices (they came later, in the ``devices``
list), so this plugin has no legacy conf rule.
"""

from __future__ import annotations

from devframe import DeviceTypeRegister, hookimpl
from devframe_hostdev.device import Hostdev


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Hostdev)
