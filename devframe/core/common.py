"""Fields many device kinds share, declared once: mix them into a device class.

libvirt gives several kinds the same children: a ``<boot order=.../>`` (disks, NICs,
host devices, redirected USB devices, filesystems), an ``<acpi index=.../>`` (PCI
devices), and the virtio driver options on ``<driver>`` (every virtio device). A device
class takes them by listing the mixin before :class:`~devframe.Device`::

    class Rng(VirtioOptions, Device):
        ...

and gets the fields with the same names, XML places and dev_spec keys as every other
kind, so an engine reads ``bootOrder`` or ``specParams.driver.iommu`` the same way on a
disk, a NIC or an rng. ``address`` and ``alias`` are on :class:`~devframe.Device` itself.
"""

from __future__ import annotations

from devframe.core.fields import INT, ON_OFF, STR, Field

__all__ = ["AcpiIndex", "Bootable", "VirtioOptions"]


class Bootable:
    """``<boot order='N' loadparm='...'/>``: the device's place in the boot order."""

    __slots__ = ()

    boot_order = Field("boot@order", INT, spec="bootOrder", doc="boot order (1 first)")
    boot_loadparm = Field("boot@loadparm", STR, spec="specParams.bootLoadparm", doc="s390 IPL load parameter")


class AcpiIndex:
    """``<acpi index='N'/>``: the guest's stable name for a PCI device (``eno<N>``)."""

    __slots__ = ()

    acpi_index = Field("acpi@index", INT, spec="specParams.acpiIndex", doc="ACPI index of the PCI device")


class VirtioOptions:
    """libvirt's virtio driver options on ``<driver>`` (every virtio device has them)."""

    __slots__ = ()

    iommu = Field("driver@iommu", ON_OFF, spec="specParams.driver.iommu", doc="use the IOMMU for DMA")
    ats = Field("driver@ats", ON_OFF, spec="specParams.driver.ats", doc="address translation services")
    packed = Field("driver@packed", ON_OFF, spec="specParams.driver.packed", doc="packed virtqueue layout")
    page_per_vq = Field(
        "driver@page_per_vq", ON_OFF, spec="specParams.driver.pagePerVq", doc="one notify page per virtqueue"
    )
