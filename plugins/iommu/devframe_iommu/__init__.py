"""devframe plugin for ``<iommu>`` devices (the guest's emulated IOMMU)."""

from devframe_iommu.device import Iommu

__all__ = ["Iommu"]
