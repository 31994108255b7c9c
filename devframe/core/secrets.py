"""What is secret in each kind of device: the one list devframe keeps out of sight.

A secret is a value at a *place* of a device's element. The places of a kind come from:

* libvirt's facts (:data:`LIBVIRT_SECRETS`), for every device of the kind whether a plugin
  models it or not (a graphics device stays secret with its plugin disabled): what
  libvirt itself writes only when asked for secure information (``virsh dumpxml
  --security-info``, tried on libvirt 9.0): graphics passwords (vnc, spice, rdp) and the
  HTTP(S) cookies of network disk sources (``<cookies>``, wherever a ``<source>`` is);
* every field declared ``secret=True`` (:class:`devframe.Field`), on every device class
  as it is defined, for its dev_type;
* :func:`register_secret`, for a plugin whose secret no field declares.

Where they are kept out: logs (:mod:`devframe.core.log` redacts these places in any XML
text, and the spec keys of secret fields at any depth), exception messages, ``repr``,
``summary()``, ``devframe inspect``; a dev_spec carries them only when asked:
``Device.to_spec(secrets=True)``. The device objects themselves keep the real values
(libvirt needs them).

Not secrets: the references to libvirt secret objects (``<secret type=... uuid=...
usage=...>`` of an ``<auth>`` or ``<encryption>``, a TPM's ``<encryption secret=...>``)
name a secret that libvirt holds; libvirt shows them without ``--security-info`` and a
device needs them, so dev_specs carry them. Text written to logs and ``inspect`` still
masks a ``<secret>`` element's attributes (:func:`devframe.core.log.redact_text`).

A place is written like a field path, with two additions: ``//tag`` matches ``<tag>`` at
any depth below the device, and ``@*`` is every attribute. ``"@passwd"`` is the device
element's own attribute, ``"source/cookies"`` the content (text and children) of that
element, ``"//secret@uuid"`` the attribute of every ``<secret>`` below the device.

This module is at the bottom of the core (the log redacts by it): it imports only
:mod:`devframe.core.xmledit`.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lxml import etree

from devframe.core.xmledit import remove_keeping_tail

__all__ = [
    "ANY_KIND",
    "LIBVIRT_SECRETS",
    "SecretPlace",
    "SecretPlan",
    "join_path",
    "plan_for",
    "redact_markup",
    "register_secret",
    "register_secret_key",
    "registered_secret_keys",
    "text_markers",
]

#: places listed under this key apply to every kind of device
ANY_KIND = "*"

#: libvirt's secrets by dev_type (the ``<devices>`` child's tag); see the module doc.
LIBVIRT_SECRETS: Mapping[str, tuple[str, ...]] = {
    ANY_KIND: ("//cookies",),  # a disk's, and any source that may carry them
    "graphics": ("@passwd",),
}

#: attribute names too common to redact wherever they appear in text (a domain's uuid):
#: their places are redacted in XML text only through the element they belong to
_COMMON_NAMES = frozenset({"uuid", "usage", "type", "name", "value", "id", "path", "file", "mode"})


@dataclass(frozen=True)
class SecretPlace:
    """One place of a device element that holds a secret (see the module doc)."""

    steps: tuple[str, ...]
    #: the attribute (``"*"``: every one), or None for the element's content
    attr: str | None
    #: the first step matches at any depth below the device element
    deep: bool = False

    @classmethod
    def parse(cls, path: str) -> SecretPlace:
        deep = path.startswith("//")
        body = path[2:] if deep else path
        elements, _, attr = body.partition("@")
        steps = tuple(step for step in elements.split("/") if step and step != ".")
        if deep and not steps:
            raise ValueError(f"secret place {path!r}: '//' needs an element name")
        if not attr and "@" in body:
            raise ValueError(f"secret place {path!r}: '@' needs an attribute name")
        return cls(steps, attr or None, deep)

    def __str__(self) -> str:
        path = ("//" if self.deep else "") + "/".join(self.steps)
        return f"{path}@{self.attr}" if self.attr else path or "."


def join_path(base: str, inner: str) -> str:
    """A field path below another (``Children`` items): ``"a/b" + "@x"`` is ``"a/b@x"``."""
    if inner in ("", "."):
        return base
    if inner.startswith("@"):
        return base + inner
    return f"{base}/{inner.removeprefix('./')}"


_LOCK = threading.Lock()
#: places registered by plugins and device classes, by dev_type
_REGISTERED: dict[str, list[SecretPlace]] = {}
#: spec key names of secret fields (their last part), for the log's key rule
_KEYS: frozenset[str] = frozenset()
#: bumped on every registration: cached plans and patterns are rebuilt
_VERSION = [0]
#: the same cell, read by caches outside this module (Device.to_spec's per class)
PLACES_VERSION = _VERSION


def register_secret(dev_type: str, *paths: str) -> None:
    """Declare that devices of ``dev_type`` hold secrets at ``paths`` (place syntax of the
    module doc). Fields declared ``secret=True`` need not be registered: device classes
    register theirs as they are defined."""
    places = [SecretPlace.parse(path) for path in paths]
    with _LOCK:
        known = _REGISTERED.setdefault(dev_type, [])
        for place in places:
            if place not in known:
                known.append(place)
        _VERSION[0] += 1


def register_secret_key(name: str) -> None:
    """Declare a dev_spec key name (the last part of a dotted key) as holding a secret."""
    global _KEYS
    with _LOCK:
        if name.lower() not in _KEYS:
            _KEYS = _KEYS | {name.lower()}  # a new set: readers never see one half-updated
            _VERSION[0] += 1


def registered_secret_keys() -> frozenset[str]:
    """The lowered spec key names of secret fields (see :func:`register_secret_key`)."""
    return _KEYS


def _libvirt_places() -> dict[str, tuple[SecretPlace, ...]]:
    return {kind: tuple(SecretPlace.parse(p) for p in paths) for kind, paths in LIBVIRT_SECRETS.items()}


_LIBVIRT = _libvirt_places()


class SecretPlan:
    """The secret places of one kind, compiled: deep places by tag (one walk finds them
    all), the others as paths from the device element."""

    __slots__ = ("deep", "deep_tag_set", "deep_tags", "places", "shallow", "shallow_outside")

    def __init__(self, places: Iterable[SecretPlace]) -> None:
        self.places = tuple(dict.fromkeys(places))
        self.deep: dict[str, list[SecretPlace]] = {}
        self.shallow: list[SecretPlace] = []
        for place in self.places:
            if place.deep:
                self.deep.setdefault(place.steps[0], []).append(place)
            else:
                self.shallow.append(place)
        self.deep_tags = tuple(self.deep)
        self.deep_tag_set = frozenset(self.deep)
        # A shallow place passing through an element of a deep place's tag (a disk's
        # "source/cookies/cookie" under "//cookies") needs that element: where the walk
        # for the deep tags finds none, only the other shallow places can hold a secret.
        self.shallow_outside = [place for place in self.shallow if not self.deep.keys() & set(place.steps)]

    def spots(self, element: etree._Element) -> list[tuple[etree._Element, str | None]]:
        """Every ``(node, attribute)`` of ``element`` holding a secret (attribute None: the
        node's content), in document order of the places; only what is present."""
        found: list[tuple[etree._Element, str | None]] = []
        if self.deep:
            for node in element.iterdescendants(*self.deep):
                for place in self.deep[node.tag]:
                    _collect(node, place.steps[1:], place.attr, found)
        for place in self.shallow:
            _collect(element, place.steps, place.attr, found)
        return found

    def holds_secrets(self, element: etree._Element) -> bool:
        """``bool(spots(element))``, asked cheaply: most devices hold no secret, and to_spec
        asks of every one. No element of a deep place's tag: only the shallow places count."""
        if self.deep_tags:
            # iter() rather than iterdescendants(): a sixth cheaper in lxml; the element
            # itself is skipped (a device's own tag is not one of its descendants)
            for node in element.iter(*self.deep_tags):
                if node is not element:
                    return bool(self.spots(element))  # one is there: the places decide
        return self.holds_shallow_secrets(element)

    def holds_shallow_secrets(self, element: etree._Element) -> bool:
        """Whether a shallow place not passing through a deep place's tag holds a secret:
        what :meth:`holds_secrets` asks beside the walk for the deep tags."""
        if self.shallow_outside:
            found: list[tuple[etree._Element, str | None]] = []
            for place in self.shallow_outside:
                _collect(element, place.steps, place.attr, found)
                if found:
                    return True
        return False

    def without_secrets(self, element: etree._Element) -> etree._Element | None:
        """A copy of ``element`` with every secret removed (attributes deleted, secret
        elements taken out whole, as libvirt leaves them out), or None when it holds none."""
        if not self.holds_secrets(element):
            return None
        clean = copy.deepcopy(element)
        clean.tail = None
        for node, attr in reversed(self.spots(clean)):
            if attr is None:
                if node.getparent() is not None:
                    remove_keeping_tail(node)
                else:
                    node.text = None
                    for child in list(node):
                        node.remove(child)
            elif attr == "*":
                node.attrib.clear()
            elif attr in node.attrib:
                del node.attrib[attr]
        return clean

    def is_secret(self, element: etree._Element, node: etree._Element, attr: str | None) -> bool:
        """True when ``node``'s attribute ``attr`` (None: its text) of the device
        ``element`` is (or lies inside) a secret place."""
        for spot, spot_attr in self.spots(element):
            if spot_attr is None:
                if spot is node or any(ancestor is spot for ancestor in node.iterancestors()):
                    return True
            elif spot is node and attr is not None and spot_attr in ("*", attr):
                return True
        return False


def _collect(
    node: etree._Element, steps: tuple[str, ...], attr: str | None, found: list[tuple[etree._Element, str | None]]
) -> None:
    if not steps:
        if attr is None:
            found.append((node, None))
        elif attr == "*":
            if node.attrib:
                found.append((node, "*"))
        elif node.get(attr) is not None:
            found.append((node, attr))
        return
    for child in node.iterchildren(steps[0]):
        _collect(child, steps[1:], attr, found)


# (dev_type, id of the class's places) -> (those places, their plan): asked on every to_spec
_PLANS: dict[tuple[str, int], tuple[tuple[SecretPlace, ...], SecretPlan]] = {}
_PLANS_VERSION = [-1]


def plan_for(dev_type: str, extra: tuple[SecretPlace, ...] = ()) -> SecretPlan:
    """The secret places of ``dev_type`` (libvirt's, registered ones, and ``extra``: a
    device class's own fields), compiled once per registration state."""
    if _PLANS_VERSION[0] != _VERSION[0]:
        _PLANS.clear()
        _PLANS_VERSION[0] = _VERSION[0]
    key = (dev_type, id(extra))
    found = _PLANS.get(key)
    if found is not None and found[0] is extra:
        return found[1]
    places = [*_LIBVIRT[ANY_KIND], *_LIBVIRT.get(dev_type, ()), *_REGISTERED.get(dev_type, ()), *extra]
    plan = SecretPlan(places)
    _PLANS[key] = (extra, plan)  # the tuple is kept: its id cannot be reused while cached
    return plan


# -- secrets inside text (logs, exception messages) --------------------------------------------


def _all_places() -> list[SecretPlace]:
    places = [place for group in _LIBVIRT.values() for place in group]
    places += [place for group in list(_REGISTERED.values()) for place in group]
    return places


_MARKUP: list[object] = [-1, None, ()]  # version, compiled pattern or None, marker words


def _markup() -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    if _MARKUP[0] != _VERSION[0]:
        contents: set[str] = set()
        attributes: set[str] = set()
        for place in _all_places():
            if place.attr is None and place.steps:
                contents.add(place.steps[-1])
            elif place.attr not in (None, "*") and place.attr not in _COMMON_NAMES:
                attributes.add(place.attr)
        parts = []
        if contents:
            tags = "|".join(sorted(re.escape(tag) for tag in contents))
            # <cookies ...>...</cookies>: the content goes (non-greedy, across lines)
            parts.append(
                rf"(?P<open><(?:[\w.-]+:)?(?P<tag>{tags})\b[^>]*(?<!/)>)(?s:.*?)(?P<close></(?:[\w.-]+:)?(?P=tag)\s*>)"
            )
        if attributes:
            names = "|".join(sorted(re.escape(name) for name in attributes))
            parts.append(rf"(?P<attr>\b(?:{names})\s*=\s*)(?P<q>['\"])(?:.*?)(?P=q)")
        pattern = re.compile("|".join(parts), re.IGNORECASE) if parts else None
        _MARKUP[:] = [_VERSION[0], pattern, tuple(sorted(name.lower() for name in contents | attributes))]
    return _MARKUP[1], _MARKUP[2]  # type: ignore[return-value]


def text_markers() -> tuple[str, ...]:
    """Lowered words whose presence makes text worth scanning for secret places."""
    return _markup()[1]


def redact_markup(text: str, replacement: str = "***") -> str:
    """``text`` with the content of secret elements (``<cookies>...</cookies>``) and the
    values of secret attributes replaced, as far as text shows them."""
    pattern, _ = _markup()
    if pattern is None:
        return text

    def replace(match: re.Match[str]) -> str:
        found = match.groupdict()
        if found.get("open") is not None:
            return f"{found['open']}{replacement}{found['close']}"
        quote = found["q"]
        return f"{found['attr']}{quote}{replacement}{quote}"

    return pattern.sub(replace, text)
