"""A libvirt domain: its devices as a dev_map, everything else kept verbatim."""

from __future__ import annotations

import gc
import hashlib
import threading
from collections.abc import Iterable, Iterator, Mapping, MutableSequence, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, overload

from lxml import etree

from devframe.core.device import Device
from devframe.core.dispatch import parse_devices
from devframe.core.errors import DevframeError, DomainError
from devframe.core.identity import find_device
from devframe.core.metadata import MetadataSection, OrphanMetadata, VmMetadata
from devframe.core.registry import Registry, create_registry
from devframe.core.safexml import DEFAULT_LIMITS, ParseLimits, effective_limits, parse_xml

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
    `<devices>` when there is none).
    """

    def __init__(self, domain: Domain, dev_type: str) -> None:
        self._domain = domain
        self._dev_type = dev_type

    def _items(self) -> list[Device]:
        return self._domain._group().get(self._dev_type, [])

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

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            raise TypeError("slice assignment is not supported on a dev_map list")
        old = self._items()[index]
        self._domain.replace(old, value)

    def __delitem__(self, index: Any) -> None:
        items = self._items()
        targets = items[index] if isinstance(index, slice) else [items[index]]
        for device in list(targets):
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

    A live view of the domain: it is never a second copy of the devices.
    """

    def __init__(self, domain: Domain) -> None:
        self._domain = domain

    def __getitem__(self, dev_type: str) -> DeviceList:
        if dev_type not in self._domain._group():
            raise KeyError(dev_type)
        return DeviceList(self._domain, dev_type)

    def get_list(self, dev_type: str) -> DeviceList:
        """The list for ``dev_type``, empty (and appendable) when there is none yet."""
        return DeviceList(self._domain, dev_type)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._domain._group()))

    def __len__(self) -> int:
        return len(self._domain._group())

    def __repr__(self) -> str:
        return "DevMap(" + repr({k: list(v) for k, v in self._domain._group().items()}) + ")"


class Domain:
    """A parsed libvirt domain.

    The devices are dev_objects, edited through :attr:`dev_map` or :meth:`add`,
    :meth:`remove`, :meth:`replace`, :meth:`move`. Everything outside `<devices>` (name,
    uuid, os, cpu, ...) is kept verbatim in :attr:`tree`. :meth:`to_xml` rebuilds the
    document from the objects.
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
        self._by_type: dict[str, list[Device]] | None = None
        self._lock = threading.RLock()
        #: the <ovirt-vm:vm> part of <metadata>, handed the devices through its interface
        self._metadata_section: MetadataSection | None = MetadataSection.from_domain(root, source=source)
        self._load()

    # -- parsing ----------------------------------------------------------------------

    def _load(self) -> None:
        section = self._metadata_section
        if self._devices_el is not None:
            binder = section.binder() if section is not None else None
            with _gc_paused():
                parsed = parse_devices(self._devices_el, self.registry, binder)
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

    def _group(self) -> dict[str, list[Device]]:
        grouped = self._by_type
        if grouped is None:
            grouped = {}
            for device in self._devices:
                dev_type = device.dev_type
                bucket = grouped.get(dev_type)
                if bucket is None:
                    grouped[dev_type] = [device]
                else:
                    bucket.append(device)
            self._by_type = grouped
        return grouped

    def _check_type(self, device: Device, dev_type: str | None = None) -> None:
        if not isinstance(device, Device):
            raise DomainError(f"expected a devframe Device, got {type(device).__name__}")
        if dev_type is not None and device.dev_type != dev_type:
            raise DomainError(f"cannot put a {device.dev_type!r} device into the {dev_type!r} list")

    def _index(self, device: Device) -> int:
        for index, candidate in enumerate(self._devices):
            if candidate is device:
                return index
        raise DomainError(f"{device.describe()} is not a device of domain {self.name!r}")

    def _changed(self) -> None:
        self._by_type = None

    def add(self, device: Device, *, before: Device | None = None, after: Device | None = None) -> Device:
        """Add ``device`` (at the end, or before/after another device). Returns it."""
        self._check_type(device)
        with self._lock:
            if any(d is device for d in self._devices):
                raise DomainError(f"{device.describe()} is already in domain {self.name!r}")
            if before is not None and after is not None:
                raise DomainError("give before= or after=, not both")
            if before is not None:
                index = self._index(before)
            elif after is not None:
                index = self._index(after) + 1
            else:
                index = len(self._devices)
            self._devices.insert(index, device)
            self._changed()
        return device

    def remove(self, device: Device) -> Device:
        """Remove ``device``; comments that stood before it move to the next device."""
        with self._lock:
            index = self._index(device)
            del self._devices[index]
            trivia = self._leading.pop(device, None)
            if trivia:
                if index < len(self._devices):
                    self._leading.setdefault(self._devices[index], [])[:0] = trivia
                else:
                    self._trailing[:0] = trivia
            self._changed()
        return device

    def replace(self, old: Device, new: Device) -> Device:
        """Put ``new`` where ``old`` was. Returns ``new``."""
        self._check_type(new)
        with self._lock:
            index = self._index(old)
            self._devices[index] = new
            trivia = self._leading.pop(old, None)
            if trivia:
                self._leading[new] = trivia
            self._changed()
        return new

    def move(self, device: Device, index: int) -> None:
        """Move ``device`` to position ``index`` of :attr:`devices`."""
        with self._lock:
            current = self._index(device)
            del self._devices[current]
            self._devices.insert(index, device)
            self._changed()

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
            return etree.tostring(self.tree, encoding="unicode")  # type: ignore[no-any-return]

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
            return etree.tostring(self._devices_el, encoding="unicode", with_tail=False)  # type: ignore[no-any-return]

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
                canonical = etree.tostring(self._devices_el, method="c14n2", strip_text=True, with_comments=False)
            return hashlib.sha256(canonical).hexdigest()

    def __repr__(self) -> str:
        counts = {k: len(v) for k, v in self._group().items()}
        return f"<Domain name={self.name!r} devices={counts}>"


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
