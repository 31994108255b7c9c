"""Redacted JSON text, fast: what ``json.dumps(redact(value), indent=2, ensure_ascii=False,
default=str)`` writes, in one pass over the value.

``devframe inspect --json`` writes one dev_spec per device; for a million devices the
standard library's indenting encoder (pure Python: its C encoder does not indent) and a
separate redaction pass cost more than parsing the document. This encoder walks the value
once, redacts as it goes (by :mod:`devframe.core.log`'s rules: secret keys, secrets inside
text, nothing deeper than 50 levels) and writes plain dicts, lists, strings and numbers
without a call per scalar. Anything else takes the general path, with the standard
library's rules. One difference: a value JSON cannot hold is written as its ``str()``
redacted, where ``json.dumps(..., default=str)`` would write it as is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from devframe.core.log import REDACTED, is_secret_key, redact_text

__all__ = ["RedactedJSON"]

_quote: Callable[[str], str] = json.encoder.encode_basestring
_int = int.__repr__
_float = float.__repr__
_INFINITY = float("inf")
#: redact_value's depth: a value deeper than this is shown as REDACTED
_MAX_DEPTH = 50
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
    """An encoder; it keeps a small cache of the keys it has seen (one per output)."""

    def __init__(self) -> None:
        #: str key that is not secret -> its JSON text and ": "
        self._heads: dict[str, str] = {}
        #: short string values (types, models, numbers as text: most of a spec) -> JSON text
        self._words: dict[str, str] = {}

    def dumps(self, value: Any, level: int = 0) -> str:
        """``value`` as indented JSON text, its first line unindented and the rest as if it
        stood ``level`` levels deep (an item of a list inside a dict: level 2)."""
        parts: list[str] = []
        self._value(value, "\n" + "  " * level, parts.append, 0)
        return "".join(parts)

    def _head(self, key: Any) -> tuple[str, bool]:
        """A key's JSON text (with ": ") and whether its value is secret; a plain str key
        that is not secret is remembered in ``_heads``."""
        secret = is_secret_key(key)
        head = _key_text(key) + ": "
        if type(key) is str and not secret:  # never True, 1 or 1.0: equal, written differently
            if len(self._heads) >= _CACHE:
                self._heads.clear()
            self._heads[key] = head
        return head, secret

    def _value(self, value: Any, newline: str, out: Callable[[str], object], depth: int) -> None:
        if depth > _MAX_DEPTH:
            out(_SECRET)
            return
        kind = type(value)
        if kind is str:
            out(_quote(redact_text(value)))
        elif kind is dict:
            self._mapping(value, newline, out, depth)
        elif kind is list or kind is tuple:
            self._sequence(value, newline, out, depth)
        elif kind is int:
            out(_int(value))
        elif value is None:
            out("null")
        elif value is True:
            out("true")
        elif value is False:
            out("false")
        elif kind is float:
            out(_float_text(value))
        else:
            self._other(value, newline, out, depth)

    def _other(self, value: Any, newline: str, out: Callable[[str], object], depth: int) -> None:
        # Subclasses and the rest, in redact_value's order, then json's.
        if isinstance(value, str):
            out(_quote(redact_text(value)))
        elif isinstance(value, Mapping):
            self._mapping(value, newline, out, depth)
        elif isinstance(value, (list, tuple)):
            self._sequence(value, newline, out, depth)
        elif isinstance(value, BaseException):
            out(_quote(redact_text(repr(value))))
        elif isinstance(value, int):
            out(_int(value))
        elif isinstance(value, float):
            out(_float_text(value))
        else:
            out(_quote(redact_text(str(value))))

    def _mapping(self, value: Mapping[Any, Any], newline: str, out: Callable[[str], object], depth: int) -> None:
        if not value:
            out("{}")
            return
        inner = newline + "  "
        comma = "," + inner
        separator = "{" + inner
        deep = depth + 1
        if deep > _MAX_DEPTH:  # every value is REDACTED at that depth: the general path
            for key, item in value.items():
                out(separator + self._head(key)[0])
                self._value(item, inner, out, deep)
                separator = comma
            out(newline + "}")
            return
        heads, words = self._heads, self._words
        for key, item in value.items():
            # heads holds str keys only (no number equals a str): a miss is a new key, a
            # secret one or not a str
            head = heads.get(key)
            if head is None:
                head, secret = self._head(key)
                if secret and item is not None:
                    out(separator + head + _SECRET)
                    separator = comma
                    continue
            kind = type(item)
            if kind is str:
                text = words.get(item)
                if text is None:
                    text = _quote(redact_text(item))
                    if len(item) <= _WORD:
                        if len(words) >= _CACHE:
                            words.clear()
                        words[item] = text
                out(separator + head + text)
            elif kind is int:
                out(separator + head + _int(item))
            elif item is None:
                out(separator + head + "null")
            elif item is True:
                out(separator + head + "true")
            elif item is False:
                out(separator + head + "false")
            else:
                out(separator + head)
                self._value(item, inner, out, deep)
            separator = comma
        out(newline + "}")

    def _sequence(
        self, value: list[Any] | tuple[Any, ...], newline: str, out: Callable[[str], object], depth: int
    ) -> None:
        if not value:
            out("[]")
            return
        inner = newline + "  "
        separator = "[" + inner
        for item in value:
            out(separator)
            self._value(item, inner, out, depth + 1)
            separator = "," + inner
        out(newline + "]")
