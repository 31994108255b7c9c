"""A libvirt domain: its devices as a dev_map, everything else kept verbatim."""

from __future__ import annotations

import gc
import threading
import weakref
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, MutableSequence, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, overload

from lxml import etree

from devframe.core.device import Device
from devframe.core.dispatch import parse_devices
from devframe.core.errors import DevframeError, DomainError
from devframe.core.identity import find_device
from devframe.core.log import get_logger
from devframe.core.metadata import MetadataSection, OrphanMetadata, VmMetadata
from devframe.core.registry import Registry, create_registry
from devframe.core.safexml import DEFAULT_LIMITS, ParseLimits, effective_limits, parse_xml
from devframe.core.xmledit import remove_keeping_tail, subtree_xml

__all__ = ["DevMap", "DeviceList", "Domain", "default_registry", "load_domain", "parse_domain"]

_default_registry: Registry | None = None
_default_lock = threading.Lock()


def default_registry() -> Registry:
    """The registry used when none is passed: built on first use from entry points."""
    global _default_registry
    if _default_registry is None:
        with _default_lock:
            if _default_registry is None:
                _default_registry = create_registry()
    return _default_registry


def reset_default_registry() -> None:
    """Forget the default registry (tests, or after installing plugins at run time)."""
    global _default_registry
    with _default_lock:
        _default_registry = None


class DeviceList(MutableSequence[Device]):
    """The devices of one dev_type, a live view: edits go to the domain in order.

    Inserting at position *i* puts the device before the *i*-th device of this type in
    the domain; appending puts it after the last one of this type (or at the end of
    `<devices>` when there is none). Reads, edits, ``index`` and ``in`` cost O(log n)
    in the domain's size; iteration, slices and comparison copy the list.
    """

    def __init__(self, domain: Domain, dev_type: str) -> None:
        self._domain = domain
        self._dev_type = dev_type

    def _items(self) -> list[Device]:
        return self._domain._order().by_type.get(self._dev_type, [])

    @overload
    def __getitem__(self, index: int) -> Device: ...
    @overload
    def __getitem__(self, index: slice) -> list[Device]: ...
    def __getitem__(self, index: int | slice) -> Device | list[Device]:
        return self._items()[index]

    def __len__(self) -> int:
        return len(self._items())

    def __iter__(self) -> Iterator[Device]:
        return iter(list(self._items()))

    def __contains__(self, value: object) -> bool:
        return isinstance(value, Device) and value.dev_type == self._dev_type and self._domain._order().has(value)

    def index(self, value: Any, start: int = 0, stop: int | None = None) -> int:
        """Position of ``value`` in this list (a binary search, not a scan)."""
        items = self._items()
        found = self._domain._order().bucket_index(value, items) if isinstance(value, Device) else None
        # The bounds as Sequence.index reads them.
        if start < 0:
            start = max(len(items) + start, 0)
        if stop is not None and stop < 0:
            stop += len(items)
        if found is None or found < start or (stop is not None and found >= stop):
            raise ValueError(f"{value!r} is not in the {self._dev_type!r} list")
        return found

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            raise TypeError("slice assignment is not supported on a dev_map list")
        self._domain._check_type(value, self._dev_type)
        old = self._items()[index]
        self._domain.replace(old, value)

    def __delitem__(self, index: Any) -> None:
        items = self._items()
        targets = items[index] if isinstance(index, slice) else [items[index]]
        for device in targets:
            self._domain.remove(device)

    def insert(self, index: int, value: Device) -> None:
        self._domain._check_type(value, self._dev_type)
        items = self._items()
        if index < 0:
            index = max(0, len(items) + index)
        if index < len(items):
            self._domain.add(value, before=items[index])
        elif items:
            self._domain.add(value, after=items[-1])
        else:
            self._domain.add(value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (DeviceList, list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return repr(self._items())


class DevMap(Mapping[str, DeviceList]):
    """``{dev_type: [dev_object, ...]}``: the domain's devices by type, document order.

    A live view of the domain: it is never a second copy of the devices. The dev_types
    come in the order of their first device in the document.
    """

    def __init__(self, domain: Domain) -> None:
        self._domain = domain

    def __getitem__(self, dev_type: str) -> DeviceList:
        if dev_type not in self._domain._order().by_type:
            raise KeyError(dev_type)
        return DeviceList(self._domain, dev_type)

    def get_list(self, dev_type: str) -> DeviceList:
        """The list for ``dev_type``, empty (and appendable) when there is none yet."""
        return DeviceList(self._domain, dev_type)

    def __iter__(self) -> Iterator[str]:
        return iter(self._domain._order().types())

    def __len__(self) -> int:
        return len(self._domain._order().by_type)

    def __repr__(self) -> str:
        by_type = self._domain._order().by_type
        return "DevMap(" + repr({t: list(by_type[t]) for t in self._domain._order().types()}) + ")"


#: labels start in a universe of at least 2**_MIN_BITS (it grows with the domain)
_MIN_BITS = 16
#: a range of 2**i labels is relabelled only when 16 * (its devices + 1) <= 2**(i/2)
_SPARSE = 8
#: label step at either end of the list: appends leave room for later inserts between them
_END_STEP = 256


class _Order:
    """Where each device of a domain stands, so that an edit costs O(log n), not a scan.

    ``devices`` is the domain's list in document order, edited only here. Every device
    has an integer label, increasing along that list: a device's position in the list,
    or in its dev_type's bucket (``by_type``, kept in document order), is a binary search
    on labels, and so is a new device's place in its bucket. Buckets are updated on each
    edit, never regrouped.

    Labels lie in ``[0, 2**bits)``. A new device takes the label halfway between its
    neighbours' (a fixed step past the last or before the first). When the neighbours'
    labels are adjacent, the smallest aligned range of labels around them that is sparse
    enough is relabelled evenly: order maintenance as in Bender et al., "Two simplified
    algorithms for maintaining order in a list" (2002), with density threshold
    ~2**(-i/2) for a range of 2**i labels, which rewrites O(log n) labels per insert,
    amortized, whatever the pattern of edits. When no range is sparse enough the universe
    grows and every label is rewritten; the domain has grown four-fold by then.
    """

    __slots__ = ("bits", "by_type", "devices", "labels")

    def __init__(self, devices: list[Device]) -> None:
        self.devices = devices
        self.labels: dict[Device, int] = {}
        self.bits = _MIN_BITS
        self.by_type: dict[str, list[Device]] = {}
        self._relabel_all()
        self._regroup()

    def _relabel_all(self) -> None:
        n = len(self.devices)
        # Leaves the whole range sparse until the domain is four times larger.
        self.bits = max(_MIN_BITS, 2 * (n + 1).bit_length() + _SPARSE + 4)
        gap = (1 << self.bits) // (n + 1)
        self.labels = dict(zip(self.devices, range(gap, gap * (n + 1), gap), strict=True))

    def _regroup(self) -> None:
        grouped: dict[str, list[Device]] = {}
        for device in self.devices:
            dev_type = device.dev_type
            bucket = grouped.get(dev_type)
            if bucket is None:
                grouped[dev_type] = [device]
            else:
                bucket.append(device)
        self.by_type = grouped

    def has(self, device: Device) -> bool:
        return device in self.labels

    def index(self, device: Device) -> int | None:
        """``device``'s position in ``devices``, or None when it is not there."""
        label = self.labels.get(device)
        if label is None:
            return None
        return bisect_left(self.devices, label, key=self.labels.__getitem__)

    def bucket_index(self, device: Device, bucket: list[Device]) -> int | None:
        """``device``'s position in ``bucket`` (its dev_type's), or None when it is not there."""
        label = self.labels.get(device)
        if label is None:
            return None
        found = bisect_left(bucket, label, key=self.labels.__getitem__)
        return found if found < len(bucket) and bucket[found] is device else None

    def types(self) -> list[str]:
        """The dev_types, in the order of their first device (a sort of the few types)."""
        labels, by_type = self.labels, self.by_type
        return sorted(by_type, key=lambda dev_type: labels[by_type[dev_type][0]])

    def insert(self, index: int, device: Device) -> None:
        """Put ``device`` at ``devices[index]`` (0 <= index <= len)."""
        low, high = self._bounds(index)
        if high - low < 2:
            self._make_room(index)
            low, high = self._bounds(index)
        if index == len(self.devices):
            label = low + min(_END_STEP, (high - low) // 2)
        elif index == 0:
            label = high - min(_END_STEP, (high - low) // 2)
        else:
            label = (low + high) // 2
        self.devices.insert(index, device)
        self.labels[device] = label
        self._file(device, label)

    def delete(self, index: int) -> Device:
        """Take ``devices[index]`` out."""
        device = self.devices[index]
        self._unfile(device)
        del self.devices[index]
        del self.labels[device]
        return device

    def put(self, index: int, device: Device) -> None:
        """Put ``device`` in place of ``devices[index]``, at the same label."""
        old = self.devices[index]
        label = self.labels[old]
        self._unfile(old)
        self.devices[index] = device
        del self.labels[old]
        self.labels[device] = label
        self._file(device, label)

    def _file(self, device: Device, label: int) -> None:
        bucket = self.by_type.get(device.dev_type)
        if bucket is None:
            self.by_type[device.dev_type] = [device]
        elif self.labels[bucket[-1]] < label:  # after the last of its type: the common case
            bucket.append(device)
        else:
            bucket.insert(bisect_left(bucket, label, key=self.labels.__getitem__), device)

    def _unfile(self, device: Device) -> None:
        bucket = self.by_type.get(device.dev_type)
        found = self.bucket_index(device, bucket) if bucket is not None else None
        if bucket is None or found is None:
            # Its dev_type changed since it was filed (an UnknownDevice's element renamed):
            # group again from scratch, as every read did before.
            self._regroup()
            bucket = self.by_type[device.dev_type]
            found = self.bucket_index(device, bucket)
            assert found is not None
        del bucket[found]
        if not bucket:
            del self.by_type[device.dev_type]

    def _bounds(self, index: int) -> tuple[int, int]:
        """Labels of the devices either side of ``index`` (-1 and 2**bits at the ends)."""
        devices, labels = self.devices, self.labels
        low = labels[devices[index - 1]] if index > 0 else -1
        high = labels[devices[index]] if index < len(devices) else 1 << self.bits
        return low, high

    def _make_room(self, index: int) -> None:
        """Relabel so that a free label lies between ``devices[index - 1]`` and ``devices[index]``."""
        devices, labels = self.devices, self.labels
        key = labels.__getitem__
        low, high = self._bounds(index)
        # The range must hold both neighbours (just the one at either end of the list).
        first = low if index > 0 else high
        last = high if index < len(devices) else low
        i = 2
        while i <= self.bits:
            base = first >> i << i
            if last >> i << i != base:
                i += 1
                continue
            start = bisect_left(devices, base, key=key)
            stop = bisect_left(devices, base + (1 << i), lo=start, key=key)
            count = stop - start
            # The smallest level whose range could be sparse enough with these devices
            # (a wider range holds at least as many).
            needed = (((count + 1) ** 2 << _SPARSE) - 1).bit_length()
            if needed <= i:
                # count >= 1, so gap >= 256 (count + 1) >= 512: free labels between any
                # two devices of the range, and between it and its neighbours outside.
                gap = (1 << i) // (count + 1)
                labels.update(zip(devices[start:stop], range(base + gap, base + gap * (count + 1), gap), strict=True))
                return
            i = needed
        self._relabel_all()


class Domain:
    """A parsed libvirt domain.

    The devices are dev_objects, edited through :attr:`dev_map` or :meth:`add`,
    :meth:`remove`, :meth:`replace`, :meth:`move`; each edit costs O(log n), and reading
    the dev_map after one regroups nothing. Everything outside `<devices>` (name, uuid,
    os, cpu, ...) is kept verbatim in :attr:`tree`. :meth:`to_xml` rebuilds the document
    from the objects.

    A device belongs to one Domain at a time (its element lives in that Domain's tree):
    adding a device that is in another Domain, or putting it in with :meth:`replace` or a
    dev_map assignment, raises :class:`DomainError`. Remove it from the first Domain and
    it may join another. Devices built from specs belong to none until added.
    """

    def __init__(
        self,
        tree: etree._ElementTree,
        *,
        registry: Registry | None = None,
        source: str | None = None,
    ) -> None:
        root = tree.getroot()
        if root.tag != "domain":
            raise DomainError(f"{source or 'document'}: root element is <{root.tag}>, expected <domain>")
        self.tree = tree
        self.root = root
        self.source = source
        self.registry = registry if registry is not None else default_registry()
        self._devices_el: etree._Element | None = root.find("devices")
        self._devices: list[Device] = []
        self._leading: dict[Device, list[etree._Element]] = {}
        self._trailing: list[etree._Element] = []
        #: positions for edits and the dev_map, built on first use (see _Order)
        self._positions: _Order | None = None
        self._lock = threading.RLock()
        # What a device holds to say it is in this Domain: a weak reference, so devices
        # never hold their Domain alive and a parsed domain has no reference cycle.
        self._token = weakref.ref(self)
        #: the <ovirt-vm:vm> part of <metadata>, handed the devices through its interface
        # The section's index and the dev_objects are made under one pause of the collector:
        # its young objects are looked at once, after, not at each threshold on the way.
        with _gc_paused():
            self._metadata_section: MetadataSection | None = MetadataSection.from_domain(root, source=source)
            self._load()

    # -- parsing ----------------------------------------------------------------------

    def _load(self) -> None:
        section = self._metadata_section
        self._devices_el = merged_devices(self.root, self.source)
        if self._devices_el is not None:
            binder = section.binder(self._devices_el) if section is not None else None
            parsed = parse_devices(self._devices_el, self.registry, binder, owner=self._token)
            self._devices = parsed.devices
            self._leading = parsed.leading
            self._trailing = parsed.trailing
        if section is not None:
            section.finish()  # entries no device took are orphans: reported

    # -- identity ----------------------------------------------------------------------

    @property
    def name(self) -> str | None:
        name: str | None = self.root.findtext("name")
        return name

    @property
    def uuid(self) -> str | None:
        uuid: str | None = self.root.findtext("uuid")
        return uuid

    @property
    def arch(self) -> str | None:
        os_type = self.root.find("os/type")
        return os_type.get("arch") if os_type is not None else None

    # -- devices -------------------------------------------------------------------------

    @property
    def devices(self) -> list[Device]:
        """Every device in document order (a new list; edit through the domain)."""
        return list(self._devices)

    @property
    def dev_map(self) -> DevMap:
        """``{dev_type: [dev_object]}`` in document order, a live view."""
        return DevMap(self)

    def _order(self) -> _Order:
        # Built on the first edit or dev_map read: parsing pays nothing for it.
        order = self._positions
        if order is None:
            with self._lock:
                order = self._positions
                if order is None:
                    order = self._positions = _Order(self._devices)
        return order

    def _check_type(self, device: Device, dev_type: str | None = None) -> None:
        if not isinstance(device, Device):
            raise DomainError(f"expected a devframe Device, got {type(device).__name__}")
        if dev_type is not None and device.dev_type != dev_type:
            raise DomainError(f"cannot put a {device.dev_type!r} device into the {dev_type!r} list")

    def _check_free(self, device: Device) -> None:
        """Refuse a device that is in this or another live Domain (its element is there)."""
        owner = device._owner
        if owner is None:
            return
        if owner is self._token:
            raise DomainError(f"{device.describe()} is already in domain {self.name!r}")
        holder = owner()
        if holder is not None:  # a Domain nobody holds any more lets its devices go
            raise DomainError(
                f"{device.describe()} is in domain {holder.name!r}: remove it there before putting it "
                f"into domain {self.name!r}"
            )

    def _position(self, device: Device) -> int:
        index = self._order().index(device)
        if index is None:
            raise DomainError(f"{device.describe()} is not a device of domain {self.name!r}")
        return index

    def add(self, device: Device, *, before: Device | None = None, after: Device | None = None) -> Device:
        """Add ``device`` (at the end, or before/after another device). Returns it.

        Raises :class:`DomainError` when the device is already in this or another Domain.
        """
        self._check_type(device)
        with self._lock:
            self._check_free(device)
            if before is not None and after is not None:
                raise DomainError("give before= or after=, not both")
            if before is not None:
                index = self._position(before)
            elif after is not None:
                index = self._position(after) + 1
            else:
                index = len(self._devices)
            self._order().insert(index, device)
            device._owner = self._token
        return device

    def remove(self, device: Device) -> Device:
        """Remove ``device``; comments that stood before it move to the next device.

        The device is then free to join another Domain.
        """
        with self._lock:
            index = self._position(device)
            self._order().delete(index)
            device._owner = None
            trivia = self._leading.pop(device, None)
            if trivia:
                if index < len(self._devices):
                    self._leading.setdefault(self._devices[index], [])[:0] = trivia
                else:
                    self._trailing[:0] = trivia
        return device

    def replace(self, old: Device, new: Device) -> Device:
        """Put ``new`` where ``old`` was (comments before ``old`` stay before it). Returns ``new``.

        ``old`` is then free to join another Domain; ``new`` must not be in one.
        """
        self._check_type(new)
        with self._lock:
            index = self._position(old)
            if new is old:
                return new
            self._check_free(new)
            self._order().put(index, new)
            old._owner = None
            new._owner = self._token
            trivia = self._leading.pop(old, None)
            if trivia:
                self._leading[new] = trivia
        return new

    def move(self, device: Device, index: int) -> None:
        """Move ``device`` to position ``index`` of :attr:`devices` (read as ``list.insert`` does:
        any int, however large, stands for the nearest end)."""
        if isinstance(index, bool) or not isinstance(index, int):
            raise DomainError(f"move {device.describe()}: the position must be an int, got {type(index).__name__}")
        with self._lock:
            order = self._order()
            order.delete(self._position(device))
            size = len(self._devices)
            index = max(0, index + size) if index < 0 else min(index, size)
            order.insert(index, device)

    def reorder(self, devices: Sequence[Device]) -> None:
        """Put this domain's devices in the order of ``devices``, which must hold each of
        them exactly once. O(n): one pass, where n calls of :meth:`move` cost O(n log n)
        and reading :attr:`devices` between moves O(n^2) (Guest re-reading libvirt's order)."""
        with self._lock:
            wanted = list(devices)
            current = self._devices
            ids = {id(device) for device in current}
            if len(wanted) != len(current) or len({id(d) for d in wanted}) != len(wanted):
                raise DomainError(
                    f"reorder of domain {self.name!r} needs each of its {len(current)} devices exactly once, "
                    f"got {len(wanted)} entries"
                )
            stranger = next((device for device in wanted if id(device) not in ids), None)
            if stranger is not None:
                raise DomainError(f"{stranger.describe()} is not a device of domain {self.name!r}")
            current[:] = wanted  # in place: the order index holds this very list
            self._positions = None  # relabelled on the next edit or dev_map read

    def find_device(self, device: Device, *, device_id: str | None = None) -> Device | None:
        """This domain's device that is ``device`` (from another domain, a spec or the
        engine): by alias or deviceId, else by identity (:mod:`devframe.core.identity`)."""
        return find_device(self._devices, device, device_id=device_id)  # type: ignore[no-any-return]

    def find(self, *, alias: str | None = None, dev_type: str | None = None) -> list[Device]:
        """Devices matching every given criterion (plain filters; :meth:`find_device`
        recognises a device as correlation does)."""
        out = []
        for device in self._devices:
            if dev_type is not None and device.dev_type != dev_type:
                continue
            if alias is not None and device.alias != alias:
                continue
            out.append(device)
        return out

    # -- metadata --------------------------------------------------------------------------

    @property
    def metadata_section(self) -> MetadataSection | None:
        """The parsed ``<metadata>`` section (VM values, orphans), or None."""
        return self._metadata_section

    @property
    def vm_metadata(self) -> VmMetadata:
        """VM-level values of ``<ovirt-vm:vm>`` (a mutable mapping written back by ``to_xml``)."""
        if self._metadata_section is None:
            self._metadata_section = MetadataSection.empty(self.root, source=self.source)
        return self._metadata_section.vm_metadata

    @property
    def orphan_metadata(self) -> list[OrphanMetadata]:
        """Metadata entries no device of this domain matches (kept by ``to_xml``)."""
        section = self._metadata_section
        return section.orphans if section is not None else []

    # -- output ------------------------------------------------------------------------

    def _sync_devices(self) -> None:
        """Make `<devices>` hold exactly the device elements, in dev_map order."""
        expected: list[etree._Element] = []
        leading = self._leading
        for device in self._devices:
            trivia = leading.get(device)
            if trivia:
                expected.extend(trivia)
            expected.append(device.built_element())
        expected.extend(self._trailing)
        devices_el = self._devices_el
        if devices_el is None:
            if not expected:
                return
            devices_el = etree.SubElement(self.root, "devices")
            self._devices_el = devices_el
        current = list(devices_el)
        if len(current) == len(expected) and all(a is b for a, b in zip(current, expected, strict=True)):
            return
        indent, closing, unit = _layout(devices_el, current)
        for child in current:
            devices_el.remove(child)
        for node in expected:
            if node.tail is None or not node.tail.strip():
                node.tail = indent
            devices_el.append(node)
            if indent is not None and _unformatted(node):
                etree.indent(node, space=unit, level=len(indent.rsplit("\n", 1)[-1]) // len(unit))
        if len(devices_el):
            last = devices_el[-1]
            if last.tail is None or not last.tail.strip():
                last.tail = closing
        if devices_el.text is None and indent is not None:
            devices_el.text = indent

    def to_xml(self) -> str:
        """The whole domain, rebuilt from the dev_objects and metadata."""
        with self._lock:
            self._sync_devices()
            self._write_metadata()
            return etree.tostring(self.tree, encoding="unicode")

    def _write_metadata(self) -> None:
        """Write the devices' metadata back, creating the section when first needed."""
        section = self._metadata_section
        if section is None:
            if not any(d.has_metadata for d in self._devices):
                return
            section = self._metadata_section = MetadataSection.empty(self.root, source=self.source)
        section.write(self._devices)

    def devices_xml(self) -> str:
        """Just the `<devices>` element, rebuilt from the dev_objects."""
        with self._lock:
            self._sync_devices()
            if self._devices_el is None:
                return "<devices/>"
            return subtree_xml(self._devices_el)

    @property
    def devices_hash(self) -> str:
        """SHA-256 of the canonical (C14N 2.0, whitespace-stripped) `<devices>` XML.

        Equal across processes and runs for the same devices.
        """
        with self._lock:
            self._sync_devices()
            if self._devices_el is None:
                canonical = b"<devices></devices>"
            else:
                canonical = etree.tostring(  # type: ignore[call-overload]  # lxml-stubs lack c14n2's strip_text
                    self._devices_el, method="c14n2", strip_text=True, with_comments=False
                )
            import hashlib  # here, not at the top: only hashing needs it (start-up)

            return hashlib.sha256(canonical).hexdigest()

    def __repr__(self) -> str:
        by_type = self._order().by_type
        counts = {t: len(by_type[t]) for t in self._order().types()}
        return f"<Domain name={self.name!r} devices={counts}>"


def merged_devices(root: etree._Element, source: str | None = None) -> etree._Element | None:
    """The domain's ``<devices>``, holding the devices of every ``<devices>`` block.

    libvirt's schema has one ``<devices>``, but its parser takes the devices of every
    ``<devices>`` child of ``<domain>`` (libvirt 9.0's test driver defines a second
    block's disk and NIC, and writes them back in one block; ``define --validate``
    refuses the document). devframe does what the parser does, so no device can hide
    from the dev_map: the later blocks' children (devices, comments, instructions) move
    to the end of the first block in document order, the later blocks go, and a warning
    names them. Only ``<devices>`` children of the root count, as in libvirt.
    """
    blocks = list(root.iterchildren("devices"))
    if len(blocks) < 2:
        return blocks[0] if blocks else None
    first = blocks[0]
    lines = [block.sourceline for block in blocks]
    for block in blocks[1:]:
        last = first[-1] if len(first) else None
        lead = block.text or ""
        if last is not None:
            # The text before the block's first device follows the last device so far;
            # indentation replaces the closing indentation, text is never lost.
            layout = not lead.strip() and len(block) and not (last.tail or "").strip()
            last.tail = lead if layout else (last.tail or "") + lead
        elif lead:
            first.text = (first.text or "") + lead
        for node in list(block):
            first.append(node)  # moves the node and the text after it
        before, tail = block.getprevious(), block.tail
        remove_keeping_tail(block)
        if before is not None and tail is not None and not tail.strip():
            before.tail = tail  # the layout after the block, not before it
    get_logger(domain=root.findtext("name"), source=source).warning(
        "domain has several <devices> blocks; their devices are read as one block, as libvirt does",
        blocks=len(blocks),
        lines=lines,
    )
    return first


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector while dev_objects are made in bulk.

    Thousands of young objects that all live on made the collector rescan them again
    and again: about half of parse_domain's time at 10,000 devices. The collector's
    previous state is restored, so a caller that disabled it keeps it disabled.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _layout(devices_el: etree._Element, children: Sequence[etree._Element]) -> tuple[str | None, str | None, str]:
    """Whitespace of a pretty-printed `<devices>`: (before each device, before the
    closing tag, one indentation unit). Nones when the document is not indented."""

    def blank(text: str | None) -> str | None:
        return text if text is not None and "\n" in text and not text.strip() else None

    previous = devices_el.getprevious()
    parent = devices_el.getparent()
    own = blank(previous.tail if previous is not None else parent.text if parent is not None else None)
    unit = own.rsplit("\n", 1)[-1] if own else ""
    unit = unit or "  "
    indent = blank(devices_el.text) or (blank(children[0].tail) if len(children) > 1 else None)
    if indent is None and own is not None:
        indent = own + unit
    closing = blank(children[-1].tail) if children else None
    return indent, closing or own, unit


def _unformatted(node: etree._Element) -> bool:
    if not isinstance(node.tag, str) or len(node) == 0:
        return False
    return node.text is None and all(child.tail is None for child in node)


def parse_domain(
    xml: str | bytes,
    *,
    registry: Registry | None = None,
    source: str | None = None,
    limits: ParseLimits = DEFAULT_LIMITS,
) -> Domain:
    """Parse libvirt domain XML into a :class:`Domain` with its dev_map.

    Raises :class:`~devframe.DevframeError` for malformed, refused or non-domain XML.
    """
    tree = parse_xml(xml, source=source, limits=limits)
    return Domain(tree, registry=registry, source=source)


def load_domain(
    path: str | Path,
    *,
    registry: Registry | None = None,
    limits: ParseLimits = DEFAULT_LIMITS,
) -> Domain:
    """Read and parse a domain XML file; errors name the file."""
    path = Path(path)
    try:
        size = path.stat().st_size
        max_bytes = effective_limits(limits).max_bytes
        if size > max_bytes:
            raise DevframeError(f"{path}: {size} bytes is larger than the limit of {max_bytes} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise DevframeError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_domain(data, registry=registry, source=str(path), limits=limits)


def dev_map_of(devices: Iterable[Device]) -> dict[str, list[Device]]:
    """Group devices by dev_type, keeping order."""
    out: dict[str, list[Device]] = {}
    for device in devices:
        out.setdefault(device.dev_type, []).append(device)
    return out
