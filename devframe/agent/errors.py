"""Errors of the libvirt layer: every libvirtError leaves here wrapped with its context."""

from __future__ import annotations

from typing import Any

from devframe.core.errors import DevframeError

__all__ = [
    "AgentError",
    "DetachFailedError",
    "DetachTimeoutError",
    "GuestGoneError",
    "HostUnavailableError",
    "LibvirtMissingError",
]


class AgentError(DevframeError):
    """A libvirt operation that failed: says what was done, on which host, domain, device."""

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        uri: str | None = None,
        domain: str | None = None,
        device: str | None = None,
        code: int | None = None,
    ) -> None:
        self.operation = operation
        self.uri = uri
        self.domain = domain
        self.device = device
        self.code = code
        super().__init__(message)


class LibvirtMissingError(AgentError):
    """libvirt-python is not installed (``pip install devframe[agent]``)."""


class HostUnavailableError(AgentError):
    """The libvirt daemon cannot be reached (after the reconnect attempts)."""


class GuestGoneError(AgentError):
    """The domain no longer exists, or stopped, under the operation."""


class DetachTimeoutError(AgentError):
    """The guest did not release a device in time; the device is still attached."""


class DetachFailedError(AgentError):
    """libvirt reported that the guest refused to release a device."""


def describe(**context: Any) -> str:
    """``key=value`` pairs of the non-empty context, for messages."""
    return ", ".join(f"{k} {v!r}" for k, v in context.items() if v is not None)
