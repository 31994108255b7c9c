"""A domain's devices one at a time, in bounded memory: :class:`DomainStream`.

:func:`~devframe.parse_domain` keeps the whole tree and a dev_object per device, as an
agent needs (it edits them and writes the domain back). A reader that looks at each
device once (``devframe inspect``) needs neither. :class:`DomainStream` feeds the
document to :class:`~devframe.core.safexml.StreamParser` a chunk at a time; after each
chunk, the children of `<devices>` completed so far become dev_objects through the same
dispatcher as ``parse_domain`` (:func:`~devframe.core.dispatch.parse_devices`), with
their metadata bound the same way, are handed over, and are then removed from the tree
with their elements. What the stream holds at any time: everything outside `<devices>`
(its `<metadata>` included) and one chunk's devices.

**Metadata.** Devices are bound to their ``<ovirt-vm:device>`` entries as they are made,
so the `<metadata>` section must be known before the first device is handed over.
libvirt writes `<metadata>` before `<devices>` (after `<name>`, `<uuid>`, `<title>`,
`<description>`), so in libvirt's order one pass does it. When no `<metadata>` has been
read by the time the first devices are (the schema allows it anywhere, or there is
none), the rest of the file is searched for the bytes ``<metadata``; only if they are
there (or the document's encoding makes that search unreliable) does a first pass read
the whole document, keeping everything but the devices (deleted as they complete, in
bulk, without a Python object each: about one lxml parse), and its section is used.
:meth:`DomainStream.outline` (name, uuid, number of devices, for a header printed before
the rows) comes from that same first pass, or from the finished main pass. Wherever a first
pass was made, its tree binds the devices and the main pass trims its own `<metadata>` as it
reads it: the section is held once, not twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from itertools import islice
from typing import IO, Any

from lxml import etree

from devframe.core.device import Device
from devframe.core.dispatch import parse_devices
from devframe.core.domain import default_registry
from devframe.core.errors import DevframeError, DomainError
from devframe.core.metadata import MetadataSection
from devframe.core.registry import Registry
from devframe.core.safexml import DEFAULT_LIMITS, ParseLimits, StreamParser, ascii_based, effective_limits

__all__ = ["CHUNK_SIZE", "DomainOutline", "DomainStream"]

#: bytes fed to the parser at a time: large enough that the per-chunk work is nothing (about
#: a hundred devices of the benchmarks' domains), small enough that a chunk's tree and
#: dev_objects are small beside the process. At 1 MiB a document of 1,000 devices was one
#: chunk, its whole tree held at once: ``inspect --json`` peaked at 2.4-2.8x lxml's tree
#: (docs/benchmarks.md, branch mem1k); at 64 KiB 1.6-2.1x, and fewer instructions.
CHUNK_SIZE = 1 << 16
_METADATA = b"<metadata"
_COUNT_ELEMENTS = etree.XPath("count(*)")
#: enough of the document's start for its XML declaration
_HEAD = 256


def _trim(element: etree._Element) -> None:
    """Delete what is complete below ``element``, which the parser is still building:
    every child but the last (only the last may be open), and the same down the last."""
    while len(element):
        if len(element) > 1:
            del element[:-1]
        element = element[-1]


@dataclass(frozen=True)
class DomainOutline:
    """What a header needs before the devices: the domain's name, uuid and device count."""

    name: str | None
    uuid: str | None
    #: children of `<devices>` that are elements (one dev_object each)
    devices: int


class DomainStream:
    """The devices of one domain document, made one by one and freed after use.

    ``file`` is a path or a seekable binary file (read from its start, once per pass).
    Iterating yields each device's dev_object in document order, exactly as
    ``parse_domain`` would make it (same plugins, same metadata binding), but owned by no
    Domain; after the consumer moves on, the device and its element are freed. Errors
    are the same :class:`~devframe.DevframeError` kinds ``parse_domain`` raises; they
    may come after some devices were handed over (a document is known well-formed only
    at its end). ``progress`` is called after every chunk (``chunk_size`` bytes, default
    :data:`CHUNK_SIZE`) with this stream.

    A stream is read once.
    """

    def __init__(
        self,
        file: str | os.PathLike[str] | IO[bytes],
        *,
        registry: Registry | None = None,
        source: str | None = None,
        limits: ParseLimits = DEFAULT_LIMITS,
        progress: Callable[[DomainStream], None] | None = None,
        chunk_size: int | None = None,
    ) -> None:
        if isinstance(file, (str, os.PathLike)):
            self._path: str | None = os.fspath(file)
            self._file: IO[bytes] | None = None
        else:
            self._path, self._file = None, file
        self.source = source if source is not None else self._path
        self.registry = registry if registry is not None else default_registry()
        self.limits = effective_limits(limits)
        self.chunk_size = chunk_size or CHUNK_SIZE
        self._progress = progress
        #: "reading" (the pass that hands devices over) or "scanning" (the first pass)
        self.phase = "reading"
        #: bytes of the document, and bytes read by the current pass
        self.size = self._measure()
        self.done = 0
        #: devices handed over so far
        self.devices = 0
        self._started = False
        self._finished: DomainOutline | None = None
        #: the first pass's outline, and its tree (all but the devices) until binding has used it
        self._scanned: DomainOutline | None = None
        self._skeleton: etree._Element | None = None
        self._bound = False
        #: the metadata section was taken from the first pass's tree (the reading pass's own
        #: `<metadata>` is then trimmed as it comes)
        self._from_first_pass = False

    # -- input --------------------------------------------------------------------------------

    def _measure(self) -> int:
        try:
            if self._path is not None:
                size = os.stat(self._path).st_size
            else:
                assert self._file is not None
                size = self._file.seek(0, os.SEEK_END)
        except OSError as exc:
            raise DevframeError(f"{self.source}: cannot read: {exc.strerror or exc}") from None
        if size > self.limits.max_bytes:
            raise DevframeError(
                f"{self.source}: file is larger than the limit of {self.limits.max_bytes} bytes "
                "(DEVFRAME_XML_MAX_BYTES)"
            )
        return size

    def _open(self) -> AbstractContextManager[IO[bytes]]:
        # A file given as an object is shared by the passes: each seeks before it reads.
        if self._path is None:
            assert self._file is not None
            return nullcontext(self._file)
        try:
            return open(self._path, "rb")
        except OSError as exc:
            raise DevframeError(f"{self.source}: cannot read: {exc.strerror or exc}") from None

    def _chunks(self, phase: str) -> Iterator[bytes]:
        """The document's bytes, a chunk at a time; ``b""`` once at the end."""
        self.phase, self.done = phase, 0
        offset = 0
        with self._open() as handle:
            while True:
                handle.seek(offset)
                chunk = handle.read(self.chunk_size)
                offset += len(chunk)
                self.done = offset
                yield chunk
                if self._progress is not None:
                    self._progress(self)
                if not chunk:
                    return

    # -- the devices ----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Device]:
        if self._started:
            raise DevframeError(f"{self.source or 'document'}: a DomainStream is read once")
        self._started = True
        return self._read()

    def _read(self) -> Iterator[Device]:
        # Start events only: an end event makes libxml2 call back into Python at every
        # element's end. A child of the root is complete once a later sibling has begun.
        parser = StreamParser(
            events=("start",), tag=("domain", "devices", "metadata"), source=self.source, limits=self.limits
        )
        root: etree._Element | None = None
        devices_el: etree._Element | None = None
        metadata_el: etree._Element | None = None
        devices_ended = metadata_read = at_end = bound = False
        section: MetadataSection | None = None
        binder = None
        if self._skeleton is not None:
            # A first pass (outline()) read the whole document: its tree is the final answer
            # for binding, taken now (the `<metadata>` this pass reads is then trimmed, below).
            section = self._section(self._skeleton, True)
            binder = section.binder() if section is not None else None
            bound = True
        for chunk in self._chunks("reading"):
            if chunk:
                events = parser.feed(chunk)
            else:
                root, events, at_end = parser.close(), [], True
            for _event, element in events:
                if root is None:
                    root = self._check_root(element.getroottree().getroot())
                if element.getparent() is not root or root is None:
                    continue  # a <devices> or <metadata> deeper down is not the domain's
                if element.tag == "devices":
                    if devices_el is None:
                        devices_el = element
                elif metadata_el is None:
                    metadata_el = element
            if metadata_el is not None and not metadata_read:
                metadata_read = at_end or metadata_el.getnext() is not None
            if metadata_el is not None and self._from_first_pass:
                # The section is the first pass's: this pass's copy of the metadata is not
                # needed. Kept, it was a second copy of the section (inspect's table on a
                # domain with an entry per device: 2.6 GB instead of 1.4 at 1,000,000 devices).
                _trim(metadata_el)
            if devices_el is not None and not devices_ended:
                devices_ended = at_end or devices_el.getnext() is not None
            if devices_el is None:
                continue
            if not bound:
                if devices_ended and not (metadata_read or at_end):
                    continue  # the devices are complete: read on, a <metadata> may follow
                section = self._section(root, metadata_read or at_end)
                binder = section.binder() if section is not None else None
                bound = True
            # Children before the last are complete; the last may still be open.
            complete = len(devices_el) if devices_ended or at_end else len(devices_el) - 1
            if complete <= 0:
                continue
            # The chunk's devices are freed together after its last: freeing each as the
            # consumer moved on cost ~5 k instructions per device (varied domain) and
            # saved little memory beside the smaller chunk.
            parsed = parse_devices(islice(devices_el, complete), self.registry, binder)
            for device in parsed.devices:
                self.devices += 1
                yield device
            if section is not None:
                for device in parsed.devices:
                    section.release(device)
            del parsed
            del devices_el[:complete]
        assert root is not None
        self._check_root(root)
        if section is not None:
            section.finish()
        self._finished = DomainOutline(root.findtext("name"), root.findtext("uuid"), self.devices)

    def _check_root(self, root: etree._Element) -> etree._Element:
        if root.tag != "domain":
            raise DomainError(f"{self.source or 'document'}: root element is <{root.tag}>, expected <domain>")
        return root

    def _section(self, root: etree._Element | None, known: bool) -> MetadataSection | None:
        """The metadata section to bind devices with. ``known``: a `<metadata>` child of the
        root has been read (or the whole document), so this tree's answer is final. If not,
        `<devices>` is still open, so no `<metadata>` of the root is: one can only follow."""
        assert root is not None
        if not known and self._may_hold_metadata():
            if self._skeleton is None:
                self._scan()
            assert self._skeleton is not None
            root = self._skeleton
        self._from_first_pass = root is self._skeleton
        self._bound = True
        self._skeleton = None  # the section keeps what it needs
        return MetadataSection.from_domain(root, source=self.source)

    def _may_hold_metadata(self) -> bool:
        """Could the document hold a `<metadata>` element? A search of its bytes (GB/s,
        against a parse's tens of MB/s): in an ASCII-compatible encoding an element named
        metadata is written with the bytes ``<metadata``; a comment or a text holding
        them only costs a first pass."""
        tail = b""
        with self._open() as handle:
            handle.seek(0)
            if not ascii_based(handle.read(_HEAD)):
                return True
            handle.seek(0)
            while chunk := handle.read(self.chunk_size):
                if _METADATA in tail + chunk:
                    return True
                tail = chunk[-len(_METADATA) :]
        return False

    # -- the first pass ---------------------------------------------------------------------------

    def _scan(self) -> None:
        """The first pass: the document without its devices (counted, deleted as they
        complete). Sets the outline, and keeps the tree if binding may still need it."""
        phase, done = self.phase, self.done
        # Start events only, as in _read: asking for end events makes libxml2 call back into
        # Python at every element's end too. `<devices>` is complete once the root has a
        # later child, or at the end of the document.
        parser = StreamParser(events=("start",), tag="devices", source=self.source, limits=self.limits)
        devices_el: etree._Element | None = None
        ended = False
        count = 0
        root: etree._Element | None = None
        for chunk in self._chunks("scanning"):
            if not chunk:
                root = parser.close()
                ended = True
                events = []
            else:
                events = parser.feed(chunk)
            for _event, element in events:
                parent = element.getparent()
                if devices_el is None and parent is not None and parent.getparent() is None:
                    devices_el = element
            if devices_el is None:
                continue
            if not ended:
                ended = devices_el.getnext() is not None
            complete = len(devices_el) if ended else len(devices_el) - 1
            if complete > 0:
                # Elements among the complete children, counted by libxml2 (no object per child).
                open_element = not ended and isinstance(devices_el[-1].tag, str)
                elements: Any = _COUNT_ELEMENTS(devices_el)  # a float, for XPath's count()
                count += int(elements) - open_element
                del devices_el[:complete]
        assert root is not None
        self._check_root(root)
        self.phase, self.done = phase, done
        self._scanned = DomainOutline(root.findtext("name"), root.findtext("uuid"), count)
        if not self._bound:
            self._skeleton = root

    def outline(self) -> DomainOutline:
        """Name, uuid and number of devices: from the finished read, or else from a first
        pass over the document (made once, shared with metadata binding)."""
        if self._finished is not None:
            return self._finished
        if self._scanned is None:
            self._scan()
        assert self._scanned is not None
        return self._scanned
