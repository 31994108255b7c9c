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

from typing import Any, ClassVar

from devframe import ON_OFF, UINT8, AcpiIndex, Choice, Device, Field, Identity

__all__ = ["MODELS", "Iommu"]

#: Every ``@model`` libvirt 11.3's schema allows for ``<iommu>``.
MODELS = ("intel", "smmuv3", "virtio")

_NO_MODEL = "iommu"  # the spec ``device`` of an element without @model (Device.spec_device)


class Iommu(AcpiIndex, Device):
    """An emulated IOMMU. Identity without an alias: its model."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "iommu"
    identity_devtype: ClassVar[str | None] = "iommu"  # every identity() holds it
    tag: ClassVar[str] = "iommu"
    description: ClassVar[str] = "emulated IOMMUs (<iommu model=...>)"
    # libvirt writes the children in this order; new ones are put in place.
    child_order: ClassVar[tuple[str, ...]] = ("driver", "alias", "acpi", "address")

    model = Field("@model", Choice(*MODELS), spec="device", default="intel", absent_spec=_NO_MODEL, doc="IOMMU model")
    intremap = Field("driver@intremap", ON_OFF, spec="specParams.driver.intremap", doc="interrupt remapping")
    caching_mode = Field("driver@caching_mode", ON_OFF, spec="specParams.driver.cachingMode", doc="VT-d caching mode")
    eim = Field("driver@eim", ON_OFF, spec="specParams.driver.eim", doc="extended interrupt mode")
    iotlb = Field("driver@iotlb", ON_OFF, spec="specParams.driver.iotlb", doc="device IOTLB")
    aw_bits = Field("driver@aw_bits", UINT8, spec="specParams.driver.awBits", doc="guest address width, bits")
    dma_translation = Field(
        "driver@dma_translation", ON_OFF, spec="specParams.driver.dmaTranslation", doc="DMA translation"
    )

    def summary(self) -> dict[str, Any]:
        """Key fields for ``devframe inspect``: the model first, then the driver options."""
        out = super().summary()
        return {**{k: out[k] for k in ("model",) if k in out}, **out}

    def identity(self) -> Identity | None:
        """The model (a domain has at most one IOMMU); None without one."""
        model = self.element.get("model")
        return {"devtype": "iommu", "model": model} if model else None
