"""Errors of the libvirt layer: every libvirtError leaves here wrapped with its context."""

from __future__ import annotations

from typing import Any

from devframe.core.errors import DevframeError

__all__ = [
    "AgentError",
    "DetachFailedError",
    "DetachTimeoutError",
    "DeviceMissingError",
    "EventLoopError",
    "GuestGoneError",
    "HostUnavailableError",
    "LibvirtMissingError",
    "UpdateRefusedError",
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


class DeviceMissingError(AgentError):
    """The domain has no device that is the one named (by alias, else identity)."""


class UpdateRefusedError(AgentError):
    """A live update asks for a change libvirt cannot make on a running domain.

    Raised before anything is changed; ``fields`` names the fields refused.
    """

    def __init__(self, message: str, *, fields: tuple[str, ...] = (), **context: Any) -> None:
        self.fields = fields
        super().__init__(message, **context)


class EventLoopError(AgentError):
    """libvirt's event loop cannot run as asked (asyncio without a running loop, or
    another event implementation already registered in this process)."""


def describe(**context: Any) -> str:
    """``key=value`` pairs of the non-empty context, for messages."""
    return ", ".join(f"{k} {v!r}" for k, v in context.items() if v is not None)
