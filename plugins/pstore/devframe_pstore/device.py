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

import re
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from devframe import INT, Choice, Device, Field, Identity, Kind, SpecError

__all__ = ["ABS_PATH", "BACKENDS", "DEFAULT_SIZE_KIB", "SIZE_UNIT", "UINT64", "AbsPath", "Pstore", "SizeUnit"]

T = TypeVar("T")

#: Every ``@backend`` libvirt 11.3's schema allows for ``<pstore>``.
BACKENDS = ("acpi-erst",)

#: The size (KiB) a spec without one gets.
DEFAULT_SIZE_KIB = 64

_NO_BACKEND = "pstore"  # the spec ``device`` of an element without @backend (Device.spec_device)


class UnsignedLong(Kind[int]):
    """An int in ``0 .. 2**64-1``, written in decimal (libvirt's ``unsignedLong``)."""

    name = "uint64"
    python_type = int

    @staticmethod
    def _checked(value: int) -> int:
        if not 0 <= value < 2**64:
            raise ValueError("expected an int in 0..2**64-1")
        return value

    def parse(self, raw: str) -> int:
        return self._checked(INT.parse(raw))

    def format(self, value: int) -> str:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected int, got {type(value).__name__}")
        return str(self._checked(value))

    def coerce(self, value: object) -> int:
        return self._checked(INT.coerce(value))


class _Pattern(Kind[str]):
    """A string that must match a pattern of libvirt's schema (else a reported problem)."""

    python_type = str

    def __init__(self, pattern: str, name: str, expected: str) -> None:
        self.pattern = re.compile(pattern)
        self.name = name
        self.expected = expected

    def parse(self, raw: str) -> str:
        if not self.pattern.fullmatch(raw):
            raise ValueError(f"expected {self.expected}")
        return raw

    def format(self, value: str) -> str:
        if not isinstance(value, str):
            raise TypeError(f"expected str, got {type(value).__name__}")
        return self.parse(value)

    def coerce(self, value: object) -> str:
        if not isinstance(value, str):
            raise TypeError(f"expected str, got {type(value).__name__}")
        return self.parse(value)


class SizeUnit(_Pattern):
    """A unit of libvirt's ``scaledInteger`` (``b``, ``bytes``, ``k``, ``KiB``, ``KB``, ... ``E``)."""

    def __init__(self) -> None:
        super().__init__(
            r"([bB]([yY][tT][eE][sS]?)?)|([kKmMgGtTpPeE]([iI]?[bB])?)", "unit", "a unit such as KiB, MiB, bytes"
        )


class AbsPath(_Pattern):
    """An absolute host path (libvirt's ``absFilePath``)."""

    def __init__(self) -> None:
        super().__init__(r"(/|[a-zA-Z]:\\).+", "absolute path", "an absolute path")


UINT64 = UnsignedLong()
SIZE_UNIT = SizeUnit()
ABS_PATH = AbsPath()


def _from_spec(kind: Kind[T], key: str) -> Callable[[Any], T]:
    """Convert a dev_spec value with ``kind``; one that does not fit is a SpecError naming ``key``."""

    def convert(value: Any) -> T:
        if kind.python_type is str and (not isinstance(value, str) or not value):
            raise SpecError(f"pstore spec key {key!r}: expected a non-empty string, got {value!r:.80}")
        try:
            return kind.coerce(value)
        except (ValueError, TypeError) as exc:
            raise SpecError(f"pstore spec key {key!r}: {exc} (got {value!r:.80})") from None

    return convert


def _field(path: str, kind: Kind[T], spec: str, *, default: T | None = None, doc: str = "") -> Field[T]:
    """A field whose dev_spec value is checked (a bad one is a SpecError naming ``spec``)."""
    return Field(path, kind, spec=spec, default=default, doc=doc, from_spec=_from_spec(kind, spec))


_check_backend = _from_spec(Choice(*BACKENDS), "device")


def _backend_from_spec(value: Any) -> str | None:
    # "pstore" is what an element without a backend reports: it builds none (exact round trip).
    return None if value == _NO_BACKEND else _check_backend(value)


class Pstore(Device):
    """A pstore (ACPI ERST) device. Identity without an alias: its backend."""

    dev_type: ClassVar[str] = "pstore"
    tag: ClassVar[str] = "pstore"
    description: ClassVar[str] = "guest crash-record stores (<pstore backend=...>)"
    # libvirt writes the children in this order; new ones are put in place.
    child_order: ClassVar[tuple[str, ...]] = ("path", "size", "alias", "address")

    backend = Field(
        "@backend",
        Choice(*BACKENDS),
        spec="device",
        default="acpi-erst",
        from_spec=_backend_from_spec,
        doc="pstore backend",
    )
    path = _field("path", ABS_PATH, "specParams.path", doc="host file backing the store")
    size = _field("size", UINT64, "specParams.size", doc="store size, in size_unit")
    size_unit = _field("size@unit", SIZE_UNIT, "specParams.sizeUnit", doc="unit of size (libvirt: KiB)")

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
