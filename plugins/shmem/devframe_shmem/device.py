"""The ``<shmem>`` dev_class: an inter-VM shared memory device (ivshmem).

Models libvirt's ``<shmem>`` element (formatdomain "Shared memory device"; schema
``shmem``)::

    <shmem name='my_shmem0' role='peer'>
      <model type='ivshmem-doorbell'/>
      <size unit='M'>4</size>
      <server path='/tmp/socket-shmem0'/>
      <msi vectors='32' ioeventfd='on'/>
      <alias name='ua-...'/>
      <acpi index='4'/>
      <address type='pci' .../>
    </shmem>

VDSM had no shmem device; the dev_spec follows the other kinds: ``device`` is the model
and every attribute is under ``specParams`` with libvirt's names:

============================== ================================================================
``device``                     ``model@type`` (ivshmem, ivshmem-plain, ivshmem-doorbell).
                               An element without ``<model>`` gives ``"shmem"``, which
                               builds none again (libvirt then picks the model).
``alias`` / ``deviceId``       ``alias@name`` (``ua-<deviceId>``)
``address``                    the direct child ``address`` (a dict)
``specParams.name``            ``@name`` (required; no ``/``)
``specParams.role``            ``@role`` (master, peer)
``specParams.size``            ``size`` text (int)
``specParams.sizeUnit``        ``size@unit`` (b, KiB, M, MiB, G, ...; libvirt's default MiB)
``specParams.server``          ``<server>`` present (bool; only shown when true): a doorbell
                               server at libvirt's default socket path
``specParams.serverPath``      ``server@path`` (the doorbell server's socket)
``specParams.msi.vectors``     ``msi@vectors`` (int)
``specParams.msi.ioeventfd``   ``msi@ioeventfd`` (bool, on/off)
``specParams.acpiIndex``       ``acpi@index`` (core ``AcpiIndex``)
============================== ================================================================

Numbers are accepted as ints or decimal strings; ``to_spec`` gives ints. A spec value
that cannot be used is a :class:`devframe.SpecError` naming its key, and so is a spec
without ``specParams.name`` (libvirt requires the name; it names the host's shared memory
object, so no default could be right).

Identity without an alias: the name (the host object two guests share; unique in a
domain).
"""

from __future__ import annotations

from typing import Any, ClassVar

from devframe import (
    ON_OFF,
    STR,
    UINT32,
    ULONG,
    UNIT,
    AcpiIndex,
    Choice,
    Device,
    Field,
    Identity,
    Pattern,
    PresentFlag,
    SpecError,
)

__all__ = ["MODELS", "ROLES", "Shmem"]

MODELS = ("ivshmem", "ivshmem-plain", "ivshmem-doorbell")
ROLES = ("master", "peer")

_NO_MODEL = "shmem"  # the spec ``device`` of an element without <model>


#: a shmem name: any text without ``/`` (it names an object under /dev/shm)
NAME = Pattern("shmem name (no '/')", r"[^/]*")


# -- the device --------------------------------------------------------------------------------


class Shmem(AcpiIndex, Device):
    """A shared memory device (see the module docstring). Identity: its name."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "shmem"
    identity_devtype: ClassVar[str | None] = "shmem"  # every identity() holds it
    tag: ClassVar[str] = "shmem"
    description: ClassVar[str] = "inter-VM shared memory (<shmem name=...>, ivshmem)"
    child_order: ClassVar[tuple[str, ...]] = ("model", "size", "server", "msi", "alias", "acpi", "address")

    model = Field("model@type", Choice(*MODELS), spec="device", absent_spec=_NO_MODEL, doc="ivshmem model")
    name = Field("@name", NAME, spec="specParams.name", doc="the host shared memory object")
    role = Field("@role", Choice(*ROLES), spec="specParams.role", doc="migration role")
    size = Field("size", ULONG, spec="specParams.size", doc="size, in size_unit")
    size_unit = Field("size@unit", UNIT, spec="specParams.sizeUnit", doc="unit of size (default MiB)")
    server = PresentFlag("server", spec="specParams.server", doc="uses a doorbell server")
    server_path = Field("server@path", STR, spec="specParams.serverPath", doc="doorbell server socket")
    msi_vectors = Field("msi@vectors", UINT32, spec="specParams.msi.vectors", doc="MSI interrupt vectors")
    msi_ioeventfd = Field("msi@ioeventfd", ON_OFF, spec="specParams.msi.ioeventfd")

    def read_spec(self, rest: dict[str, Any]) -> None:
        """The name is required."""
        if self.element.get("name") is None:
            raise SpecError(f"{self.describe()}: dev_spec key 'specParams.name' is required")

    def identity(self) -> Identity | None:
        """The name, read from the element."""
        name = self.element.get("name")
        return {"devtype": "shmem", "name": name} if name else None
