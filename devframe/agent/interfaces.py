"""What a Guest knows of its Host: one Protocol.

``host.py`` makes Guests; ``guest.py`` never imports it. A Guest sees its Host only as a
:class:`GuestHost` (the uri, the parser registry, the connection generation, the
call-with-error-translation helper, the event waiter and subscription) plus a ``forget``
callback the Host hands it. mypy checks in host.py that a Host fits this Protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from devframe.agent.event_types import Event
    from devframe.agent.events import Subscription, Waiter
    from devframe.core.registry import Registry

__all__ = ["GuestHost"]

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

    def subscribe(
        self,
        callback: Callable[[Event], Any],
        kinds: str | tuple[str, ...] | None = None,
        *,
        domain: str | None = None,
        uuid: str | None = None,
        alias: str | None = None,
        inline: bool = False,
    ) -> Subscription:
        """Call ``callback(event)`` for matching events (on the Host's delivery thread or
        loop; ``inline``: on libvirt's event loop, for a callback that never blocks)."""
