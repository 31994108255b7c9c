"""A one-line progress report on stderr for long commands, only when stderr is a terminal."""

from __future__ import annotations

import os
import time
from typing import TextIO

from devframe.core.errors import DevframeError

__all__ = ["PROGRESS_AFTER", "Progress"]

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


class Progress:
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
