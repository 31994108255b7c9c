"""Host: one libvirt connection, its guests and its facts.

A Host is a :class:`~devframe.agent.connection.Connection` (lazy, checked, reconnected
with backoff; events; calls wrapped with their context) that also hands out one Guest
per domain and reports the host's facts. Several Hosts, for different URIs
(``test:///default``, ``qemu:///system``, ``qemu+tcp://...``, ``qemu+ssh://...``), can
live in one process; they share libvirt's event loop. Everything a Host needs is
passed to its constructor: it reads no configuration.

A Host makes its Guests and hands each what it needs of the Host as a
:class:`~devframe.agent.interfaces.GuestHost` plus a ``forget`` callback, so
``guest.py`` never imports this module nor calls into its internals.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devframe.agent.connection import Connection
from devframe.agent.errors import AgentError
from devframe.agent.event_types import Event, LifecycleEvent
from devframe.agent.events import EVENTS_THREAD
from devframe.agent.guest import Guest
from devframe.agent.libvirt_api import libvirt_module
from devframe.agent.stats import STATS_GROUPS, GuestStats, read_stats
from devframe.core.prepare import HostFacts
from devframe.core.safexml import parse_trusted_xml

if TYPE_CHECKING:
    from devframe.core.domain import Domain
    from devframe.core.registry import Registry

__all__ = ["Host"]


def _version(number: int) -> str:
    return f"{number // 1_000_000}.{number // 1000 % 1000}.{number % 1000}"


class Host(Connection):
    """One libvirt connection with its guests and facts (see the module doc).

    ``registry``: the plugin registry used to parse guests' XML (default: the
    process default). ``reconnect_timeout``: how long a call keeps trying to reach the
    daemon. ``backoff``: first and largest delay between attempts. ``keepalive``:
    (interval, count) for remote connections. ``on_close(host, reason)``: called when
    libvirt closes the connection (reason: error, eof, keepalive, client). ``events``:
    ``"thread"`` (default) or ``"asyncio"`` (libvirtaio on ``loop``, default the running
    loop); see :mod:`devframe.agent.events`.
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
        events: str = EVENTS_THREAD,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(
            uri,
            reconnect_timeout=reconnect_timeout,
            backoff=backoff,
            keepalive=keepalive,
            on_close=on_close,
            events=events,
            loop=loop,
        )
        self.registry = registry
        self._guests: dict[str, Guest] = {}
        self._guests_lock = threading.Lock()

    # -- guests ------------------------------------------------------------------------

    def _guest_for(self, dom: Any) -> Guest:
        # One Guest per domain per Host, so every caller shares its lock.
        uuid = dom.UUIDString()
        with self._guests_lock:
            guest = self._guests.get(uuid)
            if guest is None:
                guest = self._guests[uuid] = Guest(self, dom, forget=functools.partial(self._forget, uuid))
            return guest

    def _enrich(self, event: Event, dom: Any) -> Event:
        # On libvirt's event loop: the Guest (made if needed: no libvirt call) and the
        # device it names, from the Guest's dev_map as it stands; never block here.
        if event.uuid is None:
            return event
        if isinstance(event, LifecycleEvent) and event.event == "undefined":
            with self._guests_lock:
                guest = self._guests.pop(event.uuid, None)
            return dataclasses.replace(event, guest=guest)
        guest = self._guest_for(dom)
        return dataclasses.replace(event, guest=guest, device=guest.note_event(event))

    def _forget(self, uuid: str) -> None:
        # Called by the Guest when its domain is gone for good: never hand it out again.
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

    # -- statistics ----------------------------------------------------------------------

    def device_stats(self, guests: Iterable[Guest] | None = None) -> list[GuestStats]:
        """Per-device statistics of every running guest (or of ``guests``), keyed by each
        guest's dev_map devices: ONE libvirt call for all of them
        (``getAllDomainStats``, or ``domainListGetStats`` for given guests).

        Each guest's devices are read from libvirt the first time only (the dev_map is
        kept current afterwards), so later polls cost that one call.
        """
        libvirt = libvirt_module()
        groups = 0
        for name in STATS_GROUPS:
            groups |= getattr(libvirt, name)
        running = libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE
        if guests is None:
            records = self.call("get all domain stats", lambda c: c.getAllDomainStats(groups, running))
        else:
            wanted = list(guests)
            if not wanted:
                return []
            records = self.call(
                "get domain stats",
                lambda c: c.domainListGetStats([g.virdomain(c) for g in wanted], groups, running),
            )
        out = []
        for dom, record in records:
            guest = self._guest_for(dom)
            try:
                tracked = guest.tracked
            except AgentError as exc:  # stopped or gone since the poll: skipped, said so
                self._log.info("guest left before its stats were read", domain=guest.name, error=str(exc))
                continue
            out.append(read_stats(guest, tracked, record))
        return out

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
            root = parse_trusted_xml(sysinfo, source=f"{self.uri} host sysinfo").getroot()
            for entry in root.iterfind("system/entry"):
                if entry.get("name") == "serial" and (entry.text or "").strip():
                    serial = (entry.text or "").strip()
        except AgentError as exc:
            self._log.info("host sysinfo not available", error=str(exc))
        if serial is None:
            # No SMBIOS serial (VMs, containers, the test driver): the host UUID libvirt
            # reports identifies the host as well, and is always there.
            caps = self.call("get capabilities", lambda c: c.getCapabilities())
            root = parse_trusted_xml(caps, source=f"{self.uri} capabilities").getroot()
            serial = (root.findtext("host/uuid") or "").strip() or None
        if serial is None and machine_id is not None:
            try:
                serial = Path(machine_id).read_text(encoding="utf-8").strip() or None
            except OSError as exc:
                self._log.warning("cannot read machine id", path=str(machine_id), error=str(exc))
        return HostFacts(os_name=os_name, os_version=os_version, host_serial=serial)


def _parse_os_release(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            values[key] = value.strip().strip("'\"")
    return values
