"""The ``<interface>`` dev_class."""

from __future__ import annotations

from typing import ClassVar

from devframe import Device


class Nic(Device):
    """A ``<interface>`` device."""

    dev_type: ClassVar[str] = "interface"
    tag: ClassVar[str] = "interface"
