"""The ``<lease>`` dev_class: a lock manager lease the VM holds while it runs.

Models libvirt's ``<lease>`` element (formatdomain "Device leases"; schema ``lease``)::

    <lease>
      <lockspace>4f1e2a0c-9b7d-4e36-a58c-d2b6f3e10a97</lockspace>
      <key>13c9f4e7-8a52-4d1b-b6f3-a0e7d2c85941</key>
      <target path='/rhev/data-center/mnt/blockSD/.../dom_md/xleases' offset='3145728'/>
    </lease>

libvirt gives a lease no ``<alias>`` and no ``<address>`` (its schema has a place for
neither), so a spec's ``alias`` and ``address`` are not written into the element: they
are kept in the device's metadata, like the engine's ``deviceId`` (``metadata_keys``:
metadata by design, never reported as unmapped).

dev_spec mapping (VDSM's lease spec: ``{"type": "lease", "device": "lease", "sd_id": ...,
"lease_id": ..., "path": ..., "offset": ...}``):

=============== ===============================================================================
``device``      ``"lease"``
``sd_id``       ``lockspace`` text (the storage domain holding the lease; required)
``lease_id``    ``key`` text (the lease's id, the VM id for a VM lease; required)
``path``        ``target@path`` (the lease file or volume)
``offset``      ``target@offset`` (int, bytes into ``path``)
``deviceId``    kept in the device's metadata (no ``<alias>`` to hold it)
=============== ===============================================================================

Placeholders: the engine does not know where a lease lives on a host; it writes
``LEASE-PATH:<lease_id>:<sd_id>`` into ``target@path`` and
``LEASE-OFFSET:<lease_id>:<sd_id>`` into ``target@offset``, and :meth:`Lease.prepare`
resolves both through ``Resolvers.lease_value`` (an explicit value for the exact
placeholder text wins; else the agent's ``lease(lease_id, sd_id)`` resolver). Until
then :attr:`Lease.offset` reads as the placeholder text, and once resolved as an int.
A spec without ``path`` gets both placeholders (VDSM's engine sent ``sd_id`` and
``lease_id`` only and let the host find the lease), so an engine spec builds the same
XML the engine writes.

A spec value that cannot be used is a :class:`devframe.SpecError` naming its key: a
missing or empty ``sd_id``/``lease_id``, a negative offset, an offset that is neither an
int nor a ``LEASE-OFFSET:`` placeholder.

Identity without an alias: lockspace and key (one lease per key and lockspace).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from devframe import (
    STR,
    UINT32,
    AddressField,
    Device,
    Field,
    Identity,
    Kind,
    PlaceholderError,
    Resolvers,
    SpecError,
)

__all__ = ["LEASE_OFFSET", "LEASE_PATH", "OFFSET", "Lease", "Offset"]

#: the engine's placeholders for a lease's host location (resolved by :meth:`Lease.prepare`)
LEASE_PATH = "LEASE-PATH:"
LEASE_OFFSET = "LEASE-OFFSET:"


class Offset(Kind[int | str]):
    """A lease offset: an unsigned int, or the engine's ``LEASE-OFFSET:`` placeholder text.

    The placeholder reads back as the text itself, so an engine domain gives its dev_spec
    (and round-trips) before :meth:`Lease.prepare` resolves it; anything else that is not
    an unsigned int is refused.
    """

    name = "offset (unsigned int or LEASE-OFFSET: placeholder)"
    python_type = int

    def parse(self, raw: str) -> int | str:
        if raw.strip().startswith(LEASE_OFFSET):
            return raw
        return UINT32.parse(raw)

    def format(self, value: int | str) -> str:
        if isinstance(value, str) and value.strip().startswith(LEASE_OFFSET):
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected int or a {LEASE_OFFSET} placeholder, got {type(value).__name__}")
        return UINT32.format(value)

    def coerce(self, value: object) -> int | str:
        if isinstance(value, str) and value.strip().startswith(LEASE_OFFSET):
            return value
        return UINT32.coerce(value)


OFFSET = Offset()


class Lease(Device):
    """A lock manager lease (see the module docstring). Identity: lockspace and key."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "lease"
    identity_devtype: ClassVar[str | None] = "lease"  # every identity() holds it
    tag: ClassVar[str] = "lease"
    description: ClassVar[str] = "lock manager leases (<lease><lockspace><key><target>)"
    # libvirt's schema has no <alias> for a lease: the engine's deviceId lives in metadata.
    has_alias: ClassVar[bool] = False
    # A spec's alias and address: metadata by design (the element has no place for them).
    metadata_keys: ClassVar[Mapping[str, type | None]] = {"alias": str, "address": dict}
    child_order: ClassVar[tuple[str, ...]] = ("lockspace", "key", "target")

    # No <alias> and no <address> in libvirt's lease: a spec's values go to metadata.
    alias: Field[str] = Field("alias@name", doc="not in libvirt's schema for leases (kept if present)")
    address = AddressField(spec=None)

    lockspace = Field("lockspace", STR, spec="sd_id", doc="lockspace (storage domain id)")
    key = Field("key", STR, spec="lease_id", doc="lease key (lease id)")
    path = Field("target@path", STR, spec="path", doc="lease file or volume")
    offset = Field("target@offset", OFFSET, spec="offset", doc="byte offset of the lease in path")

    # -- dev_spec -------------------------------------------------------------------------

    def read_spec(self, rest: dict[str, Any]) -> None:
        """``sd_id`` and ``lease_id`` are required; without ``path``, the placeholders."""
        lease_id = Field.raw(Lease.key, self)
        sd_id = Field.raw(Lease.lockspace, self)
        for spec_key, value in (("lease_id", lease_id), ("sd_id", sd_id)):
            if value is None or not value.strip():
                raise SpecError(f"{self.describe()}: dev_spec key {spec_key!r} is required (a non-empty string)")
        if Field.raw(Lease.path, self) is None:
            self.path = f"{LEASE_PATH}{lease_id}:{sd_id}"
            if Field.raw(Lease.offset, self) is None:
                self.offset = f"{LEASE_OFFSET}{lease_id}:{sd_id}"

    # -- host placeholders ----------------------------------------------------------------

    def prepare(self, resolvers: Resolvers) -> None:
        """Resolve ``LEASE-PATH:`` and ``LEASE-OFFSET:`` through ``resolvers.lease_value``."""
        where = self.describe()
        path = Field.raw(Lease.path, self)
        if path is not None and path.strip().startswith(LEASE_PATH):
            self.path = resolvers.lease_value(path.strip(), where)
        offset = Field.raw(Lease.offset, self)
        if offset is not None and offset.strip().startswith(LEASE_OFFSET):
            placeholder = offset.strip()
            value = resolvers.lease_value(placeholder, where)
            try:
                self.offset = UINT32.parse(value)
            except (ValueError, TypeError):
                raise PlaceholderError(
                    f"{where}: {placeholder!r} resolved to {value!r}, expected an offset (unsigned int)"
                ) from None

    # -- identity -------------------------------------------------------------------------

    def identity(self) -> Identity | None:
        """Lockspace and key, read from the element (None without a key)."""
        key_el = next(self.element.iterchildren("key"), None)
        key = (key_el.text or "").strip() if key_el is not None else ""
        if not key:
            return None
        identity = {"devtype": "lease", "key": key}
        lockspace_el = next(self.element.iterchildren("lockspace"), None)
        lockspace = (lockspace_el.text or "").strip() if lockspace_el is not None else ""
        if lockspace:
            identity["lockspace"] = lockspace
        return identity
