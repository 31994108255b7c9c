"""devframe plugin for ``<crypto>`` devices (virtio crypto accelerators)."""

from devframe_crypto.device import Crypto

__all__ = ["Crypto"]
