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

from typing import Any, ClassVar, TypeVar

from devframe import (
    ON_OFF,
    STR,
    AcpiIndex,
    Choice,
    Device,
    ElementView,
    Field,
    FieldValueError,
    Flag,
    Identity,
    IntRange,
    Pattern,
    SpecError,
)

__all__ = ["MODELS", "ROLES", "Shmem"]

MODELS = ("ivshmem", "ivshmem-plain", "ivshmem-doorbell")
ROLES = ("master", "peer")

_NO_MODEL = "shmem"  # the spec ``device`` of an element without <model>

T = TypeVar("T")


# -- kinds ---------------------------------------------------------------------------------


UINT = IntRange(0, 2**32 - 1, name="unsignedInt")
ULONG = IntRange(0, 2**64 - 1, name="unsignedLong")
#: libvirt's ``unit`` (b, bytes, KB, KiB, k, M, MiB, G, ...)
UNIT = Pattern("unit", r"([bB]([yY][tT][eE][sS]?)?)|([kKmMgGtTpPeE]([iI]?[bB])?)")
#: a shmem name: any text without ``/`` (it names an object under /dev/shm)
NAME = Pattern("shmem name (no '/')", r"[^/]*")


# -- fields whose bad spec values are SpecErrors ------------------------------------------------


def _spec_error(view: ElementView, key: str, reason: str, value: object) -> SpecError:
    return SpecError(f"{view.describe()}: dev_spec key {key!r}: {reason} (got {value!r:.80})")


class SpecField(Field[T]):
    """A :class:`devframe.Field` whose unusable dev_spec value is a ``SpecError`` naming the key.

    devframe's own fields raise ``FieldValueError`` there (a DevframeError, not a
    SpecError). Text fields (plain and Choice) take only strings from a spec: an engine's
    ``7`` or ``2.0`` is no name, path or model.
    """

    def apply_spec_value(self, view: ElementView, value: Any) -> None:
        key = self.spec or self.name
        textual = isinstance(self.kind, Choice) or self.kind is STR
        if textual and value is not None and not isinstance(value, str):
            raise _spec_error(view, key, f"expected a string, got {type(value).__name__}", value)
        try:
            super().apply_spec_value(view, value)
        except FieldValueError as exc:
            raise _spec_error(view, key, exc.reason, exc.value) from None


class Presence(Flag):
    """An empty child element as a bool that is only in the spec when present.

    ``<server/>`` alone means "a doorbell server at the default path", so its presence
    is a value; its absence is no spec key (like any absent attribute).
    """

    def spec_value(self, view: ElementView) -> Any:
        return True if self.__get__(view, type(view)) else None

    def apply_spec_value(self, view: ElementView, value: Any) -> None:
        if isinstance(value, str):
            try:
                value = ON_OFF.coerce(value)
            except ValueError:
                raise _spec_error(view, self.spec or self.name, "expected a bool", value) from None
        if not isinstance(value, bool):
            raise _spec_error(view, self.spec or self.name, f"expected a bool, got {type(value).__name__}", value)
        self.__set__(view, value)


# -- the device --------------------------------------------------------------------------------


class Shmem(AcpiIndex, Device):
    """A shared memory device (see the module docstring). Identity: its name."""

    dev_type: ClassVar[str] = "shmem"
    tag: ClassVar[str] = "shmem"
    description: ClassVar[str] = "inter-VM shared memory (<shmem name=...>, ivshmem)"
    child_order: ClassVar[tuple[str, ...]] = ("model", "size", "server", "msi", "alias", "acpi", "address")

    model = SpecField("model@type", Choice(*MODELS), spec="device", doc="ivshmem model")
    name = SpecField("@name", NAME, spec="specParams.name", doc="the host shared memory object")
    role = SpecField("@role", Choice(*ROLES), spec="specParams.role", doc="migration role")
    size = SpecField("size", ULONG, spec="specParams.size", doc="size, in size_unit")
    size_unit = SpecField("size@unit", UNIT, spec="specParams.sizeUnit", doc="unit of size (default MiB)")
    server = Presence("server", spec="specParams.server", doc="uses a doorbell server")
    server_path = SpecField("server@path", STR, spec="specParams.serverPath", doc="doorbell server socket")
    msi_vectors = SpecField("msi@vectors", UINT, spec="specParams.msi.vectors", doc="MSI interrupt vectors")
    msi_ioeventfd = SpecField("msi@ioeventfd", ON_OFF, spec="specParams.msi.ioeventfd")

    def read_spec(self, rest: dict[str, Any]) -> None:
        """``device == "shmem"`` builds no ``<model>``; the name is required."""
        if rest.get("device") == _NO_MODEL:
            self.model = None
        if self.element.get("name") is None:
            raise SpecError(f"{self.describe()}: dev_spec key 'specParams.name' is required")

    def identity(self) -> Identity | None:
        """The name, read from the element."""
        name = self.element.get("name")
        return {"devtype": "shmem", "name": name} if name else None
