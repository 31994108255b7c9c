"""The ``<graphics>`` dev_class."""

from __future__ import annotations

from typing import ClassVar

from devframe import Device


class Graphics(Device):
    """A ``<graphics>`` device."""

    dev_type: ClassVar[str] = "graphics"
    tag: ClassVar[str] = "graphics"
