"""Helpers shared by the commands: reading a domain, redacting secrets, JSON output."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from devframe.core.domain import Domain

__all__ = ["STDIN", "echo_json", "read_domain", "read_input", "redact"]

STDIN = "-"

# Attribute and key names whose values are never shown (graphics passwd, RBD secrets).
_SECRET_NAMES = frozenset({"passwd", "password", "secret", "iscsi_password", "token"})
REDACTED = "***"


def read_input(path: str) -> tuple[bytes, str]:
    """The bytes of ``path`` (``-`` is stdin) and the name to use in errors."""
    from devframe.core.errors import DevframeError
    from devframe.core.safexml import ParseLimits

    limits = ParseLimits.from_env()
    if path == STDIN:
        data = sys.stdin.buffer.read(limits.max_bytes + 1)
        if len(data) > limits.max_bytes:
            raise DevframeError(f"<stdin>: input is larger than the limit of {limits.max_bytes} bytes")
        return data, "<stdin>"
    try:
        with open(path, "rb") as handle:
            data = handle.read(limits.max_bytes + 1)
    except OSError as exc:
        raise DevframeError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > limits.max_bytes:
        raise DevframeError(
            f"{path}: file is larger than the limit of {limits.max_bytes} bytes (DEVFRAME_XML_MAX_BYTES)"
        )
    return data, path


def read_domain(path: str, ctx: click.Context | None = None) -> Domain:
    """Parse the domain in ``path`` (or stdin) with this invocation's registry."""
    from devframe.cli import get_registry
    from devframe.core.domain import parse_domain
    from devframe.core.safexml import ParseLimits

    data, source = read_input(path)
    return parse_domain(data, registry=get_registry(ctx), source=source, limits=ParseLimits.from_env())


def _redact_xml(text: str) -> str:
    from lxml import etree

    try:
        element = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return REDACTED if any(name in text.lower() for name in _SECRET_NAMES) else text
    changed = False
    for node in element.iter():
        for name in list(node.attrib):
            if str(name).lower() in _SECRET_NAMES:
                node.set(name, REDACTED)
                changed = True
    if not changed:
        return text
    return str(etree.tostring(element, encoding="unicode"))


def redact(value: Any, depth: int = 0) -> Any:
    """A copy of a dev_spec (or any JSON-like value) with secret values replaced.

    Secret keys are replaced at any depth; the verbatim XML an UnknownDevice carries
    under ``xml`` has its secret attributes (``passwd``) replaced too.
    """
    if depth > 50:
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            lowered = str(key).lower()
            if lowered in _SECRET_NAMES and item is not None:
                out[key] = REDACTED
            elif lowered == "xml" and isinstance(item, str):
                out[key] = _redact_xml(item)
            else:
                out[key] = redact(item, depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [redact(item, depth + 1) for item in value]
    return value


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout (anything else as its str)."""
    click.echo(json.dumps(value, indent=2, default=str, ensure_ascii=False))
