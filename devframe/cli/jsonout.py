"""Redacted JSON text, fast: what ``json.dumps(redact(value), indent=2, ensure_ascii=False,
default=str)`` writes, in one pass over the value.

``devframe inspect --json`` writes one dev_spec per device; for a million devices the
standard library's indenting encoder (pure Python: its C encoder does not indent) and a
separate redaction pass cost more than parsing the document. This encoder walks the value
once, redacts as it goes (by :func:`devframe.core.log.redact_value`'s rules: secret keys,
secrets inside text, nothing deeper than 50 levels nor past 10,000 items, an integer past
Python's int/str limit shown by its size) and writes plain dicts, lists, strings and
numbers without a call per scalar. Anything else takes the general path, with the standard
library's rules. One difference: a value JSON cannot hold is written as its ``str()``
redacted, where ``json.dumps(..., default=str)`` would write it as is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from devframe.core.limits import describe_int
from devframe.core.log import REDACTED, is_secret_key, redact_text

__all__ = ["RedactedJSON"]

_quote: Callable[[str], str] = json.encoder.encode_basestring
_int = int.__repr__
_float = float.__repr__
_INFINITY = float("inf")
#: redact_value's bounds: a value deeper than this, or past this many values, is REDACTED
_MAX_DEPTH = 50
_BUDGET = 10_000
_SECRET = _quote(REDACTED)
#: distinct keys, and short values, remembered (both caches start again when full)
_CACHE = 4096
#: a string value this long or shorter is remembered: the words a spec repeats, not its UUIDs
_WORD = 24


def _float_text(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return _float(value)


def _key_text(key: Any) -> str:
    """A dict key as JSON writes it (the standard library's rules for non-str keys)."""
    if isinstance(key, str):
        return _quote(key)
    if isinstance(key, float):
        return _quote(_float_text(key))
    if key is True:
        return '"true"'
    if key is False:
        return '"false"'
    if key is None:
        return '"null"'
    if isinstance(key, int):
        return _quote(_int(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


class RedactedJSON:
    """An encoder; it remembers the keys and short values it has written (one per output)."""

    def __init__(self) -> None:
        #: per indentation (the text before a key): str key that is not secret -> "," + that
        #: text + the key's JSON + ": ", all of an item but its value
        self._lines: dict[str, dict[str, str]] = {}
        #: short string values (types, models, numbers as text: most of a spec) -> JSON text
        self._words: dict[str, str] = {}

    def dumps(self, value: Any, level: int = 0) -> str:
        """``value`` as indented JSON text, its first line unindented and the rest as if it
        stood ``level`` levels deep (an item of a list inside a dict: level 2)."""
        parts: list[str] = []
        #: values redact_value may still visit (each visit takes one, as it counts them)
        self._left = _BUDGET - 1
        self._value(value, "\n" + "  " * level, parts, 0)
        return "".join(parts)

    def _line(self, key: Any, inner: str, lines: dict[str, str]) -> tuple[str, bool]:
        """What precedes ``key``'s value (see ``_lines``), and whether the value is secret."""
        secret = is_secret_key(key)
        line = "," + inner + _key_text(key) + ": "
        if type(key) is str and not secret:  # never True, 1 or 1.0: equal, written differently
            if len(lines) >= _CACHE:
                lines.clear()
            lines[key] = line
        return line, secret

    def _word(self, text: str) -> str:
        quoted = _quote(redact_text(text))
        if len(text) <= _WORD:
            if len(self._words) >= _CACHE:
                self._words.clear()
            self._words[text] = quoted
        return quoted

    def _value(self, value: Any, newline: str, parts: list[str], depth: int) -> None:
        """One value, already counted against the budget by its caller."""
        if depth > _MAX_DEPTH or self._left < 0:
            parts.append(_SECRET)
            return
        kind = type(value)
        if kind is str:
            parts.append(_quote(redact_text(value)))
        elif kind is dict:
            self._mapping(value, newline, parts, depth)
        elif kind is list or kind is tuple:
            self._sequence(value, newline, parts, depth)
        elif kind is int:
            parts.append(_int_text(value))
        elif value is None:
            parts.append("null")
        elif value is True:
            parts.append("true")
        elif value is False:
            parts.append("false")
        elif kind is float:
            parts.append(_float_text(value))
        else:
            self._other(value, newline, parts, depth)

    def _other(self, value: Any, newline: str, parts: list[str], depth: int) -> None:
        # Subclasses and the rest, in redact_value's order, then json's.
        if isinstance(value, str):
            parts.append(_quote(redact_text(value)))
        elif isinstance(value, int) and not isinstance(value, bool):
            parts.append(_int_text(value))
        elif isinstance(value, Mapping):
            self._mapping(value, newline, parts, depth)
        elif isinstance(value, (list, tuple)):
            self._sequence(value, newline, parts, depth)
        elif isinstance(value, BaseException):
            parts.append(_quote(redact_text(repr(value))))
        elif isinstance(value, float):
            parts.append(_float_text(value))
        else:
            parts.append(_quote(redact_text(str(value))))

    def _mapping(self, value: Mapping[Any, Any], newline: str, parts: list[str], depth: int) -> None:
        if not value:
            parts.append("{}")
            return
        inner = newline + "  "
        lines = self._lines.get(inner)
        if lines is None:
            lines = self._lines[inner] = {}
        deep = depth + 1
        first = len(parts)
        append = parts.append
        words = self._words
        left = self._left
        for key, item in value.items():
            line = lines.get(key)  # only str keys that are not secret are there
            if line is None:
                line, secret = self._line(key, inner, lines)
                if secret and item is not None:
                    append(line + _SECRET)  # not visited: not counted
                    continue
            left -= 1
            kind = type(item)
            if left < 0 or deep > _MAX_DEPTH:
                append(line + _SECRET)
            elif kind is str:
                text = words.get(item)
                append(line + (text if text is not None else self._word(item)))
            elif kind is int:
                append(line + _int_text(item))
            elif item is None:
                append(line + "null")
            elif item is True:
                append(line + "true")
            elif item is False:
                append(line + "false")
            else:
                append(line)
                self._left = left
                self._value(item, inner, parts, deep)
                left = self._left
        self._left = left
        parts[first] = "{" + parts[first][1:]  # the first item has no comma before it
        append(newline + "}")

    def _sequence(self, value: list[Any] | tuple[Any, ...], newline: str, parts: list[str], depth: int) -> None:
        if not value:
            parts.append("[]")
            return
        inner = newline + "  "
        separator = "[" + inner
        comma = "," + inner
        for item in value:
            parts.append(separator)
            self._left -= 1
            self._value(item, inner, parts, depth + 1)
            separator = comma
        parts.append(newline + "]")


def _int_text(value: int) -> str:
    """An int as redact_value leaves it: its digits, or past Python's int/str limit a text
    naming its size (as a JSON string)."""
    text = describe_int(value)
    return _int(value) if text[0] != "<" else _quote(text)
