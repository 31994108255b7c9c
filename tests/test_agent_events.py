"""Issue 17 items 2, 3 and 5 without a libvirt daemon: typed events read from libvirt's
callbacks, statistics keyed by device, and the one event loop per process (asyncio with
libvirtaio, an application's own loop never replaced). Each event-loop case runs in a
fresh interpreter: a process registers one implementation, for good.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

import devframe
from devframe.agent import (
    EVENT_CLASSES,
    BlockJobEvent,
    EventLoopError,
    GraphicsEvent,
    Host,
    IoErrorEvent,
    TrayChangeEvent,
)
from devframe.agent.event_types import LIBVIRT_EVENTS, Event
from devframe.agent.stats import BalloonStats, BlockStats, InterfaceStats, read_stats

DOMAIN = devframe.parse_domain(
    """<domain type='qemu'><name>ev</name><devices>
    <disk type='file' device='cdrom'><source file='/a.iso'/><target dev='hdc' bus='ide'/><alias name='ua-cd'/></disk>
    <disk type='file' device='disk'><source file='/v.qcow2'/><target dev='vda' bus='virtio'/>
      <alias name='ua-vda'/></disk>
    <interface type='bridge'><mac address='52:54:00:00:00:01'/><source bridge='br0'/><target dev='vnet7'/>
      <alias name='ua-nic'/></interface>
    <interface type='user'><mac address='52:54:00:00:00:02'/><alias name='ua-user'/></interface>
    <graphics type='vnc' port='5901' autoport='yes'/>
    <graphics type='spice' port='5902' autoport='yes'/>
    <watchdog model='i6300esb' action='reset'><alias name='watchdog0'/></watchdog>
    <memballoon model='virtio'><alias name='balloon0'/></memballoon>
    <memory model='virtio-mem'><target><size unit='KiB'>1048576</size></target><alias name='ua-mem'/></memory>
    </devices></domain>"""
)
COMMON = {"uri": "qemu:///system", "domain": "ev", "uuid": "0c9e4b5e-0000-4000-8000-000000000001"}

# Each libvirt domain event as its Python callback receives it (between the domain and
# the opaque value), and the device it must resolve to (by alias or what else it names).
CALLBACKS: dict[str, tuple[tuple[Any, ...], str | None]] = {
    "VIR_DOMAIN_EVENT_ID_LIFECYCLE": ((5, 1), None),
    "VIR_DOMAIN_EVENT_ID_DEVICE_ADDED": (("ua-nic",), "ua-nic"),
    "VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED": (("ua-user",), "ua-user"),
    "VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED": (("ua-nic",), "ua-nic"),
    "VIR_DOMAIN_EVENT_ID_TRAY_CHANGE": (("ua-cd", 0), "ua-cd"),
    "VIR_DOMAIN_EVENT_ID_DISK_CHANGE": (("/a.iso", None, "ua-cd", 1), "ua-cd"),
    "VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON": (("/v.qcow2", "ua-vda", 1, "enospc"), "ua-vda"),
    "VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2": (("vda", 3, 3), "ua-vda"),
    "VIR_DOMAIN_EVENT_ID_BLOCK_THRESHOLD": (("vda[2]", "/v.qcow2", 1 << 30, 4096), "ua-vda"),
    "VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE": ((48 * 1024,), "balloon0"),
    "VIR_DOMAIN_EVENT_ID_GRAPHICS": (
        (
            0,
            {"family": 0, "node": "127.0.0.1", "service": "5902"},
            {"family": 0, "node": "127.0.0.1", "service": "40000"},
            "none",
            [("x509dname", "CN=client")],
        ),
        "spice",
    ),
    "VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE": (("ua-mem", 524288), "ua-mem"),
    "VIR_DOMAIN_EVENT_ID_MEMORY_FAILURE": ((1, 1, 3), None),
    "VIR_DOMAIN_EVENT_ID_WATCHDOG": ((2,), "watchdog0"),
    "VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE": ((1, 2), None),
    "VIR_DOMAIN_EVENT_ID_TUNABLE": (({"blkdeviotune.disk": "vda", "blkdeviotune.total_bytes_sec": 1000},), "ua-vda"),
    "VIR_DOMAIN_EVENT_ID_METADATA_CHANGE": ((2, "http://ovirt.org/vm/1.0"), None),
    "VIR_DOMAIN_EVENT_ID_JOB_COMPLETED": (({"time_elapsed": 12, "data_total": 1 << 20},), None),
    "VIR_DOMAIN_EVENT_ID_NIC_MAC_CHANGE": (("ua-nic", "52:54:00:00:00:01", "52:54:00:00:00:09"), "ua-nic"),
}


def _label(device: devframe.Device) -> str | None:
    return device.alias or device.element.get("type")


@pytest.mark.parametrize("source", LIBVIRT_EVENTS, ids=lambda s: s.event_id.removeprefix("VIR_DOMAIN_EVENT_ID_"))
def test_every_libvirt_event_becomes_a_typed_json_ready_event(source: Any) -> None:
    args, expected = CALLBACKS[source.event_id]
    event = source.build(dict(COMMON), *args)
    assert isinstance(event, Event) and type(event) is EVENT_CLASSES[event.kind]
    assert event.kind != "" and event.uri == COMMON["uri"] and event.uuid == COMMON["uuid"]
    record = json.loads(json.dumps(event.as_dict()))
    assert record["kind"] == event.kind and record["detail"] == event.detail and record["device"] is None
    located = event.locate(DOMAIN)
    assert (_label(located) if located is not None else None) == expected
    resolved = dataclasses.replace(event, device=located)  # as a Host hands it over: with its device
    if located is not None:
        assert resolved.as_dict()["device"]["dev_type"] == located.dev_type


def test_event_values_are_named_as_libvirt_documents_them() -> None:
    by_id = {source.event_id: source for source in LIBVIRT_EVENTS}

    def build(name: str) -> Any:
        return by_id[name].build(dict(COMMON), *CALLBACKS[name][0])

    tray = build("VIR_DOMAIN_EVENT_ID_TRAY_CHANGE")
    assert isinstance(tray, TrayChangeEvent) and tray.reason == "open" and tray.detail == {"reason": "open"}
    io = build("VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON")
    assert isinstance(io, IoErrorEvent) and (io.action, io.reason, io.source) == ("pause", "enospc", "/v.qcow2")
    job = build("VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2")
    assert isinstance(job, BlockJobEvent) and (job.job_type, job.status) == ("commit", "ready")
    graphics = build("VIR_DOMAIN_EVENT_ID_GRAPHICS")
    assert isinstance(graphics, GraphicsEvent) and graphics.local["family"] == "ipv4"
    assert graphics.subject == [["x509dname", "CN=client"]] and graphics.phase == "connect"
    lifecycle = build("VIR_DOMAIN_EVENT_ID_LIFECYCLE")
    assert lifecycle.detail == {"event": "stopped", "event_code": 5, "detail_code": 1}
    failure = build("VIR_DOMAIN_EVENT_ID_MEMORY_FAILURE")
    assert failure.detail == {"recipient": "guest", "action": "inject", "action_required": True, "recursive": True}
    unknown = by_id["VIR_DOMAIN_EVENT_ID_WATCHDOG"].build(dict(COMMON), 42)
    assert unknown.detail == {"action": "42"}  # a code libvirt added later is kept, as its number


def test_stats_are_keyed_by_the_devices_and_nothing_is_dropped() -> None:
    record = {
        "block.count": 3,
        "block.0.name": "hdc",
        "block.0.rd.reqs": 4,
        "block.0.rd.bytes": 2048,
        "block.1.name": "vda",
        "block.1.path": "/v.qcow2",
        "block.1.rd.bytes": 512,
        "block.1.wr.bytes": 1024,
        "block.1.wr.reqs": 2,
        "block.1.allocation": 200704,
        "block.1.capacity": 33554432,
        "block.1.physical": 204800,
        "block.2.name": "sdz",
        "block.2.rd.bytes": 1,
        "net.count": 2,
        "net.0.name": "vnet7",
        "net.0.rx.bytes": 110,
        "net.0.rx.pkts": 1,
        "net.0.tx.drop": 3,
        "balloon.current": 65536,
        "balloon.maximum": 65536,
        "balloon.rss": 49000,
        "balloon.last-update": 0,
    }
    stats = read_stats("guest", DOMAIN, record)
    cdrom, vda = DOMAIN.dev_map["disk"]
    nic, user = DOMAIN.dev_map["interface"]
    assert stats[vda] == BlockStats(
        name="vda", path="/v.qcow2", rd_bytes=512, wr_bytes=1024, wr_reqs=2,
        allocation=200704, capacity=33554432, physical=204800,
    )  # fmt: skip
    cdrom_stats = stats[cdrom]
    assert isinstance(cdrom_stats, BlockStats) and cdrom_stats.rd_reqs == 4 and cdrom_stats.capacity is None
    assert stats[nic] == InterfaceStats(name="vnet7", rx_bytes=110, rx_packets=1, tx_drops=3)
    assert stats.get(user) is None  # libvirt cannot measure a user-mode NIC: it reports nothing
    balloon = DOMAIN.dev_map["memballoon"][0]
    assert stats[balloon] == BalloonStats(current=65536, maximum=65536, rss=49000, last_update=0)
    assert stats.unmatched == [BlockStats(name="sdz", rd_bytes=1)]  # no such disk in the dev_map: kept
    out = json.loads(json.dumps(stats.as_dict()))
    assert {d["stats"]["type"] for d in out["devices"]} == {"block", "interface", "balloon"}


def test_asyncio_events_need_a_running_loop() -> None:
    with pytest.raises(EventLoopError, match="running asyncio loop"):
        Host("test:///default", events="asyncio")
    with pytest.raises(EventLoopError, match="events='fibers'"):
        Host("test:///default", events="fibers")


# -- one event loop per process (fresh interpreters) -------------------------------------------

TEST_DOMAIN = "<domain type='test'><name>{name}</name><memory>8192</memory><os><type>hvm</type></os></domain>"
PRELUDE = f"""
import asyncio, json, sys, threading
import libvirt, libvirtaio
import devframe
from devframe.agent import Host, LIFECYCLE, EventLoopError, event_loop_kind
XML = {TEST_DOMAIN!r}
def threads():
    return sorted(t.name for t in threading.enumerate())
"""


def _run(body: str) -> tuple[dict[str, Any], str]:
    code = PRELUDE + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_a_host_on_asyncio_runs_libvirtaio_in_the_callers_loop() -> None:
    result, stderr = _run(
        """
        async def main():
            host = Host("test:///default", events="asyncio")
            seen_on = []
            host.subscribe(lambda e: seen_on.append(threading.current_thread().name), LIFECYCLE)
            async with host.event_stream(LIFECYCLE) as stream:
                guest = await asyncio.to_thread(host.create_guest, devframe.parse_domain(XML.format(name="aio")))
                first = await stream.get(10)
                await asyncio.to_thread(guest.destroy)
                await stream.get(10)
            await asyncio.sleep(0.1)
            impl = libvirtaio.getCurrentImpl()
            out = {"kind": event_loop_kind(), "event": type(first).__name__, "same_guest": first.guest is guest,
                   "loop": impl is not None and impl.loop is asyncio.get_running_loop(),
                   "threads": threads(), "seen_on": sorted(set(seen_on))}
            host.close()
            print(json.dumps(out))
        asyncio.run(main())
        """
    )
    assert result["kind"] == "libvirtaio" and result["loop"], result
    assert result["event"] == "LifecycleEvent" and result["same_guest"], result
    assert "devframe-libvirt-events" not in result["threads"], result  # no idle devframe thread
    assert result["seen_on"] == ["MainThread"], result  # subscribers called on the caller's loop
    assert "Ignoring attempt to replace registered event loop" not in stderr


def test_events_caused_by_another_thread_reach_the_asyncio_loop_at_once() -> None:
    """An agent's worker thread changes a domain while the loop only waits for the event:
    libvirt arms its event timer from that thread, and the loop must wake for it (plain
    libvirtaio sleeps until something else wakes the loop: here, the 8 s timeout)."""
    result, _stderr = _run(
        """
        import time
        async def main():
            host = Host("test:///default", events="asyncio")
            async with host.event_stream(LIFECYCLE) as stream:
                made = {}
                worker = threading.Thread(
                    target=lambda: made.update(guest=host.create_guest(devframe.parse_domain(XML.format(name="w"))))
                )
                start = time.monotonic()
                worker.start()
                event = await stream.get(8)
                waited = time.monotonic() - start
                await asyncio.to_thread(worker.join)
                await asyncio.to_thread(made["guest"].destroy)
            host.close()
            print(json.dumps({"event": type(event).__name__, "waited": waited}))
        asyncio.run(main())
        """
    )
    assert result["event"] == "LifecycleEvent" and result["waited"] < 4, result


def test_libvirtaio_registered_by_the_application_is_used_not_replaced() -> None:
    result, stderr = _run(
        """
        async def tick():
            while True:  # plain libvirtaio sleeps through timers armed from other threads
                await asyncio.sleep(0.05)
        async def main():
            libvirtaio.virEventRegisterAsyncIOImpl()
            ticker = asyncio.create_task(tick())
            host = Host("test:///default")  # the default mode: it must not register its own loop
            host.connection()
            waiter = host.waiter(LIFECYCLE)
            guest = await asyncio.to_thread(host.create_guest, devframe.parse_domain(XML.format(name="app-aio")))
            event = await asyncio.to_thread(waiter.wait, 10)
            await asyncio.to_thread(guest.destroy)
            out = {"kind": event_loop_kind(), "event": type(event).__name__, "threads": threads()}
            ticker.cancel()
            host.close()
            print(json.dumps(out))
        asyncio.run(main())
        """
    )
    assert result["kind"] == "libvirtaio" and result["event"] == "LifecycleEvent", result
    assert "devframe-libvirt-events" not in result["threads"], result
    assert "Ignoring attempt to replace registered event loop" not in stderr


def test_an_application_default_loop_is_used_and_asyncio_hosts_are_then_refused() -> None:
    result, stderr = _run(
        """
        libvirt.virEventRegisterDefaultImpl()
        def run():
            while True:
                libvirt.virEventRunDefaultImpl()
        threading.Thread(target=run, name="application-loop", daemon=True).start()
        host = Host("test:///default")
        with host.waiter(LIFECYCLE) as waiter:
            guest = host.create_guest(devframe.parse_domain(XML.format(name="app-default")))
            event = waiter.wait(10)
        guest.destroy()
        async def asyncio_host():
            try:
                Host("test:///default", events="asyncio").connection()
            except EventLoopError as exc:
                return str(exc)
            return None
        refused = asyncio.run(asyncio_host())
        print(json.dumps({"kind": event_loop_kind(), "event": type(event).__name__, "threads": threads(),
                          "refused": refused}))
        """
    )
    assert result["kind"] == "external" and result["event"] == "LifecycleEvent", result
    assert "devframe-libvirt-events" not in result["threads"], result
    assert result["refused"] and "one" in result["refused"], result
    assert "Ignoring attempt to replace registered event loop" not in stderr


def test_without_an_event_loop_devframe_runs_libvirts_default_in_one_thread() -> None:
    result, stderr = _run(
        """
        hosts = [Host("test:///default"), Host("test:///default")]
        for host in hosts:
            host.connection()
        print(json.dumps({"kind": event_loop_kind(), "threads": threads()}))
        """
    )
    assert result["kind"] == "thread" and result["threads"].count("devframe-libvirt-events") == 1, result
    assert "Ignoring attempt" not in stderr
