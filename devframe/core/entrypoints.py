"""Find installed entry points without importing :mod:`importlib.metadata`.

Importing ``importlib.metadata`` loads the ``email`` package, ``socket``, ``zipfile``
and more: about 40 ms, a sixth of ``devframe plugins`` from a cold start (issue 14's
start-up target). The installed layout it reads is simple and specified (PyPA's
"Recording installed projects"): each distribution on ``sys.path`` is a
``NAME-VERSION.dist-info`` (or ``.egg-info``) directory whose ``entry_points.txt`` is an
INI file of ``[group]`` sections with ``name = module:attr [extras]`` lines. This module
reads exactly that, with importlib.metadata's rules: path order, the first distribution
of a (normalised) name wins, missing or unreadable entries skipped.

Where the layout does not hold it hands the whole search to importlib.metadata, so the
answer never differs: a ``sys.path`` entry that is a file (a zip), an ``.egg`` on the path, or a
meta-path finder that supplies distributions of its own.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from dataclasses import dataclass

__all__ = ["EntryPointRef", "find_entry_points"]

_SUFFIXES = (".dist-info", ".egg-info")
_VALUE = re.compile(r"\s*(?P<module>[\w.]+)\s*(?::\s*(?P<attr>[\w.]+)\s*)?(?:\[[^\]]*\]\s*)?$")


@dataclass(frozen=True)
class EntryPointRef:
    """One entry point: its name, ``module:attr`` value and the distribution offering it."""

    name: str
    value: str
    distribution: str | None = None
    version: str | None = None

    def load(self) -> object:
        """Import the module and return the named attribute (the module without one)."""
        match = _VALUE.match(self.value)
        if match is None:
            raise ValueError(f"entry point {self.name!r}: malformed value {self.value!r}")
        target: object = importlib.import_module(match["module"])
        for part in (match["attr"] or "").split(".") if match["attr"] else ():
            target = getattr(target, part)
        return target


def find_entry_points(group: str) -> list[EntryPointRef]:
    """Every entry point of ``group`` from the distributions importable now, in path order."""
    if _foreign_finders():
        return _via_importlib(group)
    found: list[EntryPointRef] = []
    seen: set[str] = set()
    for entry in sys.path:
        base = entry or os.curdir
        if base.endswith(".egg"):
            return _via_importlib(group)  # an egg's metadata sits in EGG-INFO
        try:
            with os.scandir(base) as listing:
                names = [item.name for item in listing if item.name.endswith(_SUFFIXES)]
        except NotADirectoryError:
            return _via_importlib(group)  # a zip on sys.path: importlib.metadata reads those
        except OSError:
            continue  # a missing path entry, as importlib.metadata skips it
        for name in sorted(names):
            info = os.path.join(base, name)
            if not os.path.isdir(info):
                continue  # an old distutils .egg-info file: no entry points
            stem = name.rsplit(".", 1)[0]
            key = _normalise(stem.split("-", 1)[0])
            if key in seen:
                continue
            seen.add(key)
            text = _read(os.path.join(info, "entry_points.txt"))
            if text is None or f"[{group}]" not in text:
                continue
            dist, version = _name_version(info)
            found.extend(
                EntryPointRef(name=ep_name, value=value, distribution=dist, version=version)
                for ep_name, value in _section(text, group)
            )
    return found


def _foreign_finders() -> bool:
    # The standard PathFinder reads sys.path; a finder of another kind offering
    # distributions (a frozen application's, say) is something only importlib knows.
    from importlib.machinery import PathFinder

    return any(finder is not PathFinder and hasattr(finder, "find_distributions") for finder in sys.meta_path)


def _via_importlib(group: str) -> list[EntryPointRef]:
    from importlib import metadata

    refs = []
    for ep in metadata.entry_points(group=group):
        dist = getattr(ep, "dist", None)
        try:
            name, version = (dist.metadata["Name"], dist.version) if dist is not None else (None, None)
        except Exception:  # noqa: BLE001 - metadata of a broken install
            name, version = None, None
        refs.append(EntryPointRef(name=ep.name, value=ep.value, distribution=name, version=version))
    return refs


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def _name_version(info: str) -> tuple[str | None, str | None]:
    """Name and Version from the metadata file's header (the part before the first
    blank line); None without one, as importlib.metadata answers."""
    name: str | None = None
    version: str | None = None
    for file in ("METADATA", "PKG-INFO"):
        text = _read(os.path.join(info, file))
        if text is None:
            continue
        for line in text.splitlines():
            if not line.strip():
                break
            key, sep, value = line.partition(":")
            if sep and key == "Name" and name is None:
                name = value.strip()
            elif sep and key == "Version" and version is None:
                version = value.strip()
        break
    return name, version


def _section(text: str, group: str) -> list[tuple[str, str]]:
    """``name = value`` pairs of one ``[group]`` section (comments and blanks skipped)."""
    pairs: list[tuple[str, str]] = []
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            inside = line[1:-1].strip() == group
            continue
        if inside:
            name, sep, value = line.partition("=")
            if sep:
                pairs.append((name.strip(), value.strip()))
    return pairs
