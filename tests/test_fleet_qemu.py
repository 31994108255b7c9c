"""Issue 18's acceptance on real QEMU: a NIC hot-plugged into a guest of a monitored host
appears as a CloudEvent in the stream and in ``devframe fleet --json`` within seconds.

Needs the libvirtd of tests/libvirt_host.py (root, the QEMU driver; marked ``libvirtd``)
and a real nats-server (tests/nats_server.py). The guest is a TCG guest without an OS:
the attach needs no guest cooperation, and the guest is destroyed at the end.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from libvirt_host import PREFIX, URI, nic, tiny_domain_xml
from nats_server import NatsServer

import devframe
from devframe import DevframeError
from devframe.agent import Host
from devframe.cli import main as cli_main
from devframe.fleet import ADDED, FleetAgent, FleetView, MemorySink
from devframe.fleet.jetstream import NatsFleetReader, NatsSink

pytestmark = pytest.mark.libvirtd


@pytest.fixture
def server(tmp_path: Path) -> Iterator[NatsServer]:
    srv = NatsServer(tmp_path / "nats")
    srv.start()
    yield srv
    srv.stop()


def test_a_hotplugged_nic_reaches_the_stream_and_the_fleet_view(
    libvirtd: None, server: NatsServer, tmp_path: Path
) -> None:
    host = Host(URI)
    record = MemorySink()
    sink = NatsSink(server.url, spool_dir=tmp_path / "spool")
    agent = FleetAgent([host], [sink, record], interval=2.0)
    guest = host.create_guest(devframe.parse_domain(tiny_domain_xml(f"{PREFIX}fleet-{uuid.uuid4().hex[:6]}")))
    runner = threading.Thread(target=agent.run, daemon=True)
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while not any(e["data"].get("uuid") == guest.uuid for e in record.events):
            assert time.monotonic() < deadline, "the agent never listed the guest"
            time.sleep(0.1)
        card = nic("52:54:00:f1:ee:18")
        plugged = time.monotonic()
        guest.attach(card)
        view = FleetView(devframe.create_registry())
        reader = NatsFleetReader(server.url, view, durable="qemu-acceptance")
        found = None
        while found is None:
            assert time.monotonic() - plugged < 10, "the hot-plugged NIC did not reach the fleet view in 10 s"
            reader.catch_up(10)
            try:
                devices = view.devices(guest.uuid)
            except DevframeError:
                devices = []  # the guest's first listing is not in the stream yet
            found = next((d for d in devices if d["spec"].get("macAddr") == "52:54:00:f1:ee:18"), None)
            time.sleep(0.2)
        assert found["alias"] == card.alias and found["dev_type"] == "interface"
        added = [
            e
            for e in record.events
            if e["type"] == ADDED and e["data"]["uuid"] == guest.uuid and e["data"]["alias"] == card.alias
        ]
        assert len(added) == 1 and added[0]["subject"] == f"{guest.uuid}/{card.device_id}"
        result = CliRunner().invoke(cli_main, ["fleet", "--nats", server.url, "--vm", guest.uuid, "--json"])
        assert result.exit_code == 0, result.output
        assert card.alias in [d["alias"] for d in json.loads(result.output)["devices"]]
    finally:
        agent.stop()
        runner.join(10)
        agent.close()
        try:
            guest.destroy()
        except DevframeError:
            pass
        host.close()
