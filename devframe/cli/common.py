"""Helpers shared by the commands: reading a domain, redacting secrets, JSON output."""

from __future__ import annotations

import json
import sys
import tempfile
from typing import IO, TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from devframe.core.domain import Domain
    from devframe.core.registry import Registry

__all__ = [
    "STDIN",
    "echo_json",
    "no_device_plugin_hint",
    "open_input",
    "read_domain",
    "read_input",
    "redact",
    "warn_no_device_plugins",
]

STDIN = "-"
#: stdin kept in memory up to this size when streamed, then in a temporary file
STDIN_MEMORY = 8 * 1024 * 1024

# Secrets are recognised by devframe.core.log's rules (one list for logs and output).
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


def open_input(path: str) -> tuple[str | IO[bytes], str]:
    """What to stream a document from (``-`` is stdin), and the name to use in errors.

    A path is returned as it is (each pass opens it). stdin can be read only once, so
    it is copied to a temporary file (in memory while small), refused past the size limit.
    """
    from devframe.core.errors import DevframeError
    from devframe.core.safexml import ParseLimits

    if path != STDIN:
        return path, path
    limits = ParseLimits.from_env()
    spool = tempfile.SpooledTemporaryFile(max_size=STDIN_MEMORY)  # the caller closes it
    size = 0
    while block := sys.stdin.buffer.read(1 << 20):
        size += len(block)
        if size > limits.max_bytes:
            spool.close()
            raise DevframeError(f"<stdin>: input is larger than the limit of {limits.max_bytes} bytes")
        spool.write(block)
    return spool, "<stdin>"


def read_domain(path: str, ctx: click.Context | None = None) -> Domain:
    """Parse the domain in ``path`` (or stdin) with this invocation's registry."""
    from devframe.cli import get_registry
    from devframe.core.domain import parse_domain
    from devframe.core.safexml import ParseLimits

    data, source = read_input(path)
    return parse_domain(data, registry=get_registry(ctx), source=source, limits=ParseLimits.from_env())


def redact(value: Any) -> Any:
    """A copy of a dev_spec (or any JSON-like value) with secret values replaced.

    Secret keys (``passwd``, ``*Password``, ``*Secret``, ... see
    :func:`devframe.core.log.is_secret_key`) are replaced at any depth, and so are
    secrets inside text: the verbatim XML an UnknownDevice carries under ``xml``, or a
    drive's unmodeled ``<auth><secret uuid=...>`` under ``specParams.xml``.
    """
    from devframe.core.log import redact_value

    return redact_value(value)


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout (anything else as its str)."""
    click.echo(json.dumps(value, indent=2, default=str, ensure_ascii=False))


#: What to install when no device plugin is: ``pip install devframe`` alone brings the core.
DEVICES_EXTRA = 'pip install "devframe[devices]"'


def no_device_plugin_hint(registry: Registry) -> str | None:
    """The hint to print when no device plugin is installed, else None.

    Without one every device is an UnknownDevice. A plugin that is blocked
    (``DEVFRAME_LOAD_PLUGINS`` / ``DEVFRAME_DISABLE_PLUGINS``) or broken is installed:
    ``devframe plugins`` reports it, and installing the extra would not help.
    """
    infos = registry.plugins.values()
    if any(info.dev_types or info.state != "loaded" for info in infos):
        return None
    return (
        "no device plugin is installed: every device is shown as unknown; "
        f"install the built-in ones with: {DEVICES_EXTRA}"
    )


def warn_no_device_plugins(registry: Registry) -> None:
    """Print :func:`no_device_plugin_hint` on stderr when it applies."""
    hint = no_device_plugin_hint(registry)
    if hint:
        click.echo(f"devframe: {hint}", err=True)
