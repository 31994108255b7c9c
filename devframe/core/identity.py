"""How devframe recognises a device: every identity rule in one module.

A device is recognised, in this order:

1. by its **alias key**: the engine's deviceId (from a user alias ``ua-<deviceId>``, or
   given beside the device), else its libvirt alias;
2. by its **identity**: what its device class says makes it that device within its
   dev_type (a disk's target name, a NIC's MAC, a controller's type and index, ...),
   :meth:`devframe.Device.identity`; the same answer keys the device's entry in the
   domain's ``<metadata>``;
3. by **order**: devices that are otherwise indistinguishable (the same identity, or
   none at all) pair up in document order, identical XML first.

The metadata binder, :func:`devframe.agent.correlate`, ``Guest`` and
:meth:`devframe.Domain.find` all follow these rules through this module; nothing else
spells them out.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Protocol

__all__ = [
    "USER_ALIAS_PREFIX",
    "Identifiable",
    "Identity",
    "Matching",
    "address_text",
    "alias_key",
    "device_id_from_alias",
    "device_key",
    "find_device",
    "identity_key",
    "identity_text",
    "match",
    "match_devices",
    "unique_keys",
    "user_alias",
]

#: libvirt keeps aliases that start with this prefix; the engine names devices ``ua-<deviceId>``
USER_ALIAS_PREFIX = "ua-"

#: A device's identity: attribute-like names to values (``{"devtype": "disk", "name": "vda"}``,
#: ``{"mac_address": "52:54:00:..."}``). The same mapping keys the device's metadata entry.
Identity = Mapping[str, str]

#: how a pair was matched
HOW_ALIAS = "alias"
HOW_IDENTITY = "identity"
HOW_ORDER = "order"


class Identifiable(Protocol):
    """What matching needs of a device (every :class:`devframe.Device` has it)."""

    @property
    def dev_type(self) -> str: ...

    @property
    def alias(self) -> str | None: ...

    def identity(self) -> Identity | None: ...

    def checked_identity(self) -> Identity | None: ...


def device_id_from_alias(alias: str | None) -> str | None:
    """The engine's deviceId inside a user alias ``ua-<deviceId>``, else None."""
    if alias and alias.startswith(USER_ALIAS_PREFIX) and len(alias) > len(USER_ALIAS_PREFIX):
        return alias[len(USER_ALIAS_PREFIX) :]
    return None


def user_alias(device_id: str) -> str:
    """The user alias the engine gives the device with ``device_id``."""
    return f"{USER_ALIAS_PREFIX}{device_id}"


def alias_key(alias: str | None, device_id: str | None = None) -> str | None:
    """What rule 1 matches on: the deviceId (given, or from a user alias), else the alias."""
    if device_id:
        return device_id
    return device_id_from_alias(alias) or alias or None


def address_text(address: Mapping[str, str] | None) -> str | None:
    """A guest address's attributes as one stable string (``bus=0x00,domain=0x0000,...,
    type=pci``, sorted by name), for identities."""
    if not address:
        return None
    # All in C: binding asks this of every addressed device without an alias.
    return ",".join(map("=".join, sorted(address.items())))


def identity_key(dev_type: str, identity: Identity | None) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """A hashable key for rule 2: the dev_type and the identity's items (None: no identity)."""
    if not identity:
        return None
    return (dev_type, tuple(identity.items()))


def identity_text(identity: Identity | None) -> str:
    """An identity as people read it: ``name=vda``, ``mac_address=52:54:...`` (``devtype`` left out)."""
    if not identity:
        return ""
    return ",".join(f"{k}={v}" for k, v in identity.items() if k != "devtype")


def device_key(dev_type: str, alias: str | None, device_id: str | None, identity: Identity | None) -> str:
    """The name of one device in a report: deviceId, else alias, else ``dev_type:identity``.

    Not unique on its own for indistinguishable devices: :func:`unique_keys` numbers them.
    """
    if device_id:
        return device_id
    if alias:
        return alias
    text = identity_text(identity)
    return f"{dev_type}:{text}" if text else dev_type


def unique_keys(keys: Sequence[str]) -> list[str]:
    """``keys`` with each repeat numbered in document order (``graphics:name=spice#2``)."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for key in keys:
        count = seen.get(key, 0) + 1
        seen[key] = count
        out.append(key if count == 1 else f"{key}#{count}")
    return out


@dataclass
class Matching:
    """The result of :func:`match`: index pairs into the two sides, and what is left."""

    #: (known index, live index) in the order they were found
    pairs: list[tuple[int, int]] = field(default_factory=list)
    #: how each pair was matched: "alias", "identity" or "order"
    how: list[str] = field(default_factory=list)
    #: known indexes with no live device, in document order
    removed: list[int] = field(default_factory=list)
    #: live indexes with no known device, in document order
    added: list[int] = field(default_factory=list)


def match(
    known_types: Sequence[str],
    known_aliases: Sequence[str | None],
    known_identity: Callable[[int], Hashable | None],
    live_types: Sequence[str],
    live_aliases: Sequence[str | None],
    live_identity: Callable[[int], Hashable | None],
    *,
    known_content: Callable[[int], Hashable] | None = None,
    live_content: Callable[[int], Hashable] | None = None,
) -> Matching:
    """Pair two device sequences by the three rules of this module. Linear.

    ``*_aliases``: each device's alias key (:func:`alias_key`, None: none).
    ``*_identity(i)``: device *i*'s identity key (:func:`identity_key`), asked only for
    devices rule 1 left over. ``*_content(i)``: what makes devices identical for rule 3
    (their serialized XML); without it rule 3 pairs in plain document order.
    A pair always has one dev_type.
    """
    result = Matching()
    pairs, how = result.pairs, result.how
    live_count = len(live_types)
    taken = [False] * live_count

    # Rule 1: alias keys; the first live device with a key takes it. Built and looked up
    # through zip/map, which run in C: at 10,000 devices a Python loop here cost a
    # quarter of correlate.
    by_alias: dict[tuple[str, str | None], int] = dict(
        zip(zip(reversed(live_types), reversed(live_aliases), strict=True), range(live_count - 1, -1, -1), strict=True)
    )  # reversed: the lowest index is written last, so the first device keeps a shared key
    for dev_type in set(live_types):
        by_alias.pop((dev_type, None), None)  # no key: never matched by this rule
    found_by_alias = list(map(by_alias.pop, zip(known_types, known_aliases, strict=True), repeat(None)))
    waiting = [index for index, found in enumerate(found_by_alias) if found is None]
    if len(waiting) < len(found_by_alias):
        pairs.extend((index, found) for index, found in enumerate(found_by_alias) if found is not None)
        how.extend(repeat(HOW_ALIAS, len(pairs)))
        for _, found in pairs:
            taken[found] = True
    if not waiting:
        result.added = [i for i in range(live_count) if not taken[i]]
        return result

    # Rule 2: identity, identical identities in document order.
    by_identity: dict[Hashable, list[int]] = {}
    no_identity: list[int] = []
    for found in range(live_count):
        if taken[found]:
            continue
        ident = live_identity(found)
        if ident is None:
            no_identity.append(found)
        else:
            by_identity.setdefault(ident, []).append(found)
    heads: dict[Hashable, int] = {}
    known_plain: list[int] = []
    for index in waiting:
        ident = known_identity(index)
        if ident is None:
            known_plain.append(index)
            continue
        queue = by_identity.get(ident)
        head = heads.get(ident, 0)
        if queue is None or head >= len(queue):
            result.removed.append(index)
            continue
        heads[ident] = head + 1
        found = queue[head]
        taken[found] = True
        pairs.append((index, found))
        how.append(HOW_IDENTITY)

    # Rule 3: no identity on either side: per dev_type, identical content first, then order.
    if known_plain and no_identity:
        leftover = _pair_in_order(
            known_plain, no_identity, known_types, live_types, known_content, live_content, taken, pairs, how
        )
        result.removed.extend(leftover)
        result.removed.sort()
    else:
        result.removed.extend(known_plain)
        result.removed.sort()
    result.added = [i for i in range(live_count) if not taken[i]]
    return result


def _pair_in_order(
    known: list[int],
    live: list[int],
    known_types: Sequence[str],
    live_types: Sequence[str],
    known_content: Callable[[int], Hashable] | None,
    live_content: Callable[[int], Hashable] | None,
    taken: list[bool],
    pairs: list[tuple[int, int]],
    how: list[str],
) -> list[int]:
    """Rule 3 over devices without identity; returns the known indexes left unpaired."""
    rest = known
    if known_content is not None and live_content is not None:
        same: dict[tuple[str, Hashable], list[int]] = {}
        for found in live:
            same.setdefault((live_types[found], live_content(found)), []).append(found)
        heads: dict[tuple[str, Hashable], int] = {}
        rest = []
        for index in known:
            key = (known_types[index], known_content(index))
            queue = same.get(key)
            head = heads.get(key, 0)
            if queue is None or head >= len(queue):
                rest.append(index)
                continue
            heads[key] = head + 1
            taken[queue[head]] = True
            pairs.append((index, queue[head]))
            how.append(HOW_ORDER)
    by_type: dict[str, list[int]] = {}
    for found in live:
        if not taken[found]:
            by_type.setdefault(live_types[found], []).append(found)
    type_heads: dict[str, int] = {}
    left: list[int] = []
    for index in rest:
        dev_type = known_types[index]
        queue = by_type.get(dev_type)
        head = type_heads.get(dev_type, 0)
        if queue is None or head >= len(queue):
            left.append(index)
            continue
        type_heads[dev_type] = head + 1
        taken[queue[head]] = True
        pairs.append((index, queue[head]))
        how.append(HOW_ORDER)
    return left


def match_devices(
    known: Sequence[Identifiable],
    live: Sequence[Identifiable],
    *,
    content: Callable[[Any], Hashable] | None = None,
) -> Matching:
    """:func:`match` over two device sequences (``content(device)``: what makes two
    devices without identity identical, e.g. their serialized XML)."""
    known_types = [d.dev_type for d in known]
    live_types = [d.dev_type for d in live]

    def identities(devices: Sequence[Identifiable], types: list[str]) -> Callable[[int], Hashable | None]:
        return lambda i: identity_key(types[i], devices[i].checked_identity())

    return match(
        known_types,
        [alias_key(d.alias) for d in known],
        identities(known, known_types),
        live_types,
        [alias_key(d.alias) for d in live],
        identities(live, live_types),
        known_content=(lambda i: content(known[i])) if content is not None else None,
        live_content=(lambda i: content(live[i])) if content is not None else None,
    )


def find_device(devices: Sequence[Identifiable], wanted: Identifiable, *, device_id: str | None = None) -> Any:
    """The device of ``devices`` that is ``wanted``, by the rules above (None: none).

    Rule 3 does not apply to a single device: one without alias or identity is not
    guessed at.
    """
    dev_type = wanted.dev_type
    key = alias_key(wanted.alias, device_id)
    if key is not None:
        for device in devices:
            if device.dev_type == dev_type and alias_key(device.alias) == key:
                return device
    wanted_key = identity_key(dev_type, wanted.checked_identity())
    if wanted_key is None:
        return None
    for device in devices:
        if device.dev_type == dev_type and identity_key(dev_type, device.checked_identity()) == wanted_key:
            return device
    return None
