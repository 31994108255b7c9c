"""Compact JSON text, made fast: the standard library's C writer made once, and orjson's
writer where orjson is installed and writes what the standard library writes.

One place for both users: the fleet's wire (:mod:`devframe.fleet.cloudevents`, where a
float may be spelled differently as long as it reads back the same) and
``devframe inspect --json`` (:mod:`devframe.cli.jsonout`, where every text must be byte
for byte ``json.dumps(value, separators=(",", ":"), ensure_ascii=False)``).
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable, Sequence
from typing import Any

try:
    import orjson
except ImportError:  # the nats extra's codec: without it the stdlib's writes
    orjson = None  # type: ignore[assignment]

__all__ = ["REFUSED", "c_writer", "holds_float", "orjson", "orjson_texts", "orjson_writer"]

#: orjson writes datetimes and dataclasses its own way: they go to ``default`` as with
#: the stdlib (a UUID is written as its text either way)
_OPTIONS = 0 if orjson is None else orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
#: exact texts: subclasses of str, int, dict and list too (a dict subclass's own items(),
#: an int subclass's own repr are the stdlib's business)
_EXACT_OPTIONS = 0 if orjson is None else _OPTIONS | orjson.OPT_PASSTHROUGH_SUBCLASS
#: the characters a number token of compact JSON holds after its first one
_NUMBER = frozenset(b"0123456789.-+eE")
#: what comes right before a value in compact JSON (an object's, an array's); a newline
#: is where a text starts among texts joined by :func:`orjson_texts` (orjson writes none)
_BEFORE_VALUE = frozenset(b":,[\n")


def c_writer(encoder: json.JSONEncoder) -> Callable[[Any], str]:
    """``encoder.encode``, or the C writer it makes for each call, made once.

    JSONEncoder.encode makes a new C encoder (``json.encoder.c_make_encoder``) with its
    settings on every call and joins what it returns: for a device's spec the making
    and the Python around it cost about a third of the call. Made once here, with the
    arguments encode passes it (no indent: the one-shot case), it writes the same text;
    without the C module, encode itself."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None or encoder.indent is not None:
        return encoder.encode
    write = make(
        None,  # no circular check
        encoder.default,
        json.encoder.encode_basestring_ascii if encoder.ensure_ascii else json.encoder.encode_basestring,
        None,
        encoder.key_separator,
        encoder.item_separator,
        encoder.sort_keys,
        encoder.skipkeys,
        encoder.allow_nan,
    )

    def encode(value: Any) -> str:
        return "".join(write(value, 0))

    return encode


def holds_float(raw: bytes) -> bool:
    """May the compact JSON text ``raw`` (orjson's) hold a float? True for every text
    that does: orjson writes a float with a ``.`` or an exponent with its sign
    (``1e-7``, ``1e+16``; the tests hold it to that), as a number token right after
    ``:``, ``,`` or ``[``. Each ``.``, ``e+`` and ``e-`` is looked at: inside a number
    token it is a float; elsewhere (a version, a path, a uuid's ``e-``) it is text.
    A string holding such a token (``"a:1.5"``) is a false alarm: harmless. Texts
    joined by newlines are answered as each one would be (True if any is)."""
    for mark in (b".", b"e-", b"e+") if b"+" in raw else (b".", b"e-"):  # "+" is rare: one memchr
        at = raw.find(mark)
        while at >= 0:
            start = at - 1
            while start >= 0 and raw[start] in _NUMBER:
                start -= 1
            if start < at - 1 and (start < 0 or raw[start] in _BEFORE_VALUE):
                return True
            at = raw.find(mark, at + 1)
    return False


def orjson_writer(
    default: Callable[[Any], Any] | None, fallback: Callable[[Any], str], *, exact: bool = False
) -> Callable[[Any], str]:
    """``fallback`` (a stdlib writer), through orjson where orjson writes the same value.

    orjson writes what the stdlib writes for plain JSON (compact, UTF-8 as is, the same
    string escapes), floats aside: both write the shortest text that reads back as the
    same float, but not always spelled the same (``1e-7`` for the stdlib's ``1e-07``,
    ``0.00001`` for ``1e-05``). Everything it refuses goes to ``fallback``: an integer
    beyond 64 bits, a lone surrogate, a key that is not a string, nesting past its depth
    limit, and (with ``default=None``) any value that is not JSON; so does a text
    holding ``null`` that does not read back as the value: orjson writes NaN and the
    infinities as ``null`` where the stdlib writes ``NaN`` and ``Infinity``.

    ``exact``: the text is the fallback's, byte for byte: a value holding a float (or
    a text that may, :func:`holds_float`) goes to ``fallback``, and so does a subclass
    of str, int, dict or list. One difference remains either way: an Enum member whose
    type derives from neither str nor int is written by orjson as its value, where the
    stdlib refuses it (and ``default=str`` writes its str()); devframe's values are
    never such members."""
    if orjson is None:
        return fallback
    dumps = orjson.dumps
    options = _EXACT_OPTIONS if exact else _OPTIONS

    def encode(value: Any) -> str:
        try:
            raw = dumps(value, default, options)
        except TypeError:  # orjson.JSONEncodeError is one
            return fallback(value)
        if (b"null" in raw and not _reads_back(raw, value)) or (exact and holds_float(raw)):
            return fallback(value)
        return raw.decode()

    return encode


def _reads_back(raw: bytes, value: Any) -> bool:
    """Does orjson's text holding ``null`` read back as ``value``? (None does; a NaN or
    an infinity orjson wrote as null does not.)"""
    try:
        return bool(orjson.loads(raw) == value)
    except Exception:  # noqa: BLE001 - a value's own __eq__ failed: the stdlib's
        return False


#: what :func:`orjson_texts` gives for a value its fallback refuses
REFUSED = (TypeError, ValueError, RecursionError)


def orjson_texts(values: Sequence[Any], fallback: Callable[[Any], str]) -> list[str | None]:
    """``orjson_writer(None, fallback, exact=True)`` of each value, None where
    ``fallback`` raises one of :data:`REFUSED`: cheaper for many small values (a
    dev_spec each), whose texts are searched for floats at once (joined by newlines)."""
    if orjson is None:
        return [_or_none(fallback, value) for value in values]
    dumps, options = orjson.dumps, _EXACT_OPTIONS
    raws: list[bytes | None] = []
    for value in values:
        try:
            raw: bytes = dumps(value, None, options)
        except TypeError:  # orjson.JSONEncodeError is one
            raws.append(None)
        else:
            raws.append(None if b"null" in raw and not _reads_back(raw, value) else raw)
    if holds_float(b"\n".join([raw for raw in raws if raw is not None])):
        raws = [None if raw is None or holds_float(raw) else raw for raw in raws]
    return [_or_none(fallback, value) if raw is None else raw.decode() for value, raw in zip(values, raws, strict=True)]


def _or_none(fallback: Callable[[Any], str], value: Any) -> str | None:
    try:
        return fallback(value)
    except REFUSED:
        return None
