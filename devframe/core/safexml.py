"""The one place devframe turns bytes into an lxml tree.

libxml2 is configured to never expand entities, never load a DTD and never touch the
network. A document that carries a DTD at all is refused: libvirt's domain XML has no
use for one, and refusing is the only answer that is safe against every entity trick
(billion laughs, quadratic blowup, XXE, external and parameter entities).

:func:`parse_xml` is for documents from outside (files, the engine, dev_specs): it
also bounds their size. :class:`StreamParser` reads such a document in chunks, for
documents too large to hold as one tree, with the same settings and refusals.
:func:`parse_trusted_xml` and :func:`parse_trusted_file` are for text devframe did not
take from outside (libvirt's answers, its own output, the
RelaxNG schema libvirt installed): the same refusals, no size limit.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from devframe.core.errors import XMLError

__all__ = [
    "DEFAULT_LIMITS",
    "ParseLimits",
    "StreamParser",
    "ascii_based",
    "effective_limits",
    "parse_trusted_file",
    "parse_trusted_xml",
    "parse_xml",
]


@dataclass(frozen=True)
class ParseLimits:
    """Bounds applied to every document devframe parses.

    ``max_bytes``: the largest input accepted (default 256 MiB; when no limits are passed,
    the environment variable ``DEVFRAME_XML_MAX_BYTES`` overrides it).
    ``huge_tree``: lift libxml2's own safety limits (element depth 256, a single text
    or attribute value of 10 MB). Off by default; turn on only for trusted input.
    ``max_namespaces``: the most namespace declarations a document may carry (default
    64; real domain XML has a handful, virt-manager's test suite at most 12). lxml writes
    an element of a document with every namespace declared above it, each checked
    against the others: the cost grows with the square of the declarations, so a
    document past the limit is refused, trusted or not (devframe also writes devices
    with only the namespaces they use: :func:`devframe.core.xmledit.subtree_xml`).
    """

    max_bytes: int = 256 * 1024 * 1024
    huge_tree: bool = False
    max_namespaces: int = 64

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ParseLimits:
        env = os.environ if env is None else env
        raw = env.get("DEVFRAME_XML_MAX_BYTES")
        if raw is None or not raw.strip():
            return cls()
        try:
            max_bytes = int(raw)
        except ValueError:
            raise XMLError(f"DEVFRAME_XML_MAX_BYTES must be a positive integer, got {raw!r}") from None
        if max_bytes <= 0:
            raise XMLError(f"DEVFRAME_XML_MAX_BYTES must be a positive integer, got {raw!r}")
        return cls(max_bytes=max_bytes)


#: The default: passing it (or None) means "ParseLimits() as adjusted by the environment".
DEFAULT_LIMITS = ParseLimits()


def effective_limits(limits: ParseLimits | None) -> ParseLimits:
    """The limits to apply: the defaults (and environment) unless the caller chose some."""
    if limits is None or limits is DEFAULT_LIMITS:
        return ParseLimits.from_env()
    return limits


class _ExternalLoadRefused(Exception):
    """Raised by :class:`_RefuseExternal` inside libxml2's loader; becomes an XMLError."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        super().__init__(url)


class _RefuseExternal(etree.Resolver):
    """Refuses every external load (DTD, external or parameter entity) before it happens.

    ``load_dtd=False`` and ``resolve_entities=False`` do not stop libxml2 from opening an
    external DTD subset or an external parameter entity; this resolver runs first and
    makes sure no file is opened and no connection attempted.
    """

    # lxml passes ``context``; lxml-stubs' Resolver.resolve omits it.
    def resolve(self, system_url: str | None, public_id: str | None, context: object) -> None:  # type: ignore[override]
        raise _ExternalLoadRefused(system_url or public_id)


_LOCAL = threading.local()
_LOCATION_SUFFIX = re.compile(r",? line \d+, column \d+$")


def _byte_parser(huge: bool) -> etree.XMLParser:
    """Parser for bytes: honours the document's own encoding declaration."""
    return _make_parser(huge, forced_utf8=False)


def _parser(huge: bool) -> etree.XMLParser:
    """Parser for text already encoded to UTF-8 by us."""
    return _make_parser(huge, forced_utf8=True)


def _make_parser(huge: bool, forced_utf8: bool) -> etree.XMLParser:
    # Parsers are reusable but not shareable between threads: one set per thread.
    parsers: dict[tuple[bool, bool], etree.XMLParser] | None = getattr(_LOCAL, "parsers", None)
    if parsers is None:
        parsers = _LOCAL.parsers = {}
    parser = parsers.get((huge, forced_utf8))
    if parser is None:
        parser = etree.XMLParser(**_options(huge), encoding="utf-8" if forced_utf8 else None)
        parser.resolvers.add(_RefuseExternal())
        parsers[(huge, forced_utf8)] = parser
    return parser


def _options(huge: bool) -> dict[str, Any]:
    """libxml2's settings for every parser devframe makes: nothing loaded, nothing expanded."""
    return {
        "resolve_entities": False,
        "load_dtd": False,
        "dtd_validation": False,
        "no_network": True,
        "huge_tree": huge,
        "remove_blank_text": False,
        "remove_comments": False,
        "remove_pis": False,
        "strip_cdata": False,
        "collect_ids": False,
    }


# An XML declaration naming an encoding in which ASCII text is ASCII bytes
_DECLARED = re.compile(rb"""\A(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_ASCII_BASED = re.compile(rb"(?i)\A(?:utf-?8|us-ascii|ascii|iso[-_]?8859[-_]\d+|latin-?1|windows-125\d|cp125\d)\Z")


def ascii_based(head: bytes) -> bool:
    """Is a document starting with ``head`` written so that its markup is ASCII bytes (a
    search of the bytes for ``xmlns`` or ``<metadata`` then finds every one)? A ``<`` or
    UTF-8's BOM first, and a declared encoding, if any, known to be ASCII-based: not UTF-16,
    UTF-7 or EBCDIC, which spell markup otherwise."""
    if head[:1] != b"<" and head[:3] != b"\xef\xbb\xbf":
        return False
    declared = _DECLARED.match(head)
    return declared is None or _ASCII_BASED.match(declared.group(1)) is not None


def _check_namespaces(raw: bytes, root: etree._Element, limit: int, source: str | None, utf8: bool) -> None:
    """Refuse a document declaring more than ``limit`` namespaces (ParseLimits.max_namespaces).

    Counting ``xmlns`` in the bytes settles it for nearly every document; only when that
    count is past the limit, or the bytes are not in an ASCII-based encoding, are the
    declarations counted in the tree.
    """
    if (utf8 or ascii_based(raw)) and raw.count(b"xmlns") <= limit:
        return
    count = sum(1 for _ in etree.iterwalk(root, events=("start-ns",)))
    if count > limit:
        raise _too_many_namespaces(f"{count}", limit, source)


def _too_many_namespaces(count: str, limit: int, source: str | None) -> XMLError:
    return XMLError(
        f"{count} namespace declarations refused: more than the limit of {limit} "
        "(ParseLimits.max_namespaces); lxml writes each device with every namespace declared above it, "
        "at a cost that grows with the square of their number",
        source=source,
    )


def parse_xml(
    data: str | bytes,
    *,
    source: str | None = None,
    limits: ParseLimits | None = None,
) -> etree._ElementTree:
    """Parse ``data`` safely and return the document tree.

    Raises :class:`XMLError` naming ``source``, line and column for malformed XML, and
    saying what was refused for DTDs, entities and oversize input. ``limits``: default
    :class:`ParseLimits` adjusted by ``DEVFRAME_XML_MAX_BYTES``.
    """
    return _parse(data, source=source, limits=effective_limits(limits))


# No size limit: the text is already in this process (libvirt's reply, devframe's own
# serialization), so refusing it saves nothing, and a DEVFRAME_XML_MAX_BYTES set low for
# outside input must not stop devframe from reading a host's capabilities or its schema.
_TRUSTED = ParseLimits(max_bytes=sys.maxsize)


def parse_trusted_xml(data: str | bytes, *, source: str | None = None) -> etree._ElementTree:
    """Parse XML devframe did not take from outside: libvirt's replies (capabilities,
    sysinfo, a domain's live XML) and devframe's own output.

    Refuses what :func:`parse_xml` refuses (DTDs, entities, network) and raises the same
    :class:`XMLError`, without the byte limit (see ``_TRUSTED``).
    """
    return _parse(data, source=source, limits=_TRUSTED)


def parse_trusted_file(path: str | Path) -> etree._ElementTree:
    """Parse a local file devframe trusts (libvirt's RelaxNG schema), without the byte limit.

    The path is the document's base URL, so the schema's ``<include href=...>`` are
    found in its own folder when lxml compiles it. Raises :class:`XMLError` (naming the
    path) as :func:`parse_xml` does, and OSError when the file cannot be read.
    """
    location = Path(path)
    return _parse(location.read_bytes(), source=str(location), limits=_TRUSTED, base_url=str(location))


class StreamParser:
    """Parse a document fed in chunks, with :func:`parse_xml`'s hardening, for documents too
    large to hold as one tree (``devframe inspect`` of a million devices).

    The same libxml2 settings and refusals as :func:`parse_xml` (no DTD, no entity, no
    network; the document's size bounded by ``limits.max_bytes``, counted as it is fed), and
    the same :class:`XMLError`, naming ``source``, line and column. :meth:`feed` returns the
    ``events`` (lxml's ``(event, element)`` pairs, only for ``tag`` when given) that the
    chunk completed; :meth:`close` returns the root. The tree is lxml's, built as the
    bytes arrive: a caller keeps memory bounded by removing what it has read (an element's
    earlier siblings are complete and safe to remove; the last child may still be open).
    """

    def __init__(
        self,
        *,
        events: tuple[str, ...] = ("end",),
        tag: str | tuple[str, ...] | None = None,
        source: str | None = None,
        limits: ParseLimits | None = None,
    ) -> None:
        self.source = source
        self.limits = effective_limits(limits)
        self.fed = 0
        self._checked = False
        #: namespace declarations read so far (ParseLimits.max_namespaces), and whether the
        #: caller asked for their events too
        self.namespaces = 0
        self._ns_events = "start-ns" in events
        pull: Any = etree.XMLPullParser  # lxml-stubs do not know its parser keywords
        parser = pull(events=tuple({*events, "start-ns"}), tag=tag, **_options(self.limits.huge_tree))
        parser.resolvers.add(_RefuseExternal())
        self._parser = parser
        # A push parser reports some errors only later, as a generic one (an undefined entity
        # as "no element found" at close): the cause is the first error in the thread's log
        # (see _refusal), which must then hold nothing older than this document.
        etree.clear_error_log()

    def feed(self, data: bytes) -> list[tuple[str, Any]]:
        """Parse ``data``, the next bytes of the document; the events it completed (an
        element each, a ``(prefix, uri)`` pair for ``start-ns``)."""
        self.fed += len(data)
        if self.fed > self.limits.max_bytes:
            raise XMLError(
                f"document of more than {self.limits.max_bytes} bytes refused: larger than the limit "
                "(ParseLimits.max_bytes)",
                source=self.source,
            )
        try:
            self._parser.feed(data)
            events: list[tuple[str, Any]] = list(self._parser.read_events())
        except (_ExternalLoadRefused, etree.XMLSyntaxError, ValueError) as exc:
            raise _refusal(exc, self.source, streamed=True) from None
        # Every declaration is an event (the tag filter does not apply to them): counted here.
        declared = sum(1 for event, _ in events if event == "start-ns")
        if declared:
            self.namespaces += declared
            if self.namespaces > self.limits.max_namespaces:
                raise _too_many_namespaces(f"at least {self.namespaces}", self.limits.max_namespaces, self.source)
            if not self._ns_events:
                events = [item for item in events if item[0] != "start-ns"]
        if not self._checked:
            first = next((item[1] for item in events if item[0] != "start-ns"), None)
            if first is not None:
                # The document type declaration comes before the root: refused at its first element.
                _refuse_dtd(first.getroottree(), self.source)
                self._checked = True
        return events

    def close(self) -> etree._Element:
        """End of the document: its root (an :class:`XMLError` when it is incomplete)."""
        if not self.fed:
            raise XMLError("empty document", source=self.source)
        try:
            root: etree._Element | None = self._parser.close()
        except (_ExternalLoadRefused, etree.XMLSyntaxError, ValueError) as exc:
            raise _refusal(exc, self.source, streamed=True) from None
        if root is None:
            raise XMLError("empty document", source=self.source)
        _refuse_dtd(root.getroottree(), self.source)
        return root


def _parse(
    data: str | bytes, *, source: str | None, limits: ParseLimits, base_url: str | None = None
) -> etree._ElementTree:
    if isinstance(data, str):
        raw = data.encode("utf-8", "surrogatepass")
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    else:
        raise XMLError(f"expected XML as str or bytes, got {type(data).__name__}", source=source)
    if len(raw) > limits.max_bytes:
        raise XMLError(
            f"document of {len(raw)} bytes refused: larger than the limit of "
            f"{limits.max_bytes} bytes (ParseLimits.max_bytes)",
            source=source,
        )
    try:
        # A str was already decoded by the caller, whatever its declaration says; the
        # parser reads it as the UTF-8 we just encoded (encoding= on the parser).
        parser = _parser(limits.huge_tree) if isinstance(data, str) else _byte_parser(limits.huge_tree)
        if base_url is None:
            root = etree.fromstring(raw, parser)
        else:
            root = etree.fromstring(raw, parser, base_url=base_url)
    except (_ExternalLoadRefused, etree.XMLSyntaxError, ValueError) as exc:
        raise _refusal(exc, source) from None
    if root is None:
        raise XMLError("empty document", source=source)
    tree = root.getroottree()
    _check_namespaces(raw, root, limits.max_namespaces, source, isinstance(data, str))
    _refuse_dtd(tree, source)
    return tree


def _refusal(exc: Exception, source: str | None, *, streamed: bool = False) -> XMLError:
    """The XMLError for what libxml2 (or our resolver) raised while parsing; ``streamed``
    (a StreamParser's: the thread's error log was cleared when it began), a syntax error
    is told by the first error logged."""
    if isinstance(exc, _ExternalLoadRefused):
        return XMLError(
            f"external resource refused: the document asks to load {exc.url!r} (an external DTD or "
            "entity); devframe never loads DTDs or external entities",
            source=source,
        )
    if isinstance(exc, etree.XMLSyntaxError):
        line, column = exc.position if exc.position else (None, None)
        msg = exc.msg or str(exc)
        if streamed:
            log: Any = exc.error_log  # lxml-stubs: not iterable
            first = next((e for e in log if e.level >= etree.ErrorLevels.ERROR), None)
            if first is not None and first.message:
                msg, line, column = first.message, first.line, first.column
        msg = _LOCATION_SUFFIX.sub("", msg.strip()).strip()
        low = msg.lower()
        if "xml_parse_huge" in low:
            msg = (
                f"size or depth limit exceeded: {msg} (libxml2's safety limits: element depth 256, "
                "one text or attribute value 10 MB; ParseLimits(huge_tree=True) lifts them for trusted input)"
            )
        elif "entity" in low and "not defined" in low:
            msg = f"undefined entity refused: {msg}"
        elif "amplification" in low or ("entity" in low and "loop" in low):
            msg = f"entity expansion refused: {msg}"
        return XMLError(msg, source=source, line=line, column=column)
    return XMLError(str(exc), source=source)


def _refuse_dtd(tree: etree._ElementTree, source: str | None) -> None:
    """Raise when the document carries a DTD (internal or external), whatever it declares."""
    docinfo: Any = tree.docinfo  # lxml-stubs' DocInfo has no doctype or system_url
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        dtd = docinfo.internalDTD
        entities = list(dtd.iterentities()) if dtd is not None else []
        what = "a DTD"
        if entities:
            what = f"a DTD declaring entities ({', '.join(e.name for e in entities[:5])})"
        elif docinfo.system_url:
            what = f"an external DTD ({docinfo.system_url})"
        raise XMLError(
            f"document type declaration refused: the document carries {what}; "
            "devframe never loads DTDs or expands entities",
            source=source,
            line=1,
        )
