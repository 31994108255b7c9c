"""The parts of a device type's declaration that are values: what it claims, what it keeps
in metadata. The device class (:class:`devframe.Device`) holds them as class attributes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Claim", "MetadataSchema", "SpecAlias"]


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


@dataclass(frozen=True)
class SpecAlias:
    """Another spelling of a dev_spec key (an engine's own name for it).

    ``key`` is the canonical key it stands for (dotted: ``"specParams.ioTune"``);
    ``convert``, when given, turns the engine's value into the canonical one (raise
    ``ValueError``/``TypeError`` to refuse it; return None: nothing to write). A device
    class lists them in ``spec_aliases``; ``from_spec`` accepts them and ``to_spec``
    writes the canonical key.
    """

    key: str
    convert: Callable[[Any], Any] | None = None
