"""The ``<iommu>`` dev_class: the guest's emulated IOMMU.

Models libvirt's ``<iommu>`` element (formatdomain "IOMMU devices"), every attribute
and child of libvirt 11.3's schema::

    <iommu model='intel'>
      <driver intremap='on' caching_mode='on' eim='on' iotlb='on' aw_bits='48'
              dma_translation='on'/>
      <alias name='ua-...'/>
      <acpi index='3'/>
      <address type='pci' .../>
    </iommu>

libvirt 9.0's schema is the same but for ``dma_translation`` (added in 10.x). The 11.3
schema knows three models; the ``amd`` model (and its ``xtsup`` / ``passthrough``
driver options) came after 11.3: such an element is read and kept as it is, its
unknown attributes verbatim.

dev_spec mapping (engine key on the left, XML place on the right). VDSM and the oVirt
engine had no iommu device, so every key but ``device`` is under ``specParams``:

===================================== ==============================================
``device``                            ``@model`` (intel, smmuv3, virtio). An element
                                      without a model gives ``"iommu"``, which builds
                                      none, so the round trip is exact.
``alias``                             ``alias@name``
``deviceId``                          the ``<deviceId>`` of a ``ua-<deviceId>`` alias
``address``                           the direct child ``address`` (a dict)
``specParams.driver.intremap``        ``driver@intremap`` (bool, on/off): interrupt
                                      remapping
``specParams.driver.cachingMode``     ``driver@caching_mode`` (bool, on/off)
``specParams.driver.eim``             ``driver@eim`` (bool, on/off): extended
                                      interrupt mode
``specParams.driver.iotlb``           ``driver@iotlb`` (bool, on/off): device IOTLB
``specParams.driver.awBits``          ``driver@aw_bits`` (int, 0..255): address width
``specParams.driver.dmaTranslation``  ``driver@dma_translation`` (bool, on/off)
``specParams.acpiIndex``              ``acpi@index``
===================================== ==============================================

Engines send numbers as strings as often as ints; both are accepted, ``to_spec`` gives
ints. A value that cannot be used is a :class:`devframe.SpecError` naming the key.

Defaults: the schema requires ``@model``; a spec without ``device`` builds
``model='intel'`` (libvirt's first and most used model, the one of x86_64 q35 guests;
aarch64 guests name ``smmuv3`` or ``virtio``). Every driver option is left to libvirt.

Identity without an alias: the model (a domain has at most one IOMMU).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from devframe import INT, ON_OFF, AcpiIndex, Choice, Device, Field, Identity, Kind, SpecError

__all__ = ["MODELS", "UINT8", "Iommu", "UnsignedInt"]

T = TypeVar("T")

#: Every ``@model`` libvirt 11.3's schema allows for ``<iommu>``.
MODELS = ("intel", "smmuv3", "virtio")

_NO_MODEL = "iommu"  # the spec ``device`` of an element without @model (Device.spec_device)


class UnsignedInt(Kind[int]):
    """An int in ``0 .. maximum``, read in decimal or ``0x`` hex, written in decimal."""

    python_type = int

    def __init__(self, maximum: int, name: str) -> None:
        self.maximum = maximum
        self.name = name

    def _checked(self, value: int) -> int:
        if not 0 <= value <= self.maximum:
            raise ValueError(f"expected an int in 0..{self.maximum}")
        return value

    def parse(self, raw: str) -> int:
        return self._checked(INT.parse(raw))

    def format(self, value: int) -> str:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected int, got {type(value).__name__}")
        return str(self._checked(value))

    def coerce(self, value: object) -> int:
        return self._checked(INT.coerce(value))


#: libvirt's ``uint8`` (``aw_bits``): 0..255, decimal or ``0x`` hex.
UINT8 = UnsignedInt(255, "uint8")


def _from_spec(kind: Kind[T], key: str) -> Callable[[Any], T]:
    """Convert a dev_spec value with ``kind``; one that does not fit is a SpecError naming ``key``."""

    def convert(value: Any) -> T:
        if kind.python_type is str and (not isinstance(value, str) or not value):
            raise SpecError(f"iommu spec key {key!r}: expected a non-empty string, got {value!r:.80}")
        try:
            return kind.coerce(value)
        except (ValueError, TypeError) as exc:
            raise SpecError(f"iommu spec key {key!r}: {exc} (got {value!r:.80})") from None

    return convert


def _field(path: str, kind: Kind[T], spec: str, *, default: T | None = None, doc: str = "") -> Field[T]:
    """A field whose dev_spec value is checked (a bad one is a SpecError naming ``spec``)."""
    return Field(path, kind, spec=spec, default=default, doc=doc, from_spec=_from_spec(kind, spec))


_check_model = _from_spec(Choice(*MODELS), "device")


def _model_from_spec(value: Any) -> str | None:
    # "iommu" is what an element without a model reports: it builds none (exact round trip).
    return None if value == _NO_MODEL else _check_model(value)


class Iommu(AcpiIndex, Device):
    """An emulated IOMMU. Identity without an alias: its model."""

    dev_type: ClassVar[str] = "iommu"
    tag: ClassVar[str] = "iommu"
    description: ClassVar[str] = "emulated IOMMUs (<iommu model=...>)"
    # libvirt writes the children in this order; new ones are put in place.
    child_order: ClassVar[tuple[str, ...]] = ("driver", "alias", "acpi", "address")

    model = Field(
        "@model", Choice(*MODELS), spec="device", default="intel", from_spec=_model_from_spec, doc="IOMMU model"
    )
    intremap = _field("driver@intremap", ON_OFF, "specParams.driver.intremap", doc="interrupt remapping")
    caching_mode = _field("driver@caching_mode", ON_OFF, "specParams.driver.cachingMode", doc="VT-d caching mode")
    eim = _field("driver@eim", ON_OFF, "specParams.driver.eim", doc="extended interrupt mode")
    iotlb = _field("driver@iotlb", ON_OFF, "specParams.driver.iotlb", doc="device IOTLB")
    aw_bits = _field("driver@aw_bits", UINT8, "specParams.driver.awBits", doc="guest address width, bits")
    dma_translation = _field(
        "driver@dma_translation", ON_OFF, "specParams.driver.dmaTranslation", doc="DMA translation"
    )

    def summary(self) -> dict[str, Any]:
        """Key fields for ``devframe inspect``: the model first, then the driver options."""
        out = super().summary()
        return {**{k: out[k] for k in ("model",) if k in out}, **out}

    def identity(self) -> Identity | None:
        """The model (a domain has at most one IOMMU); None without one."""
        model = self.element.get("model")
        return {"devtype": "iommu", "model": model} if model else None
