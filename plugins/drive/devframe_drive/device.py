"""The ``<disk>`` dev_class."""

from __future__ import annotations

from typing import ClassVar

from devframe import Device


class Drive(Device):
    """A ``<disk>`` device."""

    dev_type: ClassVar[str] = "disk"
    tag: ClassVar[str] = "disk"
