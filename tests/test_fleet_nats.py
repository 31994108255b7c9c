"""Issue 18 with a real nats-server (the PyPI package, started by the fixture on
127.0.0.1 with JetStream and a store in the test's tmp dir): agents on simulated hosts
publish, the server restarts or is away, foreign messages arrive, a consumer is slow.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
from click.testing import CliRunner
from fleet_hosts import PASSWORD, guest_uuid, guest_xml, write_node
from nats_server import NatsServer
from structlog.testing import capture_logs

import devframe
from devframe.agent import Host
from devframe.cli import main as cli_main
from devframe.fleet import ADDED, GUEST_SYNCED, EventFactory, FleetAgent, FleetView, MemorySink
from devframe.fleet.agent import fingerprint
from devframe.fleet.cloudevents import batch_id, decode_message, encode_batch
from devframe.fleet.jetstream import NatsFleetReader, NatsSink, subject_for_batch


@pytest.fixture
def server(tmp_path: Path) -> Iterator[NatsServer]:
    srv = NatsServer(tmp_path / "nats")
    srv.start()
    yield srv
    srv.stop()


class Rig:
    """Simulated hosts, their agent, a NATS sink and a recording sink beside it."""

    def __init__(self, tmp_path: Path, url: str, hosts: int = 2, guests: int = 3, **sink_options: Any) -> None:
        self.uris = [write_node(tmp_path, h, guests) for h in range(1, hosts + 1)]
        self.hosts = [Host(uri) for uri in self.uris]
        self.record = MemorySink()
        self.sink = NatsSink(url, spool_dir=tmp_path / "spool", **sink_options)
        self.agent = FleetAgent(self.hosts, [self.sink, self.record], interval=3600)
        self.generation = 0

    def cycle(self, rounds: int = 1) -> None:
        """Every guest stopped, redefined with every device changed, started; handled."""
        for _ in range(rounds):
            self.generation += 1
            for number, host in enumerate(self.hosts, 1):
                conn = host.connection()
                for dom in conn.listAllDomains():
                    guest = int(dom.name().rsplit("-g", 1)[1])
                    dom.destroy()
                    conn.defineXML(guest_xml(number, guest, generation=self.generation))
                    conn.lookupByName(dom.name()).create()
            deadline = time.monotonic() + 10
            while self.agent.inbox.qsize() or time.monotonic() < deadline:
                if not self.agent.process_pending(timeout=0.05) and self._settled():
                    break

    def _settled(self) -> bool:
        return all(
            g.fingerprint == fingerprint(h.host.guest(u).domain())
            for h in self.agent.hosts.values()
            for u, g in h.guests.items()
        )

    def truth(self) -> dict[str, list[str]]:
        """uuid -> the device keys libvirt has now, as the agent names them."""
        return {u: g.known.keys() for h in self.agent.hosts.values() for u, g in h.guests.items()}

    def close(self) -> None:
        self.agent.close(timeout=10)
        for host in self.hosts:
            host.close()


@pytest.fixture
def rig(tmp_path: Path, server: NatsServer) -> Iterator[Rig]:
    made = Rig(tmp_path, server.url)
    yield made
    made.close()


def stream_messages(url: str, stream: str = "DEVFRAME") -> list[tuple[int, str, list[dict[str, Any]] | bytes]]:
    """Every message of the stream in order: (sequence, Nats-Msg-Id, its events (one, or
    a batch's) or the raw bytes of anything else)."""

    async def read() -> list[tuple[int, str, Any]]:
        nc = await nats.connect(url)
        js = nc.jetstream()
        last = (await js.stream_info(stream)).state.last_seq
        sub = await js.pull_subscribe("devframe.>", stream=stream)
        out: list[tuple[int, str, Any]] = []
        while not out or out[-1][0] < last:
            for msg in await sub.fetch(1000, timeout=5):
                try:
                    body: Any = decode_message(msg.data)[0]
                except devframe.DevframeError:
                    body = msg.data
                out.append((msg.metadata.sequence.stream, (msg.headers or {}).get("Nats-Msg-Id", ""), body))
                await msg.ack()
        await nc.close()
        return out

    return asyncio.run(read())


def event_ids(messages: list[tuple[int, str, Any]]) -> list[str]:
    """The ids of every devframe event in the messages, in order."""
    return [event["id"] for _, _, body in messages if isinstance(body, list) for event in body]


def view_of(url: str, **options: Any) -> FleetView:
    view = FleetView(devframe.create_registry())
    NatsFleetReader(url, view, **options).catch_up(60)
    return view


def assert_view_matches(view: FleetView, rig: Rig) -> None:
    truth = rig.truth()
    assert {vm.uuid: list(vm.devices) for vm in view.vms()} == truth
    assert all(vm.running for vm in view.vms())


# -- end to end -------------------------------------------------------------------------------


def test_agents_publish_and_the_view_holds_every_device(rig: Rig, server: NatsServer) -> None:
    rig.agent.start()
    rig.cycle()
    assert rig.sink.flush(30), f"{rig.sink.backlog} events still spooled"
    messages = stream_messages(server.url)
    sent = [e["id"] for e in rig.record.events]
    assert event_ids(messages) == sent  # each once, in order
    # one message per guest's batch, Nats-Msg-Id from its events' ids
    assert [m[1] for m in messages] == [batch_id(m[2]) for m in messages if isinstance(m[2], list)]
    assert [m[1] for m in messages] == [b[0] if len(b) == 1 else f"{b[0]}..{b[-1]}" for b in rig.record.batches]
    assert len(messages) < len(sent) / 4
    bodies = [m[2] for m in messages if isinstance(m[2], list)]
    assert len(bodies) == len(messages)
    uuid = bodies[0][0]["data"]["uuid"]
    types = {e["type"] for body in bodies for e in body}
    assert {"org.devframe.device.added", "org.devframe.device.changed", GUEST_SYNCED} <= types
    assert PASSWORD not in json.dumps([m[2] for m in messages])
    view = view_of(server.url)
    assert_view_matches(view, rig)
    assert view.counts() == {"hosts": 2, "vms": 6, "devices": sum(len(k) for k in rig.truth().values())}
    # the CLI: the whole fleet as JSON, one VM, and what changed since a sequence
    result = CliRunner().invoke(cli_main, ["fleet", "--nats", server.url, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["hosts"] == json.loads(json.dumps(view.as_dict()))["hosts"]
    one = CliRunner().invoke(cli_main, ["fleet", "--nats", server.url, "--vm", uuid, "--json"])
    assert [d["key"] for d in json.loads(one.output)["devices"]] == rig.truth()[uuid]
    last = view.last_seq
    since = CliRunner().invoke(cli_main, ["fleet", "--nats", server.url, "--since", str(last - 5), "--json"])
    assert json.loads(since.output)["seq"] == last and json.loads(since.output)["since"] == last - 5
    text = CliRunner().invoke(cli_main, ["fleet", "--nats", server.url])
    assert "2 hosts, 6 VMs" in text.output and "h1-g0" in text.output


def test_the_view_survives_its_own_restart_by_replaying(rig: Rig, server: NatsServer, tmp_path: Path) -> None:
    rig.agent.start()
    assert rig.sink.flush(30)
    state = tmp_path / "view.json"
    first = view_of(server.url, durable="engine", state_file=state)
    rig.cycle()
    assert rig.sink.flush(30)
    # restarted with its saved state: resumes after it; without: the durable consumer
    # stands at the end, and the view replays from the start
    resumed = view_of(server.url, durable="engine", state_file=state)
    replayed = view_of(server.url, durable="engine")
    stored = len(stream_messages(server.url))
    for view in (resumed, replayed):
        assert_view_matches(view, rig)
        assert view.last_seq == stored
    assert first.last_seq < resumed.last_seq and resumed.applied < replayed.applied


def test_monitor_publish_to_nats(server: NatsServer, tmp_path: Path) -> None:
    uri = write_node(tmp_path, 5, 2)
    result = CliRunner().invoke(
        cli_main,
        ["monitor", "--uri", uri, "--publish", server.url, "--spool", str(tmp_path / "spool"), "--duration", "0.3"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    view = view_of(server.url)
    assert sorted(vm.uuid for vm in view.vms()) == [guest_uuid(5, 0), guest_uuid(5, 1)]
    assert {vm.host for vm in view.vms()} == {"test-node5"}


# -- faults -----------------------------------------------------------------------------------


def test_server_restarted_while_agents_publish_loses_and_doubles_nothing(rig: Rig, server: NatsServer) -> None:
    rig.agent.start()
    stop = threading.Event()

    def restart_midway() -> None:
        time.sleep(0.3)
        server.restart()
        stop.set()

    restarter = threading.Thread(target=restart_midway)
    restarter.start()
    rounds = 0
    try:
        while not stop.is_set() or rounds < 3:
            rig.cycle()
            rounds += 1
    finally:
        restarter.join()  # never leave a server started after the fixture stopped its own
    rig.cycle()
    assert rig.sink.flush(60), f"{rig.sink.backlog} events still spooled"
    assert rig.sink.connections >= 2, "the sink never saw the server go away"
    messages = stream_messages(server.url)
    ids = event_ids(messages)
    assert len(ids) == len(set(ids)), "an event is twice in the stream"
    assert len({m[1] for m in messages}) == len(messages), "a batch is twice in the stream"
    assert ids == [e["id"] for e in rig.record.events], "lost or reordered"
    view = view_of(server.url)
    assert_view_matches(view, rig)
    assert view.duplicates == 0


def test_an_offline_agent_catches_up_in_order_even_across_its_own_restart(tmp_path: Path, server: NatsServer) -> None:
    server.stop()
    rig = Rig(tmp_path, server.url)
    try:
        rig.agent.start()
        rig.cycle(2)
        produced = len(rig.record.batches)  # a spool record, a message, is one guest's batch
        assert rig.sink.backlog == produced and not rig.sink.connected.is_set()
        assert list((tmp_path / "spool").glob("*.seg")), "the events wait on disk"
        rig.sink.close(timeout=0.2)  # the agent stops while the server is still away
        assert len(rig.sink.spool) == produced
        later = NatsSink(server.url, spool_dir=tmp_path / "spool")  # the agent starts again
        rig.agent.sinks[0] = rig.sink = later
        rig.cycle()
        time.sleep(0.5)
        assert later.backlog == len(rig.record.batches)
        server.start()
        assert later.flush(60), f"{later.backlog} events still spooled"
        ids = event_ids(stream_messages(server.url))
        assert ids == [e["id"] for e in rig.record.events]
        assert_view_matches(view_of(server.url), rig)
    finally:
        rig.close()


def test_a_full_spool_refuses_events_then_the_agent_restates_every_guest(tmp_path: Path, server: NatsServer) -> None:
    server.stop()
    rig = Rig(tmp_path, server.url, spool_bytes=48 << 10)
    try:
        rig.agent.start()
        rig.cycle(3)
        assert rig.sink.spool.refused > 0 and rig.agent.refused > 0
        assert not rig.sink.accepting()
        server.start()
        assert rig.sink.flush(60)
        rig.agent.poll()  # room again: every guest is sent whole
        assert rig.sink.flush(60)
        assert_view_matches(view_of(server.url), rig)
    finally:
        rig.close()


def test_malformed_and_foreign_messages_are_logged_and_skipped(rig: Rig, server: NatsServer) -> None:
    async def intrude() -> None:
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        await js.publish("devframe.evil.host.device.added", b"\x00not json")
        foreign = {"specversion": "1.0", "id": "1", "source": "/acme", "type": "com.acme.thing", "data": {}}
        await js.publish("devframe.acme.x.thing", json.dumps(foreign).encode())
        await js.publish("devframe.acme.x.thing", b'{"specversion": "1.0"}')
        await nc.close()

    rig.agent.start()  # creates the stream
    assert rig.sink.flush(30)
    asyncio.run(intrude())
    rig.cycle()
    assert rig.sink.flush(30)
    with capture_logs() as logs:
        view = view_of(server.url)
    skipped = [e for e in logs if e["event"] == "skipped a message that is not a devframe event"]
    assert [e["subject"] for e in skipped] == [
        "devframe.evil.host.device.added",
        "devframe.acme.x.thing",
        "devframe.acme.x.thing",
    ]
    assert "not JSON" in skipped[0]["error"] and "not devframe's" in skipped[1]["error"]
    assert view.skipped == 3
    assert_view_matches(view, rig)


def test_a_slow_consumer_does_not_stall_the_agent(rig: Rig, server: NatsServer) -> None:
    rig.agent.start()
    assert rig.sink.flush(30)
    slow = FleetView()
    reader = NatsFleetReader(server.url, slow, durable="slow", delay=0.3, batch=2)
    reader.start()
    try:
        started = time.monotonic()
        rig.cycle(4)
        assert rig.sink.flush(30)
        took = time.monotonic() - started
        messages = stream_messages(server.url)
        total = len(messages)
        # Everything is in the stream while the slow consumer has read only part of it.
        assert slow.last_seq < total, "the consumer was not slow enough to tell"
        assert took < (total - slow.last_seq) * 0.3 + 10
        assert event_ids(messages) == [e["id"] for e in rig.record.events]
    finally:
        reader.stop()
    assert reader.error is None


def test_a_following_reader_resumes_after_a_server_restart_without_tracebacks(
    rig: Rig, server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    # The reader and the sink reconnect by themselves; nats-py must not also log the
    # lost connection as an error with a traceback (its default when no error_cb is set).
    rig.agent.start()
    assert rig.sink.flush(30)
    view = FleetView()
    reader = NatsFleetReader(server.url, view, durable="follower")
    caplog.set_level(logging.DEBUG, logger="nats")
    reader.start()
    try:
        _wait(lambda: view.last_seq == len(stream_messages(server.url)), "the reader's first catch-up")
        server.restart()
        rig.cycle()
        assert rig.sink.flush(60), f"{rig.sink.backlog} events still spooled"
        total = len(stream_messages(server.url))
        _wait(lambda: view.last_seq == total, "the reader after the restart")
    finally:
        reader.stop()
    assert reader.error is None
    assert_view_matches(view, rig)
    loud = [r for r in caplog.records if r.name.startswith("nats") and r.levelno >= logging.WARNING]
    assert loud == [], [r.getMessage() for r in loud]


def _wait(done: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"{what}: not done in {timeout} s"
        time.sleep(0.1)


# -- the batch format (one message per guest) ---------------------------------------------


def _publish(url: str, messages: list[tuple[str, bytes, str | None]], restart: NatsServer | None = None) -> list[bool]:
    """Publish (subject, payload, Nats-Msg-Id) to the stream; with ``restart``, the
    server is restarted after the first message. Returns each ack's duplicate flag."""

    async def send(batch: list[tuple[str, bytes, str | None]]) -> list[bool]:
        nc = await nats.connect(url)
        js = nc.jetstream()
        acks = []
        for subject, payload, msg_id in batch:
            headers = {"Nats-Msg-Id": msg_id} if msg_id else None
            acks.append(bool((await js.publish(subject, payload, headers=headers)).duplicate))
        await nc.close()
        return acks

    if restart is None:
        return asyncio.run(send(messages))
    first = asyncio.run(send(messages[:1]))
    restart.restart()
    return first + asyncio.run(send(messages[1:]))


def _guest_batch(factory: EventFactory, registry: Any, uuid: str, count: int) -> list[dict[str, Any]]:
    nic = registry.device_from_spec({"type": "interface", "device": "bridge", "macAddr": "52:54:00:00:00:01"})
    events = [factory.device(ADDED, "vm", uuid, f"nic-{n}", nic) for n in range(count)]
    return [*events, factory.guest_synced("vm", uuid, [f"nic-{n}" for n in range(count)])]


def test_a_batch_sent_again_after_a_server_restart_is_not_doubled(rig: Rig, server: NatsServer) -> None:
    rig.agent.start()  # creates the stream
    assert rig.sink.flush(30)
    registry = devframe.create_registry()
    factory = EventFactory("h9", "test:///h9")
    batch = _guest_batch(factory, registry, "u9", 6)
    subject, payload, msg_id = subject_for_batch(batch), encode_batch(batch), batch_id(batch)
    # sent, the server restarted, sent again (a sink whose acknowledgement was lost),
    # then its second half once more under another id (a producer that split it otherwise)
    duplicates = _publish(
        server.url,
        [(subject, payload, msg_id), (subject, payload, msg_id), (subject, encode_batch(batch[3:]), "other")],
        restart=server,
    )
    assert duplicates == [False, True, False]  # the stream's dedupe survived the restart
    messages = stream_messages(server.url)
    assert [m[1] for m in messages].count(msg_id) == 1
    view = view_of(server.url)
    assert [d["key"] for d in view.devices("u9", "h9")] == [f"nic-{n}" for n in range(6)]
    assert view.duplicates == 4  # the second half's events, each once again
    assert_view_matches_except(view, rig, "u9")


def assert_view_matches_except(view: FleetView, rig: Rig, *extra: str) -> None:
    truth = rig.truth()
    assert {vm.uuid: list(vm.devices) for vm in view.vms() if vm.uuid not in extra} == truth


def test_a_malformed_batch_is_logged_and_skipped(rig: Rig, server: NatsServer) -> None:
    rig.agent.start()
    assert rig.sink.flush(30)
    factory = EventFactory("h9", "test:///h9")
    good = _guest_batch(factory, devframe.create_registry(), "u9", 2)
    torn = encode_batch(good)[:-40]  # cut short
    _publish(
        server.url,
        [
            ("devframe.h9.u9.batch", torn, "torn"),
            ("devframe.h9.u9.batch", b"[]", "empty"),
            ("devframe.h9.u9.batch", encode_batch(good), batch_id(good)),
        ],
    )
    rig.cycle()
    assert rig.sink.flush(30)
    with capture_logs() as logs:
        view = view_of(server.url)
    skipped = [e for e in logs if e["event"] == "skipped a message that is not a devframe event"]
    assert [(e["subject"], e["error"].split(":")[0]) for e in skipped] == [
        ("devframe.h9.u9.batch", "not JSON"),
        ("devframe.h9.u9.batch", "an empty batch"),
    ]
    assert view.skipped == 2
    assert [d["key"] for d in view.devices("u9")] == ["nic-0", "nic-1"]  # the good one after them
    assert_view_matches_except(view, rig, "u9")


def test_a_batch_mixing_known_and_unknown_event_types(rig: Rig, server: NatsServer) -> None:
    rig.agent.start()
    assert rig.sink.flush(30)
    factory = EventFactory("h9", "test:///h9")
    added, synced = _guest_batch(factory, devframe.create_registry(), "u9", 1)
    foreign = {**added, "id": "acme-1", "source": "/acme", "type": "com.acme.device.added"}
    future = factory.make("org.devframe.device.migrated", {"uuid": "u9", "key": "nic-0"}, subject="u9/nic-0")
    old_version = {**factory.guest_gone("vm", "u9", "stopped"), "dataschema": "urn:devframe:fleet:event:99"}
    batch = [added, foreign, future, old_version, synced]
    _publish(server.url, [(subject_for_batch(batch), encode_batch(batch), batch_id(batch))])
    with capture_logs() as logs:
        view = view_of(server.url)
    warned = [e for e in logs if e["event"] == "skipped items of a batch that are not devframe events"]
    assert len(warned) == 1 and warned[0]["items"] == 2 and "com.acme.device.added" in warned[0]["error"]
    assert view.skipped == 2
    # devframe's own types, a newer one included, are applied; the VM stays running
    vm = view.vm("u9")
    assert list(vm.devices) == ["nic-0"] and vm.running and vm.seq == view.last_seq
    assert view.applied == len(rig.record.events) + 3


def test_a_message_that_arrives_as_a_catch_up_ends_is_read_by_the_next(rig: Rig, server: NatsServer) -> None:
    # catch_up stops at the stream's last sequence when it began; its pull request may
    # still be open as it applies the last messages, so a message stored then is
    # delivered to it and never applied nor acknowledged. The next catch_up must not
    # wait the consumer's ack wait (30 s) for the server to send it again.
    rig.agent.start()
    assert rig.sink.flush(30)
    stored = stream_messages(server.url)[-1][0]
    view = FleetView(devframe.create_registry())
    reader = NatsFleetReader(server.url, view, durable="engine", delay=0.1)  # applying is slow
    factory = EventFactory("h-late", "test:///late")
    data = {"host": "h-late", "uuid": "u-late", "domain": "late", "key": "k1", "dev_type": "rng", "alias": "rng0"}
    late = [factory.make(ADDED, {**data, "deviceId": None, "spec": {"type": "rng"}})]
    headers = {"Nats-Msg-Id": batch_id(late)}

    async def publish() -> None:
        nc = await nats.connect(server.url)
        await nc.jetstream().publish(subject_for_batch(late), encode_batch(late), headers=headers)
        await nc.close()

    first = threading.Thread(target=reader.catch_up, kwargs={"timeout": 30, "until": stored})
    first.start()
    time.sleep(0.3)  # its pull was answered, the messages are being applied
    asyncio.run(publish())
    first.join(30)
    assert view.last_seq == stored
    reader.delay = 0
    started = time.monotonic()
    reader.catch_up(10)
    assert view.last_seq == stored + 1
    assert [d["alias"] for d in view.devices("u-late")] == ["rng0"]
    assert time.monotonic() - started < 5, "the late message waited for the consumer's ack wait"
