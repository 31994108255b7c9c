"""libvirt's event loop (one per process) and per-Host delivery of events to subscribers.

libvirt delivers events only on connections opened after an event implementation was
registered, and only while something runs that implementation's loop. A process has
one implementation; registering a second one is ignored by libvirt (with a warning).
:func:`ensure_event_loop` therefore registers nothing when one is already there (the
caller's ``libvirtaio``, or any other), and otherwise registers either libvirt's
default implementation, run in a daemon thread (``events="thread"``), or
``libvirtaio`` on the caller's asyncio loop (``events="asyncio"``).

Each Host forwards its connection's events to an :class:`EventHub`: a subscriber is
called on the hub's delivery thread (or, for a Host on asyncio, on its loop), so a
slow subscriber never stalls libvirt's loop, and one that raises is logged, not fatal.
The event types are in :mod:`devframe.agent.event_types`.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from devframe.agent.errors import EventLoopError
from devframe.agent.event_types import (
    CONNECTION_CLOSED,
    DEVICE_ADDED,
    DEVICE_REMOVAL_FAILED,
    DEVICE_REMOVED,
    LIFECYCLE,
    LIFECYCLE_NAMES,
    Event,
)
from devframe.core.log import get_logger

__all__ = [
    "CONNECTION_CLOSED",
    "DEVICE_ADDED",
    "DEVICE_REMOVAL_FAILED",
    "DEVICE_REMOVED",
    "EVENTS_ASYNCIO",
    "EVENTS_THREAD",
    "LIFECYCLE",
    "LIFECYCLE_NAMES",
    "Event",
    "EventHub",
    "EventStream",
    "Subscription",
    "Waiter",
    "ensure_event_loop",
    "event_loop_kind",
]

#: ``Host(events=...)``: libvirt's default implementation in a devframe thread
EVENTS_THREAD = "thread"
#: ``Host(events=...)``: libvirtaio on the caller's asyncio loop
EVENTS_ASYNCIO = "asyncio"

# What runs libvirt's events in this process: None until known, then "thread"
# (devframe's), "libvirtaio" or "external" (registered by someone else).
_loop_lock = threading.Lock()
_loop_kind: str | None = None
_loop_thread: threading.Thread | None = None


def event_loop_kind() -> str | None:
    """Which event implementation devframe found or registered in this process: ``thread``
    (libvirt's default, run by devframe), ``libvirtaio``, ``external``, or None (not yet)."""
    return _loop_kind


def _registered(libvirt: Any) -> str | None:
    """The event implementation registered without devframe, or None."""
    aio = sys.modules.get("libvirtaio")
    current = getattr(aio, "getCurrentImpl", None) if aio is not None else None
    if current is not None and current() is not None:
        return "libvirtaio"
    # libvirt has no query for it; adding a disabled timer succeeds only when an
    # implementation is registered (the same call libvirt makes from any thread).
    try:
        timer = libvirt.virEventAddTimeout(-1, _never, None)
    except libvirt.libvirtError:
        return None
    if timer < 0:
        return None
    libvirt.virEventRemoveTimeout(timer)
    return "external"


def _never(_timer: int, _opaque: object) -> None:
    return None


def ensure_event_loop(libvirt: Any, mode: str = EVENTS_THREAD, loop: asyncio.AbstractEventLoop | None = None) -> str:
    """Make sure one libvirt event implementation runs in this process; return which.

    Must run before the first connection that should receive events is opened. An
    implementation already registered (by the application, or an earlier Host) is
    used as it is, never replaced. ``mode="asyncio"`` registers libvirtaio on ``loop``
    when none is; it raises :class:`EventLoopError` when another implementation
    already runs, or libvirtaio runs on another loop.
    """
    global _loop_kind
    with _loop_lock:
        if _loop_kind is None:
            _loop_kind = _registered(libvirt)
        if mode == EVENTS_ASYNCIO:
            return _ensure_asyncio(loop)
        if mode != EVENTS_THREAD:
            raise EventLoopError(f"events={mode!r}: expected {EVENTS_THREAD!r} or {EVENTS_ASYNCIO!r}")
        if _loop_kind is None:
            _start_default_loop(libvirt)
            _loop_kind = EVENTS_THREAD
        return _loop_kind


def _ensure_asyncio(loop: asyncio.AbstractEventLoop | None) -> str:
    global _loop_kind
    if loop is None:
        raise EventLoopError("events='asyncio' needs the asyncio loop (create the Host inside a coroutine)")
    if _loop_kind is None:
        _register_libvirtaio(loop)
        _loop_kind = "libvirtaio"
        return _loop_kind
    if _loop_kind == "libvirtaio":
        import libvirtaio

        impl = libvirtaio.getCurrentImpl()
        if impl is not None and impl.loop is not loop:
            raise EventLoopError("libvirtaio already runs libvirt's events on another asyncio loop")
        return _loop_kind
    raise EventLoopError(
        f"libvirt's events already run on {'a devframe thread' if _loop_kind == EVENTS_THREAD else 'another'} "
        "event implementation in this process; a process has one: create asyncio Hosts (or register "
        "libvirtaio) before any other Host connects"
    )


def _register_libvirtaio(loop: asyncio.AbstractEventLoop) -> None:
    """Register libvirtaio on ``loop``, waking the loop whenever libvirt changes a handle
    or timer from another thread.

    devframe's calls block, so asyncio callers run them in threads; libvirt then adds
    and arms its timers (the test driver's event queue, keepalives) from those threads,
    and plain libvirtaio schedules them without waking a loop asleep in select().
    """
    import libvirtaio

    def wake(impl: Any) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not impl.loop and not impl.loop.is_closed():
            impl.loop.call_soon_threadsafe(_nothing)

    class WakingImpl(libvirtaio.virEventAsyncIOImpl):  # type: ignore[misc]
        def _add_handle(self, *args: Any) -> int:
            found = super()._add_handle(*args)
            wake(self)
            return found  # type: ignore[no-any-return]

        def _update_handle(self, *args: Any) -> None:
            super()._update_handle(*args)
            wake(self)

        def _add_timeout(self, *args: Any) -> int:
            found = super()._add_timeout(*args)
            wake(self)
            return found  # type: ignore[no-any-return]

        def _update_timeout(self, *args: Any) -> None:
            super()._update_timeout(*args)
            wake(self)

    impl = WakingImpl(loop=loop).register()
    # What libvirtaio.virEventRegisterAsyncIOImpl records, so getCurrentImpl() tells the truth.
    libvirtaio._current_impl = impl


def _nothing() -> None:
    return None


def _start_default_loop(libvirt: Any) -> None:
    global _loop_thread
    libvirt.virEventRegisterDefaultImpl()
    log = get_logger(component="libvirt-event-loop")

    def run() -> None:
        while True:
            try:
                libvirt.virEventRunDefaultImpl()
            except Exception as exc:  # noqa: BLE001 - the loop must outlive one bad iteration
                log.error("libvirt event loop iteration failed", error=repr(exc))
                time.sleep(0.1)

    _loop_thread = threading.Thread(target=run, name="devframe-libvirt-events", daemon=True)
    _loop_thread.start()


Filter = Callable[[Event], bool]


def make_filter(
    kinds: str | tuple[str, ...] | None = None,
    *,
    domain: str | None = None,
    uuid: str | None = None,
    alias: str | None = None,
) -> Filter:
    """A predicate on events; every given criterion must hold."""
    wanted = (kinds,) if isinstance(kinds, str) else kinds

    def match(event: Event) -> bool:
        if wanted is not None and event.kind not in wanted:
            return False
        if uuid is not None and event.uuid != uuid:
            return False
        if domain is not None and event.domain != domain:
            return False
        return alias is None or event.alias == alias

    return match


class Subscription:
    """A registered subscriber; :meth:`cancel` stops delivery."""

    def __init__(self, hub: EventHub, key: int) -> None:
        self._hub = hub
        self._key = key

    def cancel(self) -> None:
        self._hub._unsubscribe(self._key)


class Waiter:
    """Collects matching events from the moment it is created (no race with the action).

    Use as a context manager around the action, then :meth:`wait`.
    """

    def __init__(self, hub: EventHub, predicate: Filter) -> None:
        self._queue: queue.Queue[Event] = queue.Queue()
        self._subscription = hub.subscribe(self._queue.put, predicate=predicate, inline=True)

    def wait(self, timeout: float) -> Event | None:
        """The first matching event, or None after ``timeout`` seconds."""
        try:
            return self._queue.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None

    def close(self) -> None:
        self._subscription.cancel()

    def __enter__(self) -> Waiter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventStream:
    """Matching events as an asyncio stream, from the moment it is created.

    ``async with host.event_stream(...) as stream: async for event in stream: ...``, or
    ``await stream.get()``. Made inside a coroutine: events are handed to its loop.
    """

    def __init__(self, hub: EventHub, predicate: Filter, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._subscription = hub.subscribe(self._put, predicate=predicate, inline=True)

    def _put(self, event: Event) -> None:
        # Called on libvirt's loop (a thread, or this very loop): never block it.
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._queue.put_nowait, event)

    async def get(self, timeout: float | None = None) -> Event | None:
        """The next event (None after ``timeout`` seconds)."""
        if timeout is None:
            return await self._queue.get()
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None

    def close(self) -> None:
        self._subscription.cancel()

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        return await self._queue.get()

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class EventHub:
    """Fan-out of one Host's events to its subscribers, on a delivery thread (or, given
    ``loop``, on that asyncio loop)."""

    def __init__(self, uri: str, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.uri = uri
        self.loop = loop
        self._subscribers: dict[int, tuple[Callable[[Event], Any], Filter | None, bool]] = {}
        self._lock = threading.Lock()
        self._keys = itertools.count(1)
        self._queue: queue.Queue[Event | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._log = get_logger(uri=uri)

    def subscribe(
        self, callback: Callable[[Event], Any], *, predicate: Filter | None = None, inline: bool = False
    ) -> Subscription:
        """Call ``callback(event)`` for every event matching ``predicate``.

        ``inline`` subscribers are called on libvirt's loop and must not block (a
        queue put); others run on this hub's delivery thread, or its asyncio loop.
        """
        with self._lock:
            key = next(self._keys)
            self._subscribers[key] = (callback, predicate, inline)
            if not inline and self._thread is None and self.loop is None:
                self._thread = threading.Thread(target=self._deliver, name=f"devframe-events {self.uri}", daemon=True)
                self._thread.start()
        return Subscription(self, key)

    def _unsubscribe(self, key: int) -> None:
        with self._lock:
            self._subscribers.pop(key, None)

    def publish(self, event: Event) -> None:
        """Hand an event to the subscribers (called from libvirt's loop)."""
        with self._lock:
            subscribers = list(self._subscribers.values())
        queued = False
        for callback, predicate, inline in subscribers:
            if not inline:
                queued = True
                continue
            try:
                if predicate is None or predicate(event):
                    callback(event)
            except Exception as exc:  # noqa: BLE001 - libvirt's loop must go on
                self._log.error("event subscriber failed", kind=event.kind, domain=event.domain, error=repr(exc))
        if not queued:
            return
        if self.loop is not None:
            if not self.loop.is_closed():
                self.loop.call_soon_threadsafe(self._deliver_one, event)
        else:
            self._queue.put(event)

    def _deliver(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            self._deliver_one(event)

    def _deliver_one(self, event: Event) -> None:
        with self._lock:
            subscribers = [s for s in self._subscribers.values() if not s[2]]
        for callback, predicate, _inline in subscribers:
            try:
                if predicate is None or predicate(event):
                    callback(event)
            except Exception as exc:  # noqa: BLE001 - one subscriber must not stop the others
                self._log.error(
                    "event subscriber failed", kind=event.kind, domain=event.domain, alias=event.alias, error=repr(exc)
                )

    def close(self) -> None:
        with self._lock:
            self._subscribers.clear()
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
