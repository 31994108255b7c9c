"""Issue 18 without a message server: the event format, the agent on simulated hosts,
the fleet view, the spool, the sink hook and ``monitor --publish file://``.

Hosts are libvirt test-driver node files (tests/fleet_hosts.py); NATS itself is in
test_fleet_nats.py.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import struct
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fleet_hosts import PASSWORD, guest_uuid, guest_xml, write_node
from structlog.testing import capture_logs

import devframe
from devframe import hookimpl
from devframe.agent import Host, correlate
from devframe.cli import main as cli_main
from devframe.core.log import json_may_hold_secret, redact_value
from devframe.fleet import (
    ADDED,
    CHANGED,
    DATASCHEMA,
    GUEST_GONE,
    GUEST_SYNCED,
    HOST_SYNCED,
    REMOVED,
    EventFactory,
    FleetAgent,
    FleetMessageError,
    FleetView,
    HistoryError,
    MemorySink,
    SinkError,
    Spool,
    decode,
    encode,
    open_sink,
)
from devframe.fleet import agent as agent_module
from devframe.fleet.cloudevents import batch_id, batches, decode_message, encode_batch, spec_of
from devframe.fleet.jetstream import subject_for, subject_for_batch


@pytest.fixture
def node(tmp_path: Path) -> str:
    return write_node(tmp_path, 1, 3)


@pytest.fixture
def agent(node: str) -> Any:
    sink = MemorySink()
    host = Host(node)
    fleet_agent = FleetAgent([host], [sink], interval=0.2)
    yield fleet_agent, sink, host
    fleet_agent.close()
    host.close()


def _cycle(host: Host, xml: str, name: str) -> None:
    """Stop a guest, give it a new definition and start it: what the test driver can do
    instead of hotplug."""
    conn = host.connection()
    dom = conn.lookupByName(name)
    dom.destroy()
    conn.defineXML(xml)
    conn.lookupByName(name).create()


def _drain(fleet_agent: FleetAgent, until: Any, timeout: float = 5.0) -> None:

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fleet_agent.process_pending(timeout=0.1)
        if until():
            return
    raise AssertionError("the agent did not see the change in time")


# -- the format ---------------------------------------------------------------------------------


def test_initial_sync_sends_every_device_then_the_guest_and_host_lists(agent: Any) -> None:
    fleet_agent, sink, host = agent
    fleet_agent.start()
    events = sink.events
    by_type: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event)
    running = sorted(g.uuid for g in host.guests(running=True))
    assert [e["data"]["guests"] for e in by_type[HOST_SYNCED]] == [running]
    assert events[-1]["type"] == HOST_SYNCED
    synced = {e["data"]["uuid"]: e["data"]["keys"] for e in by_type[GUEST_SYNCED]}
    assert sorted(synced) == running
    for uuid, keys in synced.items():
        added = [e["data"]["key"] for e in by_type[ADDED] if e["data"]["uuid"] == uuid]
        assert added == keys and len(keys) == len(host.guest(uuid).domain().devices)
    # CloudEvents 1.0: required attributes, unique ids, one source per host, RFC 3339 time
    assert len({e["id"] for e in events}) == len(events)
    for event in events:
        assert event["specversion"] == "1.0" and event["source"] == "devframe://test-node1"
        assert event["dataschema"] == DATASCHEMA and event["datacontenttype"] == "application/json"
        assert datetime.datetime.fromisoformat(event["time"].replace("Z", "+00:00")).tzinfo is not None
        assert decode(encode(event)) == event
    nic = next(e for e in by_type[ADDED] if e["data"]["dev_type"] == "interface")
    assert nic["subject"] == f"{nic['data']['uuid']}/{nic['data']['deviceId']}"  # deviceId first
    assert nic["data"]["alias"] == "ua-" + nic["data"]["deviceId"]
    disk = next(e for e in by_type[ADDED] if e["data"]["dev_type"] == "disk")
    assert disk["data"]["deviceId"] is None and disk["subject"].endswith("/disk:name=vda")  # no alias: identity
    assert disk["data"]["spec"]["path"].startswith("/var/lib/fleet/")
    assert subject_for(disk) == f"devframe.test-node1.{disk['data']['uuid']}.device%2Eadded".replace("%2E", ".")


def test_a_stop_define_start_reports_changed_removed_and_added_devices(agent: Any) -> None:
    fleet_agent, sink, host = agent
    fleet_agent.start()
    name, uuid = "h1-g0", guest_uuid(1, 0)
    before = host.guest(uuid).domain()
    # generation 1: every NIC link down, every disk serial new; then drop the last disk
    # and add a NIC with a new MAC
    xml = guest_xml(1, 0, generation=1).replace(
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/var/lib/fleet/001000003.img'/>"
        "<target dev='vdb' bus='virtio'/><serial>s001000003g1</serial></disk>",
        "<interface type='network'><mac address='52:54:00:ff:ff:01'/><source network='default'/></interface>",
    )
    assert xml != guest_xml(1, 0, generation=1)
    sink.events.clear()
    _cycle(host, xml, name)
    _drain(fleet_agent, lambda: any(e["type"] == GUEST_SYNCED for e in sink.events))
    types = [e["type"] for e in sink.events]
    assert "org.devframe.libvirt.lifecycle" in types  # libvirt's own events go through too
    gone = [e for e in sink.events if e["type"] == GUEST_GONE]
    changed = [e for e in sink.events if e["type"] == CHANGED]
    removed = [e for e in sink.events if e["type"] == REMOVED]
    live = host.guest(uuid).domain()
    expected = correlate(before, live)
    assert sorted(e["data"]["key"] for e in changed) == sorted(expected.changed)
    for event in changed:
        assert event["data"]["changes"] == {f: list(v) for f, v in expected.changed[event["data"]["key"]].items()}
    nic_change = next(e for e in changed if e["data"]["dev_type"] == "interface")
    assert nic_change["data"]["changes"]["linkActive"] == [True, False]
    assert [e["data"]["key"] for e in removed] == ["disk:name=vdb"]
    assert [d.dev_type for d in expected.added] == ["interface"]
    new_nic = [e for e in sink.events if e["type"] == ADDED and e["data"]["spec"].get("macAddr") == "52:54:00:ff:ff:01"]
    assert len(new_nic) == 1
    assert not gone or gone[0]["data"]["reason"] == "stopped"
    # The restart listed the guest whole: every live device is in its synced keys.
    synced = [e for e in sink.events if e["type"] == GUEST_SYNCED][-1]
    assert len(synced["data"]["keys"]) == len(live.devices)


def test_any_event_with_kind_and_as_dict_becomes_a_cloudevent() -> None:
    """Typed libvirt events (issue 17) map through the same function, whatever their kind."""

    @dataclasses.dataclass
    class TrayChanged:
        kind: str
        uri: str
        uuid: str
        alias: str
        detail: dict[str, Any]
        time: float = 1_700_000_000.5

        def as_dict(self) -> dict[str, Any]:
            return dataclasses.asdict(self)

    factory = EventFactory("hv1.example.org", "qemu+tcp://hv1.example.org/system")
    event = factory.from_agent_event(
        TrayChanged("tray-change", "qemu:///system", "u-1", "ua-cd", {"reason": "open", "passwd": PASSWORD})
    )
    assert event["type"] == "org.devframe.libvirt.tray-change"
    assert event["subject"] == "u-1/ua-cd" and event["time"] == "2023-11-14T22:13:20.500000Z"
    assert event["data"]["kind"] == "tray-change" and event["data"]["detail"]["reason"] == "open"
    assert PASSWORD not in json.dumps(event)
    assert subject_for(event) == "devframe.hv1%2Eexample%2Eorg.u-1.libvirt.tray-change"


def test_secrets_never_leave_in_a_spec_or_a_change() -> None:
    registry = devframe.create_registry()
    known = registry.device_from_spec({"type": "graphics", "device": "spice", "specParams": {"password": PASSWORD}})
    reported = registry.device_from_spec({"type": "graphics", "device": "spice", "specParams": {"password": "other"}})
    factory = EventFactory("h", "test:///default")
    changes = {"specParams.password": (PASSWORD, "other"), "port": (None, 5900)}
    event = factory.device(CHANGED, "vm", "u", "graphics:name=spice", reported, changes=changes)
    text = encode(event).decode()
    assert PASSWORD not in text and "other" not in text
    assert event["data"]["changes"] == {"specParams.password": ["***", "***"], "port": [None, 5900]}
    assert event["data"]["spec"]["specParams"]["password"] == "***"
    assert known.to_spec(secrets=True)["specParams"]["password"] == PASSWORD  # the device itself keeps it
    assert "password" not in known.to_spec()["specParams"], "a spec carries secrets only when asked (issue 20)"


def test_a_diff_path_registered_as_secret_later_is_redacted_from_then_on() -> None:
    # Whether a diff path names a secret is remembered per class and path: a key name
    # registered later must be answered again.
    from devframe.core.secrets import register_secret_key

    registry = devframe.create_registry()
    nic = registry.device_from_spec({"type": "interface", "device": "bridge", "macAddr": "52:54:00:00:00:01"})
    spec = nic.to_spec()
    factory = EventFactory("h", "test:///default")
    changes = {"fleetProbeWord": ("a", "b")}
    first = factory.device(CHANGED, "vm", "u", "k", nic, changes=changes, spec=spec)
    assert first["data"]["changes"] == {"fleetProbeWord": ["a", "b"]}
    register_secret_key("fleetProbeWord")
    later = factory.device(CHANGED, "vm", "u", "k", nic, changes=changes, spec=spec)
    assert later["data"]["changes"] == {"fleetProbeWord": ["***", "***"]}


def test_decode_refuses_what_is_not_a_devframe_event() -> None:
    good = EventFactory("h", "test:///default").host_synced([])
    assert decode(encode(good))["type"] == HOST_SYNCED
    bad: list[tuple[bytes, str]] = [
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "a JSON list"),
        (b'{"id": "1"}', "no specversion"),
        (encode({**good, "specversion": "0.3"}), "specversion"),
        (encode({**good, "type": "com.example.other"}), "not devframe's"),
        (encode({**good, "dataschema": "urn:devframe:fleet:event:99"}), "this release reads"),
        (encode({**good, "data": "x"}), "naming its host"),
    ]
    for payload, why in bad:
        with pytest.raises(FleetMessageError, match=why):
            decode(payload)


def test_batches_group_each_guest_and_keep_host_wide_events_in_place() -> None:
    factory = EventFactory("h.example", "test:///default")
    nic = devframe.create_registry().device_from_spec({"type": "interface", "device": "bridge"})
    g1a, g2a = factory.device(ADDED, "a", "u1", "k1", nic), factory.device(ADDED, "b", "u2", "k1", nic)
    g1s, host = factory.guest_synced("a", "u1", ["k1"]), factory.host_synced(["u1", "u2"])
    g2s, g1gone = factory.guest_synced("b", "u2", ["k1"]), factory.guest_gone("a", "u1", "stopped")
    grouped = batches([g1a, g2a, g1s, g2s, host, g1gone])
    # each guest's events together, in their order; host.synced after all of them
    assert [[e["id"] for e in group] for group in grouped] == [
        [g1a["id"], g1s["id"]],
        [g2a["id"], g2s["id"]],
        [host["id"]],
        [g1gone["id"]],
    ]
    assert [len(group) for group in batches([g1a, g1s, g1gone], max_events=2)] == [2, 1]
    assert batch_id(grouped[0]) == f"{g1a['id']}..{g1s['id']}" and batch_id([host]) == host["id"]
    assert subject_for_batch(grouped[0]) == "devframe.h%2Eexample.u1.batch"
    assert subject_for_batch([host]) == subject_for(host) == "devframe.h%2Eexample._.host.synced"
    events, problems = decode_message(encode_batch(grouped[0]))
    assert events == json.loads(json.dumps(grouped[0])) and problems == []


def test_decode_message_reads_single_events_and_batches_and_says_what_it_left_out() -> None:
    factory = EventFactory("h", "test:///default")
    good = factory.guest_synced("a", "u1", [])
    assert decode_message(encode(good))[0][0]["id"] == good["id"]
    for payload, why in [(b"[{", "not JSON"), (b"[]", "empty batch"), (b"7", "a JSON int")]:
        with pytest.raises(FleetMessageError, match=why):
            decode_message(payload)
    foreign = {**good, "id": "x", "type": "com.acme.thing"}
    events, problems = decode_message(encode_batch([good, foreign, 3]))  # type: ignore[list-item]
    assert [e["id"] for e in events] == [good["id"]]
    assert problems == ["item 1: event type 'com.acme.thing' is not devframe's (org.devframe.*)",
                        "item 2: not a CloudEvent: a JSON int"]  # fmt: skip


def test_a_spec_whose_json_names_no_secret_is_sent_as_is_and_any_other_is_redacted() -> None:
    registry = devframe.create_registry()
    # (words other tests register as secret places, such as "key" or "pin", make more
    # texts worth walking: the test is conservative, so these stay free of them)
    clean = {"type": "interface", "macAddr": "52:54:00:00:00:01", "specParams": {"n": 1}, "v": [1, 2.5, None]}
    looks_secret: list[Any] = [
        {"specParams": {"vncPassword": "x"}},
        {"x": "<graphics passwd='x'/>"},
        {"x": "<source><cookies><cookie name='a'>b</cookie></cookies></source>"},
        {"Key": "x"},  # SECRET_KEYS, whatever the case
        {"n": 10**700},  # longer than devframe shows an integer
        {"x": "COO\u212aIES"},  # the Kelvin sign lowers to k
        {"x": "pa\u017f\u017fword"},  # the long s matches s when case is ignored
    ]
    assert not json_may_hold_secret(json.dumps(clean, ensure_ascii=False))
    for value in looks_secret:
        value = json.loads(json.dumps(value))
        assert json_may_hold_secret(json.dumps(value, ensure_ascii=False)), value
    # False only where the walk changes nothing
    for value in [clean, {"x": "keyboard", "usage2": 1}, {"a": [{"b": "c"}]}, *looks_secret]:
        if not json_may_hold_secret(json.dumps(value, ensure_ascii=False)):
            assert redact_value(value) == value
    spice = registry.device_from_spec({"type": "graphics", "device": "spice", "specParams": {"password": PASSWORD}})
    sent = spec_of(spice, spice.to_spec(secrets=True))
    assert sent["specParams"]["password"] == "***" and PASSWORD not in json.dumps(sent)
    nic = registry.device_from_spec({"type": "interface", "device": "bridge", "macAddr": "52:54:00:00:00:01"})
    spec = nic.to_spec(secrets=True)
    assert spec_of(nic, spec) is spec  # nothing to hide: not copied


def test_view_applies_a_batch_once_and_each_of_its_events_once() -> None:
    factory = EventFactory("h", "test:///default")
    registry = devframe.create_registry()
    nic = registry.device_from_spec({"type": "interface", "device": "bridge", "macAddr": "52:54:00:00:00:01"})
    batch = [factory.device(ADDED, "vm", "u1", f"nic-{n}", nic) for n in range(4)]
    batch.append(factory.guest_synced("vm", "u1", [f"nic-{n}" for n in range(4)]))
    view = FleetView(registry)
    assert view.apply_message(encode_batch(batch), 7, subject="devframe.h.u1.batch") == 5
    assert view.counts() == {"hosts": 1, "vms": 1, "devices": 4}
    assert {d["seq"] for d in view.devices("u1")} == {7} and view.last_seq == 7
    assert view.apply_message(encode_batch(batch), 7) == 0  # the same message again
    # re-sent in part under a new sequence (a producer that split it otherwise)
    assert view.apply_message(encode_batch(batch[2:]), 8) == 0
    assert view.counts()["devices"] == 4 and view.duplicates == 5 + 3 and view.last_seq == 8
    later = factory.device(REMOVED, "vm", "u1", "nic-0", nic)
    assert view.apply_message(encode_batch([*batch[3:], later]), 9) == 1
    assert [d["key"] for d in view.devices("u1")] == ["nic-1", "nic-2", "nic-3"]


# -- the view -------------------------------------------------------------------------------------


def test_view_holds_each_vm_once_whatever_is_replayed(agent: Any) -> None:
    fleet_agent, sink, host = agent
    fleet_agent.start()
    view = FleetView(devframe.create_registry())
    for seq, event in enumerate(sink.events, 1):
        assert view.apply(event, seq)
    counts = view.counts()
    assert counts == {"hosts": 1, "vms": 3, "devices": sum(len(g.domain().devices) for g in host.guests(True))}
    # Everything again: with the same sequence numbers, then re-sent under new ones.
    for seq, event in enumerate(sink.events, 1):
        assert not view.apply(event, seq)
    offset = len(sink.events)
    for seq, event in enumerate(sink.events, offset + 1):
        assert not view.apply(event, seq)
    assert view.counts() == counts and view.duplicates == 2 * offset
    # The view's devices correlate with libvirt's as unchanged (no secrets in these guests' live XML).
    uuid = guest_uuid(1, 1)
    result = correlate(view.known(uuid), host.guest(uuid).domain())
    assert not result.added and not result.removed and not result.changed
    mark = view.last_seq
    assert view.changes_since(mark)["devices"] == []
    # A change, then "what changed since".
    sink.events.clear()
    _cycle(host, guest_xml(1, 1, generation=1), "h1-g1")
    _drain(fleet_agent, lambda: any(e["type"] == GUEST_SYNCED for e in sink.events))
    for seq, event in enumerate(sink.events, view.last_seq + 1):
        view.apply(event, seq)
    since = view.changes_since(mark)
    assert {d["uuid"] for d in since["devices"]} == {uuid}
    assert {d["key"] for d in since["devices"] if d["dev_type"] == "interface"} == {
        d["key"] for d in view.devices(uuid) if d["dev_type"] == "interface"
    }
    assert [vm["uuid"] for vm in since["vms"]] == [uuid]


def test_view_drops_a_gone_vm_and_devices_the_synced_list_lacks() -> None:
    factory = EventFactory("h", "test:///default")
    registry = devframe.create_registry()
    nic = registry.device_from_spec({"type": "interface", "device": "bridge", "macAddr": "52:54:00:00:00:01"})
    view = FleetView(registry, history=2)
    events = [
        factory.device(ADDED, "vm", "u1", "nic-1", nic),
        factory.device(ADDED, "vm", "u1", "nic-2", nic),
        factory.guest_synced("vm", "u1", ["nic-2"]),
        factory.device(ADDED, "vm2", "u2", "nic-9", nic),
        factory.guest_gone("vm2", "u2", "gone"),
        factory.host_synced(["u1"]),
    ]
    for seq, event in enumerate(events, 1):
        view.apply(event, seq)
    assert [d["key"] for d in view.devices("u1")] == ["nic-2"]
    assert view.vm("u1").running and "u2" not in view.hosts["h"].vms
    assert [(r["key"], r["uuid"]) for r in view.changes_since(2)["removed"]] == [("nic-1", "u1"), (None, "u2")]
    view.apply(factory.device(REMOVED, "vm", "u1", "nic-2", nic), 7)
    with pytest.raises(HistoryError, match="forgotten"):
        view.changes_since(1)  # history=2: the first removal is forgotten
    with pytest.raises(devframe.DevframeError, match="no VM 'nope'"):
        view.devices("nope")


def test_view_logs_and_skips_foreign_messages_and_saves_its_state(tmp_path: Path) -> None:
    factory = EventFactory("h", "test:///default")
    view = FleetView()
    with capture_logs() as logs:
        assert not view.apply_message(b"not json", 1, subject="devframe.x.y.z")
        assert not view.apply_message(encode({**factory.host_synced([]), "type": "com.acme.x"}), 2)
        assert view.apply_message(encode(factory.guest_synced("vm", "u1", [])), 3)
        assert not view.apply_message(encode(factory.make(ADDED, {"uuid": "u1"})), 4)  # no key/spec
    skipped = [entry for entry in logs if "skipped" in entry["event"]]
    assert [entry["seq"] for entry in skipped] == [1, 2, 4] and skipped[0]["subject"] == "devframe.x.y.z"
    assert view.skipped == 3 and view.last_seq == 4
    view.save(tmp_path / "view.json")
    again = FleetView()
    assert again.load(tmp_path / "view.json") and again.as_dict() == view.as_dict()
    assert not FleetView().load(tmp_path / "missing.json")


# -- the spool ------------------------------------------------------------------------------------


def test_spool_keeps_order_across_segments_and_restarts(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=2048)
    for i in range(500):
        assert spool.append(f"s.{i}", f"id-{i}", b"x" * (i % 50))
    records, position = spool.read(200)
    assert [r.msg_id for r in records] == [f"id-{i}" for i in range(200)]
    spool.commit(position, len(records))
    records, _ = spool.read(100)  # read, never committed: comes again after a restart
    assert records[0].msg_id == "id-200"
    segments = len(list(tmp_path.glob("*.seg")))
    spool.close()
    again = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=2048)
    assert len(again) == 300 and len(list(tmp_path.glob("*.seg"))) <= segments + 1
    out = []
    while True:
        records, position = again.read(64)
        if not records:
            break
        out += [r.msg_id for r in records]
        again.commit(position, len(records))
    assert out == [f"id-{i}" for i in range(200, 500)] and len(again) == 0 and again.size == 0
    assert again.append("s", "id-new", b"later") and again.read()[0][0].payload == b"later"


def test_spool_refuses_what_does_not_fit_and_keeps_what_it_has(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=4096, segment_bytes=1024)
    taken = spool.append_many([("s", f"id-{i}", b"y" * 100) for i in range(100)])
    assert 30 < taken < 40 and spool.refused == 100 - taken and spool.size <= 4096
    assert not spool.has_room()
    records, position = spool.read(1000)
    assert [r.msg_id for r in records] == [f"id-{i}" for i in range(taken)]
    spool.commit(position, len(records))
    assert spool.has_room() and spool.append("s", "after", b"z")


def test_spool_skips_a_torn_record_left_by_a_crash(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append_many([("s", "a", b"1"), ("s", "b", b"2")])
    spool.close()
    segment = sorted(tmp_path.glob("*.seg"))[-1]
    with open(segment, "ab") as handle:
        handle.write(struct.pack(">IHHI", 0, 1, 1, 50) + b"st")  # the crash cut it short
    with capture_logs() as logs:
        again = Spool(tmp_path)
        again.append("s", "c", b"3")
        records, _ = again.read()
    assert [r.msg_id for r in records] == ["a", "b", "c"]
    assert any("torn" in entry["event"] for entry in logs)


# -- sinks ----------------------------------------------------------------------------------------


class _AmqpSink(MemorySink):
    def __init__(self, url: str, **options: Any) -> None:
        super().__init__()
        self.url = url
        self.options = options


class _AmqpPlugin:
    @hookimpl
    def devframe_register_event_sinks(self, register: Any) -> None:
        register("amqp", _AmqpSink)
        register("nats", _AmqpSink)  # taken by the built-in sink: refused


def test_a_plugin_adds_a_transport_through_the_hook(tmp_path: Path) -> None:
    registry = devframe.create_registry(plugins=[("amqp-transport", _AmqpPlugin())])
    with capture_logs() as logs:
        sink = open_sink("amqp://broker/vhost", registry=registry, spool_dir=tmp_path)
    assert isinstance(sink, _AmqpSink) and sink.url == "amqp://broker/vhost" and sink.options == {"spool_dir": tmp_path}
    assert any(e["event"].startswith("event sink refused") and e["scheme"] == "nats" for e in logs)
    assert "devframe_register_event_sinks" in registry.plugins["amqp-transport"].hooks
    with pytest.raises(SinkError, match=r"no event sink for 'kafka'.*amqp"):
        open_sink("kafka://x", registry=registry)


def test_monitor_publishes_to_a_file_sink(tmp_path: Path) -> None:
    uri = write_node(tmp_path, 7, 2)
    out = tmp_path / "events.jsonl"
    result = CliRunner().invoke(
        cli_main,
        ["monitor", "--uri", uri, "--json", "--duration", "0.5", "--interval", "0.2", "--publish", f"file://{out}"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    printed = [json.loads(line) for line in result.output.splitlines()]
    assert [r["type"] for r in printed].count("guest") == 2
    events = [decode(line) for line in out.read_bytes().splitlines()]
    assert {e["data"]["uuid"] for e in events if e["type"] == GUEST_SYNCED} == {guest_uuid(7, 0), guest_uuid(7, 1)}
    assert all(e["source"] == "devframe://test-node7" for e in events)
    bad = CliRunner().invoke(cli_main, ["monitor", "--uri", uri, "--publish", "bogus://x", "--duration", "0.1"])
    assert bad.exit_code == 2 and "no event sink for 'bogus'" in bad.output


def test_a_sink_without_publish_many_gets_every_event_one_by_one(node: str) -> None:
    class Plain:
        def __init__(self) -> None:
            self.events: list[dict[str, Any]] = []

        def publish(self, event: Any) -> bool:
            self.events.append(event)
            return True

        def accepting(self) -> bool:
            return True

        def close(self, timeout: float = 5.0) -> None:
            return None

    plain, batched = Plain(), MemorySink()
    host = Host(node)
    try:
        FleetAgent([host], [plain, batched], interval=3600).start()
    finally:
        host.close()
    assert [e["id"] for e in plain.events] == [e["id"] for e in batched.events]
    # the batching sink got one batch per guest (its devices and guest.synced), then host.synced
    assert [len(ids) for ids in batched.batches] == [len(g) + 1 for g in _devices_per_guest(batched)] + [1]


def _devices_per_guest(sink: MemorySink) -> list[list[str]]:
    guests: dict[str, list[str]] = {}
    for event in sink.events:
        if event["type"] == ADDED:
            guests.setdefault(event["data"]["uuid"], []).append(event["id"])
    return list(guests.values())


def test_a_batch_past_the_message_limit_is_split_and_nothing_is_lost(tmp_path: Path) -> None:
    from devframe.fleet.jetstream import MAX_BATCH_BYTES, NatsSink

    factory = EventFactory("h", "test:///default")
    registry = devframe.create_registry()
    nic = registry.device_from_spec({"type": "interface", "device": "bridge", "macAddr": "52:54:00:00:00:01"})
    big = {**nic.to_spec(), "custom": "x" * 40_000}
    events = [factory.device(ADDED, "vm", "u1", f"nic-{n}", nic, spec=big) for n in range(30)]
    sink = NatsSink("nats://127.0.0.1:1", spool_dir=tmp_path / "spool", connect_timeout=0.1)  # never reachable
    try:
        assert sink.publish_many(events) == 30
        records, _ = sink.spool.read(100, max_bytes=1 << 30)
    finally:
        started = time.monotonic()
        sink.close(timeout=0.1)
    # closed while still trying to connect: promptly, and no publisher left behind
    assert time.monotonic() - started < 3
    assert not [t for t in threading.enumerate() if t.name == "devframe-nats nats://127.0.0.1:1" and t.is_alive()]
    assert len(records) > 1 and all(len(r.payload) <= MAX_BATCH_BYTES for r in records)
    assert [e["id"] for r in records for e in decode_message(r.payload)[0]] == [e["id"] for e in events]
    assert [r.msg_id for r in records] == [batch_id(decode_message(r.payload)[0]) for r in records]
    assert {r.subject for r in records} == {"devframe.h.u1.batch"}


def test_the_first_listing_collects_young_objects_less_often_and_puts_the_threshold_back(node: str) -> None:
    import gc

    seen: list[tuple[int, int, int]] = []

    class Watching(MemorySink):
        def publish_many(self, events: Any) -> int:
            seen.append(gc.get_threshold())
            return super().publish_many(events)

    before = gc.get_threshold()
    gc.set_threshold(900, 11, 12)
    host = Host(node)
    try:
        fleet_agent = FleetAgent([host], [Watching()], interval=3600)
        fleet_agent.start()
        assert gc.get_threshold() == (900, 11, 12)
        assert seen and all(t == (agent_module.SYNC_GC_THRESHOLD, 11, 12) for t in seen)
        gc.set_threshold(0, 11, 12)  # collections off: the listing leaves them off
        seen.clear()
        FleetAgent([host], [Watching()], interval=3600).start()
        assert seen and all(t == (0, 11, 12) for t in seen)
    finally:
        gc.set_threshold(*before)
        host.close()
