"""The limits devframe reads under, and the same limits applied to what it writes.

devframe reads XML with libxml2's safety limits on (:mod:`devframe.core.safexml`). What
devframe writes must read back under those limits, so every value that reaches XML
through devframe (a field, an address, a metadata value, a dev_spec) is checked here
first, and a value past a limit is refused with a :class:`~devframe.DevframeError` that
names where it was going: nothing is written that the reader would refuse.

The reader's limits, measured on libxml2 2.14 (``tests/test_hostile_values.py`` tries
each at, just under and just past its boundary):

* element depth: 256 reads, 257 is refused (:data:`MAX_DEPTH`);
* one text node: 10,000,000 bytes of UTF-8 once decoded (:data:`MAX_TEXT_BYTES`);
* a start tag: its name and attributes *as written* (escapes counted) share one buffer of
  10,000,000 bytes with the start tags directly above it, less some context; devframe
  writes at most :data:`MAX_START_TAG_BYTES` per element, so a chain of them fits;
* names: libxml2 refuses 50,000 characters; devframe writes at most
  :data:`MAX_NAME_LENGTH`.

Python's own limit: ``str(int)`` of more than 4,300 digits raises ``ValueError`` (and an
application may lower that to 640). devframe takes integers of at most
:data:`MAX_INT_DIGITS` decimal digits, which every process can print.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "DEVICE_DEPTH",
    "ENTRY_DEPTH",
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "MAX_NAME_LENGTH",
    "MAX_START_TAG_BYTES",
    "MAX_TEXT_BYTES",
    "MAX_VALUE_ITEMS",
    "attribute_problem",
    "describe_int",
    "int_problem",
    "name_problem",
    "start_tag_problem",
    "text_problem",
    "value_problem",
    "value_text_problem",
]

#: libxml2's element depth limit: a document 256 elements deep reads, 257 is refused
MAX_DEPTH = 256
#: libxml2's limit on one text node, in UTF-8 bytes once decoded
MAX_TEXT_BYTES = 10_000_000
#: devframe's limit on one element's start tag as written (name, attributes, escapes)
MAX_START_TAG_BYTES = 1_000_000
#: the longest element or attribute name devframe writes (libxml2 refuses 50,000)
MAX_NAME_LENGTH = 40_000
#: the most decimal digits of an integer devframe takes: Python prints up to 640 digits
#: whatever limit an application set (sys.int_info.str_digits_check_threshold)
MAX_INT_DIGITS = 640
#: the most items (containers and scalars, counted as written) in one dev_spec or value
MAX_VALUE_ITEMS = 100_000

#: where a device element sits: <domain><devices><disk>
DEVICE_DEPTH = 3
#: where a device's metadata entry sits: <domain><metadata><ovirt-vm:vm><ovirt-vm:device>;
#: its keys are one below, a VM-level value's key at this depth
ENTRY_DEPTH = 4

_INT_BOUND = 10**MAX_INT_DIGITS
# A string whose every character could be written as 6 bytes (&quot;) and still fit
_SAFE_ATTRIBUTE_CHARS = MAX_START_TAG_BYTES // 6
# UTF-8 takes at most 4 bytes per character
_SAFE_TEXT_CHARS = MAX_TEXT_BYTES // 4
# What lxml writes for each character in an attribute value, beyond the character itself
_ATTRIBUTE_ESCAPES = (("&", 4), ("<", 3), (">", 3), ('"', 5), ("\n", 4), ("\r", 4), ("\t", 3))


def int_problem(value: int) -> str | None:
    """Why ``value`` cannot be taken (more than :data:`MAX_INT_DIGITS` digits), or None."""
    if -_INT_BOUND < value < _INT_BOUND:
        return None
    return f"an integer of more than {MAX_INT_DIGITS} digits ({value.bit_length()} bits)"


def describe_int(value: int) -> str:
    """``value`` as text for a message or a log, even past Python's int/str limit."""
    if -_INT_BOUND < value < _INT_BOUND:
        return str(value)
    return f"<int of {value.bit_length()} bits>"


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be one text node (larger than :data:`MAX_TEXT_BYTES`), or None."""
    if len(text) <= _SAFE_TEXT_CHARS:
        return None
    size = _utf8_size(text)
    if size <= MAX_TEXT_BYTES:
        return None
    return f"text of {size} bytes is larger than the XML reader's limit of {MAX_TEXT_BYTES} bytes"


# Characters XML 1.0 cannot hold: the metadata codec writes such text as base64.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def value_text_problem(text: str) -> str | None:
    """:func:`text_problem` for a value's text as the metadata codec writes it: text XML
    cannot hold goes out as base64, a third larger."""
    if len(text) <= _SAFE_TEXT_CHARS // 2:
        return None
    if _NOT_XML.search(text) is None:
        return text_problem(text)
    size = (_utf8_size(text) + 2) // 3 * 4
    if size <= MAX_TEXT_BYTES:
        return None
    return f"text of {size} bytes as written (base64) is larger than the XML reader's limit of {MAX_TEXT_BYTES} bytes"


def _written_size(value: str) -> int:
    """The bytes ``value`` takes as an attribute value in devframe's output."""
    if len(value) <= 64:
        return len(value) * 6  # an upper bound is enough for short values
    size = _utf8_size(value)
    for char, extra in _ATTRIBUTE_ESCAPES:
        size += value.count(char) * extra
    return size


def attribute_problem(value: str) -> str | None:
    """Why ``value`` cannot be an attribute value (past :data:`MAX_START_TAG_BYTES` as
    written), or None."""
    if len(value) <= _SAFE_ATTRIBUTE_CHARS:
        return None
    size = _written_size(value)
    if size <= MAX_START_TAG_BYTES:
        return None
    return f"attribute value of {size} bytes as written is larger than the limit of {MAX_START_TAG_BYTES} bytes"


def start_tag_problem(tag: str, attributes: Mapping[Any, Any]) -> str | None:
    """Why an element named ``tag`` cannot carry ``attributes`` (name=value pairs, as
    written) within :data:`MAX_START_TAG_BYTES`, or None."""
    size = len(tag) + 3
    for name, value in attributes.items():
        size += len(str(name)) + 4 + _written_size(str(value))
    if size <= MAX_START_TAG_BYTES:
        return None
    return f"start tag of {size} bytes as written is larger than the limit of {MAX_START_TAG_BYTES} bytes"


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an element or attribute name devframe writes, or None."""
    if len(name) <= MAX_NAME_LENGTH:
        return None
    return f"a name of {len(name)} characters (the limit is {MAX_NAME_LENGTH})"


class _Refused(Exception):
    """Ends a walk of :func:`value_problem` at the first part devframe cannot write."""

    def __init__(self, path: list[Any], reason: str) -> None:
        super().__init__(reason)
        self.path = list(path)
        self.reason = reason


def value_problem(value: Any, *, max_depth: int) -> tuple[str, str] | None:
    """``(path, reason)`` for the first part of a JSON-like ``value`` devframe cannot write
    back, or None.

    Refused: nesting deeper than ``max_depth`` (containers holding something, as elements
    nest), a value that contains itself, more than :data:`MAX_VALUE_ITEMS` items (shared
    parts counted each time they would be written), integers past
    :data:`MAX_INT_DIGITS` digits, text past :data:`MAX_TEXT_BYTES`, keys past
    :data:`MAX_NAME_LENGTH`. Types are not checked here (the codec and fields do). The
    walk recurses at most ``max_depth`` levels, whatever the value.
    """
    path: list[Any] = []
    above: list[int] = []  # ids of the containers being walked: a value inside itself
    budget = [MAX_VALUE_ITEMS]

    def walk(current: Any, depth: int) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            raise _Refused(path, f"more than {MAX_VALUE_ITEMS} items")
        kind = type(current)
        if kind is str or (kind is not bool and isinstance(current, str)):
            if len(current) > _SAFE_TEXT_CHARS // 2:
                problem = value_text_problem(current)
                if problem:
                    raise _Refused(path, problem)
            return
        if kind is int or (kind is not bool and isinstance(current, int)):
            if not -_INT_BOUND < current < _INT_BOUND:
                raise _Refused(path, str(int_problem(int(current))))
            return
        if isinstance(current, Mapping):
            children: Any = current.items()
        elif isinstance(current, (list, tuple)):
            children = enumerate(current)
        else:
            return
        if not current:
            return  # an empty container is one element: it nests nothing
        if depth >= max_depth:
            self_held = id(current) in above
            deeper = f"nested past the XML reader's depth limit of {MAX_DEPTH} elements"
            raise _Refused(path, "the value contains itself" if self_held else deeper)
        above.append(id(current))
        for key, item in children:
            path.append(key)
            if type(key) is str and len(key) > MAX_NAME_LENGTH:
                raise _Refused(path, f"key is {name_problem(key)}")
            walk(item, depth + 1)
            path.pop()
        above.pop()

    try:
        walk(value, 0)
    except _Refused as refused:
        return _spelled(refused.path), refused.reason
    return None


def _spelled(path: list[Any]) -> str:
    """A value's place as ``/key/key[index]``, shortened for a message."""
    parts = [f"[{key}]" if type(key) is int else f"/{str(key)[:40]}" for key in path]
    text = "".join(parts) or "/"
    if len(text) > 160:
        text = f"{text[:80]}...{text[-60:]} ({len(parts)} levels)"
    return text
