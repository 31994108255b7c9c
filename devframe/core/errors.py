"""Errors devframe raises.

Every error caused by bad input derives from :class:`DevframeError`, so an agent can
catch one class at its boundary. Messages name what was wrong and where: the file or
source, the line, the device, the key.
"""

from __future__ import annotations


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
        super().__init__(f"{device}: field {field!r}: {reason} (got {value!r:.200})")


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
        DevframeError.__init__(self, f"{device}: dev_spec key {key!r}: {reason} (got {value!r:.200})")


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
