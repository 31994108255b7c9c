"""Progress of long work, on stderr, for any command::

    with Progress("validating against the schema") as progress:
        ...                                   # one long call: the elapsed time ticks
    with Progress("parsing", total=len(files)) as progress:
        for path in files:
            ...
            progress.advance()                # "parsing 3/12"

Shown only when stderr is a terminal (a log file or a pipe gets nothing), only once the
work has lasted ``delay`` seconds (default :data:`PROGRESS_AFTER`, or
``$DEVFRAME_PROGRESS_AFTER``: quick runs stay quiet), redrawn in place on one line and
erased at the end, so results on stdout and one-line errors read as before.

:class:`StatusLine` is the same line for work that reports its own state as it goes (the
streaming ``inspect``): no thread, redrawn at the caller's :meth:`StatusLine.update`.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from types import TracebackType
from typing import IO, TextIO

from devframe.cli.output import fit, terminal_width
from devframe.core.errors import DevframeError

__all__ = ["PROGRESS_AFTER", "Progress", "StatusLine"]

#: seconds of work before progress is shown (``DEVFRAME_PROGRESS_AFTER`` overrides it)
PROGRESS_AFTER = 2.0
#: at most this many redraws a second
_RATE = 0.2


def _after_from_env() -> float:
    raw = os.environ.get("DEVFRAME_PROGRESS_AFTER", "").strip()
    if not raw:
        return PROGRESS_AFTER
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses nan
        raise DevframeError(f"DEVFRAME_PROGRESS_AFTER must be a number of seconds >= 0, got {raw!r}")
    return value


#: erase the current terminal line: carriage return, then ANSI "erase in line"
_ERASE = "\r\x1b[K"


class Progress:
    """A one-line progress display on ``stream`` (default stderr); see the module doc.

    ``total``: the number of steps, when known (:meth:`advance` counts them). A
    background thread redraws every ``interval`` seconds, so a single blocking call
    still shows time passing.
    """

    def __init__(
        self,
        label: str,
        *,
        total: int | None = None,
        stream: IO[str] | None = None,
        delay: float | None = None,
        interval: float = 0.25,
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._stream = stream
        self._delay = _after_from_env() if delay is None else delay
        self._interval = interval
        self._start = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._shown = False

    @property
    def stream(self) -> IO[str]:
        return self._stream if self._stream is not None else sys.stderr

    @property
    def enabled(self) -> bool:
        """True when the stream is a terminal."""
        try:
            return self.stream.isatty()
        except (AttributeError, ValueError):
            return False

    def __enter__(self) -> Progress:
        self._start = time.monotonic()
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="devframe-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            if self._shown:
                self._write(_ERASE)

    def advance(self, steps: int = 1) -> None:
        """Count ``steps`` more done."""
        with self._lock:
            self.done += steps

    def text(self) -> str:
        """The line as it is drawn now: label, steps done, seconds elapsed."""
        elapsed = time.monotonic() - self._start
        count = f" {self.done}/{self.total}" if self.total is not None else (f" {self.done}" if self.done else "")
        return f"devframe: {self.label}{count} ({elapsed:.0f} s)"

    def _run(self) -> None:
        if self._stop.wait(self._delay):
            return
        while True:
            with self._lock:
                self._write(_ERASE + fit(self.text(), terminal_width(err=True)))
                self._shown = True
            if self._stop.wait(self._interval):
                return

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: progress is not worth an error
            self._stop.set()


class StatusLine:
    """Redraws one line on ``stream`` (``\\r``, no newline) once work has lasted ``after``
    seconds, and only if ``stream`` is a terminal: piped or redirected, stderr gets nothing.

    ``shares_output``: stdout is that terminal too, so a shown line is wiped before any
    output is written (:meth:`before_output`) and drawn again at the next update.
    """

    def __init__(self, stream: TextIO, *, after: float | None = None, shares_output: bool = False) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.after = _after_from_env() if after is None else after
        self.shares_output = shares_output
        self.start = time.monotonic()
        self._last = 0.0
        self._width = 0

    @property
    def shown(self) -> bool:
        return self._width > 0

    def update(self, text: str) -> None:
        """Show ``text`` if the work has lasted long enough (and not too often)."""
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.start < self.after or (self._width and now - self._last < _RATE):
            return
        self._last = now
        padding = " " * max(self._width - len(text), 0)  # cover a longer previous line
        self.stream.write(f"\r{text}{padding}")
        self.stream.flush()
        self._width = len(text)

    def clear(self) -> None:
        """Wipe the line (at the end, and before output on a shared terminal)."""
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

    def before_output(self) -> None:
        if self._width and self.shares_output:
            self.clear()
