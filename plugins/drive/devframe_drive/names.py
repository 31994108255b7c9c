"""Drive names: libvirt's target names (``vda``, ``hdc``, ``sdaa``) and their indexes."""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["BUS_PREFIXES", "drive_index", "drive_name", "index_to_letters", "letters_to_index"]

#: target name prefix per bus (libvirt's naming; scsi, sata, usb and sd share ``sd``)
BUS_PREFIXES: Mapping[str, str] = {
    "ide": "hd",
    "scsi": "sd",
    "sata": "sd",
    "usb": "sd",
    "sd": "sd",
    "virtio": "vd",
    "fdc": "fd",
    "xen": "xvd",
    "uml": "ubd",
}

_BEFORE_A = ord("a") - 1
_NAME_RE = re.compile(r"^(?:ioemu:)?(xvd|ubd|fd|hd|sd|vd)([a-z]+)([0-9]*)$")


def letters_to_index(letters: str) -> int:
    """``a`` -> 0, ``z`` -> 25, ``aa`` -> 26, ``zz`` -> 701, ``aaa`` -> 702 (bijective base 26)."""
    if not letters or not all("a" <= c <= "z" for c in letters):
        raise ValueError(f"drive letters must be a..z, got {letters!r}")
    return _index_of(letters)


def _index_of(letters: str) -> int:
    """:func:`letters_to_index` of letters already known to be a..z (a name's, matched)."""
    value = 0
    for char in letters:
        value = value * 26 + ord(char) - _BEFORE_A
    return value - 1


def index_to_letters(index: int) -> str:
    """The inverse of :func:`letters_to_index`: 0 -> ``a``, 26 -> ``aa``."""
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError(f"a drive index is an int >= 0, got {index!r}")
    letters = ""
    number = index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def drive_name(iface: str, index: int) -> str:
    """The target name libvirt uses for drive ``index`` on bus ``iface`` (virtio, 26 -> ``vdaa``)."""
    prefix = BUS_PREFIXES.get(iface)
    if prefix is None:
        raise ValueError(f"no drive name prefix for bus {iface!r} (known: {', '.join(sorted(BUS_PREFIXES))})")
    return prefix + index_to_letters(index)


def drive_index(name: str) -> tuple[str, int] | None:
    """``(prefix, index)`` of a target name (``vdaa`` -> ``('vd', 26)``); None if it has no drive letters.

    A partition number after the letters (``sda1``) does not change the index.
    """
    match = _NAME_RE.match(name)
    if match is None:
        return None
    prefix, letters = match.group(1, 2)  # the pattern took a..z only: no check again (to_spec asks every disk)
    return prefix, _index_of(letters)
