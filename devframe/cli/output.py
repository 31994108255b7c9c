"""What every command's human output shares: tables that fit the terminal, colour only
on a terminal.

Width: ``$COLUMNS`` when set, else the terminal's width when stdout is one, else no
limit (output piped to a file or another program is never cut). A table wider than
that shrinks its widest columns first and ends a cut cell with ``…``; ``--wide``
(:func:`wide_option`) shows everything. Colour: only when the stream is a terminal and
``$NO_COLOR`` is not set (https://no-color.org).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import IO, Any, TypeVar

import click

__all__ = [
    "ELLIPSIS",
    "colour_enabled",
    "fit",
    "render_table",
    "style",
    "terminal_width",
    "wide_option",
]

ELLIPSIS = "…"
#: the narrowest a cut column gets (wider when its header is)
MIN_COLUMN = 4
SEPARATOR = "  "

F = TypeVar("F", bound=Callable[..., Any])


def wide_option(function: F) -> F:
    """The ``--wide`` option of a command that prints a table (parameter ``wide``)."""
    return click.option("--wide", is_flag=True, help="Do not cut lines to the terminal's width.")(function)


def _stream(err: bool) -> IO[str]:
    return sys.stderr if err else sys.stdout


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream
        return False


def terminal_width(*, err: bool = False) -> int | None:
    """The width output must fit: ``$COLUMNS``, else the terminal's, else None (no limit)."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    stream = _stream(err)
    if _isatty(stream):
        try:
            return os.get_terminal_size(stream.fileno()).columns
        except (OSError, ValueError):
            return None
    return None


def colour_enabled(*, err: bool = False) -> bool:
    """True when text for stdout (``err``: stderr) may carry colour."""
    return "NO_COLOR" not in os.environ and _isatty(_stream(err))


def style(text: str, *, err: bool = False, **styles: Any) -> str:
    """``text`` styled with click's ``styles`` (fg=, bold=, ...) when colour is on."""
    return click.style(text, **styles) if colour_enabled(err=err) else text


def _ellipsis() -> str:
    # A stream that cannot encode "…" (LANG=C with a strict encoding) gets three dots.
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        ELLIPSIS.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return "..."
    return ELLIPSIS


def fit(text: str, width: int | None) -> str:
    """``text`` cut to ``width`` characters, ending with ``…`` when cut."""
    if width is None or len(text) <= width:
        return text
    mark = _ellipsis()
    if width <= len(mark):
        return text[:width]
    return text[: width - len(mark)] + mark


def _shrink(widths: list[int], minimums: list[int], room: int) -> list[int]:
    """Cut the columns with the most to spare first until they fit ``room``."""
    widths = list(widths)
    while sum(widths) > room:
        spare = [width - low for width, low in zip(widths, minimums, strict=True)]
        widest = max(range(len(widths)), key=lambda i: spare[i])
        if spare[widest] <= 0:
            break  # every column at its minimum: the lines are cut as a whole
        widths[widest] -= 1
    return widths


def render_table(
    rows: Sequence[Sequence[str]], header: Sequence[str], *, width: int | None = None, wide: bool = False
) -> list[str]:
    """Aligned lines: ``header`` then ``rows``, columns two spaces apart, the last one
    unpadded. Unless ``wide``, the lines fit ``width`` (default :func:`terminal_width`)."""
    limit = None if wide else (width if width is not None else terminal_width())
    table = [list(header), *(list(row) for row in rows)]
    count = len(header)
    natural = [max(len(row[i]) for row in table) for i in range(count)]
    widths = natural
    if limit is not None:
        room = limit - len(SEPARATOR) * (count - 1)
        minimums = [min(natural[i], max(len(header[i]), MIN_COLUMN)) for i in range(count)]
        widths = _shrink(natural, minimums, room)
    lines = []
    for row in table:
        cells = [fit(cell, widths[i]) for i, cell in enumerate(row)]
        padded = [cell.ljust(widths[i]) for i, cell in enumerate(cells[:-1])]
        lines.append(fit(SEPARATOR.join([*padded, cells[-1]]).rstrip(), limit))
    return lines
