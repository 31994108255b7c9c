"""The ``<video>`` dev_class."""

from __future__ import annotations

from typing import ClassVar

from devframe import Device


class Video(Device):
    """A ``<video>`` device."""

    dev_type: ClassVar[str] = "video"
    tag: ClassVar[str] = "video"
