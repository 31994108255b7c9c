"""Issue 17 on a real libvirtd with QEMU TCG guests: live device updates through dev_specs,
typed device events, per-device statistics, detach with retries, asyncio on libvirtaio.

Every update goes through the public API the way an engine drives it::

    spec = device.to_spec(); spec[...] = ...; guest.update(devframe.device_from_spec(spec))

and is checked in libvirt's live XML (or its API: block I/O limits, block info, the
password in the secure XML), with the Guest's dev_map equal to libvirt's XML afterwards.
The session fixture ``libvirtd`` (tests/libvirt_host.py) starts the daemons; the test
bridges and the qcow2 image are made here and removed again.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from libvirt_host import PREFIX, URI, WORK, disk_image, run_command, tiny_domain_xml
from structlog.testing import capture_logs

import devframe
from devframe import DevframeError, Device
from devframe.agent import (
    DEVICE_ADDED,
    DEVICE_REMOVED,
    TRAY_CHANGE,
    AgentError,
    BalloonStats,
    BlockStats,
    DetachTimeoutError,
    DeviceRemovedEvent,
    Event,
    Guest,
    Host,
    InterfaceStats,
    TrayChangeEvent,
    UpdatePlan,
    UpdateRefusedError,
)

pytestmark = pytest.mark.libvirtd

PASSWORD = "Zq7-wX2k"  # VNC passwords are at most 8 characters
MiB = 1 << 20


@pytest.fixture
def host(libvirtd: None) -> Iterator[Host]:
    h = Host(URI)
    yield h
    h.close()


@pytest.fixture
def bridges() -> Iterator[tuple[str, str]]:
    """Two Linux bridges for NICs of type bridge (their taps give interface statistics)."""
    names = tuple(f"dflbr{uuid.uuid4().hex[:6]}" for _ in range(2))
    try:
        for name in names:
            for cmd in (("ip", "link", "add", name, "type", "bridge"), ("ip", "link", "set", name, "up")):
                result = run_command(*cmd)
                if result.returncode:
                    pytest.fail(f"cannot make test bridge {name}: {result.stderr.strip()}")
        yield names  # type: ignore[misc]
    finally:
        for name in names:
            run_command("ip", "link", "del", name)


def qcow2_image(name: str, size: int) -> Path:
    if shutil.which("qemu-img") is None:
        pytest.fail("qemu-img is not installed (Debian: qemu-utils; scripts/bootstrap installs it)")
    path = WORK / name
    result = run_command("qemu-img", "create", "-q", "-f", "qcow2", str(path), str(size))
    assert result.returncode == 0, result.stderr
    path.chmod(0o644)
    return path


@dataclass
class Env:
    host: Host
    guest: Guest
    image: Path
    iso: Path
    bridges: tuple[str, str]

    def device(self, dev_type: str, match: Callable[[Device], bool] = lambda _d: True) -> Any:
        """The dev_map's one device of that type (Any: each kind has its own fields)."""
        found = [d for d in self.guest.dev_map[dev_type] if match(d)]
        assert len(found) == 1, found
        return found[0]

    @property
    def cdrom(self) -> Any:
        return self.device("disk", lambda d: d.element.get("device") == "cdrom")

    @property
    def vda(self) -> Any:
        return self.device("disk", lambda d: d.element.get("device") == "disk")


def _alias() -> str:
    return f"ua-{uuid.uuid4()}"


@pytest.fixture
def env(host: Host, bridges: tuple[str, str]) -> Iterator[Env]:
    tag = uuid.uuid4().hex[:8]
    image = qcow2_image(f"live-{tag}.qcow2", 16 * MiB)
    iso = disk_image(f"live-{tag}.iso", MiB)
    iso.chmod(0o644)
    devices = f"""
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><target dev='hdc' bus='ide'/><readonly/>
      <alias name='{_alias()}'/></disk>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='{image}'/>
      <target dev='vda' bus='virtio'/><alias name='{_alias()}'/></disk>
    <interface type='bridge'><mac address='52:54:00:17:00:01'/><source bridge='{bridges[0]}'/>
      <model type='virtio'/><alias name='{_alias()}'/></interface>
    <interface type='user'><mac address='52:54:00:17:00:02'/><model type='virtio'/>
      <alias name='{_alias()}'/></interface>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1' passwd='expired1' passwdValidTo='1970-01-01T00:00:01'/>
    """
    domain = devframe.parse_domain(tiny_domain_xml(f"{PREFIX}live-{tag}", devices=devices))
    guest = host.create_guest(domain)
    try:
        yield Env(host, guest, image, iso, bridges)
    finally:
        _destroy_quietly(guest)
        image.unlink(missing_ok=True)
        iso.unlink(missing_ok=True)


def _destroy_quietly(guest: Guest) -> None:
    try:
        guest.destroy()
    except DevframeError:
        pass


def _libvirt_domain(guest: Guest) -> Any:
    """The domain through libvirt-python directly: what the test checks against."""
    import libvirt

    return libvirt.open(URI).lookupByUUIDString(guest.uuid)


def _found(guest: Guest, device: Device, *, inactive: bool = False) -> Any:
    """libvirt's device (live, or in the definition) that is ``device``, read now."""
    found = guest.domain(inactive=inactive).find_device(device)
    assert found is not None, device
    return found


def _attr(device: Device, path: str) -> str | None:
    """The attribute ``child@name`` of the device's element (None when absent)."""
    child, _, name = path.partition("@")
    element = device.element.find(child)
    return None if element is None else element.get(name)


def _in_step(guest: Guest) -> None:
    """The Guest's dev_map is exactly libvirt's live XML."""
    assert guest.tracked.devices_hash == guest.domain().devices_hash


def _edited(device: Device, **changes: Any) -> Device:
    spec = device.to_spec()
    for key, value in changes.items():
        if key.startswith("specParams_"):
            spec.setdefault("specParams", {})[key.removeprefix("specParams_")] = value
        else:
            spec[key] = value
    return devframe.device_from_spec(spec)


def _wait_for(events: list[Event], predicate: Callable[[Event], bool], timeout: float = 10) -> Event:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in list(events):
            if predicate(event):
                return event
        time.sleep(0.05)
    raise AssertionError(f"no matching event in {timeout}s; got {[e.kind for e in events]}")


# -- updates --------------------------------------------------------------------------------


def test_cd_insert_then_eject_through_specs_with_tray_events(env: Env) -> None:
    guest, cdrom = env.guest, env.cdrom
    events: list[Event] = []
    guest.subscribe(events.append, TRAY_CHANGE)

    inserted = guest.update(_edited(cdrom, path=str(env.iso)))
    assert inserted is cdrom  # the dev_map keeps its object: events and stats keep naming it
    assert _attr(_found(guest, cdrom), "source@file") == str(env.iso)
    assert _attr(_found(guest, cdrom, inactive=True), "source@file") == str(env.iso)  # the definition too
    assert _attr(cdrom, "source@file") == str(env.iso)
    _in_step(guest)

    events.clear()
    ejected = guest.update(_edited(cdrom, path=""))
    assert ejected is cdrom and _attr(ejected, "source@file") is None
    assert _attr(_found(guest, cdrom), "source@file") is None
    assert _found(guest, cdrom, inactive=True).element.find("source") is None
    _in_step(guest)
    tray = _wait_for(events, lambda e: isinstance(e, TrayChangeEvent) and e.reason == "open")
    assert isinstance(tray, TrayChangeEvent) and tray.alias == cdrom.alias
    assert tray.guest is guest and tray.device is cdrom
    assert json.loads(json.dumps(tray.as_dict()))["device"]["dev_type"] == "disk"


def test_nic_link_down_then_up(env: Env) -> None:
    guest = env.guest
    nic = env.device("interface", lambda d: d.element.get("type") == "user")
    down: Any = guest.update(_edited(nic, linkActive=False))
    assert down is nic
    assert _attr(_found(guest, nic), "link@state") == "down"
    assert _attr(_found(guest, nic, inactive=True), "link@state") == "down"
    assert nic.link_active is False
    _in_step(guest)
    guest.update(_edited(nic, linkActive=True))
    assert _attr(_found(guest, nic), "link@state") == "up"
    assert nic.link_active is True
    _in_step(guest)
    # The dev_map's own object, edited in place, works as well.
    nic.link_active = False
    assert guest.update(nic) is nic and _attr(_found(guest, nic), "link@state") == "down"
    _in_step(guest)


def test_nic_moves_to_another_bridge(env: Env) -> None:
    guest = env.guest
    nic = env.device("interface", lambda d: d.element.get("type") == "bridge")
    guest.update(_edited(nic, network=env.bridges[1]))
    live = _found(guest, nic)
    assert _attr(live, "source@bridge") == env.bridges[1]
    tap = _attr(live, "target@dev")
    assert Path(f"/sys/class/net/{tap}/master").resolve().name == env.bridges[1]  # the tap really moved
    assert nic.metadata["network"] == env.bridges[1]  # the engine's network name, saved with the device
    assert _found(guest, nic).metadata["network"] == env.bridges[1]
    _in_step(guest)


def test_graphics_password_with_a_validity_time_never_shown(env: Env) -> None:
    guest = env.guest
    graphics = env.device("graphics")
    spec = graphics.to_spec()
    spec["passwd"] = PASSWORD
    spec["specParams"]["passwdValidTo"] = "2035-01-01T00:00:00"
    with capture_logs() as logs:
        plan = guest.update(devframe.device_from_spec(spec), dry_run=True)
        updated: Any = guest.update(devframe.device_from_spec(spec))
    import libvirt

    secure = _libvirt_domain(guest).XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE)
    assert f"passwd='{PASSWORD}'" in secure and "passwdValidTo='2035-01-01T00:00:00'" in secure
    assert "passwdValidTo='2035-01-01T00:00:00'" in guest.xml() and PASSWORD not in guest.xml()
    assert updated.passwd_valid_to == "2035-01-01T00:00:00" and updated.passwd is None
    _in_step(guest)
    # Another live change keeps the password libvirt has.
    again = updated.to_spec()
    again["specParams"]["passwdValidTo"] = "2036-01-01T00:00:00"
    guest.update(devframe.device_from_spec(again))
    secure = _libvirt_domain(guest).XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE)
    assert f"passwd='{PASSWORD}'" in secure and "2036-01-01T00:00:00" in secure
    # A password libvirt refuses: its error does not carry it either.
    spec["passwd"] = PASSWORD + "9"
    with pytest.raises(AgentError) as info:
        guest.update(devframe.device_from_spec(spec))
    shown = [str(plan), repr(plan), json.dumps(plan.as_dict()), str(info.value), repr(info.value)]
    shown += [json.dumps(entry, default=str) for entry in logs]
    shown += [guest.tracked.to_xml(), repr(updated), json.dumps(updated.summary(), default=str)]
    assert not [text for text in shown if PASSWORD in text]
    assert "passwd: (none) -> '***'" in str(plan)


def test_disk_iotune_set_then_lifted(env: Env) -> None:
    guest, vda = env.guest, env.vda
    guest.update(_edited(vda, specParams_ioTune={"total_bytes_sec": 2_000_000, "write_iops_sec": 50}))
    tune = _libvirt_domain(guest).blockIoTune("vda", 0)
    assert tune["total_bytes_sec"] == 2_000_000 and tune["write_iops_sec"] == 50
    assert _found(guest, vda).element.findtext("iotune/total_bytes_sec") == "2000000"
    assert _found(guest, vda, inactive=True).element.findtext("iotune/write_iops_sec") == "50"
    assert vda.iotune.total_bytes_sec == 2_000_000
    _in_step(guest)
    guest.update(_edited(vda, specParams_ioTune={}))
    tune = _libvirt_domain(guest).blockIoTune("vda", 0)
    assert tune["total_bytes_sec"] == 0 and tune["write_iops_sec"] == 0
    assert vda.element.find("iotune") is None
    _in_step(guest)


def test_disk_resize_of_a_qcow2_image(env: Env) -> None:
    guest, vda = env.guest, env.vda
    plan = guest.resize_disk(vda, 48 * MiB, dry_run=True)
    assert isinstance(plan, UpdatePlan) and "block-resize (live) disk vda to 50331648 bytes" in str(plan)
    assert _libvirt_domain(guest).blockInfo("vda")[0] == 16 * MiB  # a dry run changes nothing
    assert guest.resize_disk(vda, 48 * MiB) is vda
    assert _libvirt_domain(guest).blockInfo("vda")[0] == 48 * MiB
    info = run_command("qemu-img", "info", "-U", "--output=json", str(env.image))
    assert json.loads(info.stdout)["virtual-size"] == 48 * MiB  # the image file itself grew
    (stats,) = env.host.device_stats([guest])
    block = stats[vda]
    assert isinstance(block, BlockStats) and block.capacity == 48 * MiB
    _in_step(guest)


def test_a_refused_live_change_leaves_the_guest_untouched(env: Env) -> None:
    guest = env.guest
    nic = env.device("interface", lambda d: d.element.get("type") == "user")
    before, before_config = guest.xml(), guest.inactive_xml()
    with pytest.raises(UpdateRefusedError) as info:
        guest.update(_edited(nic, nicModel="e1000", linkActive=False))
    assert info.value.fields == ("model",) and "nicModel" in str(info.value) and nic.alias in str(info.value)
    with pytest.raises(UpdateRefusedError, match="source_file"):
        guest.update(_edited(env.vda, path=str(env.iso)))  # a hard disk's source: not live
    assert guest.xml() == before and guest.inactive_xml() == before_config
    assert nic.link_active is None
    _in_step(guest)
    # Refused after an edit of the dev_map's own object: the object gets libvirt's values back.
    nic.model = "e1000"
    with pytest.raises(UpdateRefusedError, match="model"):
        guest.update(nic)
    assert guest.xml() == before
    assert env.device("interface", lambda d: d.element.get("type") == "user") is nic and nic.model == "virtio"
    _in_step(guest)


def test_the_dev_map_follows_changes_made_by_another_client(env: Env) -> None:
    guest = env.guest
    _ = guest.dev_map  # tracked from here on
    alias = _alias()
    events: list[Event] = []
    guest.subscribe(events.append, (DEVICE_ADDED, DEVICE_REMOVED))
    other = _libvirt_domain(guest)  # another libvirt client
    import libvirt

    other.attachDeviceFlags(
        f"<input type='tablet' bus='usb'><alias name='{alias}'/></input>", libvirt.VIR_DOMAIN_AFFECT_LIVE
    )
    _wait_for(events, lambda e: e.kind == DEVICE_ADDED and e.alias == alias)
    (tablet,) = [d for d in guest.dev_map["input"] if d.alias == alias]
    _in_step(guest)
    other.detachDeviceAlias(alias, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    removed = _wait_for(events, lambda e: e.kind == DEVICE_REMOVED and e.alias == alias)
    assert removed.device is tablet  # named by the object the dev_map had
    assert not [d for d in guest.dev_map["input"] if d.alias == alias]
    _in_step(guest)


def test_an_update_failing_half_way_leaves_the_dev_map_equal_to_libvirt(env: Env) -> None:
    guest, cdrom = env.guest, env.cdrom
    spec = cdrom.to_spec()
    spec["path"] = str(env.iso)
    # libvirt takes the medium, then refuses these limits together (total with read).
    spec["specParams"]["ioTune"] = {"total_bytes_sec": 1000, "read_bytes_sec": 10}
    plan = guest.update(devframe.device_from_spec(spec), dry_run=True)
    assert [step.operation for step in plan.steps] == ["update-device", "update-device", "set-block-iotune"]
    with pytest.raises(AgentError, match="set-block-iotune"):
        guest.update(devframe.device_from_spec(spec))
    assert _attr(_found(guest, cdrom), "source@file") == str(env.iso)  # the first steps were made
    assert env.cdrom is cdrom and _attr(cdrom, "source@file") == str(env.iso)  # and the dev_map follows
    _in_step(guest)


# -- detach ---------------------------------------------------------------------------------


def test_usb_detach_completes_with_a_typed_device_removed_event(env: Env) -> None:
    guest = env.guest
    tablet = devframe.device_from_spec({"type": "input", "device": "tablet", "specParams": {"bus": "usb"}})
    guest.attach(tablet)
    events: list[Event] = []
    guest.subscribe(events.append, DEVICE_REMOVED)
    guest.detach(tablet, timeout=10, attempts=3)
    removed = _wait_for(events, lambda e: e.alias == tablet.alias)
    assert isinstance(removed, DeviceRemovedEvent) and removed.guest is guest and removed.device is tablet
    assert removed.as_dict()["device"]["dev_type"] == "input"
    assert guest.domain().find(alias=tablet.alias) == [] and not any(d is tablet for d in guest.dev_map["input"])
    _in_step(guest)


def test_detach_is_requested_again_until_its_bound(env: Env) -> None:
    guest = env.guest
    card = guest.attach(
        devframe.device_from_spec({"type": "interface", "device": "user", "macAddr": "52:54:00:17:00:09"})
    )
    start = time.monotonic()
    with capture_logs() as logs, pytest.raises(DetachTimeoutError, match=r"3 requests, 1\.0s each") as info:
        guest.detach(card, timeout=1.0, attempts=3)  # no guest OS: a PCI unplug is never acknowledged
    assert 2.9 < time.monotonic() - start < 20
    assert [e["attempt"] for e in logs if e["event"] == "detach requested again"] == [2, 3]
    assert card.alias is not None and card.alias in str(info.value)
    assert any(d is card for d in guest.dev_map["interface"]) and guest.domain().find(alias=card.alias)


# -- statistics -----------------------------------------------------------------------------


def test_stats_for_two_guests_from_one_poll(env: Env, host: Host) -> None:
    other_image = disk_image(f"live-other-{uuid.uuid4().hex[:6]}.img", 3 * MiB)
    other = host.create_guest(
        devframe.parse_domain(
            tiny_domain_xml(
                f"{PREFIX}stats-{uuid.uuid4().hex[:6]}",
                devices=f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                f"<source file='{other_image}'/><target dev='vdb' bus='virtio'/></disk>"
                f"<interface type='bridge'><source bridge='{env.bridges[0]}'/><model type='virtio'/></interface>",
            )
        )
    )
    try:
        host.device_stats()  # the first poll reads each guest's devices once
        operations: list[str] = []
        call = host.call

        def counting(operation: str, fn: Any, **kwargs: Any) -> Any:
            operations.append(operation)
            return call(operation, fn, **kwargs)

        host.call = counting  # type: ignore[method-assign]
        try:
            polled = {stats.guest.uuid: stats for stats in host.device_stats()}
        finally:
            del host.call
        assert operations == ["get all domain stats"]  # one libvirt call for every guest
        assert {env.guest.uuid, other.uuid} <= set(polled)

        mine = polled[env.guest.uuid]
        assert mine.guest is env.guest
        vda = mine[env.vda]
        assert isinstance(vda, BlockStats) and vda.name == "vda" and vda.capacity == 16 * MiB
        assert vda.rd_reqs is not None and vda.rd_bytes is not None and vda.physical and vda.allocation is not None
        nic = env.device("interface", lambda d: d.element.get("type") == "bridge")
        net = mine[nic]
        assert isinstance(net, InterfaceStats) and net.name == _attr(nic, "target@dev")
        assert None not in (net.rx_bytes, net.rx_packets, net.rx_errors, net.rx_drops, net.tx_bytes, net.tx_drops)
        balloon = mine[env.device("memballoon")]
        assert isinstance(balloon, BalloonStats) and balloon.current == 65536 and balloon.maximum == 65536

        theirs = polled[other.uuid]
        (vdb,) = other.dev_map["disk"]
        other_disk = theirs[vdb]
        assert isinstance(other_disk, BlockStats) and other_disk.capacity == 3 * MiB and theirs.guest is other
        assert isinstance(theirs[other.dev_map["interface"][0]], InterfaceStats)
        assert not theirs.unmatched
    finally:
        _destroy_quietly(other)
        other_image.unlink(missing_ok=True)


# -- the monitor and asyncio ------------------------------------------------------------------


def test_monitor_prints_typed_events_naming_the_device(env: Env) -> None:
    cmd = [str(Path(sys.executable).parent / "devframe"), "monitor", "--uri", URI, "--json", "--duration", "40"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    records: list[dict[str, Any]] = []
    try:
        assert proc.stdout is not None
        while not any(r["type"] == "guest" and r["uuid"] == env.guest.uuid for r in records):
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "monitor exited"
            records.append(json.loads(line))
        env.guest.update(_edited(env.cdrom, path=str(env.iso)))
        deadline = time.monotonic() + 20
        tray = None
        while tray is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            record = json.loads(line)
            records.append(record)
            if record["type"] == "event" and record["kind"] == TRAY_CHANGE:
                tray = record
        assert tray is not None, records
        assert tray["detail"]["reason"] in ("open", "close") and tray["alias"] == env.cdrom.alias
        assert tray["device"]["dev_type"] == "disk" and tray["device"]["identity"]["name"] == "hdc"
    finally:
        proc.terminate()
        proc.wait(10)


ASYNCIO_SCRIPT = """
import asyncio, json, sys, threading, uuid
sys.path.insert(0, {tests!r})
import devframe
from devframe.agent import DEVICE_REMOVED, Host, event_loop_kind
from libvirt_host import tiny_domain_xml

async def main():
    host = Host({uri!r}, events="asyncio")
    host.connection()
    async with host.event_stream(DEVICE_REMOVED) as removed:
        domain = devframe.parse_domain(tiny_domain_xml({name!r}))
        guest = await asyncio.to_thread(host.create_guest, domain)
        try:
            tablet = devframe.device_from_spec({{"type": "input", "device": "tablet", "specParams": {{"bus": "usb"}}}})
            await asyncio.to_thread(guest.attach, tablet)
            await asyncio.to_thread(guest.detach, tablet, 15)
            event = await removed.get(15)
        finally:
            await asyncio.to_thread(guest.destroy)
    out = {{"kind": event_loop_kind(), "event": type(event).__name__, "alias_ok": event.alias == tablet.alias,
           "device_ok": event.device is tablet, "guest_ok": event.guest is guest,
           "threads": sorted(t.name for t in threading.enumerate())}}
    host.close()
    print(json.dumps(out))

asyncio.run(main())
"""


def test_asyncio_host_on_libvirtaio_with_real_qemu(libvirtd: None) -> None:
    name = f"{PREFIX}aio-{uuid.uuid4().hex[:6]}"
    code = textwrap.dedent(ASYNCIO_SCRIPT).format(tests=str(Path(__file__).parent), uri=URI, name=name)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["kind"] == "libvirtaio" and result["event"] == "DeviceRemovedEvent", result
    assert result["alias_ok"] and result["device_ok"] and result["guest_ok"], result
    assert "devframe-libvirt-events" not in result["threads"], result
    assert "Ignoring attempt to replace registered event loop" not in done.stderr
