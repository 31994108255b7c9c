"""What differs between two devices of one kind, field by field.

A live update compares the device libvirt runs with the one the caller wants: each
declared field is compared by its XML (:meth:`devframe.Field.compared`), so a value
written differently but meaning the same (``yes`` and ``on``) still counts as a change
libvirt is asked for. A change carries what the field declares about it: whether it
can be made on a running domain (``Field(live=...)``) and whether its values are
secret (then never shown). :func:`copy_fields` applies changes onto another element
(libvirt's live or persistent XML of the device), touching nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from devframe.core.device import Device
from devframe.core.errors import DevframeError
from devframe.core.fields import REDACTED, ElementView

__all__ = ["FieldChange", "copy_fields", "field_changes"]


@dataclass(frozen=True)
class FieldChange:
    """One field whose XML differs between the running and the wanted device.

    ``old`` and ``new`` are the values as XML holds them (None: absent), shown as
    ``***`` for a secret field. ``live``: the field can change on a running domain
    (for that running device). ``removal``: the wanted device has no value there.
    """

    name: str
    spec: str | None
    old: Any
    new: Any
    live: bool
    removal: bool
    secret: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.name,
            "spec": self.spec,
            "old": self.old,
            "new": self.new,
            "live": self.live,
        }

    def __str__(self) -> str:
        return f"{self.name}: {_text(self.old)} -> {_text(self.new)}"


def _text(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, tuple):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return repr(value)


def _absent(value: object) -> bool:
    # What a field holds when the element has nothing there.
    return value is None or value is False or value == ()


def _shown(value: object, secret: bool) -> Any:
    if secret and not _absent(value):
        return REDACTED
    if isinstance(value, tuple):
        return tuple(v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in value)
    return value


def field_changes(running: Device, wanted: Device) -> list[FieldChange]:
    """Every declared field whose XML differs between ``running`` and ``wanted``, in
    declaration order. Both must be of one device class."""
    if type(running) is not type(wanted):
        raise DevframeError(
            f"cannot compare {running.describe()} ({type(running).__name__}) with "
            f"{wanted.describe()} ({type(wanted).__name__}): not one device class"
        )
    changes = []
    for name, field in type(running).fields.items():
        old, new = field.compared(running), field.compared(wanted)
        if old == new:
            continue
        changes.append(
            FieldChange(
                name=name,
                spec=field.spec,
                old=_shown(old, field.secret),
                new=_shown(new, field.secret),
                live=field.live_for(running),
                removal=_absent(new),
                secret=field.secret,
            )
        )
    return changes


def copy_fields(source: Device, target: ElementView, names: Iterable[str]) -> None:
    """Give ``target`` (an element of the same device class) the XML ``source`` has for
    the fields ``names``; everything else of ``target`` stays as it is."""
    fields = type(source).fields
    for name in names:
        fields[name].copy_value(source, target)
