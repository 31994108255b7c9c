"""Issue 6 on a real libvirtd with the QEMU driver: TCG guests without a guest OS.

The session fixture ``libvirtd`` (tests/libvirt_host.py, through conftest.py) starts
virtlogd and libvirtd when they are not running (as the CI does) and fails loudly when
it cannot. Every guest is destroyed and undefined, even
when a test fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from devframe_drive.device import storage_layout
from libvirt_host import (
    LIBVIRTD,
    PREFIX,
    URI,
    WORK,
    disk_image,
    nic,
    run_command,
    start_libvirtd,
    stop_libvirtd,
    tiny_domain_xml,
)

import devframe
from devframe import DevframeError
from devframe.agent import (
    DEVICE_ADDED,
    DetachTimeoutError,
    Guest,
    GuestGoneError,
    Host,
    correlate,
)
from devframe.core.prepare import HostFacts, Resolvers, prepare_domain

pytestmark = pytest.mark.libvirtd


@pytest.fixture
def host(libvirtd: None) -> Iterator[Host]:
    h = Host(URI)
    yield h
    h.close()


@pytest.fixture
def guest(host: Host) -> Iterator[Guest]:
    g = host.create_guest(devframe.parse_domain(tiny_domain_xml(f"{PREFIX}{uuid.uuid4().hex[:8]}")))
    yield g
    _destroy_quietly(g)


def _destroy_quietly(guest: Guest) -> None:
    try:
        guest.destroy()
    except DevframeError:
        pass


# -- the engine-XML run flow --------------------------------------------------------------


def test_start_from_engine_xml_with_metadata_and_placeholders(host: Host) -> None:
    ids = {"domainID": "sd-1", "poolID": "pool-1", "imageID": "img-1", "volumeID": "vol-1"}
    volume = WORK / "pool-1" / "sd-1" / "images" / "img-1" / "vol-1"
    volume.parent.mkdir(parents=True, exist_ok=True)
    for part in (WORK / "pool-1", WORK / "pool-1" / "sd-1", WORK / "pool-1" / "sd-1" / "images", volume.parent):
        os.chmod(part, 0o755)
    volume.write_bytes(b"\0" * (1 << 20))
    meta = "".join(f"<ovirt-vm:{k}>{v}</ovirt-vm:{k}>" for k, v in ids.items())
    metadata = (
        "<metadata><ovirt-vm:vm><ovirt-vm:device devtype='disk' name='vda'>"
        f"{meta}</ovirt-vm:device></ovirt-vm:vm></metadata>"
    )
    sysinfo = (
        "<sysinfo type='smbios'><system><entry name='product'>OS-NAME:</entry>"
        "<entry name='serial'>HOST-SERIAL:</entry></system></sysinfo>"
    )
    devices = (
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='DRIVE-PATH:'/>"
        "<target dev='vda' bus='virtio'/><alias name='ua-0d15c000-0000-4000-8000-000000000001'/></disk>"
    )
    name = f"{PREFIX}engine-{uuid.uuid4().hex[:6]}"
    domain = devframe.parse_domain(tiny_domain_xml(name, devices=devices, metadata=metadata, extra=sysinfo))
    resolvers = Resolvers(storage_path=storage_layout(str(WORK)), host=host.host_facts())
    prepare_domain(domain, resolvers)
    guest = host.create_guest(domain)
    try:
        live = guest.domain()
        disk = live.dev_map["disk"][0]
        assert disk.element.find("source").get("file") == str(volume)
        assert disk.alias == "ua-0d15c000-0000-4000-8000-000000000001"
        assert disk.address["type"] == "pci"  # assigned by libvirt
        assert disk.metadata["volumeID"] == "vol-1"  # metadata bound from the live XML
        serial = live.root.find("sysinfo/system/entry[@name='serial']").text
        assert serial == host.host_facts().host_serial and "HOST-SERIAL" not in live.to_xml()
    finally:
        _destroy_quietly(guest)


# -- hotplug ---------------------------------------------------------------------------------


def test_hotplug_nic_and_disk_fill_the_same_objects_then_detach_times_out(guest: Guest) -> None:
    before = guest.domain()
    card = nic("52:54:00:aa:00:01")
    assert card.alias is None and card.address is None
    returned = guest.attach(card)
    assert returned is card
    assert card.alias.startswith("ua-") and card.device_id
    assert card.address["type"] == "pci" and card.address["slot"]
    image = disk_image("hot-vdb.img")
    drive = devframe.parse_domain(
        "<domain><devices><disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        f"<source file='{image}'/><target dev='vdb' bus='virtio'/></disk></devices></domain>"
    ).devices[0]
    guest.attach(drive)
    assert drive.alias.startswith("ua-") and drive.address["type"] == "pci"
    assert drive.address["slot"] != card.address["slot"]
    assert any(d is card for d in guest.dev_map["interface"]) and any(d is drive for d in guest.dev_map["disk"])

    # Monitoring: the live XML against what was known before the hotplug.
    live = guest.domain()
    assert live.devices_hash != before.devices_hash
    result = correlate(before, live)
    assert sorted(d.alias for d in result.added) == sorted([card.alias, drive.alias])
    assert not result.removed

    # No guest OS acknowledges the unplug: a clean timeout, the device still listed.
    start = time.monotonic()
    with pytest.raises(DetachTimeoutError, match=card.alias):
        guest.detach(card, timeout=1.5)
    assert 1.4 < time.monotonic() - start < 10
    assert any(d is card for d in guest.dev_map["interface"])
    assert guest.domain().find(alias=card.alias)
    assert card.alias in guest.inactive_xml()  # still in the persistent definition too


def test_device_added_events_reach_subscribers(host: Host, guest: Guest) -> None:
    card = nic("52:54:00:aa:00:02")
    with host.waiter(DEVICE_ADDED, uuid=guest.uuid) as waiter:
        guest.attach(card)
        event = waiter.wait(10)
    assert event is not None and event.alias == card.alias and event.domain == guest.name


def test_metadata_survives_a_round_trip_through_libvirt(guest: Guest) -> None:
    card = nic("52:54:00:aa:00:03")
    guest.attach(card)
    card.metadata["network"] = "ovirtmgmt"
    card.metadata["portMirroring"] = ["net1", "net2"]
    guest.save_metadata()
    for inactive in (False, True):
        again = guest.domain(inactive=inactive)
        found = again.find(alias=card.alias)
        assert found, inactive
        assert found[0].metadata["network"] == "ovirtmgmt"
        assert found[0].metadata["portMirroring"] == ["net1", "net2"]


def test_eight_threads_attach_to_one_guest(guest: Guest) -> None:
    cards = [nic(f"52:54:00:bb:00:{i:02x}") for i in range(8)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(card: devframe.Device) -> None:
        try:
            barrier.wait()
            guest.attach(card)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in cards]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    aliases = [c.alias for c in cards]
    assert len(set(aliases)) == 8 and all(a.startswith("ua-") for a in aliases)
    slots = {(c.address["bus"], c.address["slot"]) for c in cards}
    assert len(slots) == 8
    tracked = [d for d in guest.dev_map["interface"] if d in cards]
    assert len(tracked) == 8 and all(sum(d is c for d in tracked) == 1 for c in cards)
    live_aliases = [d.alias for d in guest.domain().dev_map["interface"]]
    assert sorted(a for a in live_aliases if a in aliases) == sorted(aliases)


# -- faults -----------------------------------------------------------------------------------


def test_operation_on_a_domain_destroyed_underneath(host: Host) -> None:
    name = f"{PREFIX}gone-{uuid.uuid4().hex[:6]}"
    guest = host.create_guest(devframe.parse_domain(tiny_domain_xml(name)), persistent=False)
    result = run_command("virsh", "-c", URI, "destroy", name)
    assert result.returncode == 0, result.stderr
    with pytest.raises(GuestGoneError, match=name) as info:
        guest.attach(nic("52:54:00:cc:00:01"))
    assert isinstance(info.value, DevframeError)
    with pytest.raises(GuestGoneError, match="no longer exists"):
        guest.domain()


def test_libvirtd_restart_mid_run(host: Host, guest: Guest) -> None:
    closed: list[str] = []
    host.on_close = lambda _host, reason: closed.append(reason)
    assert guest.name in {g.name for g in host.guests()}
    generation = host.generation
    stop_libvirtd()
    try:
        # The daemon comes back while the next call is already waiting for it.
        threading.Timer(1.0, lambda: run_command(*LIBVIRTD)).start()
        names = {g.name for g in host.guests()}
    finally:
        start_libvirtd()
    assert guest.name in names
    assert host.generation == generation + 1
    assert closed, "the close callback was not called"
    assert guest.is_active()  # the Guest found its domain again on the new connection
    card = guest.attach(nic("52:54:00:dd:00:01"))
    assert card.address["type"] == "pci"


def test_devices_hash_equal_across_two_processes(guest: Guest) -> None:
    guest.attach(nic("52:54:00:ee:00:01"))
    here = guest.domain().devices_hash
    code = (
        "import sys; from devframe.agent import Host\n"
        f"h = Host({URI!r}); print(h.guest({guest.uuid!r}).domain().devices_hash)"
    )
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert there.stdout.strip() == here and len(here) == 64


def test_several_hosts_in_one_process(host: Host, guest: Guest) -> None:
    with Host("test:///default") as other:
        assert other.facts(cpu_interval=0.01)["hypervisor"] == "TEST"
        assert host.facts(cpu_interval=0.05)["hypervisor"] == "QEMU"
        assert guest.name in {g.name for g in host.guests(running=True)}
        assert guest.name not in {g.name for g in other.guests()}


# -- CLI ---------------------------------------------------------------------------------------


def test_monitor_prints_hotplug_as_it_happens(host: Host) -> None:
    cmd = [
        sys.executable,
        "-m",
        "devframe.cli",
        "monitor",
        "--uri",
        URI,
        "--uri",
        "test:///default",
        "--json",
        "--duration",
        "30",
        "--interval",
        "1",
    ]
    if not (Path(devframe.__file__).parent / "cli" / "__main__.py").exists():
        cmd = [str(Path(sys.executable).parent / "devframe"), *cmd[3:]]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    records: list[dict[str, Any]] = []
    guest = None
    try:
        assert proc.stdout is not None
        watching = set()
        while len(watching) < 2:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "monitor exited"
            record = json.loads(line)
            records.append(record)
            if record["type"] == "watching":
                watching.add(record["uri"])
        guest = host.create_guest(devframe.parse_domain(tiny_domain_xml(f"{PREFIX}mon-{uuid.uuid4().hex[:6]}")))
        card = guest.attach(nic("52:54:00:ff:00:01"))
        deadline = time.monotonic() + 20
        seen_event = seen_change = False
        while time.monotonic() < deadline and not (seen_event and seen_change):
            line = proc.stdout.readline()
            if not line:
                break
            record = json.loads(line)
            records.append(record)
            if record["type"] == "event" and record["kind"] == DEVICE_ADDED and record["alias"] == card.alias:
                seen_event = True
            if record["type"] == "devices" and any(d["alias"] == card.alias for d in record["added"]):
                seen_change = True
        assert seen_event and seen_change, records
    finally:
        proc.terminate()
        proc.wait(10)
        if guest is not None:
            _destroy_quietly(guest)


def test_cli_run_on_qemu(libvirtd: None, tmp_path: Path) -> None:
    name = f"{PREFIX}cli-{uuid.uuid4().hex[:6]}"
    xml = tmp_path / "d.xml"
    xml.write_text(
        tiny_domain_xml(
            name,
            devices="<interface type='user'><mac address='52:54:00:12:00:01'/>"
            "<model type='virtio'/><alias name='ua-cafe'/></interface>",
        )
    )
    exe = str(Path(sys.executable).parent / "devframe")
    try:
        result = subprocess.run(
            [exe, "run", str(xml), "--uri", URI, "--json"], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout)
        nics = out["dev_map"]["interface"]
        assert nics[0]["alias"] == "ua-cafe" and nics[0]["address"]["type"] == "pci"
        assert out["domain"] == name
    finally:
        with Host(URI) as h:
            _destroy_quietly(h.guest(name))


def test_host_facts_on_qemu(host: Host) -> None:
    facts = host.facts(cpu_interval=0.05)
    assert facts["hypervisor"] == "QEMU" and facts["memory_total"] > facts["memory_used"] > 0
    assert facts["cpu_usage"] is None or 0.0 <= facts["cpu_usage"] <= 1.0
    assert not facts["unavailable"] or set(facts["unavailable"]) <= {"cpu_usage"}
    assert isinstance(host.host_facts(), HostFacts)


# -- typed hotplug of issue 14's kinds -------------------------------------------------------


def test_usb_tablet_attach_then_detach_completes(guest: Guest) -> None:
    """A USB device needs no guest cooperation to unplug: the detach completes, and the
    typed object is filled by libvirt and then gone from the tracked devices."""
    tablet = devframe.device_from_spec({"type": "input", "device": "tablet", "specParams": {"bus": "usb"}})
    assert type(tablet).__name__ == "Input"
    guest.attach(tablet)
    assert tablet.alias and tablet.alias.startswith("ua-")
    assert tablet.address is not None and tablet.address["type"] == "usb"
    live = guest.domain().find_device(tablet)
    assert live is not None and type(live).__name__ == "Input" and live.to_spec()["device"] == "tablet"
    guest.detach(tablet, timeout=15)
    assert not any(d is tablet for d in guest.dev_map.get_list("input"))
    assert guest.domain().find(alias=tablet.alias) == []


def test_virtio_rng_attach_fills_the_typed_object(guest: Guest) -> None:
    rng = devframe.device_from_spec({"type": "rng", "device": "virtio", "specParams": {"source": "urandom"}})
    assert type(rng).__name__ == "Rng"
    guest.attach(rng)
    assert rng.alias and rng.address is not None and rng.address["type"] == "pci"
    live = guest.domain().find_device(rng)
    assert live is not None and type(live).__name__ == "Rng"
    assert live.to_spec()["specParams"]["source"] == "urandom"
    assert any(d is rng for d in guest.dev_map["rng"])
