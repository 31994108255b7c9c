"""Host: one libvirt connection, its events, its guests and its facts.

A Host connects lazily on first use, checks the connection is alive before each
operation, and after the daemon went away reconnects with exponential backoff (up to
``reconnect_timeout`` seconds) and registers its event callbacks again. Several Hosts,
for different URIs (``test:///default``, ``qemu:///system``, ``qemu+tcp://...``,
``qemu+ssh://...``), can live in one process; they share libvirt's event loop.
Everything a Host needs is passed to its constructor: it reads no configuration.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from lxml import etree

from devframe.agent.errors import AgentError, GuestGoneError, HostUnavailableError, LibvirtMissingError, describe
from devframe.agent.events import (
    CONNECTION_CLOSED,
    DEVICE_ADDED,
    DEVICE_REMOVAL_FAILED,
    DEVICE_REMOVED,
    LIFECYCLE,
    LIFECYCLE_NAMES,
    Event,
    EventHub,
    Subscription,
    Waiter,
    ensure_event_loop,
    make_filter,
)
from devframe.core.log import get_logger
from devframe.core.prepare import HostFacts

if TYPE_CHECKING:
    from devframe.agent.guest import Guest
    from devframe.core.domain import Domain
    from devframe.core.registry import Registry

__all__ = ["Host", "libvirt_module"]

T = TypeVar("T")

CLOSE_REASONS = ("error", "eof", "keepalive", "client")


def libvirt_module() -> Any:
    """The ``libvirt`` module, with its default stderr error printer silenced.

    devframe reports every libvirt error itself, wrapped with what was being done.
    """
    try:
        import libvirt
    except ImportError as exc:
        raise LibvirtMissingError(
            "libvirt-python is not installed; install devframe[agent] (needs libvirt's development files)"
        ) from exc
    libvirt.registerErrorHandler(_ignore_error, None)
    return libvirt


def _ignore_error(_ctx: Any, _err: Any) -> None:
    return None


def _version(number: int) -> str:
    return f"{number // 1_000_000}.{number // 1000 % 1000}.{number % 1000}"


class Host:
    """One libvirt connection (see the module doc).

    ``registry``: the plugin registry used to parse guests' XML (default: the
    process default). ``reconnect_timeout``: how long a call keeps trying to reach the
    daemon. ``backoff``: first and largest delay between attempts. ``keepalive``:
    (interval, count) for remote connections. ``on_close(host, reason)``: called when
    libvirt closes the connection (reason: error, eof, keepalive, client).
    """

    def __init__(
        self,
        uri: str = "test:///default",
        *,
        registry: Registry | None = None,
        reconnect_timeout: float = 30.0,
        backoff: tuple[float, float] = (0.05, 2.0),
        keepalive: tuple[int, int] | None = (5, 3),
        on_close: Callable[[Host, str], Any] | None = None,
    ) -> None:
        self.uri = uri
        self.registry = registry
        self.reconnect_timeout = reconnect_timeout
        self.backoff = backoff
        self.keepalive = keepalive
        self.on_close = on_close
        self.events = EventHub(uri)
        #: bumped on every new connection, so Guests know to look their domain up again
        self.generation = 0
        self._conn: Any = None
        self._conn_lock = threading.RLock()
        self._callback_ids: list[int] = []
        self._guests: dict[str, Guest] = {}
        self._guests_lock = threading.Lock()
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
        ensure_event_loop(libvirt)
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
        def lifecycle(_conn: Any, dom: Any, event: int, detail: int, _opaque: Any) -> None:
            name = LIFECYCLE_NAMES[event] if 0 <= event < len(LIFECYCLE_NAMES) else str(event)
            self._publish(LIFECYCLE, dom, None, {"event": name, "event_code": event, "detail_code": detail})

        def device(kind: str) -> Callable[..., None]:
            def callback(_conn: Any, dom: Any, alias: str, _opaque: Any) -> None:
                self._publish(kind, dom, alias, {})

            return callback

        registrations = (
            (libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lifecycle),
            (libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, device(DEVICE_ADDED)),
            (libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, device(DEVICE_REMOVED)),
            (libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED, device(DEVICE_REMOVAL_FAILED)),
        )
        self._callback_ids = []
        for event_id, callback in registrations:
            try:
                self._callback_ids.append(conn.domainEventRegisterAny(None, event_id, callback, None))
            except libvirt.libvirtError as exc:
                self._log.warning(
                    "event not available on this driver", event_id=event_id, error=exc.get_error_message()
                )

    def _publish(self, kind: str, dom: Any, alias: str | None, detail: dict[str, Any]) -> None:
        try:
            name, uuid = dom.name(), dom.UUIDString()
        except Exception:  # noqa: BLE001 - a vanished domain still gets its event through
            name, uuid = None, None
        self.events.publish(Event(kind=kind, uri=self.uri, domain=name, uuid=uuid, alias=alias, detail=detail))

    def _closed_cb(self, _conn: Any, reason: int, generation: int) -> None:
        reason_name = CLOSE_REASONS[reason] if 0 <= reason < len(CLOSE_REASONS) else str(reason)
        self._log.warning("libvirt closed the connection", reason=reason_name, generation=generation)
        self.events.publish(Event(kind=CONNECTION_CLOSED, uri=self.uri, detail={"reason": reason_name}))
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
        """Close the connection and stop delivering events. The Host cannot be reused."""
        with self._conn_lock:
            self._closed = True
            self._drop_locked()
        self.events.close()

    def __enter__(self) -> Host:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
    ) -> Subscription:
        """Call ``callback(event)`` for this host's events (on a delivery thread).

        Connects first, so events start flowing right away.
        """
        self.connection()
        return self.events.subscribe(callback, predicate=make_filter(kinds, domain=domain, uuid=uuid, alias=alias))

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

    # -- guests ------------------------------------------------------------------------

    def _guest_for(self, dom: Any) -> Guest:
        from devframe.agent.guest import Guest

        uuid = dom.UUIDString()
        with self._guests_lock:
            guest = self._guests.get(uuid)
            if guest is None:
                guest = self._guests[uuid] = Guest(self, dom)
            return guest

    def _forget(self, uuid: str) -> None:
        with self._guests_lock:
            self._guests.pop(uuid, None)

    def guests(self, running: bool = False) -> list[Guest]:
        """Every domain of this host (only the running ones with ``running=True``)."""
        libvirt = libvirt_module()
        flags = libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE if running else 0
        domains = self.call("list domains", lambda c: c.listAllDomains(flags))
        return [self._guest_for(dom) for dom in domains]

    def guest(self, name_or_uuid: str) -> Guest:
        """The guest with this name or UUID (GuestGoneError when there is none)."""

        def lookup(conn: Any) -> Any:
            libvirt = libvirt_module()
            try:
                return conn.lookupByUUIDString(name_or_uuid)
            except libvirt.libvirtError:
                return conn.lookupByName(name_or_uuid)

        return self._guest_for(self.call("look up domain", lookup, domain=name_or_uuid))

    def create_guest(
        self,
        domain: Domain,
        *,
        persistent: bool = True,
        start: bool = True,
        timeout: float = 60.0,
    ) -> Guest:
        """Define (``persistent``) and start a domain from a :class:`~devframe.Domain`.

        Waits until libvirt reports it running. When the start fails, a domain this
        call defined is undefined again, so nothing is left behind.
        """
        libvirt = libvirt_module()
        xml = domain.to_xml()
        name = domain.name
        log = self._log.bind(domain=name)
        if not persistent:
            dom = self.call("create transient domain", lambda c: c.createXML(xml, 0), domain=name, retry=False)
        else:
            dom = self.call("define domain", lambda c: c.defineXML(xml), domain=name, retry=False)
            if start:
                try:
                    self.call("start domain", lambda _c: dom.create(), domain=name, retry=False)
                except AgentError:
                    try:
                        dom.undefineFlags(0)
                    except libvirt.libvirtError as exc:
                        log.error("could not undefine after a failed start", error=exc.get_error_message())
                    raise
        guest = self._guest_for(dom)
        if start or not persistent:
            guest.wait_running(timeout)
        log.info("guest created", uuid=guest.uuid, persistent=persistent, started=start or not persistent)
        return guest

    # -- facts -------------------------------------------------------------------------

    def facts(self, *, cpu_interval: float = 0.1) -> dict[str, Any]:
        """Hypervisor type and version, libvirt version, hostname, capabilities, CPU count
        and use, memory total and use (bytes). A value the driver cannot give is None,
        and ``unavailable`` says why.
        """
        conn = self.connection()
        unavailable: dict[str, str] = {}
        info = self.call("get node info", lambda c: c.getInfo())
        memory = self.memory(unavailable)
        facts: dict[str, Any] = {
            "uri": self.uri,
            "hostname": self.call("get hostname", lambda c: c.getHostname()),
            "hypervisor": self.call("get hypervisor type", lambda c: c.getType()),
            "hypervisor_version": _version(self.call("get hypervisor version", lambda c: c.getVersion())),
            "libvirt_version": _version(self.call("get libvirt version", lambda c: c.getLibVersion())),
            "cpu_model": info[0],
            "cpus": info[2],
            "cpu_mhz": info[3],
            "cpu_usage": self.cpu_usage(cpu_interval, unavailable),
            **memory,
            "capabilities": self.call("get capabilities", lambda c: c.getCapabilities()),
            "unavailable": unavailable,
        }
        del conn
        return facts

    def cpu_usage(self, interval: float = 0.1, unavailable: dict[str, str] | None = None) -> float | None:
        """Share of host CPU time not idle over ``interval`` seconds (0..1), or None."""
        libvirt = libvirt_module()
        try:
            first = self.call("get CPU stats", lambda c: c.getCPUStats(libvirt.VIR_NODE_CPU_STATS_ALL_CPUS))
            time.sleep(interval)
            second = self.call("get CPU stats", lambda c: c.getCPUStats(libvirt.VIR_NODE_CPU_STATS_ALL_CPUS))
        except AgentError as exc:
            if unavailable is not None:
                unavailable["cpu_usage"] = str(exc)
            return None
        total = sum(second.values()) - sum(first.values())
        if total <= 0:
            if unavailable is not None:
                unavailable["cpu_usage"] = "the driver's CPU counters did not advance"
            return None
        idle = second.get("idle", 0) - first.get("idle", 0)
        return float(max(0.0, min(1.0, 1.0 - idle / total)))

    def memory(self, unavailable: dict[str, str] | None = None) -> dict[str, int | None]:
        """``memory_total``, ``memory_free``, ``memory_used`` in bytes."""
        libvirt = libvirt_module()
        try:
            stats = self.call("get memory stats", lambda c: c.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS))
            total = stats["total"] * 1024
            free = (stats.get("free", 0) + stats.get("buffers", 0) + stats.get("cached", 0)) * 1024
        except AgentError as exc:
            # Drivers without node memory stats (the test driver) still report size and free memory.
            if unavailable is not None:
                unavailable["memory_stats"] = str(exc)
            total = self.call("get node info", lambda c: c.getInfo())[1] * 1024 * 1024
            free = self.call("get free memory", lambda c: c.getFreeMemory())
        return {"memory_total": total, "memory_free": free, "memory_used": max(total - free, 0)}

    def host_facts(
        self,
        os_release: str | Path | None = "/etc/os-release",
        machine_id: str | Path | None = "/etc/machine-id",
    ) -> HostFacts:
        """What sysinfo placeholders need: OS name and version, host serial.

        The OS comes from ``os_release`` (a local file: pass None for a remote host,
        whose OS this process cannot read); the serial from libvirt's host sysinfo
        (SMBIOS system serial), else the host UUID from libvirt's capabilities, else
        the local ``machine_id`` file (None for a remote host).
        """
        os_name = os_version = None
        if os_release is not None:
            try:
                values = _parse_os_release(Path(os_release).read_text(encoding="utf-8"))
                os_name, os_version = values.get("NAME"), values.get("VERSION_ID") or values.get("VERSION")
            except OSError as exc:
                self._log.warning("cannot read os-release", path=str(os_release), error=str(exc))
        serial = None
        try:
            sysinfo = self.call("get host sysinfo", lambda c: c.getSysinfo(0))
            root = etree.fromstring(sysinfo.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
            for entry in root.iterfind("system/entry"):
                if entry.get("name") == "serial" and (entry.text or "").strip():
                    serial = (entry.text or "").strip()
        except AgentError as exc:
            self._log.info("host sysinfo not available", error=str(exc))
        if serial is None:
            # No SMBIOS serial (VMs, containers, the test driver): the host UUID libvirt
            # reports identifies the host as well, and is always there.
            caps = self.call("get capabilities", lambda c: c.getCapabilities())
            root = etree.fromstring(caps.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
            serial = (root.findtext("host/uuid") or "").strip() or None
        if serial is None and machine_id is not None:
            try:
                serial = Path(machine_id).read_text(encoding="utf-8").strip() or None
            except OSError as exc:
                self._log.warning("cannot read machine id", path=str(machine_id), error=str(exc))
        return HostFacts(os_name=os_name, os_version=os_version, host_serial=serial)

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("connected" if self._conn is not None else "not connected")
        return f"<Host {self.uri} {state}>"


def _parse_os_release(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            values[key] = value.strip().strip("'\"")
    return values
