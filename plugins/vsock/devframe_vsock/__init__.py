"""devframe plugin for ``<vsock>`` devices (virtio sockets between host and guest)."""

from devframe_vsock.device import Vsock

__all__ = ["Vsock"]
