"""The ``<controller>`` dev_class."""

from __future__ import annotations

from typing import ClassVar

from devframe import Device


class Controller(Device):
    """A ``<controller>`` device."""

    dev_type: ClassVar[str] = "controller"
    tag: ClassVar[str] = "controller"
