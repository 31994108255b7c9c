"""The agent side of the fleet: watch Hosts, turn what changes into CloudEvents.

A :class:`FleetAgent` watches one or more :class:`~devframe.agent.Host`\\ s. For every
running guest it keeps the devices it last saw as a
:class:`~devframe.agent.KnownDevices` snapshot; a libvirt event on a guest (or, every
``interval`` seconds, a poll of all guests) makes it read the guest's live XML again,
and when the devices hash moved, correlate it with that snapshot. Each device added,
removed or changed becomes one CloudEvent (:mod:`devframe.fleet.cloudevents`), each
libvirt event another, and they go to every sink in order, one batch per guest
(``sink.publish_many`` where a sink has it, else ``sink.publish`` per event; both only
spool: a slow transport never stalls this loop).

A guest seen for the first time (the agent started, the guest started) is sent whole:
every device as ``added``, then ``guest.synced`` with all its device keys, so a view
drops what it still had from before; after each full listing of a host,
``host.synced`` names its running guests. A guest that stops is ``guest.gone`` (the
agent keeps its devices, so a restart reports only what differs). When a sink refused
events (its spool was full), the agent sends everything again once it has room.

Listeners (``devframe monitor`` prints through one) receive each :class:`GuestReport`
and libvirt event as they happen.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from devframe.agent import CONNECTION_CLOSED, LIFECYCLE, AgentError, GuestGoneError, KnownDevices
from devframe.agent.correlate import Written, devices_written
from devframe.core.log import get_logger
from devframe.fleet.cloudevents import ADDED, CHANGED, REMOVED, EventFactory, KindedEvent, batches

if TYPE_CHECKING:
    from devframe.agent import Correlation, Host
    from devframe.core.domain import Domain
    from devframe.core.hookspecs import EventSink

__all__ = ["FleetAgent", "GuestReport", "Listener", "fingerprint", "host_name"]


#: lifecycle events after which a guest is listed whole again (it ran anew)
RESTARTS = frozenset({"started", "stopped", "shutdown", "crashed"})


#: objects the cyclic GC lets a young generation gather while the agent lists every
#: guest at start (Python's default is 700)
SYNC_GC_THRESHOLD = 50_000


@contextlib.contextmanager
def _young_collections_rarer() -> Iterator[None]:
    """The first listing of every guest with the cyclic GC's youngest generation
    collected every SYNC_GC_THRESHOLD tracked objects instead of 700.

    That listing only adds (snapshots, specs, events: containers that live on or die by
    reference count, not in cycles); at 2,500 guests the default collections, young and,
    as the heap grows, full, took ~9 % of its CPU (measured with gc.callbacks), ~2 % with
    this. Nothing is left uncollected: the collections run, less often, and the
    threshold the process had is put back when the listing ends (in the change path,
    where snapshots are replaced and freed as fast as they are made, the GC runs a few
    times a minute and costs ~1 %: left as it is)."""
    before = gc.get_threshold()
    if before[0]:  # 0: collections are off; left off
        gc.set_threshold(max(before[0], SYNC_GC_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _lifecycle_name(event: Any) -> str | None:
    # ``detail`` alone where the event has it (the agent's events): as_dict() is dearer
    detail = event.detail if hasattr(event, "detail") else event.as_dict().get("detail")
    return detail.get("event") if isinstance(detail, Mapping) else None


def fingerprint(domain: Domain) -> bytes:
    """A digest of the domain's <devices> as serialized: libvirt writes the same devices
    the same way, so an equal digest means nothing moved. (Domain.devices_hash is the
    canonical one, C14N 2.0: several times dearer, and the agent asks on every event.)"""
    return _digest(devices_written(domain))


def _digest(written: Written) -> bytes:
    # The XML the snapshot then cuts (devices_written): <devices> is written once per look.
    return hashlib.blake2b(written[1], digest_size=16).digest()


def _plain_spec(snapshot: KnownDevices, index: int) -> dict[str, Any] | None:
    """Device ``index``'s spec as the snapshot keeps it (``to_spec()``, built once: the
    next correlation's known side) when the device holds no secret, so that spec is
    also the one to send; else None (the event takes it with its secrets, shown as
    ``***``). Without metadata and without secrets in the element, ``to_spec()`` and
    ``to_spec(secrets=True)`` are the same."""
    device = snapshot.devices[index]
    if device.metadata_source is not None or device.secret_plan().holds_secrets(device.element):
        return None
    return snapshot.spec(index)


def _ids(snapshot: KnownDevices, index: int) -> tuple[str | None, str | None]:
    """Device ``index``'s alias and deviceId as its snapshot read them (not again)."""
    return snapshot.alias(index), snapshot.ids[index]


def host_name(host: Host) -> str:
    """A host's name in the fleet: the URI's host for a remote URI, ``test-<file stem>``
    for libvirt's test driver (each node file is a simulated host), else the name
    libvirt reports for the machine."""
    parts = urlsplit(host.uri)
    if parts.scheme == "test":
        stem = parts.path.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
        return f"test-{stem or 'default'}"
    if parts.hostname:
        return parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    return str(host.call("get hostname", lambda c: c.getHostname()))


@dataclass
class GuestReport:
    """What one look at a guest found.

    ``first``: the guest was not known running before (its devices are all new to
    listeners). ``correlation``: the change against what was known (None on first
    sight or when nothing moved). ``gone``: why the guest is no longer watched
    (``stopped``, ``gone``), else None. ``error``: an AgentError reading it.
    """

    host: str
    uri: str
    uuid: str
    name: str | None = None
    domain: Domain | None = None
    first: bool = False
    correlation: Correlation | None = None
    gone: str | None = None
    error: str | None = None


class Listener(Protocol):
    def report(self, report: GuestReport) -> None: ...

    def event(self, host: str, event: KindedEvent) -> None: ...


@dataclass
class _Guest:
    name: str | None
    known: KnownDevices
    #: a digest of the live <devices> XML as last read: did anything move?
    fingerprint: bytes
    running: bool = True
    #: id(device) of ``known``'s devices -> the redacted dev_spec last sent for it: an
    #: unchanged device restated after a restart (or removed) needs no second to_spec
    specs: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: time.time() when the read behind the last whole listing began: a restart event
    #: stamped before it was listed already (see _handle)
    listed: float = 0.0


@dataclass
class _Watched:
    name: str
    host: Host
    factory: EventFactory
    guests: dict[str, _Guest] = field(default_factory=dict)


class FleetAgent:
    """Watches ``hosts`` (name -> Host, or Hosts named by :func:`host_name`) and sends
    their device changes and libvirt events to ``sinks`` (see the module doc).

    ``interval``: seconds between polls of every guest (catches what no event said).
    ``listeners``: objects with ``report(GuestReport)`` and ``event(host, event)``.
    """

    def __init__(
        self,
        hosts: Mapping[str, Host] | Iterable[Host],
        sinks: Sequence[EventSink] = (),
        *,
        interval: float = 5.0,
        listeners: Sequence[Listener] = (),
    ) -> None:
        named = hosts.items() if isinstance(hosts, Mapping) else [(host_name(h), h) for h in hosts]
        self.hosts: dict[str, _Watched] = {}
        for name, host in named:
            if name in self.hosts:
                raise AgentError(f"two hosts named {name!r} in one fleet agent ({host.uri})", uri=host.uri)
            self.hosts[name] = _Watched(name, host, EventFactory(name, host.uri))
        self._by_uri = {w.host.uri: w for w in self.hosts.values()}
        self.sinks = list(sinks)
        self.interval = interval
        self.listeners = list(listeners)
        self.inbox: queue.Queue[Any] = queue.Queue()
        #: events made and not yet handed to the sinks (see _flush)
        self._outbox: list[Mapping[str, Any]] = []
        self._resync = False
        self._stop = threading.Event()
        self._started = False
        self._log = get_logger(component="fleet-agent")
        #: counters: CloudEvents sent, events refused by a sink, guests read
        self.sent = 0
        self.refused = 0
        self.reads = 0

    # -- sending --------------------------------------------------------------------------

    def _send(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Queue events; :meth:`_flush` hands them to the sinks (every public entry
        point flushes before it returns)."""
        self._outbox.extend(events)

    def _flush(self) -> None:
        """Hand the queued events to every sink, one batch per guest (see
        :func:`~devframe.fleet.cloudevents.batches`): a sink with ``publish_many``
        sends each batch as one message; others get the events one by one."""
        if not self._outbox:
            return
        events, self._outbox = self._outbox, []
        groups = batches(events)
        for sink in self.sinks:
            publish_many = getattr(sink, "publish_many", None)
            if publish_many is not None:
                taken = sum(publish_many(group) for group in groups)
            else:
                taken = sum(1 for event in events if sink.publish(event))
            if taken < len(events):
                self.refused += len(events) - taken
                self._resync = True
        self.sent += len(events)

    # -- starting -------------------------------------------------------------------------

    def start(self) -> None:
        """Subscribe to every host's events, then send every running guest whole."""
        if self._started:
            return
        self._started = True
        for watched in self.hosts.values():
            # Subscribe before the first listing, so no change falls between the two.
            # Inline: a queue put never blocks libvirt's loop, and spares each event a
            # hop through a delivery thread per host.
            watched.host.subscribe(self.inbox.put, inline=True)
        with _young_collections_rarer():
            for watched in self.hosts.values():
                self.sync_host(watched.name)

    def sync_host(self, name: str, *, full: bool = False) -> None:
        """Look at every running guest of one host (``full``: send each whole again),
        then send ``host.synced``; guests known running but no longer listed are gone."""
        watched = self.hosts[name]
        try:
            running = [g.uuid for g in watched.host.guests(running=True)]
        except AgentError as exc:
            self._log.warning("cannot list guests", host=name, error=str(exc))
            return
        if full:
            for guest in watched.guests.values():
                guest.running = False  # seen again below: sent whole
        for uuid in running:
            self.check(name, uuid)
        for uuid in [u for u, g in watched.guests.items() if g.running and u not in set(running)]:
            self.check(name, uuid)
        self._send([watched.factory.host_synced(running)])
        self._flush()

    # -- one guest ------------------------------------------------------------------------

    def check(self, name: str, uuid: str) -> GuestReport:
        """Read one guest's live devices; send and report what changed."""
        try:
            return self._check(name, uuid)
        finally:
            self._flush()

    def _check(self, name: str, uuid: str) -> GuestReport:
        watched = self.hosts[name]
        report = GuestReport(name, watched.host.uri, uuid)
        known = watched.guests.get(uuid)
        reading = time.time()  # before the read: what happened earlier, the read shows
        try:
            guest = watched.host.guest(uuid)
            report.name = guest.name
            if not guest.is_active():
                self._stopped(watched, uuid, known, report, "stopped")
                return report
            current = guest.domain()
        except GuestGoneError:
            self._stopped(watched, uuid, known, report, "gone")
            return report
        except AgentError as exc:
            report.error = str(exc)
            self._notify(report)
            return report
        self.reads += 1
        report.domain = current
        written = devices_written(current)
        if known is None or not known.running:
            report.first = True
            _ = guest.tracked  # the Guest keeps its devices from now on: its events name them
            self._first_sight(watched, uuid, current, written, known, report, reading)
        elif known.fingerprint != (digest := _digest(written)):
            result = known.known.correlate(current, written=written)
            report.correlation = result
            sent: dict[int, dict[str, Any]] = {}
            self._send(self._change_events(watched, uuid, current.name, known, result, sent))
            assert result.reported is not None
            watched.guests[uuid] = _Guest(current.name, result.reported, digest, specs=sent, listed=known.listed)
        else:
            return report
        self._notify(report)
        return report

    def _first_sight(
        self,
        watched: _Watched,
        uuid: str,
        current: Domain,
        written: Written,
        known: _Guest | None,
        report: GuestReport,
        reading: float,
    ) -> None:
        factory = watched.factory
        name = current.name  # read from the tree on each access
        sent: dict[int, dict[str, Any]] = {}

        def added(snapshot: KnownDevices, index: int, device: Any, key: str) -> dict[str, Any]:
            # A device listed on first sight; one already sent (unchanged) keeps its spec.
            redacted = sent.get(id(device))
            spec = _plain_spec(snapshot, index) if redacted is None else None
            return self._device(
                factory, ADDED, name, uuid, key, device, sent, redacted, spec=spec, ids=_ids(snapshot, index)
            )

        if known is not None:
            # Started again: report what differs from before it stopped, then list all.
            result = known.known.correlate(current, written=written)
            report.correlation = result
            events = self._change_events(watched, uuid, name, known, result, sent)
            assert result.reported is not None
            snapshot = result.reported
            missing = {id(d) for d in snapshot.devices} - self._mentioned(result)
            keys = snapshot.keys()
            for index, (device, key) in enumerate(zip(snapshot.devices, keys, strict=True)):
                if id(device) in missing:
                    events.append(added(snapshot, index, device, key))
        else:
            snapshot = KnownDevices(current, written=written)
            keys = snapshot.keys()
            events = [
                added(snapshot, index, device, key)
                for index, (device, key) in enumerate(zip(snapshot.devices, keys, strict=True))
            ]
        events.append(factory.guest_synced(name, uuid, keys))
        self._send(events)
        watched.guests[uuid] = _Guest(name, snapshot, _digest(written), specs=sent, listed=reading)

    @staticmethod
    def _device(
        factory: EventFactory,
        event_type: str,
        domain: str | None,
        uuid: str,
        key: str,
        device: Any,
        sent: dict[int, dict[str, Any]],
        redacted: dict[str, Any] | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """A device event; its spec is remembered in ``sent`` (by the device's id).
        ``redacted``: the spec sent for the device before (it did not change)."""
        event = factory.device(event_type, domain, uuid, key, device, redacted=redacted, **options)
        sent[id(device)] = event["data"]["spec"]
        return event

    @staticmethod
    def _mentioned(result: Correlation) -> set[int]:
        """The reported devices a change event already carries."""
        found = {id(d) for d in result.added}
        found |= {id(pair[1]) for key, pair in result.pairs.items() if key in result.changed}
        return found

    def _change_events(
        self,
        watched: _Watched,
        uuid: str,
        domain: str | None,
        known: _Guest,
        result: Correlation,
        sent: dict[int, dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """The events of a correlation; ``sent`` gets the spec of every device of the
        new snapshot that is known (sent now, or unchanged since it was sent)."""
        factory = watched.factory
        reported = result.reported
        assert reported is not None
        before = known.specs
        # Each device's place in its snapshot: its key, alias and deviceId as read there.
        new_at = {id(d): i for i, d in enumerate(reported.devices)}
        new_keys = reported.keys()
        events = []
        if result.removed:
            old = known.known
            old_at = {id(d): i for i, d in enumerate(old.devices)}
            old_keys = old.keys()
            events = [
                factory.device(REMOVED, domain, uuid, old_keys[i], d, redacted=before.get(id(d)), ids=_ids(old, i))
                for d in result.removed
                for i in (old_at[id(d)],)
            ]
        for key, (old_device, new) in result.pairs.items():
            diff = result.changed.get(key)
            index = new_at[id(new)]
            new_key = new_keys[index]
            if diff is None:
                if id(old_device) in before:
                    sent[id(new)] = before[id(old_device)]  # the same device: the same spec
                if new_key == key:
                    continue
            spec = result.specs.get(key, (None, None))[1]
            events.append(
                self._device(
                    factory,
                    CHANGED,
                    domain,
                    uuid,
                    key,
                    new,
                    sent,
                    changes=diff or {},
                    new_key=new_key,
                    spec=spec,
                    ids=_ids(reported, index),
                )
            )
        events += [
            self._device(
                factory,
                ADDED,
                domain,
                uuid,
                new_keys[i],
                d,
                sent,
                spec=_plain_spec(reported, i),
                ids=_ids(reported, i),
            )
            for d in result.added
            for i in (new_at[id(d)],)
        ]
        return events

    def _stopped(self, watched: _Watched, uuid: str, known: _Guest | None, report: GuestReport, reason: str) -> None:
        if known is None or (not known.running and reason == "stopped"):
            return  # never seen running, or already said
        report.gone = reason
        if reason == "gone":
            watched.guests.pop(uuid, None)  # no definition left: nothing to compare a restart to
        else:
            known.running = False
        self._send([watched.factory.guest_gone(report.name or known.name, uuid, reason)])
        self._notify(report)

    def _notify(self, report: GuestReport) -> None:
        for listener in self.listeners:
            try:
                listener.report(report)
            except Exception as exc:  # noqa: BLE001 - a listener must not stop the agent
                self._log.error("fleet listener failed", error=repr(exc))

    # -- events ---------------------------------------------------------------------------

    def handle(self, event: Any) -> tuple[str, str] | None:
        """Send one libvirt event (any object with ``kind``/``as_dict()`` and ``uri``);
        returns the guest to look at because of it, if any."""
        try:
            return self._handle(event)
        finally:
            self._flush()

    def _handle(self, event: Any) -> tuple[str, str] | None:
        watched = self._by_uri.get(getattr(event, "uri", None) or "")
        if watched is None:
            return None
        self._send([watched.factory.from_agent_event(event)])
        for listener in self.listeners:
            try:
                listener.event(watched.name, event)
            except Exception as exc:  # noqa: BLE001 - a listener must not stop the agent
                self._log.error("fleet listener failed", error=repr(exc))
        uuid = getattr(event, "uuid", None)
        if not uuid or event.kind == CONNECTION_CLOSED:
            return None
        if event.kind == LIFECYCLE and _lifecycle_name(event) in RESTARTS:
            known = watched.guests.get(uuid)
            stamp = getattr(event, "time", None)
            # Started again: the next look lists it whole, unless a whole listing read
            # after this event was stamped did so already (libvirt's events of one
            # restart can come in two rounds; listing twice restates every device).
            if known is not None and not (isinstance(stamp, (int, float)) and stamp <= known.listed):
                known.running = False
        return watched.name, uuid

    def process_pending(self, timeout: float = 0.0) -> int:
        """Handle every queued libvirt event (waiting up to ``timeout`` for the first),
        then look once at each guest they named. Returns how many events."""
        try:
            first = self.inbox.get(timeout=timeout) if timeout > 0 else self.inbox.get_nowait()
        except queue.Empty:
            return 0
        events = [first]
        while True:
            try:
                events.append(self.inbox.get_nowait())
            except queue.Empty:
                break
        to_check: dict[tuple[str, str], None] = {}
        try:
            for event in events:
                target = self._handle(event)
                if target is not None:
                    to_check[target] = None
            for name, uuid in to_check:
                self._check(name, uuid)
        finally:
            # One hand-over for the round: each guest's libvirt events and device
            # changes go out together, as one batch.
            self._flush()
        return len(events)

    def poll(self) -> None:
        """Look at every guest of every host (and, after a sink refused events and has
        room again, send everything again)."""
        full = self._resync and all(sink.accepting() for sink in self.sinks)
        if full:
            self._resync = False
            self._log.warning("sending every guest again after refused events")
        for name in self.hosts:
            self.sync_host(name, full=full)

    def run(self, *, duration: float | None = None, stop: Callable[[], bool] | None = None) -> None:
        """Start, then handle events and poll until :meth:`stop`, ``duration`` seconds,
        or ``stop()`` returns true."""
        self.start()
        deadline = time.monotonic() + duration if duration is not None else None
        next_poll = time.monotonic() + self.interval
        while not self._stop.is_set() and not (stop is not None and stop()):
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            until = next_poll if deadline is None else min(next_poll, deadline)
            self.process_pending(timeout=max(min(until - now, 0.5), 0.001))
            if time.monotonic() >= next_poll:
                self.poll()
                next_poll = time.monotonic() + self.interval

    def stop(self) -> None:
        """Make :meth:`run` return (from another thread)."""
        self._stop.set()

    def close(self, timeout: float = 5.0) -> None:
        """Close the sinks (each delivers what it can within ``timeout``)."""
        for sink in self.sinks:
            try:
                sink.close(timeout)
            except Exception as exc:  # noqa: BLE001 - close every sink
                self._log.error("event sink did not close cleanly", error=repr(exc))
