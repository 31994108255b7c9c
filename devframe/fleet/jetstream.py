"""NATS JetStream: the agent's sink and the engine's reader (``pip install devframe[nats]``).

:class:`NatsSink` (``devframe monitor --publish nats://HOST:PORT``): every event is first
appended to a bounded on-disk :class:`~devframe.fleet.spool.Spool`; a thread running its
own asyncio loop reads the spool in order and publishes each record to stream
``DEVFRAME`` (created when missing): one event on ``devframe.<host>.<domain-uuid>.<event>``
with header ``Nats-Msg-Id`` set to the event id, or one guest's batch (a JSON array,
:meth:`NatsSink.publish_many`) on ``devframe.<host>.<domain-uuid>.batch`` with the id
``<first event id>..<last event id>``; it waits for every acknowledgement of a round,
then commits the spool past it. A round not fully acknowledged (the server went
away, a timeout) is sent again after reconnecting, and JetStream drops the copies it
already stored (its duplicate window): at least once on the wire, once in the stream.

:class:`NatsFleetReader` feeds a :class:`~devframe.fleet.view.FleetView` from a durable
pull consumer. When the view does not start where the consumer stands (a first run, a
view restarted without its saved state), the consumer is made again to deliver from
the view's next sequence: a restarted view replays the stream.

Several servers (a cluster) are given comma-separated: ``nats://a:4222,nats://b:4222``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from devframe.core.errors import DevframeError
from devframe.core.log import get_logger
from devframe.fleet.cloudevents import (
    BATCH_CONTENT_TYPE,
    batch_id,
    encode,
    encode_batch,
    event_name,
    guest_of,
    subject_token,
)
from devframe.fleet.spool import Spool

if TYPE_CHECKING:
    from devframe.fleet.view import FleetView

__all__ = [
    "DEFAULT_STREAM",
    "DEFAULT_SUBJECT_PREFIX",
    "NatsError",
    "NatsFleetReader",
    "NatsSink",
    "ensure_stream",
    "servers_of",
    "subject_for",
    "subject_for_batch",
]

DEFAULT_STREAM = "DEVFRAME"
DEFAULT_SUBJECT_PREFIX = "devframe"
#: the last token of a batch's subject (``devframe.<host>.<domain-uuid>.batch``)
BATCH_TOKEN = "batch"
#: a batch's message stays below this (nats-server's default max_payload is 1 MiB)
MAX_BATCH_BYTES = 512 << 10


class NatsError(DevframeError):
    """NATS is missing, unreachable, or refused what devframe asked."""


def _nats() -> Any:
    try:
        import nats
    except ImportError:
        raise NatsError("NATS needs nats-py: pip install 'devframe[nats]'") from None
    return nats


async def _connect(servers: list[str], timeout: float, log: Any, **options: Any) -> Any:
    """A connection without nats-py's own reconnecting: every caller here reconnects
    itself. nats-py reports a lost connection through ``error_cb``; without one it logs
    a traceback at ERROR through its own logger, for what the caller already handles."""

    async def quiet(exc: Exception) -> None:
        log.info("NATS connection error", error=repr(exc))

    return await _nats().connect(
        servers=servers,
        connect_timeout=timeout,
        allow_reconnect=False,
        max_reconnect_attempts=0,
        error_cb=quiet,
        **options,
    )


def servers_of(url: str) -> list[str]:
    """The server URLs of a publish URL (comma-separated for a cluster)."""
    servers = [part.strip() for part in url.split(",") if part.strip()]
    if not servers:
        raise NatsError(f"no NATS server in {url!r}")
    return servers


def shown(url: str) -> str:
    """A server URL as logs may show it: any user and password left out."""
    out = []
    for server in servers_of(url):
        parts = urlsplit(server)
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        out.append(urlunsplit((parts.scheme, netloc, parts.path, "", "")))
    return ",".join(out)


def subject_for(event: Mapping[str, Any], prefix: str = DEFAULT_SUBJECT_PREFIX) -> str:
    """``<prefix>.<host>.<domain-uuid or _>.<event>`` for one event."""
    data = event.get("data") or {}
    uuid = data.get("uuid") if isinstance(data, Mapping) else None
    host = str(event.get("host") or (data.get("host") if isinstance(data, Mapping) else "") or "_")
    return f"{prefix}.{subject_token(host)}.{subject_token(str(uuid or '_'))}.{event_name(str(event['type']))}"


def subject_for_batch(events: Sequence[Mapping[str, Any]], prefix: str = DEFAULT_SUBJECT_PREFIX) -> str:
    """``<prefix>.<host>.<domain-uuid>.batch`` for a batch of one guest's events
    (:func:`~devframe.fleet.cloudevents.batches`); one event keeps its own subject."""
    if len(events) == 1:
        return subject_for(events[0], prefix)
    guest = guest_of(events[0])
    host, uuid = guest if guest is not None else (str(events[0].get("host") or "_"), "_")
    return f"{prefix}.{subject_token(host)}.{subject_token(uuid)}.{BATCH_TOKEN}"


async def ensure_stream(
    js: Any,
    stream: str = DEFAULT_STREAM,
    prefix: str = DEFAULT_SUBJECT_PREFIX,
    *,
    duplicate_window: float = 120.0,
    max_age: float | None = None,
    max_bytes: int | None = None,
    replicas: int = 1,
) -> None:
    """Create the stream when missing (file storage, the subjects ``<prefix>.>``)."""
    nats = _nats()
    try:
        await js.stream_info(stream)
        return
    except nats.js.errors.NotFoundError:
        pass
    config = nats.js.api.StreamConfig(
        name=stream,
        subjects=[f"{prefix}.>"],
        storage=nats.js.api.StorageType.FILE,
        duplicate_window=duplicate_window,
        max_age=max_age,
        max_bytes=max_bytes,
        num_replicas=replicas,
    )
    try:
        await js.add_stream(config)
    except nats.js.errors.BadRequestError as exc:
        # Two agents creating it at once: the other one won.
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await js.stream_info(stream)
            return
        raise NatsError(f"cannot create JetStream stream {stream!r}: {exc}") from None


def _default_spool(url: str, stream: str) -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    if not os.access(os.path.dirname(base) or "/", os.W_OK) and not os.path.isdir(base):
        base = tempfile.gettempdir()
    name = subject_token(shown(url).replace("/", "_").replace(":", "_").replace(",", "+"))
    return Path(base) / "devframe" / "spool" / f"{stream}-{name}"


class NatsSink:
    """The JetStream event sink (see the module doc).

    ``spool_dir``: where events wait (default under ``$XDG_STATE_HOME/devframe/spool``);
    ``spool_bytes``: its bound. ``batch``: records per publish round. ``linger``:
    seconds the publisher waits, once woken from idle, for more records to gather
    into its round (one round's cost, an acknowledgement wait and a spool commit,
    shared by every guest that changed meanwhile). ``ack_timeout``:
    seconds to wait for a batch's acknowledgements. ``stream`` / ``subject_prefix``:
    the stream and its subjects. ``duplicate_window``, ``max_age``, ``max_bytes``,
    ``replicas``: the stream's settings when this sink creates it.
    """

    def __init__(
        self,
        url: str,
        *,
        spool_dir: str | os.PathLike[str] | None = None,
        spool_bytes: int = 256 << 20,
        batch: int = 1000,
        linger: float = 0.02,
        ack_timeout: float = 5.0,
        connect_timeout: float = 2.0,
        reconnect_wait: tuple[float, float] = (0.1, 2.0),
        stream: str = DEFAULT_STREAM,
        subject_prefix: str = DEFAULT_SUBJECT_PREFIX,
        duplicate_window: float = 120.0,
        max_age: float | None = None,
        max_bytes: int | None = None,
        replicas: int = 1,
        name: str = "devframe-agent",
    ) -> None:
        _nats()
        self.url = url
        self.servers = servers_of(url)
        self.stream = stream
        self.prefix = subject_prefix
        self.batch = batch
        self.linger = linger
        self.ack_timeout = ack_timeout
        self.connect_timeout = connect_timeout
        self.reconnect_wait = reconnect_wait
        self.stream_options = {
            "duplicate_window": duplicate_window,
            "max_age": max_age,
            "max_bytes": max_bytes,
            "replicas": replicas,
        }
        self.name = name
        self.spool = Spool(spool_dir or _default_spool(url, stream), max_bytes=spool_bytes)
        self._log = get_logger(component="nats-sink", servers=shown(url))
        #: counters: messages (single events or batches) acknowledged by the stream, of
        #: those already stored (duplicates)
        self.acked = 0
        self.duplicates = 0
        #: connections made to the server (more than one: it went away and came back)
        self.connections = 0
        self.connected = threading.Event()
        self._closing = threading.Event()
        self._deadline: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._main_task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._run, name=f"devframe-nats {shown(url)}", daemon=True)
        self._thread.start()

    # -- the agent's side -----------------------------------------------------------------

    def publish(self, event: Mapping[str, Any]) -> bool:
        ok = self.spool.append(subject_for(event, self.prefix), str(event["id"]), encode(event))
        if ok:
            self._wake_pump()
        return ok

    def publish_many(self, events: Sequence[Mapping[str, Any]]) -> int:
        """Take one guest's events (:func:`~devframe.fleet.cloudevents.batches`) as one
        message: a JSON array, id from the events' ids. Returns how many were taken (all
        or none: a batch is one spool record); a batch past :data:`MAX_BATCH_BYTES` is
        split in two."""
        if not events:
            return 0
        if len(events) == 1:
            return 1 if self.publish(events[0]) else 0
        payload = encode_batch(events)
        if len(payload) > MAX_BATCH_BYTES:
            half = len(events) // 2
            taken = self.publish_many(events[:half])
            return taken + self.publish_many(events[half:]) if taken == half else taken
        ok = self.spool.append(subject_for_batch(events, self.prefix), batch_id(events), payload)
        if ok:
            self._wake_pump()
        return len(events) if ok else 0

    def _wake_pump(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not wake.is_set():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(wake.set)

    def accepting(self) -> bool:
        return self.spool.has_room()

    @property
    def backlog(self) -> int:
        """Messages (single events or batches) spooled and not yet acknowledged by the stream."""
        return len(self.spool)

    def flush(self, timeout: float) -> bool:
        """Wait until the spool is empty (True) or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while len(self.spool) and time.monotonic() < deadline:
            time.sleep(0.01)
        return not len(self.spool)

    def close(self, timeout: float = 5.0) -> None:
        """Publish what is spooled for up to ``timeout`` seconds; the rest stays on disk
        and is sent by the next sink opened on the same spool directory."""
        self._deadline = time.monotonic() + timeout
        self.flush(timeout)
        self._closing.set()
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wake.set)
        self._thread.join(1.0)
        if self._thread.is_alive() and loop is not None and self._main_task is not None:
            # Still connecting (nats-py's connect can wait seconds for an unreachable
            # server): stop it, so no publisher outlives the sink and reads a closed spool.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._main_task.cancel)
        self._thread.join(5)
        self.spool.close()
        if len(self.spool):
            self._log.warning("events left in the spool for the next start", events=len(self.spool))

    # -- the publishing thread ------------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._main_task = loop.create_task(self._main())
            loop.run_until_complete(self._main_task)
        except asyncio.CancelledError:
            pass  # closed while connecting: the spool keeps the events
        except Exception as exc:  # noqa: BLE001 - logged; the spool keeps the events
            self._log.error("NATS publisher stopped", error=repr(exc))
        finally:
            self._loop = None
            loop.close()

    async def _main(self) -> None:
        self._wake = asyncio.Event()
        delay, max_delay = self.reconnect_wait
        while not self._closing.is_set():
            nc = await self._connect()
            if nc is None:
                await self._sleep(delay)
                delay = min(delay * 2, max_delay)
                continue
            delay = self.reconnect_wait[0]
            self.connections += 1
            try:
                js = nc.jetstream()
                await ensure_stream(js, self.stream, self.prefix, **self.stream_options)  # type: ignore[arg-type]
                self.connected.set()
                await self._pump(nc, js)
            except Exception as exc:  # noqa: BLE001 - reconnect and send again from the spool
                self._log.warning("NATS publishing interrupted; events stay spooled", error=repr(exc))
            finally:
                self.connected.clear()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(nc.close(), 2)

    async def _connect(self) -> Any:
        try:
            # this loop reconnects; the spool holds the events
            return await _connect(self.servers, self.connect_timeout, self._log, name=self.name)
        except Exception as exc:  # noqa: BLE001 - unreachable: try again later
            self._log.info("NATS not reachable; events are spooled", error=repr(exc), spooled=len(self.spool))
            return None

    async def _sleep(self, seconds: float) -> None:
        wake = self._wake
        assert wake is not None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(wake.wait(), seconds)
        wake.clear()

    async def _pump(self, nc: Any, js: Any) -> None:
        wake = self._wake
        assert wake is not None
        acks = _Acks()
        await nc.subscribe(acks.inbox(nc) + ".*", cb=acks.on_ack)
        while not self._closing.is_set():
            if not nc.is_connected:
                raise NatsError("connection lost")
            records, position = self.spool.read(self.batch)
            if not records:
                # Idle: cleared before looking again, so an append from now on wakes
                # the loop; set, the agent's appends cost nothing (see _wake_pump).
                wake.clear()
                if not self.spool.wait(0):
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(wake.wait(), 0.25)
                if self.linger > 0:
                    await asyncio.sleep(self.linger)  # let other guests' batches join the round
                continue
            try:
                replies = acks.start(len(records))
                for record, reply in zip(records, replies, strict=True):
                    headers = {"Nats-Msg-Id": record.msg_id}
                    if record.payload[:1] == b"[":
                        headers["Content-Type"] = BATCH_CONTENT_TYPE
                    await nc.publish(record.subject, record.payload, reply=reply, headers=headers)
                await asyncio.wait_for(acks.done.wait(), self.ack_timeout)
                acks.check()
            except BaseException:
                # Not all acknowledged: send the batch again (the stream drops what it has).
                self.spool.rewind()
                raise
            self.spool.commit(position, len(records))
            self.acked += len(records)
            self.duplicates += acks.duplicates


class _Acks:
    """The stream's acknowledgements of one batch, on one wildcard inbox.

    nats-py's ``publish_async`` makes a future, a random token and a dataclass per
    message: three quarters of a publisher's time. A batch here numbers its replies
    ``<inbox>.<batch>-<n>``; an acknowledgement of an older batch is ignored.
    """

    def __init__(self) -> None:
        self.prefix = ""
        self.batch = 0
        self.expected = 0
        self.received = 0
        self.duplicates = 0
        self.errors: list[bytes] = []
        self.done = asyncio.Event()

    def inbox(self, nc: Any) -> str:
        self.prefix = nc.new_inbox()
        return self.prefix

    def start(self, count: int) -> list[str]:
        self.batch += 1
        self.expected, self.received, self.duplicates = count, 0, 0
        self.errors = []
        self.done.clear()
        return [f"{self.prefix}.{self.batch}-{n}" for n in range(count)]

    async def on_ack(self, msg: Any) -> None:
        token = msg.subject.rsplit(".", 1)[1]
        if not token.startswith(f"{self.batch}-"):
            return  # a late answer to a batch already sent again
        data = msg.data
        if not data.startswith(b"{") or b'"error"' in data:
            self.errors.append(data or str(msg.headers).encode())  # no stream (503), refused, ...
        elif b'"duplicate":true' in data:
            self.duplicates += 1
        self.received += 1
        if self.received >= self.expected:
            self.done.set()

    def check(self) -> None:
        if self.errors:
            raise NatsError(f"the stream refused {len(self.errors)} events: {self.errors[0][:200]!r}")


def _reply_numbers(reply: str) -> tuple[int, int]:
    """(stream sequence, messages pending) from a JetStream delivery's reply subject:
    ``$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<time>.<pending>``, or the
    form with domain and account (``$JS.ACK.<domain>.<account>.<stream>...``)."""
    tokens = reply.split(".")
    if len(tokens) == 9:
        return int(tokens[5]), int(tokens[8])
    return int(tokens[7]), int(tokens[10])


class _Puller:
    """Pull requests on one inbox, the messages collected by a callback.

    nats-py's ``fetch`` waits for each message with a timer of its own: that was most
    of a reader's time. Here one request at a time asks for a batch; :meth:`pull`
    returns what arrived once the batch is full, the server says nothing is pending,
    or the request ends (status message: no messages, expired).
    """

    def __init__(self, nc: Any, stream: str, durable: str) -> None:
        self.nc = nc
        self.subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self.inbox = nc.new_inbox()
        self.buffer: list[Any] = []
        self.batch = 1
        self.outstanding = 0  # messages the open request may still deliver
        self.ready = asyncio.Event()
        self.sub: Any = None

    @classmethod
    async def open(cls, nc: Any, stream: str, durable: str) -> _Puller:
        puller = cls(nc, stream, durable)
        puller.sub = await nc.subscribe(puller.inbox, cb=puller._on_message)
        return puller

    async def _on_message(self, msg: Any) -> None:
        if not msg.reply or not msg.reply.startswith("$JS.ACK."):
            self.outstanding = 0  # a status: no messages, request expired, ...
            self.ready.set()
            return
        self.buffer.append(msg)
        self.outstanding = max(self.outstanding - 1, 0)
        if len(self.buffer) >= self.batch or _reply_numbers(msg.reply)[1] == 0:
            self.ready.set()

    async def pull(self, batch: int, wait: float) -> list[Any]:
        """Up to about ``batch`` messages: what is there now, else what arrives within ``wait``."""
        self.batch = batch
        if not self.buffer:
            self.ready.clear()
            if not self.outstanding:
                self.outstanding = batch
                request = {"batch": batch, "expires": int(wait * 1e9)}
                await self.nc.publish(self.subject, json.dumps(request).encode(), reply=self.inbox)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.ready.wait(), wait + 1.0)
        out, self.buffer = self.buffer, []
        return out

    async def ack(self, message: Any) -> None:
        await self.nc.publish(message.reply, b"+ACK")


class NatsFleetReader:
    """Feeds a FleetView from the stream through a durable pull consumer.

    ``durable``: the consumer's name (one per view). ``state_file``: where the view is
    saved after each batch and loaded at start (without one, a start replays the whole
    stream). Use :meth:`catch_up` (apply everything stored now, then return) or
    :meth:`start` / :meth:`stop` (follow in a thread).
    """

    def __init__(
        self,
        url: str,
        view: FleetView,
        *,
        durable: str = "devframe-fleet",
        stream: str = DEFAULT_STREAM,
        subject_prefix: str = DEFAULT_SUBJECT_PREFIX,
        state_file: str | os.PathLike[str] | None = None,
        batch: int = 1000,
        on_apply: Callable[[dict[str, Any], int], Any] | None = None,
        connect_timeout: float = 2.0,
        delay: float = 0.0,
    ) -> None:
        _nats()
        self.url = url
        self.servers = servers_of(url)
        self.view = view
        self.durable = durable
        self.stream = stream
        self.prefix = subject_prefix
        self.state_file = Path(state_file) if state_file else None
        self.batch = batch
        self.connect_timeout = connect_timeout
        #: seconds to sleep per message (tests make a slow consumer with it)
        self.delay = delay
        self._log = get_logger(component="fleet-reader", servers=shown(url))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        if self.state_file is not None:
            view.load(self.state_file)

    async def _subscribe(self, nc: Any) -> Any:
        nats = _nats()
        api = nats.js.api
        js = nc.jetstream()
        start = self.view.last_seq + 1
        try:
            info = await js.consumer_info(self.stream, self.durable)
        except nats.js.errors.NotFoundError:
            info = None
        # A pull request outlives the connection that made it: a message stored before
        # it expired went to an inbox nobody reads, and the server would send it again
        # only after the ack wait (30 s). Delivered but unacknowledged messages, like a
        # consumer elsewhere than the view, mean: start again where the view stands.
        if info is not None and (info.ack_floor.stream_seq != self.view.last_seq or info.num_ack_pending):
            self._log.info(
                "durable consumer is not where the view stands; replaying",
                consumer_at=info.ack_floor.stream_seq,
                view_at=self.view.last_seq,
                unacknowledged=info.num_ack_pending,
            )
            await js.delete_consumer(self.stream, self.durable)
            info = None
        if info is None:
            config = api.ConsumerConfig(
                durable_name=self.durable,
                deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE if start > 1 else api.DeliverPolicy.ALL,
                opt_start_seq=start if start > 1 else None,
                ack_policy=api.AckPolicy.ALL,
                filter_subject=f"{self.prefix}.>",
                max_ack_pending=-1,
            )
            try:
                await js.add_consumer(self.stream, config)
            except nats.js.errors.APIError as exc:
                raise NatsError(f"cannot read stream {self.stream!r} (is an agent publishing?): {exc}") from None
        return js, await _Puller.open(nc, self.stream, self.durable)

    async def _apply_batch(self, puller: _Puller, messages: list[Any]) -> int:
        applied = 0
        for message in messages:
            if self.delay:
                await asyncio.sleep(self.delay)
            applied += self.view.apply_message(message.data, _reply_numbers(message.reply)[0], subject=message.subject)
        if messages:
            await puller.ack(messages[-1])  # AckPolicy.ALL: everything up to it
        if self.state_file is not None:
            self.view.save(self.state_file)
        return applied

    async def _catch_up(self, until: int | None, timeout: float) -> int:
        nc = await _connect(self.servers, self.connect_timeout, self._log)
        try:
            js, sub = await self._subscribe(nc)
            if until is None:
                until = (await js.stream_info(self.stream)).state.last_seq
            deadline = time.monotonic() + timeout
            applied = 0
            while self.view.last_seq < until:
                if time.monotonic() > deadline:
                    raise NatsError(f"fleet view reached sequence {self.view.last_seq} of {until} in {timeout} s")
                messages = await sub.pull(self.batch, 1.0)
                applied += await self._apply_batch(sub, messages)
            await nc.flush()
            return applied
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(nc.close(), 2)

    def catch_up(self, timeout: float = 60.0, *, until: int | None = None) -> int:
        """Apply every event stored now (or up to sequence ``until``); returns how many
        changed the view. Connects, applies, disconnects."""
        return asyncio.run(self._catch_up(until, timeout))

    # -- following in a thread ------------------------------------------------------------

    def start(self) -> None:
        """Follow the stream in a daemon thread until :meth:`stop`."""
        self._thread = threading.Thread(target=self._follow_thread, name="devframe-fleet-reader", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _follow_thread(self) -> None:
        try:
            asyncio.run(self._follow())
        except BaseException as exc:  # noqa: BLE001 - kept for the caller to see
            self.error = exc
            self._log.error("fleet reader stopped", error=repr(exc))

    async def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                nc = await _connect(self.servers, self.connect_timeout, self._log)
            except Exception as exc:  # noqa: BLE001 - the server is away: try again
                self._log.info("NATS not reachable; retrying", error=repr(exc))
                await asyncio.sleep(0.2)
                continue
            try:
                _js, sub = await self._subscribe(nc)
                while not self._stop.is_set() and nc.is_connected:
                    messages = await sub.pull(self.batch, 0.5)
                    await self._apply_batch(sub, messages)
            except Exception as exc:  # noqa: BLE001 - reconnect and resume from the view
                self._log.info("fleet reader interrupted; resuming", error=repr(exc))
                await asyncio.sleep(0.2)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(nc.close(), 2)
