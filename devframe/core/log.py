"""Logging: devframe logs, the application decides where to.

Library code calls :func:`get_logger` with bound context (domain, dev_type, alias,
plugin). An application that configured structlog gets the lines through structlog;
one that did not gets them through the stdlib logger ``devframe`` (``logging``'s
handlers, ``basicConfig``, ``caplog``...). Secrets are redacted before a line reaches
either, whatever processors or handlers the application set up; :class:`RedactingFilter`
(stdlib) and :func:`redact_secrets` (a structlog processor) apply the same rules to an
application's other logs. :func:`configure_logging` is for applications that want
devframe's own set-up (the CLI): a readable console renderer (default) or JSON lines
(``json=True`` or ``DEVFRAME_LOG_FORMAT=json``), on stderr.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from bisect import bisect_right
from collections.abc import Mapping, MutableMapping, Sequence
from itertools import accumulate
from typing import IO, Any, TextIO, cast

from devframe.core import secrets
from devframe.core.limits import MAX_INT_DIGITS, describe_int

__all__ = [
    "LOGGER_NAME",
    "REDACTED",
    "SECRET_KEYS",
    "SECRET_SUFFIXES",
    "RedactingFilter",
    "configure_logging",
    "get_logger",
    "is_secret_key",
    "json_may_hold_secret",
    "json_texts_holding_secrets",
    "redact_secrets",
    "redact_text",
    "redact_value",
    "secret_key_answers",
    "texts_kept_by_redact_text",
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


#: answers of is_secret_key by name, for the registered key names they were given with:
#: to_spec and the JSON writer ask it of every key of every device
_ANSWERS: dict[str, bool] = {}
_ANSWERED_FOR: list[frozenset[str]] = [frozenset()]
_MAX_ANSWERS = 4096


def secret_key_answers() -> Mapping[str, bool]:
    """The answers :func:`is_secret_key` remembers (name -> answer), for the key names
    registered now: a caller asking of many keys looks a plain ``str`` up here first and
    calls :func:`is_secret_key` only for a name missing (one dict lookup, not a call)."""
    registered = secrets.registered_secret_keys()
    if registered is not _ANSWERED_FOR[0]:
        _ANSWERS.clear()  # a name was registered since: answer again
        _ANSWERED_FOR[0] = registered
    return _ANSWERS


def is_secret_key(name: object) -> bool:
    """True when a key of that name holds a secret (see SECRET_KEYS, SECRET_SUFFIXES)."""
    if not isinstance(name, str):
        return False
    registered = secrets.registered_secret_keys()
    if type(name) is str:  # a subclass may compare or hash its own way: not remembered
        if registered is not _ANSWERED_FOR[0]:
            _ANSWERS.clear()  # a name was registered since: answer again
            _ANSWERED_FOR[0] = registered
        found = _ANSWERS.get(name)
        if found is not None:
            return found
    lowered = name.lower()
    found = lowered in SECRET_KEYS or lowered.endswith(SECRET_SUFFIXES) or lowered in registered
    if type(name) is str:
        if len(_ANSWERS) >= _MAX_ANSWERS:
            _ANSWERS.clear()
        _ANSWERS[name] = found
    return found


_NAME = r"[A-Za-z_:.-]*(?:passwd|password|secret|token|passphrase)"
#: any text that could hold a secret names one of these words (SECRET_SUFFIXES)
_HINT = re.compile("|".join(SECRET_SUFFIXES), re.IGNORECASE)
# passwd='x' / passwd="x" (XML attributes), 'passwd': 'x' / "passwd": "x" (repr, JSON),
# passwd=x (log-style key=value), and every attribute of a <secret .../> element
# (libvirt's <auth><secret uuid=... usage=...>: naming the secret is already too much).
_XML_ATTR = re.compile(rf"(?i)(\b{_NAME}\s*=\s*)(['\"])(.*?)\2")
_MAPPING = re.compile(rf"""(?i)(['"]{_NAME}['"]\s*:\s*)(['"])((?:\\.|(?!\2).)*)\2""")
_MAPPING_BARE = re.compile(rf"""(?i)(['"]{_NAME}['"]\s*:\s*)(?!['"*])([^,}}\]\s]+)""")
_SECRET_ELEMENT = re.compile(r"(?i)<(?:[\w.-]+:)?secret\b[^>]*>")
_ELEMENT_ATTR = re.compile(r"""(\s[\w:.-]+\s*=\s*)(['"])(.*?)\2""")
_KEY_VALUE = re.compile(rf"(?i)(\b{_NAME}=)(?!['\"*])(\S+)")


def redact_text(text: str) -> str:
    """``text`` with secret values replaced: XML attributes (``passwd='...'``), secret
    keys in dict reprs and JSON, ``<secret>`` elements' attributes, ``passwd=...``."""
    if not _HINT.search(text):
        lowered = text.lower()
        if not any(word in lowered for word in secrets.text_markers()):
            return text  # the common case stays cheap
    text = secrets.redact_markup(text, REDACTED)  # the places devframe.core.secrets lists
    text = _SECRET_ELEMENT.sub(lambda m: _ELEMENT_ATTR.sub(rf"\1\2{REDACTED}\2", m.group(0)), text)
    text = _XML_ATTR.sub(rf"\1\2{REDACTED}\2", text)
    text = _MAPPING.sub(rf"\1\2{REDACTED}\2", text)
    text = _MAPPING_BARE.sub(rf"\1{REDACTED}", text)
    return _KEY_VALUE.sub(rf"\1{REDACTED}", text)


def texts_kept_by_redact_text(texts: Sequence[str]) -> bool:
    """True only when :func:`redact_text` leaves every one of ``texts`` as it is; False
    when unsure (then ask each). One search of the texts joined instead of one per text,
    for the few short cells of a table row. Only ASCII texts are answered: lowering an
    ASCII text lowers each character alone, so the joined text lowered holds each text
    lowered, and a word found only across two texts is a false alarm. On ASCII text,
    ``_HINT`` (its words, case ignored) matches where a word is in the text lowered:
    substring tests, cheaper than the case-blind regular expression."""
    joined = "\n".join(texts)
    if not joined.isascii():
        return False
    lowered = joined.lower()
    for word in SECRET_SUFFIXES:
        if word in lowered:
            return False
    return not any(word in lowered for word in secrets.text_markers())


def redact_value(value: Any, depth: int = 0, budget: list[int] | None = None) -> Any:
    """A copy of a JSON-like value with secret keys' values and secrets inside text replaced.

    Bounded whatever the value: past 50 levels (or a value holding itself) and past
    10,000 items it shows ``***``; an integer past Python's int/str limit is shown by its
    size, so a log renderer or ``json.dumps`` never fails on it.
    """
    budget = [10_000] if budget is None else budget
    budget[0] -= 1
    if depth > 50 or budget[0] < 0:
        return REDACTED  # deeper or larger than any real value: show nothing rather than risk a secret
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        text = describe_int(value)
        return value if text[0] != "<" else text
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if is_secret_key(k) and v is not None else redact_value(v, depth + 1, budget))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v, depth + 1, budget) for v in value)
    if isinstance(value, BaseException):
        return redact_text(repr(value))
    return value


_redact = redact_value


_JSON_HINTS: list[Any] = [None, None, (), None]  # registered keys, markers, needles, pattern
_LONG_INT = re.compile(f"[0-9]{{{MAX_INT_DIGITS + 1},}}")
#: ASCII bytes with every digit as "0" and anything else as " ": a digit run is a run of "0"
_DIGIT_RUNS = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
#: a run this long is rare enough to be the cheap first search (a long needle costs its length)
_SOME_DIGITS = b"0" * 32
_TOO_MANY_DIGITS = b"0" * (MAX_INT_DIGITS + 1)
#: any MAX_INT_DIGITS + 1 characters in a row hold this many at consecutive multiples of _RUN_STRIDE
_RUN_STRIDE = 64
_RUN_SAMPLES = b"0" * ((MAX_INT_DIGITS + 1) // _RUN_STRIDE)


def _json_hints() -> list[Any]:
    keys, markers = secrets.registered_secret_keys(), secrets.text_markers()
    if _JSON_HINTS[0] is not keys or _JSON_HINTS[1] != markers:
        words = sorted({*SECRET_SUFFIXES, *markers})  # inside any string: redact_text's test
        names = sorted({*SECRET_KEYS, *keys})  # a whole key, as JSON writes it
        found = list(dict.fromkeys([w.lower() for w in words] + [f'"{name.lower()}"' for name in names]))
        compiled = re.compile("|".join(re.escape(w) for w in found), re.IGNORECASE)
        # A needle holding another (cookies, "passwd") is found wherever that one is: not searched.
        needles = tuple(w for w in found if not any(other != w and other in w for other in found))
        _JSON_HINTS[:] = [keys, markers, needles, compiled]
    return _JSON_HINTS


def json_may_hold_secret(text: str) -> bool:
    """False only when :func:`redact_value` would change nothing in the value whose JSON
    text (``json.dumps``, ``ensure_ascii=False``) is ``text``: no secret word or marker
    of a secret place in any string, no key named like a secret, no integer too long to
    show (its size bounds aside). Substring tests instead of a walk over every key and
    string; True may be a false alarm (then walk)."""
    hints = _json_hints()
    if not text.isascii():
        if len(text) > MAX_INT_DIGITS and _LONG_INT.search(text):
            return True
        # Case-insensitive matching outside ASCII (the Kelvin sign, the long s): the
        # regular expression, and the lowered text as redact_text compares it.
        pattern: re.Pattern[str] = hints[3]
        return pattern.search(text) is not None or pattern.search(text.lower()) is not None
    if len(text) > MAX_INT_DIGITS:
        runs = text.encode("ascii").translate(_DIGIT_RUNS)
        if _SOME_DIGITS in runs and _TOO_MANY_DIGITS in runs:
            return True
    lowered = text.lower()
    return any(needle in lowered for needle in hints[2])


def _needle_hits(texts: Sequence[str], needles: tuple[str, ...]) -> list[int]:
    """Indices of the ASCII ``texts`` that may hold a needle or a long digit run: every
    one that does, maybe more (each is then asked alone)."""
    joined = "\n".join(texts)  # what is found across two texts is only a false alarm
    # A run of more than MAX_INT_DIGITS digits covers _RUN_SAMPLES neighbours among every
    # _RUN_STRIDE-th character: only then is it looked for in every character.
    if _RUN_SAMPLES in joined[::_RUN_STRIDE].encode("ascii").translate(_DIGIT_RUNS):
        runs = joined.encode("ascii").translate(_DIGIT_RUNS)
        if _TOO_MANY_DIGITS in runs:
            return list(range(len(texts)))  # one somewhere: each text is asked alone
    lowered = joined.lower()
    marked: set[int] = set()
    # where each text starts in the joined text, and one past its end
    starts = list(accumulate(map((1).__add__, map(len, texts)), initial=0))
    for needle in needles:
        at = lowered.find(needle)
        while at >= 0:
            k = bisect_right(starts, at) - 1
            marked.add(k)
            at = lowered.find(needle, starts[k + 1])  # the rest of this text: no need
    return sorted(marked)


def json_texts_holding_secrets(texts: Sequence[str]) -> list[int]:
    """The positions ``i`` (ascending) of the ``texts`` for which
    ``json_may_hold_secret(texts[i])`` is True.

    For many short texts (``devframe inspect --json``: a dev_spec each) a call per text
    costs more than its searches: here the ASCII texts are searched once, joined, and
    only a text where something is found is asked alone, so the answer is exactly the
    per-text one."""
    needles = _json_hints()[2]
    if all(map(str.isascii, texts)):
        candidates = _needle_hits(texts, needles)
    else:
        ascii_at = [i for i, text in enumerate(texts) if text.isascii()]
        others = [i for i, text in enumerate(texts) if not text.isascii()]
        candidates = sorted([*others, *(ascii_at[k] for k in _needle_hits([texts[i] for i in ascii_at], needles))])
    return [i for i in candidates if json_may_hold_secret(texts[i])]


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


#: the stdlib logger devframe writes to while the application has not configured structlog
LOGGER_NAME = "devframe"

_LEVEL_OF = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "exception": logging.ERROR,
    "critical": logging.CRITICAL,
}


class RedactingFilter(logging.Filter):
    """A :class:`logging.Filter` that redacts secrets from a record: its message (with
    its arguments merged in), the ``devframe`` fields of its ``extra``, and its
    traceback (rendered here, so a formatter can no longer print the raw one).

    devframe's own logger (``logging.getLogger("devframe")``) carries one; add it to a
    handler to redact what other libraries log too::

        handler.addFilter(devframe.RedactingFilter())
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed %-format: keep the raw text
            message = str(record.msg)
        record.msg = redact_text(message)
        record.args = None
        fields = getattr(record, "devframe", None)
        if isinstance(fields, Mapping):
            record.devframe = redact_value(dict(fields))
        if record.exc_info and record.exc_info[0] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact_text(text)
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


_stdlib_logger = logging.getLogger(LOGGER_NAME)
_stdlib_logger.addFilter(RedactingFilter())


def _exception_text(exc_info: Any) -> str | None:
    """The traceback ``exc_info`` names (True: the one being handled), secrets redacted."""
    import traceback

    info: Any
    if exc_info is True:
        info = sys.exc_info()
    elif isinstance(exc_info, BaseException):
        info = (type(exc_info), exc_info, exc_info.__traceback__)
    elif isinstance(exc_info, tuple) and len(exc_info) == 3:
        info = exc_info
    else:
        return None
    if info[0] is None:
        return None
    return redact_text("".join(traceback.format_exception(*info)).rstrip())


def _structlog_configured() -> bool:
    """True when structlog is loaded and configured (by the application, or the CLI)."""
    module = sys.modules.get("structlog")
    return module is not None and bool(module.is_configured())


class _LazyLogger:
    """devframe's logger: structlog when the application configured it, else the stdlib
    logger ``devframe``; secrets are redacted before either sees a line.

    Importing structlog costs more than a third of ``devframe plugins``' start-up, and
    most runs never log: it is loaded only when the application loaded it, or when a
    deferred :func:`configure_logging` (the CLI's) applies at the first line. Resolving
    at each call also follows a configuration the application sets after the logger
    was made.
    """

    __slots__ = ("_context",)

    def __init__(self, context: dict[str, Any]) -> None:
        self._context = context

    def bind(self, **more: Any) -> _LazyLogger:
        return _LazyLogger({**self._context, **more})

    def _emit(self, method: str, event: str, kw: dict[str, Any]) -> Any:
        if _pending is not None:
            _apply_pending()
        fields: dict[str, Any] = {**self._context, **kw}
        exception = _exception_text(fields.pop("exc_info", True if method == "exception" else None))
        fields = {k: (REDACTED if is_secret_key(k) and v is not None else redact_value(v)) for k, v in fields.items()}
        event = redact_text(str(event))
        if exception is not None:
            fields["exception"] = exception
        level = _LEVEL_OF[method]
        if _structlog_configured():
            import structlog

            # Already redacted: the application's own processors may not redact.
            real = structlog.get_logger(LOGGER_NAME)
            return getattr(real, "error" if method == "exception" else method)(event, **fields)
        if not _stdlib_logger.isEnabledFor(level):
            return None
        shown = {k: v for k, v in fields.items() if k != "exception"}
        text = " ".join([event, *(f"{k}={v}" for k, v in shown.items())])
        if exception is not None:
            text = f"{text}\n{exception}"
        _stdlib_logger.log(level, "%s", text, extra={"devframe": shown}, stacklevel=3)
        return None

    def _enabled(self, level: int) -> bool:
        """False when a line at ``level`` would surely be dropped (checked cheaply)."""
        if _pending is not None:
            return level >= _LEVELS[_pending["level_name"]]
        if _structlog_configured():
            return True  # structlog's own level filter decides
        return _stdlib_logger.isEnabledFor(level)

    def debug(self, event: str, **kw: Any) -> Any:
        return self._emit("debug", event, kw) if self._enabled(logging.DEBUG) else None

    def info(self, event: str, **kw: Any) -> Any:
        return self._emit("info", event, kw) if self._enabled(logging.INFO) else None

    def warning(self, event: str, **kw: Any) -> Any:
        return self._emit("warning", event, kw)

    def error(self, event: str, **kw: Any) -> Any:
        return self._emit("error", event, kw)

    def exception(self, event: str, **kw: Any) -> Any:
        return self._emit("exception", event, kw)

    def critical(self, event: str, **kw: Any) -> Any:
        return self._emit("critical", event, kw)


def get_logger(**context: Any) -> Any:
    """A logger with ``context`` bound (domain, dev_type, alias, plugin).

    When the application has configured structlog, lines go through it; otherwise
    through the stdlib logger ``devframe`` (``logging.basicConfig`` catches them; with
    no logging configured at all, Python prints warnings and errors to stderr). Either
    way secrets are redacted first (:func:`redact_secrets`'s rules).
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
