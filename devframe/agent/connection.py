"""Connection: one libvirt connection, its events, and calls wrapped with their context.

A Connection connects lazily on first use, checks the connection is alive before each
operation, and after the daemon went away reconnects with exponential backoff (up to
``reconnect_timeout`` seconds) and registers its event callbacks again. Several
Connections, for different URIs, can live in one process; they share libvirt's event
loop. :class:`~devframe.agent.Host` is a Connection that also knows its guests and facts;
a Guest reaches libvirt only through its Host's :meth:`Connection.call`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit

from devframe.agent.errors import AgentError, EventLoopError, GuestGoneError, HostUnavailableError, describe
from devframe.agent.event_types import LIBVIRT_EVENTS, ConnectionClosedEvent, Event, EventSource
from devframe.agent.events import (
    EVENTS_ASYNCIO,
    EVENTS_THREAD,
    EventHub,
    EventStream,
    Subscription,
    Waiter,
    ensure_event_loop,
    make_filter,
)
from devframe.agent.libvirt_api import libvirt_module
from devframe.core.log import get_logger

__all__ = ["Connection"]

T = TypeVar("T")

CLOSE_REASONS = ("error", "eof", "keepalive", "client")


class Connection:
    """One libvirt connection (see the module doc).

    ``reconnect_timeout``: how long a call keeps trying to reach the daemon.
    ``backoff``: first and largest delay between attempts. ``keepalive``: (interval,
    count) for remote connections. ``on_close(connection, reason)``: called when libvirt
    closes the connection (reason: error, eof, keepalive, client). ``events``:
    ``"thread"`` (libvirt's default event loop in a devframe thread, unless the process
    already registered one) or ``"asyncio"`` (libvirtaio on ``loop``, default the running
    loop: subscribers are then called on that loop); see :mod:`devframe.agent.events`.
    """

    def __init__(
        self,
        uri: str = "test:///default",
        *,
        reconnect_timeout: float = 30.0,
        backoff: tuple[float, float] = (0.05, 2.0),
        keepalive: tuple[int, int] | None = (5, 3),
        on_close: Callable[[Self, str], Any] | None = None,
        events: str = EVENTS_THREAD,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.uri = uri
        self.reconnect_timeout = reconnect_timeout
        self.backoff = backoff
        self.keepalive = keepalive
        self.on_close = on_close
        if events not in (EVENTS_THREAD, EVENTS_ASYNCIO):
            raise EventLoopError(f"host {uri!r}: events={events!r}: expected {EVENTS_THREAD!r} or {EVENTS_ASYNCIO!r}")
        if events == EVENTS_ASYNCIO and loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                raise EventLoopError(
                    f"host {uri!r}: events='asyncio' needs a running asyncio loop (create the Host in a "
                    "coroutine, or pass loop=)"
                ) from None
        #: how libvirt's events run for this Host ("thread" or "asyncio")
        self.events_mode = events
        self._loop = loop if events == EVENTS_ASYNCIO else None
        self.events = EventHub(uri, loop=self._loop)
        #: bumped on every new connection, so Guests know to look their domain up again
        self.generation = 0
        self._conn: Any = None
        self._conn_lock = threading.RLock()
        self._callback_ids: list[int] = []
        self._closed = False
        self._log = get_logger(uri=uri)

    # -- the connection --------------------------------------------------------------

    def connection(self) -> Any:
        """The live ``virConnect``, connecting or reconnecting as needed."""
        with self._conn_lock:
            conn = self._conn
            if conn is not None:
                try:
                    if conn.isAlive():
                        return conn
                except Exception:  # noqa: BLE001 - any failure here means "not alive"
                    pass
                self._log.warning("libvirt connection lost; reconnecting")
                self._drop_locked()
            return self._connect_locked()

    def _connect_locked(self) -> Any:
        if self._closed:
            raise HostUnavailableError(f"host {self.uri!r} is closed", uri=self.uri, operation="connect")
        libvirt = libvirt_module()
        ensure_event_loop(libvirt, self.events_mode, self._loop)
        delay, max_delay = self.backoff
        deadline = time.monotonic() + self.reconnect_timeout
        attempt = 0
        while True:
            attempt += 1
            try:
                conn = libvirt.open(self.uri)
                break
            except libvirt.libvirtError as exc:
                if time.monotonic() + delay > deadline:
                    raise HostUnavailableError(
                        f"cannot connect to libvirt at {self.uri!r} after {attempt} attempts: "
                        f"{exc.get_error_message()}",
                        uri=self.uri,
                        operation="connect",
                        code=exc.get_error_code(),
                    ) from None
                self._log.info("libvirt not reachable yet", attempt=attempt, retry_in=delay)
                time.sleep(delay)
                delay = min(delay * 2, max_delay)
        self.generation += 1
        generation = self.generation
        self._conn = conn
        if self.keepalive is not None and self._is_remote():
            try:
                conn.setKeepAlive(*self.keepalive)
            except libvirt.libvirtError as exc:
                self._log.warning("keepalive not enabled", error=exc.get_error_message())
        conn.registerCloseCallback(self._closed_cb, generation)
        self._register_events(conn, libvirt)
        self._log.info("connected to libvirt", generation=generation, attempts=attempt)
        return conn

    def _is_remote(self) -> bool:
        parts = urlsplit(self.uri)
        return "+" in parts.scheme or bool(parts.hostname)

    def _register_events(self, conn: Any, libvirt: Any) -> None:
        self._callback_ids = []
        for source in LIBVIRT_EVENTS:
            event_id = getattr(libvirt, source.event_id, None)
            if event_id is None:
                self._log.debug("event not known to this libvirt-python", event_id=source.event_id)
                continue
            try:
                self._callback_ids.append(conn.domainEventRegisterAny(None, event_id, self._callback(source), None))
            except libvirt.libvirtError as exc:
                self._log.warning(
                    "event not available on this driver", event_id=source.event_id, error=exc.get_error_message()
                )

    def _callback(self, source: EventSource) -> Callable[..., None]:
        def callback(_conn: Any, dom: Any, *args: Any) -> None:
            # libvirt's loop calls this: build the event, hand it over, never raise.
            try:
                name, uuid = dom.name(), dom.UUIDString()
            except Exception:  # noqa: BLE001 - a vanished domain still gets its event through
                name, uuid = None, None
            try:
                event = source.build({"uri": self.uri, "domain": name, "uuid": uuid}, *args[:-1])
                event = self._enrich(event, dom)
            except Exception as exc:  # noqa: BLE001 - a malformed callback must not break libvirt's loop
                self._log.error("cannot read libvirt event", event_id=source.event_id, error=repr(exc))
                return
            self.events.publish(event)

        return callback

    def _enrich(self, event: Event, dom: Any) -> Event:
        """The event with what a subclass knows more (a Host adds the Guest and device)."""
        return event

    def _closed_cb(self: Self, _conn: Any, reason: int, generation: int) -> None:
        reason_name = CLOSE_REASONS[reason] if 0 <= reason < len(CLOSE_REASONS) else str(reason)
        self._log.warning("libvirt closed the connection", reason=reason_name, generation=generation)
        self.events.publish(ConnectionClosedEvent(uri=self.uri, reason=reason_name))
        if self.on_close is not None:
            try:
                self.on_close(self, reason_name)
            except Exception as exc:  # noqa: BLE001 - a user callback must not break libvirt's loop
                self._log.error("on_close callback failed", error=repr(exc))

    def _drop_locked(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        for callback_id in self._callback_ids:
            try:
                conn.domainEventDeregisterAny(callback_id)
            except Exception:  # noqa: BLE001 - the connection may already be dead
                pass
        self._callback_ids = []
        try:
            conn.unregisterCloseCallback()
        except Exception:  # noqa: BLE001
            pass
        try:
            conn.close()
        except Exception:  # noqa: BLE001
            pass

    def close(self) -> None:
        """Close the connection and stop delivering events. It cannot be reused."""
        with self._conn_lock:
            self._closed = True
            self._drop_locked()
        self.events.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- calls -------------------------------------------------------------------------

    def call(
        self,
        operation: str,
        fn: Callable[[Any], T],
        *,
        domain: str | None = None,
        device: str | None = None,
        retry: bool = True,
    ) -> T:
        """Run ``fn(connection)``; wrap libvirt errors with ``operation``, domain, device.

        When the connection died under the call and ``retry`` is true (the operation
        is safe to repeat), reconnect and try once more.
        """
        libvirt = libvirt_module()
        for attempt in (1, 2):
            try:
                conn = self.connection()
            except HostUnavailableError as exc:
                # Say which operation could not run, not only that the daemon is away.
                where = describe(host=self.uri, domain=domain, device=device)
                raise HostUnavailableError(
                    f"{operation} ({where}): {exc}",
                    operation=operation,
                    uri=self.uri,
                    domain=domain,
                    device=device,
                    code=exc.code,
                ) from None
            try:
                return fn(conn)
            except libvirt.libvirtError as exc:
                alive = self._alive(conn)
                if not alive:
                    with self._conn_lock:
                        if self._conn is conn:
                            self._drop_locked()
                    if retry and attempt == 1:
                        self._log.warning("connection lost during call; retrying", operation=operation)
                        continue
                raise self.wrap(exc, operation, domain=domain, device=device, connection_lost=not alive) from None
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _alive(conn: Any) -> bool:
        try:
            return bool(conn.isAlive())
        except Exception:  # noqa: BLE001
            return False

    def wrap(
        self,
        exc: Any,
        operation: str,
        *,
        domain: str | None = None,
        device: str | None = None,
        connection_lost: bool = False,
    ) -> AgentError:
        """A DevframeError for a libvirtError, saying what was being done and where."""
        libvirt = libvirt_module()
        code = exc.get_error_code()
        message = exc.get_error_message() or str(exc)
        where = describe(host=self.uri, domain=domain, device=device)
        context = {"operation": operation, "uri": self.uri, "domain": domain, "device": device, "code": code}
        if connection_lost:
            return HostUnavailableError(f"{operation} ({where}): connection to libvirt lost: {message}", **context)
        if code == libvirt.VIR_ERR_NO_DOMAIN:
            return GuestGoneError(f"{operation} ({where}): the domain no longer exists: {message}", **context)
        if code == libvirt.VIR_ERR_OPERATION_INVALID and "not running" in message:
            return GuestGoneError(f"{operation} ({where}): the domain is not running: {message}", **context)
        return AgentError(f"{operation} ({where}): {message}", **context)

    # -- events ------------------------------------------------------------------------

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
        """Call ``callback(event)`` for this host's events (on a delivery thread;
        ``inline``: on libvirt's event loop itself, for a callback that never blocks,
        such as a queue put: one thread hop less per event).

        Connects first, so events start flowing right away.
        """
        self.connection()
        return self.events.subscribe(
            callback, predicate=make_filter(kinds, domain=domain, uuid=uuid, alias=alias), inline=inline
        )

    def waiter(
        self,
        kinds: str | tuple[str, ...] | None = None,
        *,
        domain: str | None = None,
        uuid: str | None = None,
        alias: str | None = None,
    ) -> Waiter:
        """Start collecting matching events now; ``with host.waiter(...) as w: act(); w.wait(t)``."""
        self.connection()
        return Waiter(self.events, make_filter(kinds, domain=domain, uuid=uuid, alias=alias))

    def event_stream(
        self,
        kinds: str | tuple[str, ...] | None = None,
        *,
        domain: str | None = None,
        uuid: str | None = None,
        alias: str | None = None,
    ) -> EventStream:
        """Matching events from now on, as an asyncio stream on the running loop
        (``async with host.event_stream(...) as events: async for event in events``).

        Connects first; call it from a coroutine. Blocking libvirt calls (connecting
        included) belong in a thread (``asyncio.to_thread``) when the Host runs on the
        same loop: the loop must keep running to deliver events.
        """
        self.connection()
        loop = asyncio.get_running_loop()
        return EventStream(self.events, make_filter(kinds, domain=domain, uuid=uuid, alias=alias), loop)

    def wait_for_event(
        self,
        kinds: str | tuple[str, ...] | None,
        timeout: float,
        *,
        domain: str | None = None,
        uuid: str | None = None,
        alias: str | None = None,
    ) -> Event | None:
        """Block until the next matching event (from now on), or None after ``timeout``."""
        with self.waiter(kinds, domain=domain, uuid=uuid, alias=alias) as waiter:
            return waiter.wait(timeout)

    def _state(self) -> str:
        return "closed" if self._closed else ("connected" if self._conn is not None else "not connected")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.uri} {self._state()}>"
