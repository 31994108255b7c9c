"""The iommu plugin's hook: registers the ``<iommu>`` device class.

Everything about ``<iommu>`` lives in :class:`devframe_iommu.device.Iommu`. VDSM's
legacy conf never produced an IOMMU, so the plugin has no legacy-conf rule.
"""

from devframe import DeviceTypeRegister, hookimpl
from devframe_iommu.device import Iommu


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Iommu)
