"""The ``<emulator>`` dev_class: the binary that runs the guest.

Models libvirt's ``<emulator>`` element, the optional first child of ``<devices>``
(formatdomain "Devices")::

    <emulator>/usr/bin/qemu-system-x86_64</emulator>

Its text is the absolute path of the emulator binary; libvirt's schema gives it no
attribute, no alias and no address. Without one, libvirt picks the binary for the
guest's arch and machine.

dev_spec mapping (engine key on the left, XML place on the right):

============== ================================================================
``device``     always ``"emulator"``
``path``       the element's text (an absolute path: ``/...``, or ``C:\\...``)
``deviceId``   kept in the device's metadata: libvirt gives an emulator no
               ``<alias>`` to carry a ``ua-<deviceId>`` in
============== ================================================================

A spec without ``path``, or with one that is not an absolute path, is a
:class:`devframe.SpecError` naming ``path``: the element has no use without it, and
which binary a host has is not a default a spec can fill. Reading never rejects the
text: a relative path is kept and reported by ``problems()``; assigning one is refused.

Identity: ``{"devtype": "emulator", "name": "emulator"}``, the same for every
emulator (a domain has at most one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from devframe import ABS_PATH, Device, Field, Identity, SpecError

__all__ = ["Emulator"]


class Emulator(Device):
    """The emulator binary. Identity: the kind itself (a domain has one emulator)."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "emulator"
    identity_devtype: ClassVar[str | None] = "emulator"  # every identity() holds it
    tag: ClassVar[str] = "emulator"
    description: ClassVar[str] = "the emulator binary (<emulator>path</emulator>)"
    # libvirt's schema has no <alias> for the emulator: the engine's deviceId lives in metadata.
    has_alias: ClassVar[bool] = False
    metadata_keys: ClassVar[Mapping[str, type | None]] = {"deviceId": str}

    path = Field(".", ABS_PATH, spec="path", doc="absolute path of the emulator binary")

    def read_spec(self, rest: dict[str, Any]) -> None:
        """The path is required: an ``<emulator>`` without one is refused by libvirt."""
        if self.path is None:
            raise SpecError(f"{self.describe()}: dev_spec key 'path' (the emulator binary) is required")

    def identity(self) -> Identity | None:
        """Always the kind: a domain has at most one emulator.

        ``name`` repeats the kind because the metadata section keys no entry by an
        identity that holds ``devtype`` alone (oVirt keys by ``devtype`` and ``name``)."""
        return {"devtype": "emulator", "name": "emulator"}
