"""What a Host and its Guests know of each other: two Protocols and a factory.

``host.py`` and ``guest.py`` do not import each other. A Guest sees its Host only as a
:class:`GuestHost` (the uri, the parser registry, the connection generation, the
call-with-error-translation helper and the event waiter) plus a ``forget`` callback the
Host hands it; a Host sees its guests only as :class:`GuestAPI` objects built by a
:class:`GuestFactory`. ``devframe.agent`` plugs :class:`~devframe.agent.Guest` in as the
Host's factory; mypy checks there that the two sides fit these Protocols.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from devframe.agent.events import Waiter
    from devframe.core.device import Device
    from devframe.core.domain import DevMap, Domain
    from devframe.core.registry import Registry

__all__ = ["GuestAPI", "GuestFactory", "GuestHost"]

T = TypeVar("T")


class GuestHost(Protocol):
    """What a Guest needs of its Host (:class:`~devframe.agent.Host` provides it)."""

    @property
    def uri(self) -> str: ...

    @property
    def registry(self) -> Registry | None:
        """The plugin registry the Guest parses its domain XML with (None: the default)."""

    @property
    def generation(self) -> int:
        """Bumped on every new connection: a Guest looks its virDomain up again when it changed."""

    def call(
        self,
        operation: str,
        fn: Callable[[Any], T],
        *,
        domain: str | None = None,
        device: str | None = None,
        retry: bool = True,
    ) -> T:
        """``fn(virConnect)``, libvirt errors wrapped with operation, host, domain and device."""

    def waiter(
        self,
        kinds: str | tuple[str, ...] | None = None,
        *,
        domain: str | None = None,
        uuid: str | None = None,
        alias: str | None = None,
    ) -> Waiter:
        """Start collecting matching events now (``with ... as w: act(); w.wait(t)``)."""


class GuestAPI(Protocol):
    """A Guest as its Host hands it out; :class:`~devframe.agent.Guest` documents each member."""

    host: GuestHost
    name: str
    uuid: str

    def is_active(self) -> bool: ...
    def is_persistent(self) -> bool: ...
    def wait_running(self, timeout: float) -> None: ...
    def xml(self, *, inactive: bool = False) -> str: ...
    def live_xml(self) -> str: ...
    def inactive_xml(self) -> str: ...
    def domain(self, *, inactive: bool = False) -> Domain: ...
    @property
    def tracked(self) -> Domain: ...
    @property
    def dev_map(self) -> DevMap: ...
    def refresh(self) -> Domain: ...
    def sync(self) -> Domain: ...
    def attach(self, device: Device) -> Device: ...
    def detach(self, device: Device, timeout: float) -> None: ...
    def set_metadata(self, xml: str, *, uri: str = ..., prefix: str = ...) -> None: ...
    def get_metadata(self, *, uri: str = ..., inactive: bool = False) -> str | None: ...
    def save_metadata(self) -> None: ...
    def destroy(self) -> None: ...


class GuestFactory(Protocol):
    """Builds the Guest of one virDomain; ``forget()`` tells the Host the domain is gone for good."""

    def __call__(self, host: GuestHost, dom: Any, *, forget: Callable[[], None]) -> GuestAPI: ...
