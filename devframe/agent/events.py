"""libvirt events: one process-wide event loop, per-Host delivery to subscribers.

libvirt delivers events only on connections opened after an event implementation was
registered, and only while something runs that implementation's loop. devframe
registers libvirt's default implementation once per process (before its first
connection) and runs it in a daemon thread. Each Host forwards its connections' events
to a queue drained by its own delivery thread, so a slow subscriber never stalls
libvirt's loop, and a subscriber that raises is logged, not fatal.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devframe.core.log import get_logger

__all__ = [
    "CONNECTION_CLOSED",
    "DEVICE_ADDED",
    "DEVICE_REMOVAL_FAILED",
    "DEVICE_REMOVED",
    "LIFECYCLE",
    "Event",
    "EventHub",
    "Subscription",
    "Waiter",
    "ensure_event_loop",
]

LIFECYCLE = "lifecycle"
DEVICE_ADDED = "device-added"
DEVICE_REMOVED = "device-removed"
DEVICE_REMOVAL_FAILED = "device-removal-failed"
CONNECTION_CLOSED = "connection-closed"

# virDomainEventType, in libvirt's numbering (stable ABI).
LIFECYCLE_NAMES = (
    "defined",
    "undefined",
    "started",
    "suspended",
    "resumed",
    "stopped",
    "shutdown",
    "pmsuspended",
    "crashed",
)

_loop_lock = threading.Lock()
_loop_thread: threading.Thread | None = None


def ensure_event_loop(libvirt: Any) -> None:
    """Register libvirt's default event implementation and run it, once per process.

    Must run before the first connection that should receive events is opened.
    """
    global _loop_thread
    with _loop_lock:
        if _loop_thread is not None:
            return
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


@dataclass(frozen=True)
class Event:
    """One event from a Host.

    ``kind``: lifecycle, device-added, device-removed, device-removal-failed or
    connection-closed. ``domain``/``uuid``: the domain (None for connection events).
    ``alias``: the device alias for device events. ``detail``: lifecycle event and
    detail names and codes, or the close reason.
    """

    kind: str
    uri: str
    domain: str | None = None
    uuid: str | None = None
    alias: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "uri": self.uri,
            "domain": self.domain,
            "uuid": self.uuid,
            "alias": self.alias,
            "detail": dict(self.detail),
            "time": self.time,
        }


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


class EventHub:
    """Fan-out of one Host's events to its subscribers, on a delivery thread."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
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

        ``inline`` subscribers are called on libvirt's loop thread and must not block
        (a queue put); others run on this hub's delivery thread.
        """
        with self._lock:
            key = next(self._keys)
            self._subscribers[key] = (callback, predicate, inline)
            if not inline and self._thread is None:
                self._thread = threading.Thread(target=self._deliver, name=f"devframe-events {self.uri}", daemon=True)
                self._thread.start()
        return Subscription(self, key)

    def _unsubscribe(self, key: int) -> None:
        with self._lock:
            self._subscribers.pop(key, None)

    def publish(self, event: Event) -> None:
        """Hand an event to the subscribers (called from libvirt's loop thread)."""
        with self._lock:
            subscribers = list(self._subscribers.values())
        queued = False
        for callback, predicate, inline in subscribers:
            if not inline:
                queued = True
                continue
            if predicate is None or predicate(event):
                callback(event)
        if queued:
            self._queue.put(event)

    def _deliver(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            with self._lock:
                subscribers = [s for s in self._subscribers.values() if not s[2]]
            for callback, predicate, _inline in subscribers:
                try:
                    if predicate is None or predicate(event):
                        callback(event)
                except Exception as exc:  # noqa: BLE001 - one subscriber must not stop the others
                    self._log.error(
                        "event subscriber failed",
                        kind=event.kind,
                        domain=event.domain,
                        alias=event.alias,
                        error=repr(exc),
                    )

    def close(self) -> None:
        with self._lock:
            self._subscribers.clear()
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
