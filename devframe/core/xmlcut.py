"""The cut of an element written once into its children's XML: what correlate compares
a report's devices by, without writing each device apart (one ``tostring`` of
``<devices>`` instead of one per device)."""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import chain, compress, repeat
from itertools import count as counting
from operator import attrgetter, not_

from lxml import etree

from devframe.core.errors import XMLError
from devframe.core.safexml import parse_trusted_xml
from devframe.core.xmledit import subtree_xml

__all__ = ["children_xml"]


def children_xml(parent: etree._Element, written: bytes | None = None) -> tuple[bytes, list[bytes]] | None:
    """``parent`` written once and cut into its children: (its start tag, each child's
    XML without its tail), or None where no cut is sure to be exact. ``written``:
    ``subtree_xml(parent, as_bytes=True)`` when the caller wrote it just now.

    Writing each child on its own costs about 1.3 times writing them all at once (every
    call sets up a writer and copies the namespaces in scope). The cut needs the layout
    of an indented document: whitespace before every child (the parent's text and every
    tail but the last), nothing but whitespace after the last, and no entity reference
    among the children. Each child's XML then follows one of those whitespace runs and
    starts with ``<`` plus a name, ``!`` or ``?``; the cut is exact when such a run
    followed by such a start occurs once per child (deeper indentation never matches a
    run). A child holding one inside (a child appended after its closing indentation)
    splits into more pieces: they are joined again where that is sure to be exact
    (:func:`_joined`), else the answer is None.

    Equal pieces under equal start tags are equal children: the start tag declares every
    namespace in scope.
    """
    count = len(parent)
    if not count:
        return None
    children = list(parent)
    last = children[-1].tail
    if last is not None and last.strip(_LAYOUT):
        return None
    runs = set(map(_tail, children[:-1]))
    runs.add(parent.text)
    # An empty run would match before every start, the parent's own among them.
    if None in runs or "" in runs or any(run.strip(_LAYOUT) for run in runs):
        return None
    if any(issubclass(kind, etree._Entity) for kind in set(map(type, children))):
        return None
    data = subtree_xml(parent, as_bytes=True) if written is None else written
    end = data.rfind(b"</")
    ordered = tuple(sorted(runs))
    if len(ordered) == 1:
        head, *pieces = _child_starts(ordered).split(data[:end])
        between: bytes | list[bytes] = ordered[0].encode()
    else:
        # Each run kept, to join pieces again if need be (one pass, not two).
        parts = _child_starts(ordered, keep=True).split(data[:end])
        head, pieces, between = parts[0], parts[2::2], parts[1::2]
    if len(pieces) != count:
        if len(pieces) < count:
            return None
        # A child holds the layout at a start inside it (as when a child was appended
        # after a device's closing indentation): its pieces are joined again.
        joined = _joined(children, head, pieces, between, data[end:])
        if joined is None:
            return None
        pieces = joined
    pieces[-1] = pieces[-1].rstrip(_LAYOUT_BYTES)
    return head, pieces


def _joined(
    children: list[etree._Element], head: bytes, pieces: list[bytes], between: bytes | list[bytes], close: bytes
) -> list[bytes] | None:
    """The children's XML from ``pieces``, more than the children as the layout also
    split inside some of them (``between``: the run before each piece, or the one run):
    a piece is joined to those after it up to one that starts as the next child does,
    and a joined piece is kept only when it parses as one node under the start tag
    ``head`` (None otherwise, and for children of a namespace, comments and
    instructions: no cut is sure to be exact).

    Why this is exact: every child starts at a split, so the pieces are the children's,
    some split further. Each child takes one piece or more; a child's true start that a
    join passed over would sit inside a joined piece, which then holds the end of one
    child and the start of the next: not a single node. With every joined piece a single
    node, no child's start was passed over, and the cut is the children's.
    """
    # Where a piece starts as a child does (a child of a namespace starts as none; the
    # name's end is not looked at: a piece starting with a longer name makes a join the
    # parse refuses).
    try:
        want = list(map(b"<".__add__, map(str.encode, map(_tag, children))))
    except TypeError:  # a comment or instruction: its tag is not a name
        return None
    total, count = len(pieces), len(want)
    # Aligned stretches compared in C; a Python step per join only (joins are few). The
    # rest of a list is read through indices: an islice skips to its start one item at a
    # time and a slice copies it, either a pass over the list per join (quadratic).
    piece_at, want_at = pieces.__getitem__, want.__getitem__
    joins: list[tuple[int, int]] = []  # (first piece, end piece) of each joined child
    child = at = 0
    while child < count:
        if at >= total or not pieces[at].startswith(want[child]):
            return None
        rest = map(piece_at, range(at + 1, total))
        step = next(
            compress(counting(1), map(not_, map(bytes.startswith, rest, map(want_at, range(child + 1, count))))),
            None,
        )
        if step is None:  # aligned to the end of the pieces or of the children
            step = min(total - at, count - child)
            child, at = child + step, at + step
            if child == count and at < total:
                joins.append((at - 1, total))
            continue
        child, at = child + step, at + step
        rest = map(piece_at, range(at, total))
        found = next(compress(counting(at), map(bytes.startswith, rest, repeat(want[child]))), None)
        if found is None:
            return None
        joins.append((at - 1, found))
        at = found
    out = list(pieces)
    for first, end in reversed(joins):
        if isinstance(between, bytes):
            piece = between.join(pieces[first:end])
        else:
            piece = b"".join(chain.from_iterable(zip(between[first:end], pieces[first:end], strict=True)))
            piece = piece[len(between[first]) :]
        if end == total:
            piece = piece.rstrip(_LAYOUT_BYTES)  # the layout before the parent's end tag
        if not _one_node(head, piece, close):
            return None
        out[first:end] = [piece]
    return out


#: whitespace that is written as it is (a carriage return is written as ``&#13;``)
_LAYOUT = " \n\t"
_LAYOUT_BYTES = _LAYOUT.encode()
_tail = attrgetter("tail")
_tag = attrgetter("tag")


@lru_cache(maxsize=16)
def _child_starts(runs: tuple[str, ...], *, keep: bool = False) -> re.Pattern[bytes]:
    """Matches one of ``runs`` where a start tag, comment or instruction follows it
    (``keep``: the run as a group, which a split keeps)."""
    group = b"(" if keep else b"(?:"
    return re.compile(group + b"|".join(re.escape(run.encode()) for run in runs) + rb")(?=<[^/])")


def _one_node(head: bytes, piece: bytes, close: bytes) -> bool:
    """``piece`` under the start tag ``head`` is well-formed and one node, nothing around it."""
    # devframe's own output: parsed as such, through safexml (few calls: joins are rare)
    try:
        root = parse_trusted_xml(head + piece + close).getroot()
    except XMLError:
        return False
    return len(root) == 1 and not root.text and root[0].tail is None
