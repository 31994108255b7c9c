"""devframe plugin for ``<memory>`` devices (dimm, nvdimm, virtio-pmem, virtio-mem, sgx-epc)."""

from devframe_memory.device import Memory, Scaled

__all__ = ["Memory", "Scaled"]
