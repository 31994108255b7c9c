"""The ``<memory>`` dev_class: a memory device (hot-pluggable DIMM and its kin).

Models libvirt's ``<memory>`` element (formatdomain "Memory devices")::

    <memory model='dimm|nvdimm|virtio-pmem|virtio-mem|sgx-epc' access='shared|private' discard='yes'>
      <uuid>...</uuid>                                        (nvdimm)
      <source>
        <pagesize unit='KiB'>2048</pagesize>                  (dimm, virtio-mem)
        <nodemask>0-1</nodemask>                              (dimm, virtio-mem, sgx-epc)
        <path>/dev/dax0.0</path>                              (nvdimm, virtio-pmem)
        <alignsize unit='KiB'>2048</alignsize>                (nvdimm)
        <pmem/>                                               (nvdimm)
      </source>
      <target dynamicMemslots='yes'>
        <size unit='GiB'>2</size>
        <node>0</node>
        <label><size unit='KiB'>128</size></label>            (nvdimm)
        <readonly/>                                           (nvdimm)
        <block unit='KiB'>2048</block>                        (virtio-mem)
        <requested unit='GiB'>1</requested>                   (virtio-mem)
        <current unit='GiB'>1</current>                       (virtio-mem, live XML)
        <address base='0x100000000'/>                         (virtio-mem, virtio-pmem)
      </target>
      <alias name='ua-...'/>
      <acpi index='1'/>
      <address type='dimm' slot='0' base='0x100000000'/>     (the guest address)
    </memory>

Sizes (libvirt's ``scaledInteger``: a number and a ``unit``, KiB when absent) read as
KiB (``size``, ``pagesize``, ...: :class:`Scaled` fields), whatever unit the element
uses: ``<size unit='GiB'>2</size>`` reads 2097152. Setting one keeps the element's unit
when the new value is a whole number of it, and writes KiB otherwise. Sizes libvirt
would round (bytes that are no whole KiB) read rounded up, as libvirt reads them.

dev_spec mapping (engine key on the left, XML place on the right). VDSM's memory
hotplug spec was ``{"type": "memory", "device": "memory", "size": <MiB>, "node": N}``;
devframe's keeps that and puts the rest in ``specParams``:

=============================== ================================================================
``device``                      always ``"memory"`` (VDSM's word; the model is
                                ``specParams.model``)
``size``                        ``target/size`` in **MiB** (an int, or a float when the size is
                                no whole MiB: 0.5 is 512 KiB); written as KiB (``unit='KiB'``)
``node``                        ``target/node`` (guest NUMA node, int)
``alias``                       ``alias@name``
``deviceId``                    the ``<deviceId>`` of a ``ua-<deviceId>`` alias
``address``                     the direct child ``address`` (guest address, a dict)
``specParams.model``            ``@model`` (dimm, nvdimm, virtio-pmem, virtio-mem, sgx-epc)
``specParams.access``           ``@access`` (shared, private)
``specParams.discard``          ``@discard`` (bool, yes/no)
``specParams.uuid``             ``uuid`` text (nvdimm on ppc64)
``specParams.pagesize``         ``source/pagesize`` (KiB, int)
``specParams.nodemask``         ``source/nodemask`` (host NUMA nodes, ``0-1,^3``)
``specParams.path``             ``source/path`` (nvdimm, virtio-pmem backing file)
``specParams.alignsize``        ``source/alignsize`` (KiB, int)
``specParams.pmem``             ``source/pmem`` (``true`` when present, else left out)
``specParams.dynamicMemslots``  ``target@dynamicMemslots`` (bool, yes/no; libvirt 11)
``specParams.labelSize``        ``target/label/size`` (KiB, int; nvdimm)
``specParams.readonly``         ``target/readonly`` (``true`` when present, else left out)
``specParams.block``            ``target/block`` (KiB, int; virtio-mem)
``specParams.requested``        ``target/requested`` (KiB, int; virtio-mem)
``specParams.current``          ``target/current`` (KiB, int; virtio-mem, live XML)
``specParams.addressBase``      ``target/address@base`` (int; written ``0x...``; libvirt 11)
``specParams.acpiIndex``        ``acpi@index`` (devframe.AcpiIndex)
=============================== ================================================================

Engines send numbers as strings as often as ints; both are accepted. Defaults: a spec
without ``specParams.model`` builds a ``dimm`` (VDSM's only model; the schema requires
one). ``size`` is required by the schema and has no default: a spec without it is a
:class:`devframe.SpecError` naming ``size``, as is a ``device`` other than ``memory``.
Memory devices hold no secrets.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, overload

from lxml import etree

from devframe import (
    ABS_PATH,
    HEX_UINT,
    UUID,
    YES_NO,
    AcpiIndex,
    Choice,
    DevframeError,
    Device,
    ElementView,
    Field,
    FieldValueError,
    Identity,
    IntRange,
    Pattern,
    PresentFlag,
    SpecError,
    address_text,
)

__all__ = [
    "MODELS",
    "NODESET",
    "UNSIGNED",
    "Memory",
    "Scaled",
    "format_kib",
    "to_kib",
    "unit_bytes",
]

#: Every ``@model`` libvirt documents for ``<memory>``.
MODELS = ("dimm", "nvdimm", "virtio-pmem", "virtio-mem", "sgx-epc")

_KI = 1024


#: libvirt's ``unsignedLong`` as it parses sizes and nodes: decimal digits only
UNSIGNED = IntRange(0, name="unsigned int", decimal=True)
#: libvirt's ``cpuset`` (``0-3,^2,8``): host NUMA nodes
NODESET = Pattern("node set (0-3,^2)", r"([0-9]+(-[0-9]+)?|\^[0-9]+)(,([0-9]+(-[0-9]+)?|\^[0-9]+))*")

# libvirt's scale suffixes (virScaleInteger): b/byte/bytes; k, KiB, KB (1000), ... E.
_UNIT = re.compile(r"(?:(b)(?:yte|ytes)?|([kmgtpe])(i?b)?)", re.IGNORECASE)


def unit_bytes(unit: str | None) -> int:
    """Bytes in one ``unit`` (``None``: KiB, libvirt's default for memory sizes)."""
    if unit is None:
        return _KI
    match = _UNIT.fullmatch(unit)
    if match is None:
        raise ValueError(f"unknown unit {unit!r:.40}")
    if match[1]:
        return 1
    power = "kmgtpe".index(match[2].lower()) + 1
    base = 1000 if match[3] and match[3].lower() == "b" else _KI
    return int(base**power)


def to_kib(text: str, unit: str | None) -> int:
    """A scaled integer as KiB, rounded up as libvirt rounds (raises ValueError)."""
    value = UNSIGNED.parse(text) * unit_bytes(unit)
    return -(-value // _KI)


def format_kib(kib: int) -> str:
    """``kib`` in the largest binary unit that holds it whole (``2GiB``, ``1536MiB``)."""
    for unit, size in (("TiB", _KI**3), ("GiB", _KI**2), ("MiB", _KI)):
        if kib and kib % size == 0:
            return f"{kib // size}{unit}"
    return f"{kib}KiB"


def _kib_from_spec(value: Any) -> int:
    return UNSIGNED.coerce(value)


def _mib_to_spec(kib: int) -> int | float:
    return kib // _KI if kib % _KI == 0 else kib / _KI


def _mib_from_spec(value: Any) -> int:
    """A dev_spec size in MiB (int, float or numeric str) as whole KiB."""
    if isinstance(value, bool):
        raise TypeError("expected a size in MiB, got bool")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text) if text.isascii() and text.isdigit() else float(text)
        except ValueError:
            raise ValueError("expected a size in MiB") from None
    if isinstance(value, int):
        kib: float | int = value * _KI
    elif isinstance(value, float):
        kib = value * _KI
        if kib != kib or kib in (float("inf"), float("-inf")) or kib != int(kib):
            raise ValueError("expected a size in MiB that is a whole number of KiB")
        kib = int(kib)
    else:
        raise TypeError(f"expected a size in MiB, got {type(value).__name__}")
    if kib < 0:
        raise ValueError("expected a non-negative size")
    return int(kib)


class Scaled(Field[int]):
    """A size element (``<size unit='GiB'>2</size>``) read and written as KiB.

    The element's text and its ``unit`` are one value; reading converts to KiB, writing
    keeps the unit when the value is a whole number of it and writes KiB otherwise.
    """

    def __init__(
        self,
        path: str,
        *,
        spec: str | None = None,
        doc: str = "",
        to_spec: Any = None,
        from_spec: Any = _kib_from_spec,
    ) -> None:
        super().__init__(path, UNSIGNED, spec=spec, doc=doc, to_spec=to_spec, from_spec=from_spec)
        if self.attr is not None:
            raise ValueError("a Scaled field names an element, not an attribute")

    def consumes(self) -> tuple[str, ...]:
        """The text and its ``unit`` (devframe.core.escape)."""
        return (self.path, self.path + "@unit")

    def _leaf(self, view: ElementView) -> etree._Element | None:
        element: etree._Element = view.element
        for step in self.steps:
            child = next(element.iterchildren(step), None)
            if child is None:
                return None
            element = child
        return element

    @overload
    def __get__(self, view: None, owner: type) -> Scaled: ...
    @overload
    def __get__(self, view: ElementView, owner: type) -> int | None: ...
    def __get__(self, view: ElementView | None, owner: type) -> Scaled | int | None:
        if view is None:
            return self
        raw = self.raw(view)
        if raw is None:
            return None
        leaf = self._leaf(view)
        unit = leaf.get("unit") if leaf is not None else None
        try:
            return to_kib(raw, unit)
        except ValueError as exc:
            raise FieldValueError(view.describe(), self.name, raw, f"{exc} (unit {unit!r:.40})") from None

    def __set__(self, view: ElementView, value: int | None) -> None:
        if value is None:
            view.touch()
            leaf = self._leaf(view)
            if leaf is not None:
                self._remove(leaf)
            return
        try:
            UNSIGNED.format(value)
        except (TypeError, ValueError) as exc:
            raise FieldValueError(view.describe(), self.name, value, str(exc)) from None
        leaf = self._leaf(view)
        unit = leaf.get("unit") if leaf is not None else None
        try:
            size = unit_bytes(unit)
        except ValueError:
            size = 0  # an unknown unit: rewrite as KiB
        if leaf is not None and size and (value * _KI) % size == 0:
            self.set_raw(view, str(value * _KI // size))
            return
        self.set_raw(view, str(value))
        leaf = self._leaf(view)
        assert leaf is not None
        leaf.set("unit", "KiB")

    def _remove(self, leaf: etree._Element) -> None:
        """Remove the size element and the containers of its path it leaves empty."""
        depth = len(self.steps)
        element: etree._Element | None = leaf
        while element is not None and depth > 0:
            parent = element.getparent()
            if parent is None:
                return
            if element is leaf or (not element.attrib and len(element) == 0 and not (element.text or "").strip()):
                parent.remove(element)
            else:
                return
            element, depth = parent, depth - 1

    def check(self, view: ElementView) -> str | None:
        raw = self.raw(view)
        if raw is None:
            return None
        leaf = self._leaf(view)
        try:
            to_kib(raw, leaf.get("unit") if leaf is not None else None)
        except ValueError as exc:
            return f"field {self.name!r} ({self.path}): {exc} (got {raw!r:.60})"
        return None


_SP = "specParams."


class Memory(AcpiIndex, Device):
    """A memory device. Identity without an alias: target node, size and guest address."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "memory"
    identity_devtype: ClassVar[str | None] = "memory"  # every identity() holds it
    tag: ClassVar[str] = "memory"
    description: ClassVar[str] = "memory devices (<memory model=dimm|nvdimm|virtio-pmem|virtio-mem|sgx-epc>)"
    child_order: ClassVar[tuple[str, ...]] = ("uuid", "source", "target", "alias", "acpi", "address")

    model = Field("@model", Choice(*MODELS), spec=_SP + "model", default="dimm", doc="memory device model")
    access = Field("@access", Choice("shared", "private"), spec=_SP + "access", doc="host mapping")
    discard = Field("@discard", YES_NO, spec=_SP + "discard", doc="discard the memory on guest shutdown")
    uuid = Field("uuid", UUID, spec=_SP + "uuid", doc="nvdimm uuid (ppc64)")
    pagesize = Scaled("source/pagesize", spec=_SP + "pagesize", doc="host page size backing it, KiB")
    nodemask = Field("source/nodemask", NODESET, spec=_SP + "nodemask", doc="host NUMA nodes to allocate from")
    path = Field("source/path", ABS_PATH, spec=_SP + "path", doc="backing file or device (nvdimm, virtio-pmem)")
    alignsize = Scaled("source/alignsize", spec=_SP + "alignsize", doc="alignment of the mapping, KiB")
    pmem = PresentFlag("source/pmem", spec=_SP + "pmem")
    dynamic_memslots = Field("target@dynamicMemslots", YES_NO, spec=_SP + "dynamicMemslots")
    size = Scaled(
        "target/size", spec="size", to_spec=_mib_to_spec, from_spec=_mib_from_spec, doc="size, KiB (dev_spec: MiB)"
    )
    node = Field("target/node", UNSIGNED, spec="node", doc="guest NUMA node")
    label_size = Scaled("target/label/size", spec=_SP + "labelSize", doc="nvdimm label size, KiB")
    readonly = PresentFlag("target/readonly", spec=_SP + "readonly")
    block = Scaled("target/block", spec=_SP + "block", doc="virtio-mem block size, KiB")
    requested = Scaled("target/requested", spec=_SP + "requested", doc="virtio-mem size asked of the guest, KiB")
    current = Scaled("target/current", spec=_SP + "current", doc="virtio-mem size the guest gave, KiB")
    address_base = Field("target/address@base", HEX_UINT, spec=_SP + "addressBase", doc="guest physical base")

    def read_spec(self, rest: dict[str, Any]) -> None:
        """``device`` must be ``memory``; ``size`` is required."""
        device = rest.get("device")
        if device is not None and device != self.dev_type:
            raise SpecError(
                f"memory spec: 'device' must be 'memory' (the model is 'specParams.model'), got {device!r:.60}"
            )
        if self.size is None:
            raise SpecError("memory spec: 'size' (MiB) is required")

    def identity(self) -> Identity | None:
        """Target node, size (KiB) and guest address, those the element has."""
        element = self.element
        found: dict[str, str] = {"devtype": "memory"}
        target = next(element.iterchildren("target"), None)
        if target is not None:
            node = next(target.iterchildren("node"), None)
            text = (node.text or "").strip() if node is not None else ""
            if text:
                found["node"] = str(int(text)) if text.isascii() and text.isdigit() else text
            size = next(target.iterchildren("size"), None)
            text = (size.text or "").strip() if size is not None else ""
            if size is not None and text:
                try:
                    found["size"] = str(to_kib(text, size.get("unit")))
                except ValueError:
                    found["size"] = f"{text} {size.get('unit', '')}".strip()
        address = address_text(self.raw_address())
        if address:
            found["address"] = address
        return found if len(found) > 1 else None

    def summary(self) -> dict[str, Any]:
        """Key fields for ``devframe inspect``; sizes in the largest whole unit. Never raises."""
        out: dict[str, Any] = {}
        for name in (
            "model", "size", "node", "access", "discard", "path", "pagesize", "nodemask",
            "label_size", "readonly", "requested", "current", "uuid",
        ):  # fmt: skip
            field = self.fields[name]
            try:
                value = getattr(self, name)
            except DevframeError:
                value = f"<invalid {getattr(field, 'raw', lambda v: None)(self)!r}>"
            if value is None or value is False:
                continue
            out[name] = format_kib(value) if isinstance(field, Scaled) and isinstance(value, int) else value
        return out
