"""Errors devframe raises.

Every error caused by bad input derives from :class:`DevframeError`, so an agent can
catch one class at its boundary. Messages name what was wrong and where: the file or
source, the line, the device, the key.
"""

from __future__ import annotations

import reprlib

from devframe.core.limits import describe_int
from devframe.core.log import redact_text


class _Quoter(reprlib.Repr):
    """repr() for messages: bounded in depth and length, and an integer past Python's
    int/str limit shown by its size (``repr`` of it raises)."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 8
        self.maxdict = self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = 50
        self.maxstring = self.maxother = 200
        self.maxlong = 200

    def repr_int(self, x: int, level: int) -> str:
        return describe_int(x)


_QUOTER = _Quoter()


def quoted(value: object, limit: int = 200) -> str:
    """``repr(value)`` cut to ``limit`` characters for an error message. Never raises: a
    50 MB string, an integer past Python's int/str limit, a value 2,000 levels deep or
    holding itself, a failing ``__repr__`` all give a short text."""
    try:
        if isinstance(value, str):
            return repr(value[: limit + 1] if len(value) > 10_000 else value)[:limit]
        if isinstance(value, (dict, list, tuple, set, frozenset, int)) and not isinstance(value, bool):
            return _QUOTER.repr(value)[:limit]
        return repr(value)[:limit]
    except Exception:  # noqa: BLE001 - a message must be built whatever the value
        return f"<{type(value).__name__}>"


def describe_exception(exc: BaseException) -> str:
    """An exception as a message part: its type and text, bounded, secrets redacted (the
    text of a plugin's exception may quote the value it choked on)."""
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - str() of an exception fails on a huge int in its args
        text = ""
    return redact_text(f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__)


class DevframeError(Exception):
    """Base of every error devframe raises on bad input."""


class XMLError(DevframeError):
    """XML that is malformed or was refused by the safe parser (DTD, entities, size)."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.source = source
        self.line = line
        self.column = column
        where = []
        if source:
            where.append(source)
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class FieldValueError(DevframeError):
    """A device field holds (or was given) a value that does not fit its type."""

    def __init__(self, device: str, field: str, value: object, reason: str) -> None:
        self.device = device
        self.field = field
        self.value = value
        self.reason = reason
        # Quote a bounded part of the value: a 50 MB attribute must not become a 50 MB message.
        super().__init__(f"{device}: field {field!r}: {reason} (got {quoted(value)})")


class SpecError(DevframeError):
    """A dev_spec (engine device dict) that cannot become a device."""


class SpecValueError(FieldValueError, SpecError):
    """A dev_spec key whose value does not fit its field: both a SpecError (the spec is
    bad) and a FieldValueError (naming the device, the key and the reason)."""

    def __init__(self, device: str, key: str, value: object, reason: str) -> None:
        self.device = device
        self.field = key
        self.value = value
        self.reason = reason
        DevframeError.__init__(self, f"{device}: dev_spec key {key!r}: {reason} (got {quoted(value)})")


class PluginError(DevframeError):
    """A plugin that failed to load, register, or answer a hook correctly."""

    def __init__(self, plugin: str, message: str) -> None:
        self.plugin = plugin
        super().__init__(f"plugin {plugin!r}: {message}")


class ClaimConflictError(PluginError):
    """Two plugins claim the same `<devices>` child or the same dev_type."""


class DomainError(DevframeError):
    """A domain document that is not a libvirt `<domain>` or an invalid edit of one."""


class MetadataError(DevframeError):
    """Malformed or ambiguous per-device or VM metadata."""
