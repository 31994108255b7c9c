"""Redacted JSON text, fast: ``json.dumps(redact(value), separators=(",", ":"),
ensure_ascii=False, default=str)``, a value on one line.

``devframe inspect --json`` writes one dev_spec per device; for a million devices the
standard library's indenting encoder (pure Python: its C encoder does not indent) and a
redaction pass over every string cost more than parsing the document. So a value is
written compact, by orjson where it is installed and writes the same bytes as the C encoder
(:func:`devframe.core.jsontext.orjson_writer`, ``exact``), else by the C encoder; that
text is searched once for anything
:func:`devframe.core.log.redact_value` would change (a key named like a secret, a secret's
mark in a string, an integer too long to show: :func:`~devframe.core.log.json_may_hold_secret`)
and for the size and depth past which it shows ``***``. Only a value that fails that test
(or that the C encoder refuses) is walked: redacted as it is written, by redact_value's rules.
One difference from ``json.dumps(..., default=str)``: a value JSON cannot hold is written as
its ``str()`` redacted, not as it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from devframe.core.jsontext import REFUSED, c_writer, orjson_texts, orjson_writer
from devframe.core.limits import describe_int
from devframe.core.log import REDACTED, is_secret_key, json_may_hold_secret, json_texts_holding_secrets, redact_text

__all__ = ["RedactedJSON"]

_quote: Callable[[str], str] = json.encoder.encode_basestring
_int = int.__repr__
_float = float.__repr__
_INFINITY = float("inf")
#: redact_value's bounds: a value deeper than this, or past this many values, is REDACTED
_MAX_DEPTH = 50
_BUDGET = 10_000
_SECRET = _quote(REDACTED)


#: a value's compact JSON text by the standard library's C writer (made once), with no
#: ``default``: anything but plain JSON values raises, and is walked
_PLAIN: Callable[[Any], str] = c_writer(
    json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":"))
)
#: _PLAIN's text, byte for byte, by orjson where it is installed (about a tenth of the
#: C writer's time on a dev_spec: docs/benchmarks.md, branch insp6)
_TEXT = orjson_writer(None, _PLAIN, exact=True)


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


def _within_bounds(text: str) -> bool:
    """Is the value whose compact JSON is ``text`` within redact_value's bounds? Its
    values are at most as many as its characters, and no deeper than its brackets."""
    if len(text) > _BUDGET:
        return False
    # depth > 50 needs 51 brackets open, and closed: 102 characters
    return len(text) <= 2 * _MAX_DEPTH or text.count("{") + text.count("[") <= _MAX_DEPTH


def _as_is(text: str) -> bool:
    """Would redact_value leave the value whose compact JSON is ``text`` as it is?"""
    return _within_bounds(text) and not json_may_hold_secret(text)


class RedactedJSON:
    """The encoder: :meth:`dumps` (see the module docstring)."""

    def dumps(self, value: Any) -> str:
        """``value`` redacted, as compact JSON on one line."""
        try:
            text: str = _TEXT(value)
        except REFUSED:  # not plain JSON, an int past str's limit, deep
            pass
        else:
            if _as_is(text):
                return text
        return self._walk(value)

    def dumps_many(self, values: Sequence[Any]) -> list[str]:
        """``[self.dumps(value) for value in values]``, cheaper for many small values: their
        texts are searched for secrets at once
        (:func:`~devframe.core.log.json_texts_holding_secrets`)."""
        texts: list[str] = []
        walk: list[int] = []  # values to redact as they are written
        plain: list[int] = []  # values whose text is to be searched
        # _within_bounds inlined: a Python call less per value
        for i, text in enumerate(orjson_texts(values, _PLAIN)):
            if text is None:  # not plain JSON, an int past str's limit, deep: as in dumps
                text = ""
                walk.append(i)
            else:
                size = len(text)
                if size <= 2 * _MAX_DEPTH or (size <= _BUDGET and text.count("{") + text.count("[") <= _MAX_DEPTH):
                    plain.append(i)
                else:
                    walk.append(i)
            texts.append(text)
        if len(plain) == len(texts):
            walk = json_texts_holding_secrets(texts)
        else:
            walk += [plain[k] for k in json_texts_holding_secrets([texts[i] for i in plain])]
        for i in walk:
            texts[i] = self._walk(values[i])
        return texts

    def _walk(self, value: Any) -> str:
        parts: list[str] = []
        #: values redact_value may still visit (each visit takes one, as it counts them)
        self._left = _BUDGET - 1
        self._value(value, parts, 0)
        return "".join(parts)

    def _value(self, value: Any, parts: list[str], depth: int) -> None:
        """One value, already counted against the budget by its caller."""
        if depth > _MAX_DEPTH or self._left < 0:
            parts.append(_SECRET)
            return
        kind = type(value)
        if kind is str:
            parts.append(_quote(redact_text(value)))
        elif kind is dict:
            self._mapping(value, parts, depth)
        elif kind is list or kind is tuple:
            self._sequence(value, parts, depth)
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
            self._other(value, parts, depth)

    def _other(self, value: Any, parts: list[str], depth: int) -> None:
        # Subclasses and the rest, in redact_value's order, then json's.
        if isinstance(value, str):
            parts.append(_quote(redact_text(value)))
        elif isinstance(value, int) and not isinstance(value, bool):
            parts.append(_int_text(value))
        elif isinstance(value, Mapping):
            self._mapping(value, parts, depth)
        elif isinstance(value, (list, tuple)):
            self._sequence(value, parts, depth)
        elif isinstance(value, BaseException):
            parts.append(_quote(redact_text(repr(value))))
        elif isinstance(value, float):
            parts.append(_float_text(value))
        else:
            parts.append(_quote(redact_text(str(value))))

    def _mapping(self, value: Mapping[Any, Any], parts: list[str], depth: int) -> None:
        separator = "{"
        for key, item in value.items():
            parts.append(separator + _key_text(key) + ":")
            separator = ","
            if is_secret_key(key) and item is not None:
                parts.append(_SECRET)  # not visited: not counted
                continue
            self._left -= 1
            self._value(item, parts, depth + 1)
        parts.append("{}" if separator == "{" else "}")

    def _sequence(self, value: list[Any] | tuple[Any, ...], parts: list[str], depth: int) -> None:
        separator = "["
        for item in value:
            parts.append(separator)
            separator = ","
            self._left -= 1
            self._value(item, parts, depth + 1)
        parts.append("[]" if separator == "[" else "]")


def _int_text(value: int) -> str:
    """An int as redact_value leaves it: its digits, or past Python's int/str limit a text
    naming its size (as a JSON string)."""
    text = describe_int(value)
    return _int(value) if text[0] != "<" else _quote(text)
