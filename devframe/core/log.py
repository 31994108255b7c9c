"""Logging: structlog everywhere, configured only by applications (CLI, agent).

Library code calls :func:`get_logger` with bound context (domain, dev_type, alias,
plugin). :func:`configure_logging` picks a readable console renderer (default) or JSON
lines (``json=True`` or ``DEVFRAME_LOG_FORMAT=json``), writes to stderr, and always
runs :func:`redact_secrets` so passwords and secrets never reach a log.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, MutableMapping
from typing import IO, Any

import structlog

__all__ = ["get_logger", "configure_logging", "redact_secrets", "SECRET_KEYS"]

#: Event keys whose values are replaced by "***" wherever they appear (nested too).
SECRET_KEYS = frozenset(
    {
        "passwd",
        "password",
        "passwdvalidto",
        "secret",
        "auth",
        "usage",
        "key",
        "token",
        "iscsi_password",
    }
)
REDACTED = "***"


def _redact(value: Any, depth: int = 0) -> Any:
    if depth > 20:
        return value
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if isinstance(k, str) and k.lower() in SECRET_KEYS else _redact(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(_redact(v, depth + 1) for v in value)
    return value


def redact_secrets(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: replace the values of secret keys, at any depth."""
    for key in list(event_dict):
        if key.lower() in SECRET_KEYS:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redact(event_dict[key])
    return event_dict


def _unconfigured_logger() -> Any:
    # A library must not print debug chatter to stdout just because the application
    # never configured structlog: until it does, warnings and errors go to stderr.
    return structlog.wrap_logger(
        structlog.PrintLogger(sys.stderr),
        processors=[
            structlog.processors.add_log_level,
            redact_secrets,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
    )


def get_logger(**context: Any) -> Any:
    """A structlog logger with ``context`` bound (domain, dev_type, alias, plugin).

    Follows the application's structlog configuration; before there is one, only
    warnings and errors are written, to stderr.
    """
    if structlog.is_configured():
        return structlog.get_logger("devframe").bind(**context)
    return _unconfigured_logger().bind(**context)


_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def configure_logging(
    *,
    json: bool | None = None,
    level: str | None = None,
    stream: IO[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Configure structlog for an application embedding devframe (the CLI calls this).

    ``json``: JSON lines instead of the console renderer (default from
    ``DEVFRAME_LOG_FORMAT=json``). ``level``: debug, info, warning (default) or error,
    default from ``DEVFRAME_LOG_LEVEL``. ``stream``: default stderr, so command output
    on stdout stays clean.
    """
    env = os.environ if env is None else env
    if json is None:
        json = env.get("DEVFRAME_LOG_FORMAT", "").strip().lower() == "json"
    level_name = (level or env.get("DEVFRAME_LOG_LEVEL") or "warning").strip().lower()
    if level_name not in _LEVELS:
        level_name = "warning"
    renderer: Any
    if json:
        renderer = structlog.processors.JSONRenderer(default=str)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level_name]),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stderr),
        cache_logger_on_first_use=False,
    )
