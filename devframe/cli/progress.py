"""Progress of long work, on stderr, for any command::

    with Progress("validating against the schema") as progress:
        ...                                   # one long call: the elapsed time ticks
    with Progress("parsing", total=len(files)) as progress:
        for path in files:
            ...
            progress.advance()                # "parsing 3/12"

Shown only when stderr is a terminal (a log file or a pipe gets nothing), only once the
work has lasted ``delay`` seconds (quick runs stay quiet), redrawn in place on one line
and erased at the end, so results on stdout and one-line errors read as before.
"""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import IO

from devframe.cli.output import fit, terminal_width

__all__ = ["Progress"]

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
        delay: float = 0.5,
        interval: float = 0.25,
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._stream = stream
        self._delay = delay
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
