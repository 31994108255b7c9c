"""devframe plugin for ``<shmem>`` devices."""

from devframe_shmem.device import Shmem

__all__ = ["Shmem"]
