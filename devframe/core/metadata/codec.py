"""Typed codec between JSON-like Python values and XML elements.

One value is one element whose tag is its key. The element form follows what the oVirt
engine and VDSM write, so their documents load and ours load in VDSM:

* ``str``: the element text, no ``type`` attribute (empty element: ``""``);
* ``int``, ``float``, ``bool``: the text with ``type="int|float|bool"``;
* ``dict``: one child element per key;
* known lists (``volumeChain``: one ``volumeChainNode`` per item): no marker.

Markers are added only where the plain form would read back as something else, so
values round-trip exactly: ``type="none"``, ``type="dict"`` for an empty dict,
``type="list"`` (items as ``<item>``) for other lists, ``type="str"`` for a string
the reader would otherwise retype, ``<item key="...">`` for a key that is not an XML
name, ``encoding="base64"`` for text XML cannot hold (control characters, surrogates).

Nothing is evaluated: decoding only recognises a closed set of markers; anything else
is a :class:`~devframe.MetadataError` naming the element's path.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from lxml import etree

from devframe.core.errors import MetadataError
from devframe.core.limits import (
    MAX_DEPTH,
    MAX_INT_DIGITS,
    MAX_NAME_LENGTH,
    int_problem,
    text_problem,
    value_problem,
)

__all__ = [
    "ITEM",
    "KNOWN_LISTS",
    "decode_map",
    "decode_value",
    "element_path",
    "encode_map",
    "encode_value",
    "same_value",
]

#: Lists the oVirt format writes without a marker: list key -> tag of each item.
KNOWN_LISTS: Mapping[str, str] = {"volumeChain": "volumeChainNode", "portMirroring": "network"}
#: Tag of list items and of dict entries whose key is not an XML name.
ITEM = "item"

_INT_RE = re.compile(r"[+-]?[0-9]+\Z")
_TRUE = frozenset({"true", "yes", "1", "on"})
_FALSE = frozenset({"false", "no", "0", "off"})
#: each word of a ``type='bool'`` value and what it means
_BOOL_WORDS = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}

#: Decides how a top-level untyped text is read back (schema coercion); None: as str.
Retyper = Callable[[str, str], Any]


def element_path(element: etree._Element) -> str:
    """Where an element sits in its document, for error messages."""
    try:
        return str(element.getroottree().getpath(element))
    except (ValueError, TypeError):  # pragma: no cover - detached proxies
        return f"<{etree.QName(element).localname}>"


def _shown(element: etree._Element, text: str | None) -> str:
    """``text`` quoted for an error message, unless the element holds a secret value
    (its key follows the secret naming convention of devframe.core.log)."""
    from devframe.core.log import REDACTED, is_secret_key

    tag = element.tag
    local = etree.QName(tag).localname if isinstance(tag, str) else ""
    if is_secret_key(local) or is_secret_key(element.get("key")):
        return REDACTED
    return repr(text)


def _fail(element: etree._Element, reason: str, source: str | None) -> MetadataError:
    where = element_path(element)
    return MetadataError(f"{source + ': ' if source else ''}metadata at {where}: {reason}")


@lru_cache(maxsize=4096)
def _qualified(ns: str, key: str) -> str | None:
    """``{ns}key`` when ``key`` can be a tag, else None (cached: keys repeat a lot)."""
    if not key.isascii():
        return None  # ASCII serializers write non-ASCII names as char refs: invalid XML
    if len(key) > MAX_NAME_LENGTH:
        return None  # longer than devframe writes names (the value check refuses it)
    tag = f"{{{ns}}}{key}" if ns else key
    try:
        etree.QName(tag)
    except ValueError:
        return None
    return tag


def _xml_safe(text: str) -> bool:
    try:
        etree.Element("x").text = text
    except (ValueError, UnicodeError):
        return False
    return True


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii")


def _set_text(element: etree._Element, text: str, path: str) -> None:
    if not text:
        return
    try:
        element.text = text
    except (ValueError, UnicodeError):
        element.set("encoding", "base64")
        element.text = text = _b64(text)
    problem = text_problem(text)  # base64 is a third larger than the text it holds
    if problem:
        raise MetadataError(f"metadata value at {path}: {problem}")


def _format_float(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def _plain_reading(key: str, value: Any, retype: Retyper | None) -> bool:
    """True when ``value`` written without a marker reads back as itself."""
    if isinstance(value, str):
        if key in KNOWN_LISTS:
            return False
        if retype is not None:
            again = retype(key, value)
            return isinstance(again, str) and again == value
        return True
    if isinstance(value, dict):
        return bool(value) and key not in KNOWN_LISTS
    if isinstance(value, list):
        return bool(value) and key in KNOWN_LISTS
    return False


def element_depth(element: etree._Element) -> int:
    """How deep ``element`` sits in its tree (a root is at depth 1)."""
    return 1 + sum(1 for _ in element.iterancestors())


def encode_value(
    parent: etree._Element,
    key: str,
    value: Any,
    *,
    ns: str,
    retype: Retyper | None = None,
    path: str = "",
    depth: int | None = None,
) -> etree._Element:
    """Append ``value`` to ``parent`` as the child keyed ``key``; return that child.

    ``retype`` is the reader's coercion of untyped top-level text (a plugin's
    MetadataSchema), so a string it would turn into a number gets ``type="str"``.
    ``depth``: where the child will sit in the document (default: below ``parent``); a
    value that would nest past the XML reader's depth limit, hold itself, or carry an
    integer, text or key past devframe's limits (:mod:`devframe.core.limits`) is a
    MetadataError naming its path, raised before anything is written. Raises
    MetadataError for a value that is not JSON-like too.
    """
    if not isinstance(key, str):
        raise MetadataError(f"metadata key {key!r} at {path or '/'} is {type(key).__name__}, expected str")
    if not path:  # the top of a value: checked whole, before the recursion below can run away
        if depth is None:
            depth = element_depth(parent) + 1
        problem = value_problem({key: value}, max_depth=MAX_DEPTH - depth + 1)
        if problem:
            where, reason = problem
            raise MetadataError(f"metadata value at {where}: {reason}")
    tag = _qualified(ns, key)
    if tag is None:
        child = etree.SubElement(parent, f"{{{ns}}}{ITEM}" if ns else ITEM)
        try:
            child.set("key", key)
        except (ValueError, UnicodeError):
            child.set("key-encoding", "base64")
            child.set("key", _b64(key))
    else:
        child = etree.SubElement(parent, tag)
    _encode_body(child, key, value, ns=ns, retype=retype, path=f"{path}/{key}")
    return child


def _encode_body(child: etree._Element, key: str, value: Any, *, ns: str, retype: Retyper | None, path: str) -> None:
    plain = _plain_reading(key, value, retype)
    if isinstance(value, str):
        if not plain:
            child.set("type", "str")
        _set_text(child, value, path)
    elif isinstance(value, bool):  # before int: bool is an int subclass
        child.set("type", "bool")
        child.text = "true" if value else "false"
    elif isinstance(value, int):
        problem = int_problem(value)
        if problem:
            raise MetadataError(f"metadata value at {path}: {problem}")
        child.set("type", "int")
        child.text = str(value)
    elif isinstance(value, float):
        child.set("type", "float")
        child.text = _format_float(value)
    elif value is None:
        child.set("type", "none")
    elif isinstance(value, dict):
        if not plain:
            child.set("type", "dict")
        for sub_key, sub_value in value.items():
            encode_value(child, sub_key, sub_value, ns=ns, path=path)
    elif isinstance(value, (list, tuple)):
        item_tag = KNOWN_LISTS.get(key) if plain else None
        if item_tag is None:
            child.set("type", "list")
            item_tag = ITEM
        qualified = f"{{{ns}}}{item_tag}" if ns else item_tag
        for index, item in enumerate(value):
            node = etree.SubElement(child, qualified)
            _encode_body(node, item_tag, item, ns=ns, retype=None, path=f"{path}[{index}]")
    else:
        raise MetadataError(
            f"metadata value at {path} is {type(value).__name__}; "
            "only str, int, float, bool, None, list and dict can be stored"
        )


def encode_map(
    parent: etree._Element,
    mapping: Mapping[str, Any],
    *,
    ns: str,
    retype: Retyper | None = None,
    depth: int | None = None,
) -> None:
    """Append one child per key of ``mapping`` to ``parent`` (``depth``: the children's,
    when ``parent`` is not yet where it will be written)."""
    for key, value in mapping.items():
        encode_value(parent, key, value, ns=ns, retype=retype, depth=depth)


# -- decoding ----------------------------------------------------------------------------


def _text(element: etree._Element, source: str | None) -> str:
    text = element.text or ""
    if element.get("encoding") is not None:
        if element.get("encoding") != "base64":
            raise _fail(element, f"unknown encoding {element.get('encoding')!r}", source)
        try:
            return base64.b64decode(text.encode("ascii"), validate=True).decode("utf-8", "surrogatepass")
        except (binascii.Error, UnicodeError, ValueError):
            raise _fail(element, "malformed base64 text", source) from None
    return text


def _key_of(element: etree._Element, local: str, source: str | None) -> str:
    if local != ITEM:
        return local
    key = element.get("key")
    if key is None:
        return local
    if element.get("key-encoding") == "base64":
        try:
            return base64.b64decode(key.encode("ascii"), validate=True).decode("utf-8", "surrogatepass")
        except (binascii.Error, UnicodeError, ValueError):
            raise _fail(element, "malformed base64 key", source) from None
    return str(key)


def _children(element: etree._Element, ns_prefix: str, source: str | None) -> list[tuple[str, etree._Element]]:
    """(local name, child) of the children in our namespace; others are not ours."""
    out = []
    if element.text is not None and element.text.strip() and len(element):
        raise _fail(element, f"text {_shown(element, element.text.strip()[:40])} mixed with child elements", source)
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):
            continue  # comments and processing instructions carry no value
        tail = child.tail
        if tail is not None and tail.strip():
            raise _fail(child, f"stray text {_shown(child, tail.strip()[:40])} after the element", source)
        if ns_prefix:
            if not tag.startswith(ns_prefix):
                continue
            out.append((tag[len(ns_prefix) :], child))
        elif not tag.startswith("{"):
            out.append((tag, child))
    return out


def decode_value(
    element: etree._Element,
    key: str | None = None,
    *,
    ns: str,
    source: str | None = None,
    retype: Retyper | None = None,
) -> Any:
    """The Python value an element holds (``key``: its key, default its local name)."""
    ns_prefix = f"{{{ns}}}" if ns else ""
    if key is None:
        tag = element.tag
        local = tag[len(ns_prefix) :] if isinstance(tag, str) and tag.startswith(ns_prefix) else str(tag)
        key = _key_of(element, local, source)
    kind = element.get("type")
    if kind is None:
        item_tag = KNOWN_LISTS.get(key)
        if item_tag is not None:
            items = _children(element, ns_prefix, source)
            if all(local == item_tag for local, _ in items):
                if not items and (element.text or "").strip():
                    pass  # text where a list is expected: read it as the str it is
                else:
                    return [decode_value(c, item_tag, ns=ns, source=source) for _, c in items]
        if len(element):
            items = _children(element, ns_prefix, source)
            if items:
                return _decode_dict(element, items, ns=ns, source=source)
        text = _text(element, source)
        if retype is not None and text:
            return retype(key, text)
        return text
    if kind == "str":
        return _text(element, source)
    if kind == "int":
        text = (element.text or "").strip()
        if not _INT_RE.match(text):
            raise _fail(element, f"type='int' but the text is {_shown(element, text)}", source)
        if len(text.lstrip("+-0")) > MAX_INT_DIGITS:
            raise _fail(element, f"type='int' with more than {MAX_INT_DIGITS} digits", source)
        return int(text)
    if kind == "float":
        text = (element.text or "").strip()
        try:
            return float(text)
        except ValueError:
            raise _fail(element, f"type='float' but the text is {_shown(element, text)}", source) from None
    if kind == "bool":
        word = _BOOL_WORDS.get((element.text or "").strip().lower())
        if word is None:
            raise _fail(element, f"type='bool' but the text is {_shown(element, element.text)}", source)
        return word
    if kind == "none":
        if (element.text or "").strip() or len(_children(element, ns_prefix, source)):
            raise _fail(element, "type='none' but the element has content", source)
        return None
    if kind == "dict":
        if len(element) == 0 and (text := (element.text or "").strip()):
            shown = _shown(element, text[:40])
            raise _fail(element, f"type='dict' but the element holds text {shown}", source)
        return _decode_dict(element, _children(element, ns_prefix, source), ns=ns, source=source)
    if kind == "list":
        if len(element) == 0 and (text := (element.text or "").strip()):
            shown = _shown(element, text[:40])
            raise _fail(element, f"type='list' but the element holds text {shown}", source)
        values = []
        for local, child in _children(element, ns_prefix, source):
            if local != ITEM and local != KNOWN_LISTS.get(key):
                raise _fail(child, f"list item must be <{ITEM}>, got <{local}>", source)
            values.append(decode_value(child, local, ns=ns, source=source))
        return values
    raise _fail(element, f"unknown type marker {kind!r} (known: str, int, float, bool, none, dict, list)", source)


def _decode_dict(
    element: etree._Element, items: list[tuple[str, etree._Element]], *, ns: str, source: str | None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for local, child in items:
        key = _key_of(child, local, source)
        if key in out:
            raise _fail(child, f"key {key!r} appears twice", source)
        out[key] = decode_value(child, key, ns=ns, source=source)
    return out


def decode_map(
    element: etree._Element,
    *,
    ns: str,
    source: str | None = None,
    retype: Retyper | None = None,
    skip: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The dict held by the children of ``element`` (local names in ``skip`` left out).

    ``retype`` converts untyped text of top-level keys (a plugin's declared types).
    """
    if ns:
        # The forms oVirt writes, read in one pass; anything else (and every error) is
        # left to the full reader, which reads the whole map again from the start.
        try:
            prefix = f"{{{ns}}}"
            return _plain_map(element, prefix, retype, skip, _local_names(prefix))
        except _Irregular:
            pass
    return _checked_map(element, ns=ns, source=source, retype=retype, skip=skip)


def _checked_map(
    element: etree._Element,
    *,
    ns: str,
    source: str | None,
    retype: Retyper | None,
    skip: frozenset[str],
) -> dict[str, Any]:
    """:func:`decode_map` by the full reader: every marker, every check, every error."""
    ns_prefix = f"{{{ns}}}" if ns else ""
    out: dict[str, Any] = {}
    for local, child in _children(element, ns_prefix, source):
        if local in skip:
            continue
        key = _key_of(child, local, source)
        if key in out:
            raise _fail(child, f"key {key!r} appears twice", source)
        out[key] = decode_value(child, key, ns=ns, source=source, retype=retype)
    return out


class _Irregular(Exception):
    """Raised by the one-pass reader at anything it leaves to the full reader."""


#: namespace prefix -> {tag in it: local name}: keys repeat in every entry, and slicing
#: a fresh tag string each time cost a tenth of reading one
_LOCAL_NAMES: dict[str, dict[str, str]] = {}
_MAX_NAMES = 4096


def _local_names(prefix: str) -> dict[str, str]:
    names = _LOCAL_NAMES.get(prefix)
    if names is None:
        names = {} if len(_LOCAL_NAMES) >= 16 else _LOCAL_NAMES.setdefault(prefix, {})
    return names


def _plain_map(
    element: etree._Element, prefix: str, retype: Retyper | None, skip: frozenset[str], names: dict[str, str]
) -> dict[str, Any]:
    """The dict :func:`_checked_map` reads from ``element``, for the forms the oVirt
    engine and VDSM write: our namespace only, no comments, whitespace between elements,
    no ``<item>``, no repeated key, a ``type`` of str/int/float/bool/none or none at all,
    no other attribute. Raises :class:`_Irregular` at anything else, including every
    input the full reader refuses, so a value returned is the value it would return."""
    text = element.text
    if text and not text.isspace():
        raise _Irregular
    # the keys retype converts, when known (coercer's): any other text it returns as is
    typed = retype.typed if type(retype) is _Retype else None
    out: dict[str, Any] = {}
    # el[0] and getnext() rather than iter(element): lxml's child iterator costs as much
    # as reading five children, once per map (an entry, a volumeChainNode); the same
    # children in the same order (elements, comments, processing instructions)
    following = element[0] if len(element) else None
    while following is not None:
        child = following
        following = child.getnext()
        tag = child.tag
        key = names.get(tag)
        if key is None:
            if type(tag) is not str or not tag.startswith(prefix):
                raise _Irregular  # comments, other namespaces: the full reader skips them
            key = tag[len(prefix) :]
            if len(names) < _MAX_NAMES:
                names[tag] = key
        tail = child.tail
        if tail and not tail.isspace():
            raise _Irregular
        if key in skip:
            continue
        if key in out or key == ITEM:
            raise _Irregular
        if not child.keys() and not len(child) and key not in KNOWN_LISTS:
            # The common value: untyped text (inline: most elements are these).
            value = child.text or ""
            if retype is not None and value and (typed is None or key in typed):
                try:
                    value = retype(key, value)
                except Exception:  # noqa: BLE001 - the full reader raises it, after any earlier error
                    raise _Irregular from None
            out[key] = value
        else:
            out[key] = _plain_value(child, key, prefix, retype, names)
    return out


def _plain_value(element: etree._Element, key: str, prefix: str, retype: Retyper | None, names: dict[str, str]) -> Any:
    """:func:`decode_value` of one element for :func:`_plain_map` (its rules)."""
    attributes = element.keys()
    if not attributes:
        item_tag = KNOWN_LISTS.get(key)
        if item_tag is not None:
            if not len(element):
                raise _Irregular  # text or nothing where a list is expected
            text = element.text
            if text and not text.isspace():
                raise _Irregular
            item = prefix + item_tag
            values = []
            following: etree._Element | None = element[0]  # (as in _plain_map; len() was checked above)
            while following is not None:
                node = following
                following = node.getnext()
                if node.tag != item:
                    raise _Irregular
                tail = node.tail
                if tail and not tail.isspace():
                    raise _Irregular
                values.append(_plain_value(node, item_tag, prefix, None, names))
            return values
        if len(element):
            return _plain_map(element, prefix, None, frozenset(), names)
        text = element.text or ""
        if retype is not None and text:
            try:
                return retype(key, text)
            except Exception:  # noqa: BLE001 - as in _plain_map
                raise _Irregular from None
        return text
    if attributes != ["type"]:
        raise _Irregular
    kind = element.get("type")
    if kind == "str":
        return element.text or ""
    if kind == "int":
        text = (element.text or "").strip()
        if not _INT_RE.match(text) or len(text.lstrip("+-0")) > MAX_INT_DIGITS:
            raise _Irregular
        return int(text)
    if kind == "bool":
        word = _BOOL_WORDS.get((element.text or "").strip().lower())
        if word is None:
            raise _Irregular
        return word
    if kind == "float":
        try:
            return float((element.text or "").strip())
        except ValueError:
            raise _Irregular from None
    if kind == "none" and not len(element) and not (element.text or "").strip():
        return None
    raise _Irregular  # dict, list, an unknown marker, or a none with content


def same_value(a: Any, b: Any) -> bool:
    """Equality that also compares types (``1``, ``1.0`` and ``True`` differ)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        if a.keys() != b.keys():
            return False
        return all(same_value(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def coercer(schema_coerce: Callable[[str, Any], Any], keys: Mapping[str, type | None]) -> Retyper | None:
    """A :data:`Retyper` from a MetadataSchema, or None when it declares no types."""
    typed = {k for k, t in keys.items() if t is not None and t is not str}
    if not typed:
        return None

    return _Retype(frozenset(typed), schema_coerce)


class _Retype:
    """coercer's Retyper: ``typed`` says which keys it converts (any other text it
    returns as it is), so the one-pass reader calls it only for those, not for every
    key of every entry."""

    __slots__ = ("coerce", "typed")

    def __init__(self, typed: frozenset[str], coerce: Callable[[str, Any], Any]) -> None:
        self.typed = typed
        self.coerce = coerce

    def __call__(self, key: str, text: str) -> Any:
        if key not in self.typed:
            return text
        return self.coerce(key, text)
