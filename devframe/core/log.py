"""Logging: structlog everywhere, configured only by applications (CLI, agent).

Library code calls :func:`get_logger` with bound context (domain, dev_type, alias,
plugin). :func:`configure_logging` picks a readable console renderer (default) or JSON
lines (``json=True`` or ``DEVFRAME_LOG_FORMAT=json``), writes to stderr, and always
runs :func:`redact_secrets` so passwords and secrets never reach a log.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import IO, Any, TextIO, cast

__all__ = [
    "REDACTED",
    "SECRET_KEYS",
    "SECRET_SUFFIXES",
    "configure_logging",
    "get_logger",
    "is_secret_key",
    "redact_secrets",
    "redact_text",
    "redact_value",
]

#: Event keys whose values are replaced by "***" wherever they appear (nested too).
SECRET_KEYS = frozenset(
    {
        "passwd",
        "password",
        "passwdvalidto",
        "secret",
        "auth",
        "usage",
        "secrets",
        "cookies",
        "key",
        "token",
        "iscsi_password",
    }
)
#: The naming convention that marks any other key secret (metadata values, spec keys,
#: log keys): a name ending with one of these, case-insensitively (``iscsiPassword``,
#: ``cephSecret``, ``sessionToken``, ``lukspassphrase``).
SECRET_SUFFIXES = ("passwd", "password", "secret", "token", "passphrase")
REDACTED = "***"


def is_secret_key(name: object) -> bool:
    """True when a key of that name holds a secret (see SECRET_KEYS, SECRET_SUFFIXES)."""
    if not isinstance(name, str):
        return False
    lowered = name.lower()
    return lowered in SECRET_KEYS or lowered.endswith(SECRET_SUFFIXES)


_NAME = r"[A-Za-z_:.-]*(?:passwd|password|secret|token|passphrase)"
# passwd='x' / passwd="x" (XML attributes), 'passwd': 'x' / "passwd": "x" (repr, JSON),
# passwd=x (log-style key=value), and every attribute of a <secret .../> element
# (libvirt's <auth><secret uuid=... usage=...>: naming the secret is already too much).
_XML_ATTR = re.compile(rf"(?i)(\b{_NAME}\s*=\s*)(['\"])(.*?)\2")
_MAPPING = re.compile(rf"""(?i)(['"]{_NAME}['"]\s*:\s*)(['"])((?:\\.|(?!\2).)*)\2""")
_MAPPING_BARE = re.compile(rf"""(?i)(['"]{_NAME}['"]\s*:\s*)(?!['"*])([^,}}\]\s]+)""")
_SECRET_ELEMENT = re.compile(r"(?i)<(?:[\w.-]+:)?secret\b[^>]*>")
_ELEMENT_ATTR = re.compile(r"""(\s[\w:.-]+\s*=\s*)(['"])(.*?)\2""")
_KEY_VALUE = re.compile(rf"(?i)(\b{_NAME}=)(?!['\"*])(\S+)")
# An HTTP cookie's value is the text of libvirt's <cookie name='...'> element.
_COOKIE_TEXT = re.compile(r"(?i)(<(?:[\w.-]+:)?cookie\b[^>]*>)([^<]+)")
#: words whose presence makes text worth scanning for secrets
_TEXT_WORDS = (*SECRET_SUFFIXES, "cookie")


def redact_text(text: str) -> str:
    """``text`` with secret values replaced: XML attributes (``passwd='...'``), secret
    keys in dict reprs and JSON, ``<secret>`` elements' attributes, ``<cookie>``
    elements' values, ``passwd=...``."""
    lowered = text.lower()
    if not any(word in lowered for word in _TEXT_WORDS):
        return text  # the common case stays cheap
    text = _COOKIE_TEXT.sub(rf"\1{REDACTED}", text)
    text = _SECRET_ELEMENT.sub(lambda m: _ELEMENT_ATTR.sub(rf"\1\2{REDACTED}\2", m.group(0)), text)
    text = _XML_ATTR.sub(rf"\1\2{REDACTED}\2", text)
    text = _MAPPING.sub(rf"\1\2{REDACTED}\2", text)
    text = _MAPPING_BARE.sub(rf"\1{REDACTED}", text)
    return _KEY_VALUE.sub(rf"\1{REDACTED}", text)


def redact_value(value: Any, depth: int = 0) -> Any:
    """A copy of a JSON-like value with secret keys' values and secrets inside text replaced."""
    if depth > 50:
        return REDACTED  # deeper than any real value: show nothing rather than risk a secret
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if is_secret_key(k) and v is not None else redact_value(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v, depth + 1) for v in value)
    if isinstance(value, BaseException):
        return redact_text(repr(value))
    return value


_redact = redact_value


def redact_secrets(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: replace the values of secret keys at any depth, and secrets
    inside any text, the rendered traceback of ``exc_info`` included."""
    if event_dict.get("exc_info"):
        # Render the traceback here, so its text (exception messages) is redacted too.
        import structlog

        event_dict = structlog.processors.format_exc_info(logger, method, event_dict)
    for key in list(event_dict):
        if is_secret_key(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = redact_value(event_dict[key])
    return event_dict


_unconfigured: tuple[Any, Any] | None = None


def _unconfigured_logger() -> Any:
    # A library must not print debug chatter to stdout just because the application
    # never configured structlog: until it does, warnings and errors go to stderr.
    # Built once per stderr (a ConsoleRenderer costs more than parsing a small domain).
    import structlog

    global _unconfigured
    stream = sys.stderr
    if _unconfigured is None or _unconfigured[0] is not stream:
        logger = structlog.wrap_logger(
            structlog.PrintLogger(stream),
            processors=[
                structlog.processors.add_log_level,
                redact_secrets,
                structlog.dev.ConsoleRenderer(colors=False),
            ],
            wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        )
        _unconfigured = (stream, logger)
    return _unconfigured[1]


class _LazyLogger:
    """A logger that imports structlog and resolves its configuration at each call.

    Importing structlog costs more than a third of ``devframe plugins``' start-up, and
    most runs never log: it is loaded when the first line is written. Resolving at
    each call also follows a configuration the application sets after the logger was
    made.
    """

    __slots__ = ("_context",)

    def __init__(self, context: dict[str, Any]) -> None:
        self._context = context

    def bind(self, **more: Any) -> _LazyLogger:
        return _LazyLogger({**self._context, **more})

    def _real(self) -> Any:
        import structlog

        if _pending is not None:
            _apply_pending()
        if structlog.is_configured():
            return structlog.get_logger("devframe").bind(**self._context)
        return _unconfigured_logger().bind(**self._context)

    def debug(self, event: str, **kw: Any) -> Any:
        if _below_level_before_structlog(logging.DEBUG):
            return None
        return self._real().debug(event, **kw)

    def info(self, event: str, **kw: Any) -> Any:
        if _below_level_before_structlog(logging.INFO):
            return None
        return self._real().info(event, **kw)

    def warning(self, event: str, **kw: Any) -> Any:
        return self._real().warning(event, **kw)

    def error(self, event: str, **kw: Any) -> Any:
        return self._real().error(event, **kw)

    def exception(self, event: str, **kw: Any) -> Any:
        return self._real().exception(event, **kw)

    def critical(self, event: str, **kw: Any) -> Any:
        return self._real().critical(event, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real(), name)


def _below_level_before_structlog(level: int) -> bool:
    """True when a line at ``level`` would be dropped, known without loading structlog.

    Until structlog is loaded, only devframe can have configured it: the level in force
    is that of a pending configure_logging() call, else the fallback's (warning).
    """
    if "structlog" in sys.modules:
        return False
    threshold = _LEVELS[_pending["level_name"]] if _pending is not None else logging.WARNING
    return level < threshold


def get_logger(**context: Any) -> Any:
    """A structlog logger with ``context`` bound (domain, dev_type, alias, plugin).

    Follows the application's structlog configuration; before there is one, only
    warnings and errors are written, to stderr. structlog itself is imported when the
    first line is written.
    """
    return _LazyLogger(context)


#: settings of a configure_logging() call made before structlog was imported
_pending: dict[str, Any] | None = None


def _apply_pending() -> None:
    global _pending
    settings, _pending = _pending, None
    if settings is not None:
        _configure_now(**settings)


def logging_pending() -> bool:
    """True when configure_logging() settings wait for structlog's first use."""
    return _pending is not None


def discard_pending_logging() -> None:
    """Forget settings configure_logging() left for structlog's first use."""
    global _pending
    _pending = None


_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def configure_logging(
    *,
    json: bool | None = None,
    level: str | None = None,
    stream: IO[str] | None = None,
    env: Mapping[str, str] | None = None,
    defer: bool = False,
) -> None:
    """Configure structlog for an application embedding devframe (the CLI calls this).

    ``json``: JSON lines instead of the console renderer (default from
    ``DEVFRAME_LOG_FORMAT=json``). ``level``: debug, info, warning (default) or error,
    default from ``DEVFRAME_LOG_LEVEL``. ``stream``: default stderr, so command output
    on stdout stays clean. ``defer``: when structlog has not been imported yet, apply
    the settings when devframe logs its first line (the CLI does this: most commands
    never log, and importing structlog is a third of its start-up).
    """
    global _pending
    env = os.environ if env is None else env
    if json is None:
        json = env.get("DEVFRAME_LOG_FORMAT", "").strip().lower() == "json"
    level_name = (level or env.get("DEVFRAME_LOG_LEVEL") or "warning").strip().lower()
    if level_name not in _LEVELS:
        level_name = "warning"
    settings: dict[str, Any] = {"json": json, "level_name": level_name, "stream": stream}
    if defer and "structlog" not in sys.modules:
        _pending = settings
    else:
        _pending = None
        _configure_now(**settings)


def _configure_now(*, json: bool, level_name: str, stream: IO[str] | None) -> None:
    import structlog

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
            structlog.processors.format_exc_info,
            redact_secrets,  # after the traceback is text, so it is redacted too
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level_name]),
        logger_factory=structlog.PrintLoggerFactory(file=cast(TextIO, stream or sys.stderr)),
        cache_logger_on_first_use=False,
    )
