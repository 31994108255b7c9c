"""A bounded on-disk spool: events wait here, in order, until a transport took them.

Records are appended to segment files (``<n>.seg``) and read back in the same order;
a transport reads a batch, publishes it, and :meth:`Spool.commit` s the position after
the last record its server acknowledged (kept in ``cursor``, replaced atomically: at
most every ``cursor_interval`` seconds, when a segment is dropped, and on close).
After a crash or restart, reading starts again at the committed position as last
written: records published but not yet committed (or committed within the last
``cursor_interval``) are sent again (the transport dedupes them by id).

The spool never holds more than ``max_bytes``: :meth:`Spool.append` refuses a record
that does not fit (returns False) and counts it; nothing already spooled is dropped,
so what is delivered stays in order without gaps up to the first refusal, and the
agent restates every guest once there is room again (docs/fleet.md).

Appends are buffered and reach the file when the transport reads (or the buffer
fills, or the spool closes): a crash of the agent itself can lose the last few KiB,
which the restarted agent sends again anyway (it lists every guest whole on start).

Each record is ``crc32, subject length, id length, payload length`` then the three
byte strings; a torn record at the end of a segment (a crash mid-write) is skipped
with a warning, since writing always resumes in a new segment.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import struct
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from devframe.core.errors import DevframeError
from devframe.core.log import get_logger

__all__ = ["Position", "Record", "Spool", "SpoolError"]

_HEADER = struct.Struct(">IHHI")  # crc32 of the rest, subject len, id len, payload len
_SUFFIX = ".seg"


class SpoolError(DevframeError):
    """The spool directory cannot be used."""


@dataclass(frozen=True, order=True)
class Position:
    """A place in the spool: segment number and byte offset in it."""

    segment: int
    offset: int


@dataclass(frozen=True)
class Record:
    subject: str
    msg_id: str
    payload: bytes


class Spool:
    """Ordered records on disk, bounded by ``max_bytes`` (see the module doc). Thread-safe:
    one thread appends while another reads and commits."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        max_bytes: int = 256 << 20,
        segment_bytes: int = 4 << 20,
        cursor_interval: float = 0.5,
    ):
        if max_bytes < 1024 or segment_bytes < 1024:
            raise SpoolError(f"spool limits too small: max_bytes={max_bytes}, segment_bytes={segment_bytes}")
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.cursor_interval = cursor_interval
        #: when the cursor file was last written, and whether it lags the committed position
        # (never: the first commit writes it, however short the monotonic clock's run since boot)
        self._cursor_written = -math.inf
        self._cursor_dirty = False
        self._log = get_logger(spool=str(self.directory))
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        #: records refused because the spool was full (since it was opened)
        self.refused = 0
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            segments = self._segments()
            self._committed = self._read_cursor(segments)
        except OSError as exc:
            raise SpoolError(f"spool {self.directory}: {exc.strerror or exc}") from None
        # Drop what the cursor says is done (a crash between commit and unlink).
        for number in segments:
            if number < self._committed.segment:
                self._unlink(number)
        segments = [n for n in segments if n >= self._committed.segment]
        self._size = sum(self._path(n).stat().st_size for n in segments) - (
            self._committed.offset if segments and segments[0] == self._committed.segment else 0
        )
        self._size = max(self._size, 0)
        self._count = self._count_records(segments)
        # Writing always starts a new segment: a torn tail of the last run stays behind it.
        self._write_segment = (segments[-1] + 1) if segments else max(self._committed.segment, 1)
        self._writer: BinaryIO = open(self._path(self._write_segment), "ab")
        self._write_offset = 0
        if not segments or self._committed.segment not in segments:
            self._committed = Position(segments[0] if segments else self._write_segment, 0)
        self._read_at = self._committed
        self._reader: BinaryIO | None = None
        self._reader_segment = -1
        self._closed = False

    # -- files --------------------------------------------------------------------------

    def _path(self, number: int) -> Path:
        return self.directory / f"{number:012d}{_SUFFIX}"

    def _segments(self) -> list[int]:
        found = []
        for path in self.directory.iterdir():
            if path.suffix == _SUFFIX and path.stem.isdigit():
                found.append(int(path.stem))
        return sorted(found)

    def _read_cursor(self, segments: list[int]) -> Position:
        path = self.directory / "cursor"
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            return Position(int(saved["segment"]), int(saved["offset"]))
        except FileNotFoundError:
            return Position(segments[0] if segments else 1, 0)
        except (ValueError, KeyError, TypeError) as exc:
            self._log.warning("spool cursor unreadable; replaying every segment", error=str(exc))
            return Position(segments[0] if segments else 1, 0)

    def _write_cursor(self, position: Position) -> None:
        path = self.directory / "cursor"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"segment": position.segment, "offset": position.offset}), encoding="utf-8")
        os.replace(tmp, path)

    def _unlink(self, number: int) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(number).unlink()

    def _count_records(self, segments: list[int]) -> int:
        count = 0
        for number in segments:
            start = self._committed.offset if number == self._committed.segment else 0
            with open(self._path(number), "rb") as handle:
                handle.seek(start)
                while self._next(handle, number) is not None:
                    count += 1
        return count

    def _next(self, handle: BinaryIO, number: int) -> Record | None:
        """The record at the handle's position, or None at the end (a torn tail skipped)."""
        header = handle.read(_HEADER.size)
        if len(header) < _HEADER.size:
            if header:
                self._log.warning("torn record at the end of a spool segment skipped", segment=number)
            return None
        crc, subject_len, id_len, payload_len = _HEADER.unpack(header)
        body = handle.read(subject_len + id_len + payload_len)
        if len(body) < subject_len + id_len + payload_len or zlib.crc32(body) != crc:
            self._log.warning("torn or damaged record in a spool segment skipped", segment=number)
            handle.seek(0, os.SEEK_END)
            return None
        subject = body[:subject_len].decode()
        msg_id = body[subject_len : subject_len + id_len].decode()
        return Record(subject, msg_id, body[subject_len + id_len :])

    # -- writing ------------------------------------------------------------------------

    def append(self, subject: str, msg_id: str, payload: bytes) -> bool:
        """Add one record; False (and counted in :attr:`refused`) when it does not fit."""
        return self.append_many([(subject, msg_id, payload)]) == 1

    def append_many(self, records: list[tuple[str, str, bytes]]) -> int:
        """Add records in order; returns how many were taken (the rest did not fit)."""
        taken = 0
        with self._lock:
            if self._closed:
                raise SpoolError(f"spool {self.directory} is closed")
            chunks = []
            for subject, msg_id, payload in records:
                head = subject.encode()
                ident = msg_id.encode()
                body = head + ident + payload
                size = _HEADER.size + len(body)
                if self._size + size > self.max_bytes:
                    self.refused += len(records) - taken
                    break
                chunks.append(_HEADER.pack(zlib.crc32(body), len(head), len(ident), len(payload)) + body)
                self._size += size
                self._write_offset += size
                taken += 1
                if self._write_offset >= self.segment_bytes:
                    self._writer.write(b"".join(chunks))
                    chunks = []
                    self._rotate()
            if chunks:
                self._writer.write(b"".join(chunks))
            # Not flushed here: a reader flushes first (the same process), so appending
            # stays one buffered write; the OS has it by then, and on close.
            self._count += taken
            if taken:
                self._ready.notify_all()
        if taken < len(records):
            self._log.error(
                "spool full: events refused (the agent restates every guest once there is room)",
                refused=len(records) - taken,
                max_bytes=self.max_bytes,
            )
        return taken

    def _rotate(self) -> None:
        self._writer.flush()
        os.fsync(self._writer.fileno())
        self._writer.close()
        self._write_segment += 1
        self._writer = open(self._path(self._write_segment), "ab")
        self._write_offset = 0

    # -- reading ------------------------------------------------------------------------

    def read(self, max_records: int = 1000, max_bytes: int = 1 << 20) -> tuple[list[Record], Position]:
        """Up to ``max_records`` records after the last read (not yet committed), and the
        position after them (to :meth:`commit` once they are delivered)."""
        out: list[Record] = []
        size = 0
        with self._lock:
            if not self._closed:
                self._writer.flush()
            while len(out) < max_records and size < max_bytes:
                handle = self._reader_for(self._read_at)
                if handle is None:
                    break
                record = self._next(handle, self._read_at.segment)
                if record is None:
                    if self._read_at.segment >= self._write_segment:
                        handle.seek(self._read_at.offset)  # nothing more yet
                        break
                    self._read_at = Position(self._read_at.segment + 1, 0)
                    continue
                out.append(record)
                size += len(record.payload)
                self._read_at = Position(self._read_at.segment, handle.tell())
            return out, self._read_at

    def _reader_for(self, position: Position) -> BinaryIO | None:
        if self._reader is None or self._reader_segment != position.segment:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
            try:
                self._reader = open(self._path(position.segment), "rb")
            except FileNotFoundError:
                if position.segment < self._write_segment:
                    self._read_at = Position(position.segment + 1, 0)
                    return self._reader_for(self._read_at)
                return None
            self._reader_segment = position.segment
        self._reader.seek(position.offset)
        return self._reader

    def rewind(self) -> None:
        """Read again from the committed position (a batch was not acknowledged)."""
        with self._lock:
            self._read_at = self._committed

    def commit(self, position: Position, count: int) -> None:
        """Everything before ``position`` (``count`` records) is delivered: forget it."""
        with self._lock:
            if position <= self._committed:
                return
            done = range(self._committed.segment, position.segment)
            freed = 0
            for number in done:
                with contextlib.suppress(FileNotFoundError):
                    freed += self._path(number).stat().st_size - (
                        self._committed.offset if number == self._committed.segment else 0
                    )
            if position.segment == self._committed.segment:
                freed = position.offset - self._committed.offset
            else:
                freed += position.offset
            # The cursor file is what a restart reads: written when segments go (their
            # files must not be looked for again), else at most every cursor_interval;
            # committed meanwhile and lost in a crash means sent again, deduped by id.
            now = time.monotonic()
            if done or now - self._cursor_written >= self.cursor_interval:
                self._write_cursor(position)
                self._cursor_written = now
                self._cursor_dirty = False
            else:
                self._cursor_dirty = True
            for number in done:
                if number != self._write_segment:
                    if self._reader is not None and self._reader_segment == number:
                        self._reader.close()
                        self._reader = None
                    self._unlink(number)
            self._committed = position
            self._size = max(self._size - freed, 0)
            self._count = max(self._count - count, 0)

    def wait(self, timeout: float) -> bool:
        """Block until there is something to read (True) or ``timeout`` passes."""
        with self._lock:
            if self._has_unread():
                return True
            self._ready.wait(timeout)
            return self._has_unread()

    def wake(self) -> None:
        """Wake a thread blocked in :meth:`wait` (closing)."""
        with self._lock:
            self._ready.notify_all()

    def _has_unread(self) -> bool:
        return self._read_at.segment < self._write_segment or self._read_at.offset < self._write_offset

    # -- state --------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """Bytes of records not yet committed."""
        return self._size

    def __len__(self) -> int:
        """Records not yet committed."""
        return self._count

    def has_room(self, fraction: float = 0.5) -> bool:
        """True while less than ``fraction`` of ``max_bytes`` is in use."""
        return self._size < self.max_bytes * fraction

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._cursor_dirty:
                self._write_cursor(self._committed)
                self._cursor_dirty = False
            self._writer.flush()
            os.fsync(self._writer.fileno())
            self._writer.close()
            if self._reader is not None:
                self._reader.close()
                self._reader = None
            self._ready.notify_all()
