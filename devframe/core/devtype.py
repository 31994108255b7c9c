"""What a plugin declares about each device type it provides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from devframe.core.device import Device

__all__ = ["Claim", "DeviceType", "MetadataSchema"]


@dataclass(frozen=True)
class Claim:
    """A `<devices>` child a plugin parses: a tag, optionally narrowed by an attribute.

    ``Claim("interface")`` takes every ``<interface>``; ``Claim("hostdev", attr="type",
    values=("pci", "usb"))`` only those whose ``type`` is one of ``values``.
    """

    tag: str
    attr: str | None = None
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.tag or not isinstance(self.tag, str):
            raise ValueError(f"a Claim needs a tag, got {self.tag!r}")
        if (self.attr is None) != (not self.values):
            raise ValueError("a Claim narrowed by an attribute needs both attr and values")
        object.__setattr__(self, "values", tuple(self.values))

    def overlaps(self, other: Claim) -> bool:
        """True when some element could be claimed by both."""
        if self.tag != other.tag:
            return False
        if self.attr is None or other.attr is None or self.attr != other.attr:
            return True
        return bool(set(self.values) & set(other.values))

    def __str__(self) -> str:
        if self.attr is None:
            return f"<{self.tag}>"
        return f"<{self.tag} {self.attr}={'|'.join(self.values)}>"


@dataclass(frozen=True)
class DeviceType:
    """One dev_type a plugin provides.

    ``dev_type`` is the name in the dev_map (the libvirt tag, e.g. ``"disk"``);
    ``dev_class`` the :class:`~devframe.Device` subclass of its dev_objects; ``claims``
    the `<devices>` children it parses (default: the tag ``dev_type``).
    """

    dev_type: str
    dev_class: type[Device]
    claims: tuple[Claim, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.dev_class, type) or not issubclass(self.dev_class, Device):
            raise TypeError(
                f"DeviceType {self.dev_type!r}: dev_class must be a devframe.Device subclass, got {self.dev_class!r}"
            )
        if self.dev_class.dev_type != self.dev_type:
            # Devices are grouped in the dev_map by their class's dev_type: a mismatch would
            # file them under another key than the one specs and routes use.
            raise TypeError(
                f"DeviceType {self.dev_type!r}: dev_class {self.dev_class.__name__} has "
                f"dev_type {self.dev_class.dev_type!r}; they must be the same"
            )
        claims = tuple(self.claims) or (Claim(self.dev_type),)
        object.__setattr__(self, "claims", claims)


@dataclass(frozen=True)
class MetadataSchema:
    """Which of a dev_type's dev_spec values live in the domain's ``<metadata>``.

    ``keys`` maps each key to the Python type it is read back as (``None``: any type;
    the typed codec keeps types anyway, the declared type coerces values written by
    producers that do not mark types, like older engines).
    """

    keys: Mapping[str, type | None] = field(default_factory=dict)

    def coerce(self, key: str, value: Any) -> Any:
        wanted = self.keys.get(key)
        if wanted is None or value is None or isinstance(value, wanted):
            return value
        if wanted is bool and isinstance(value, str):
            low = value.strip().lower()
            if low in ("true", "yes", "1", "on"):
                return True
            if low in ("false", "no", "0", "off"):
                return False
            return value
        if wanted in (int, float) and isinstance(value, str):
            try:
                return wanted(value)
            except ValueError:
                return value
        return value
