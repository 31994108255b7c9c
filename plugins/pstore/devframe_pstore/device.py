"""The ``<pstore>`` dev_class: persistent storage for guest crash records (not in libvirt 9.0's schema).

Models libvirt's ``<pstore>`` element (formatdomain "Pstore"), every attribute and
child of libvirt 11.3's schema::

    <pstore backend='acpi-erst'>
      <path>/var/lib/libvirt/qemu/domain-1-guest/acpi-erst</path>
      <size unit='KiB'>64</size>
      <alias name='ua-...'/>
      <address type='pci' .../>
    </pstore>

The guest's kernel keeps its last words (the tail of its log on a panic) there, in an
ACPI ERST device backed by a host file.

dev_spec mapping (engine key on the left, XML place on the right). VDSM and the oVirt
engine had no pstore device, so every key but ``device`` is under ``specParams``:

========================== ===========================================================
``device``                 ``@backend`` (acpi-erst). An element without a backend
                           gives ``"pstore"``, which builds none, so the round trip
                           is exact.
``alias``                  ``alias@name``
``deviceId``               the ``<deviceId>`` of a ``ua-<deviceId>`` alias
``address``                the direct child ``address`` (a dict)
``specParams.path``        ``path`` text (absolute host path of the backing file)
``specParams.size``        ``size`` text (int, 0 .. 2**64-1), in ``sizeUnit``
``specParams.sizeUnit``    ``size@unit`` (libvirt's units: ``b``, ``bytes``, ``KiB``,
                           ``k``, ``KB``, ``MiB``, ... ``EiB``; libvirt writes
                           ``KiB``). Written as given: no unit is added to a size
                           that comes without one.
========================== ===========================================================

Engines send numbers as strings as often as ints; both are accepted, ``to_spec`` gives
ints. A value that cannot be used (a size that is no unsigned int, a unit libvirt does
not know, a relative path) is a :class:`devframe.SpecError` naming the key.

Defaults: the schema requires ``@backend`` and ``<size>``; a spec without them builds
``backend='acpi-erst'`` (the only backend libvirt knows) and ``<size unit='KiB'>64</size>``
(eight of QEMU's 8 KiB ERST records: libvirt itself has no default). A spec that names
a ``sizeUnit`` without a ``size`` is a SpecError naming ``specParams.size``. ``path`` is
left to libvirt, which makes one under the domain's state directory.

Identity without an alias: the backend (a domain has at most one pstore).
"""

from __future__ import annotations

from typing import Any, ClassVar

from devframe import ABS_PATH, ULONG, UNIT, Choice, Device, Field, Identity, SpecError

__all__ = ["BACKENDS", "DEFAULT_SIZE_KIB", "Pstore"]

#: Every ``@backend`` libvirt 11.3's schema allows for ``<pstore>``.
BACKENDS = ("acpi-erst",)

#: The size (KiB) a spec without one gets.
DEFAULT_SIZE_KIB = 64

_NO_BACKEND = "pstore"  # the spec ``device`` of an element without @backend (Device.spec_device)


class Pstore(Device):
    """A pstore (ACPI ERST) device. Identity without an alias: its backend."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "pstore"
    identity_devtype: ClassVar[str | None] = "pstore"  # every identity() holds it
    tag: ClassVar[str] = "pstore"
    description: ClassVar[str] = "guest crash-record stores (<pstore backend=...>)"
    # libvirt writes the children in this order; new ones are put in place.
    child_order: ClassVar[tuple[str, ...]] = ("path", "size", "alias", "address")

    backend = Field(
        "@backend",
        Choice(*BACKENDS),
        spec="device",
        default="acpi-erst",
        absent_spec=_NO_BACKEND,
        doc="pstore backend",
    )
    path = Field("path", ABS_PATH, spec="specParams.path", doc="host file backing the store")
    size = Field("size", ULONG, spec="specParams.size", doc="store size, in size_unit")
    size_unit = Field("size@unit", UNIT, spec="specParams.sizeUnit", doc="unit of size (libvirt: KiB)")

    def read_spec(self, rest: dict[str, Any]) -> None:
        """Give a spec without ``size`` libvirt's required ``<size>`` (see the module doc)."""
        if self.size is not None:
            return
        if self.size_unit is not None:
            raise SpecError("pstore spec key 'specParams.size': missing, while 'specParams.sizeUnit' is given")
        self.size = DEFAULT_SIZE_KIB
        self.size_unit = "KiB"

    def identity(self) -> Identity | None:
        """The backend (a domain has at most one pstore); None without one."""
        backend = self.element.get("backend")
        return {"devtype": "pstore", "backend": backend} if backend else None
