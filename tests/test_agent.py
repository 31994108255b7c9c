"""Issue 6 on libvirt's test driver (in process, no daemon): prepare, correlate, Host,
Guest basics, events, the run and monitor commands. Real QEMU: test_agent_qemu.py."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from devframe_drive.device import storage_layout
from structlog.testing import capture_logs

import devframe
from devframe import DevframeError, Device, DeviceTypeRegister, hookimpl
from devframe.agent import (
    LIFECYCLE,
    GuestGoneError,
    Host,
    HostUnavailableError,
    KnownDevices,
    correlate,
    host_resolvers,
)
from devframe.cli import main as cli_main
from devframe.core.prepare import (
    HostFacts,
    PlaceholderError,
    Resolvers,
    UnresolvedPlaceholderError,
    prepare_domain,
)

pytest.importorskip("libvirt")  # the agent extra; the CI installs it (a missing one fails the qemu suite)

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "engine-domain.xml"
OVIRT = "http://ovirt.org/vm/1.0"

IDS = {"domainID": "sd1", "poolID": "pool1", "imageID": "img1", "volumeID": "vol1"}


def engine_xml(*, name: str = "prep", disk_source: str = "DRIVE-PATH:", extra_devices: str = "") -> str:
    meta = "".join(f"<ovirt-vm:{k}>{v}</ovirt-vm:{k}>" for k, v in IDS.items())
    return f"""<domain type='test' xmlns:ovirt-vm='{OVIRT}'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <metadata><ovirt-vm:vm><ovirt-vm:device devtype='disk' name='vda'>{meta}</ovirt-vm:device></ovirt-vm:vm></metadata>
  <sysinfo type='smbios'><system>
    <entry name='product'>OS-NAME:</entry><entry name='version'>OS-VERSION:</entry>
    <entry name='serial'>HOST-SERIAL:</entry></system></sysinfo>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'><source file='{disk_source}'/><target dev='vda' bus='virtio'/>
      <alias name='ua-d1'/></disk>
    {extra_devices}
  </devices>
</domain>"""


FACTS = HostFacts(os_name="TestOS", os_version="9.1", host_serial="SER-1")


# -- prepare ---------------------------------------------------------------------------


def test_prepare_resolves_drive_path_from_metadata_and_sysinfo_and_logs_each() -> None:
    domain = devframe.parse_domain(engine_xml())
    assert domain.dev_map["disk"][0].metadata["imageID"] == "img1"
    with capture_logs() as logs:
        prepare_domain(domain, Resolvers(storage_path=storage_layout("/st"), host=FACTS))
    xml = domain.to_xml()
    assert "/st/pool1/sd1/images/img1/vol1" in xml
    assert ">TestOS<" in xml and ">9.1<" in xml and ">SER-1<" in xml
    assert "DRIVE-PATH:" not in xml and "OS-NAME:" not in xml
    resolved = [e for e in logs if e["event"] == "placeholder resolved"]
    assert {e["placeholder"] for e in resolved} == {"DRIVE-PATH:", "OS-NAME:", "OS-VERSION:", "HOST-SERIAL:"}
    disk_log = next(e for e in resolved if e["placeholder"] == "DRIVE-PATH:")
    assert disk_log["dev_type"] == "disk" and disk_log["alias"] == "ua-d1"


def test_prepare_explicit_values_override_resolvers() -> None:
    domain = devframe.parse_domain(engine_xml())
    prepare_domain(domain, Resolvers(storage_path=storage_layout("/st"), host=FACTS, values={"vda": "/given/vda.img"}))
    assert domain.dev_map["disk"][0].element.find("source").get("file") == "/given/vda.img"


def test_prepare_lease_and_payload() -> None:
    extra = (
        "<lease><lockspace>sd1</lockspace><key>lease1</key>"
        "<target path='LEASE-PATH:lease1:sd1' offset='LEASE-OFFSET:lease1:sd1'/></lease>"
        "<disk type='file' device='cdrom'><source file='PAYLOAD:'/><target dev='hdc' bus='ide'/></disk>"
    )
    domain = devframe.parse_domain(engine_xml(extra_devices=extra))
    calls: list[tuple[str, str]] = []

    def lease(lease_id: str, sd_id: str) -> tuple[str, int]:
        calls.append((lease_id, sd_id))
        return f"/leases/{sd_id}/xleases", 3145728

    def payload(device: Device, metadata: Any) -> str:
        return f"/payload/{device.element.find('target').get('dev')}.iso"

    prepare_domain(domain, Resolvers(storage_path=storage_layout("/st"), lease=lease, payload=payload, host=FACTS))
    target = domain.root.find("devices/lease/target")
    assert target.get("path") == "/leases/sd1/xleases" and target.get("offset") == "3145728"
    assert calls == [("lease1", "sd1"), ("lease1", "sd1")]
    assert domain.dev_map["disk"][1].element.find("source").get("file") == "/payload/hdc.iso"


def test_prepare_unresolved_placeholder_names_device_and_placeholder() -> None:
    extra = (
        "<interface type='bridge'><mac address='52:54:00:00:00:09'/><source bridge='NET-BRIDGE:ovirtmgmt'/></interface>"
    )
    domain = devframe.parse_domain(engine_xml(extra_devices=extra))
    with pytest.raises(UnresolvedPlaceholderError) as info:
        prepare_domain(domain, Resolvers(storage_path=storage_layout("/st"), host=FACTS))
    message = str(info.value)
    assert "NET-BRIDGE:ovirtmgmt" in message and "interface" in message and "'prep'" in message


def test_prepare_without_storage_ids_or_resolver_is_a_clear_error() -> None:
    xml = engine_xml().replace("<metadata>", "<metadata><!--").replace("</metadata>", "--></metadata>")
    domain = devframe.parse_domain(xml)
    with pytest.raises(PlaceholderError, match=r"vda.*domainID, poolID, imageID, volumeID"):
        prepare_domain(domain, Resolvers(storage_path=storage_layout("/st"), host=FACTS))
    domain = devframe.parse_domain(engine_xml())
    with pytest.raises(PlaceholderError, match="no storage path resolver"):
        prepare_domain(domain, Resolvers(host=FACTS))
    domain = devframe.parse_domain(engine_xml())
    with pytest.raises(PlaceholderError, match="HOST-SERIAL"):
        prepare_domain(domain, Resolvers(storage_path=storage_layout("/st"), host=HostFacts("a", "b", None)))


def test_storage_layout_refuses_ids_that_escape_the_root() -> None:
    with pytest.raises(PlaceholderError, match="not a plain name"):
        storage_layout("/st")({"domainID": "..", "poolID": "p", "imageID": "i", "volumeID": "v"})


class RngDevice(Device):
    dev_type = "rng"


class RngPlugin:
    """A third-party plugin resolving its own placeholder in its class's prepare()."""

    def __init__(self) -> None:
        self.seen: list[Any] = []
        seen = self.seen

        class Rng(RngDevice):
            __slots__ = ()

            def prepare(self, resolvers: Resolvers) -> None:
                seen.append((self.dev_type, resolvers.host.os_name))
                backend = self.element.find("backend")
                if backend is not None and backend.text == "RNG-SOURCE:":
                    backend.text = resolvers.explicit("RNG-SOURCE:") or "/dev/urandom"

        self.dev_class = Rng

    @hookimpl
    def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
        register(self.dev_class)


def test_prepare_calls_the_owning_plugins_hook_and_logs_its_substitution() -> None:
    plugin = RngPlugin()
    registry = devframe.create_registry(only=("drive",), plugins=[("rng", plugin)], env={}, strict=True)
    extra = "<rng model='virtio'><backend model='random'>RNG-SOURCE:</backend></rng>"
    domain = devframe.parse_domain(engine_xml(extra_devices=extra), registry=registry)
    with capture_logs() as logs:
        prepare_domain(domain, Resolvers(storage_path=storage_layout("/st"), host=FACTS))
    assert plugin.seen == [("rng", "TestOS")]  # routed: asked about its own device only
    assert domain.root.findtext("devices/rng/backend") == "/dev/urandom"
    by_plugin = [e for e in logs if e.get("by") == "plugin rng"]
    assert by_plugin and by_plugin[0]["placeholder"] == "RNG-SOURCE:" and by_plugin[0]["dev_type"] == "rng"


# -- correlate -------------------------------------------------------------------------

REPORTED = """<domain type='kvm'><name>c</name><devices>
  <disk type='file' device='disk'><source file='/a.img'/><target dev='vda' bus='virtio'/>
    <alias name='ua-d1'/><address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></disk>
  <disk type='file' device='cdrom'><source file='/b.iso'/><target dev='hdc' bus='ide'/><readonly/>
    <alias name='ide0-1-0'/><address type='drive' controller='0' bus='1' target='0' unit='0'/></disk>
  <interface type='bridge'><mac address='52:54:00:00:00:01'/><source bridge='br0'/><model type='virtio'/>
    <alias name='ua-n1'/></interface>
  <interface type='bridge'><mac address='52:54:00:00:00:99'/><source bridge='br0'/><alias name='net5'/></interface>
</devices></domain>"""


def test_correlate_by_alias_then_identity_with_added_removed_changed() -> None:
    known = [
        {"type": "disk", "device": "disk", "deviceId": "d1", "iface": "virtio", "name": "vda", "path": "/old.img"},
        {"type": "disk", "device": "cdrom", "deviceId": "c1", "iface": "ide", "name": "hdc", "path": "/b.iso"},
        {"type": "interface", "device": "bridge", "deviceId": "n1", "macAddr": "52:54:00:00:00:01", "network": "br0"},
        {"type": "interface", "device": "bridge", "deviceId": "n2", "macAddr": "52:54:00:00:00:02", "network": "br0"},
    ]
    reported = devframe.parse_domain(REPORTED)
    result = correlate(known, reported)
    assert set(result.matched) == {"d1", "c1", "n1"}
    assert result.by == {"d1": "alias", "n1": "alias", "c1": "identity"}
    assert result.matched["c1"].alias == "ide0-1-0"
    assert [d.alias for d in result.added] == ["net5"]
    assert [d.to_spec()["deviceId"] for d in result.removed] == ["n2"]
    changed = result.changed["d1"]
    assert any(value == ("/old.img", "/a.img") for value in changed.values()), changed
    assert any(key.startswith("address") for key in changed)
    json.dumps(result.as_dict())  # serializable for the monitor


def test_correlate_same_domain_matches_everything_unchanged() -> None:
    reported = devframe.parse_domain(REPORTED)
    again = devframe.parse_domain(REPORTED)
    result = correlate(again, reported)
    assert len(result.matched) == 4 and not result.added and not result.removed and not result.changed


def test_correlate_rejects_bad_input() -> None:
    reported = devframe.parse_domain(REPORTED)
    with pytest.raises(DevframeError, match="known device #0"):
        correlate([42], reported)
    with pytest.raises(DevframeError, match="reported must be a Domain"):
        correlate([], "<domain/>")  # type: ignore[arg-type]


MD_REPORTED = """<domain type='kvm'><name>m</name>
<metadata><ovirt-vm:vm xmlns:ovirt-vm="http://ovirt.org/vm/1.0">
  <ovirt-vm:device devtype="disk" name="vda"><ovirt-vm:poolID>POOL</ovirt-vm:poolID></ovirt-vm:device>
</ovirt-vm:vm></metadata>
<devices>
  <disk type='file' device='disk'><source file='/a.img'/><target dev='vda' bus='virtio'/><alias name='ua-d1'/></disk>
  <interface type='bridge'><mac address='52:54:00:00:00:01'/><source bridge='br0'/><alias name='ua-n1'/></interface>
</devices></domain>"""


def test_known_devices_snapshot_serves_many_polls_and_chains() -> None:
    known = devframe.parse_domain(MD_REPORTED)
    snapshot = KnownDevices(known)
    assert len(snapshot) == 2 and snapshot.ids == ["d1", "n1"]
    first = correlate(snapshot, devframe.parse_domain(MD_REPORTED))
    assert set(first.matched) == {"d1", "n1"} and not first.changed and not first.added
    # The next poll: the pool changed in the metadata, the NIC's bridge in the XML.
    live = MD_REPORTED.replace(">POOL<", ">OTHER<").replace("bridge='br0'/><alias", "bridge='br1'/><alias")
    second = snapshot.correlate(devframe.parse_domain(live))
    assert set(second.changed) == {"d1", "n1"}
    assert second.changed["d1"] == {"poolID": ("POOL", "OTHER")}
    assert ("br0", "br1") in second.changed["n1"].values()
    # Each result carries its reported side as the known side of the next poll.
    assert second.reported is not None
    third = correlate(second.reported, devframe.parse_domain(live))
    assert set(third.matched) == {"d1", "n1"} and not third.changed
    # One-shot calls agree with the snapshot.
    assert correlate(known, devframe.parse_domain(live)).changed == second.changed


def test_known_devices_hold_the_devices_as_they_were() -> None:
    known = devframe.parse_domain(MD_REPORTED)
    snapshot = KnownDevices(known)
    known.dev_map["disk"][0].path = "/moved.img"  # edited after the snapshot was made
    reported = devframe.parse_domain(MD_REPORTED)
    assert not snapshot.correlate(reported).changed
    assert set(KnownDevices(known).correlate(reported).changed) == {"d1"}


def test_known_devices_from_specs_need_a_registry() -> None:
    spec = {"type": "disk", "device": "disk", "deviceId": "d1", "iface": "virtio", "name": "vda", "path": "/a.img"}
    with pytest.raises(DevframeError, match="need a registry"):
        KnownDevices([spec])
    snapshot = KnownDevices([spec], registry=devframe.default_registry())
    assert set(snapshot.correlate(devframe.parse_domain(MD_REPORTED)).matched) == {"d1"}


# -- Host and Guest on the test driver ---------------------------------------------------


@pytest.fixture
def host() -> Any:
    h = Host("test:///default")
    yield h
    h.close()


def test_host_facts(host: Host) -> None:
    facts = host.facts(cpu_interval=0.01)
    assert facts["hypervisor"] == "TEST"
    assert facts["libvirt_version"].count(".") == 2 and facts["cpus"] > 0
    assert facts["memory_total"] > 0 and facts["hostname"]
    assert "<capabilities>" in facts["capabilities"]
    assert "memory_stats" in facts["unavailable"]  # the test driver has no node memory stats, and says so
    assert host.host_facts().host_serial  # falls back to the machine id


def test_host_unreachable_is_a_clear_error() -> None:
    h = Host("test:///nonexistent/devframe-missing.xml", reconnect_timeout=0.2, backoff=(0.05, 0.1))
    with pytest.raises(HostUnavailableError, match=r"nonexistent/devframe-missing\.xml"):
        h.guests()


def test_create_guest_lists_events_and_destroy(host: Host) -> None:
    events: list[Any] = []
    host.subscribe(events.append, LIFECYCLE)
    domain = devframe.parse_domain(engine_xml(name="tguest", disk_source="/x/vda.img"))
    with host.waiter(LIFECYCLE, domain="tguest") as waiter:
        guest = host.create_guest(domain)
        first = waiter.wait(5)
    assert first is not None and first.detail["event"] == "defined"
    assert guest.name in {g.name for g in host.guests(running=True)}
    assert guest is host.guest("tguest")  # one Guest object (one lock) per domain
    live = guest.domain()
    assert live.uuid == guest.uuid and live.dev_map["disk"][0].alias == "ua-d1"
    assert live.dev_map["disk"][0].metadata["volumeID"] == "vol1"  # metadata bound from the live XML
    assert "<uuid>" in guest.inactive_xml()
    guest.destroy()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "undefined" not in [e.detail["event"] for e in events]:
        time.sleep(0.02)
    kinds = [e.detail["event"] for e in events if e.domain == "tguest"]
    assert kinds[:2] == ["defined", "started"] and "stopped" in kinds and "undefined" in kinds
    with pytest.raises(GuestGoneError, match="tguest"):
        guest.domain()


def test_metadata_roundtrip_through_libvirt_on_test_driver(host: Host) -> None:
    guest = host.create_guest(devframe.parse_domain(engine_xml(name="tmeta", disk_source="/x/vda.img")))
    try:
        disk = guest.dev_map["disk"][0]
        disk.metadata["leaseOffset"] = 1024
        guest.save_metadata()
        again = guest.domain().dev_map["disk"][0]
        assert again.metadata["leaseOffset"] == 1024 and again.metadata["imageID"] == "img1"
        raw = guest.get_metadata()
        assert raw is not None and "ovirt-vm:device" in raw and OVIRT in raw
    finally:
        guest.destroy()


def test_set_metadata_parses_the_callers_xml_with_the_safe_parser(host: Host) -> None:
    guest = host.create_guest(devframe.parse_domain(engine_xml(name="tmetabad", disk_source="/x/vda.img")))
    try:
        with pytest.raises(devframe.XMLError, match=r"set metadata.*document type declaration refused"):
            guest.set_metadata('<!DOCTYPE x [<!ENTITY a "b">]><x xmlns="urn:x">&a;</x>', uri="urn:x")
        with pytest.raises(devframe.XMLError, match=r"set metadata.*line 1"):
            guest.set_metadata('<x xmlns="urn:x"><y></x>', uri="urn:x")
        guest.set_metadata('<x xmlns="urn:x" a="1"><y/></x>', uri="urn:x", prefix="x")
        stored = devframe.parse_xml(guest.get_metadata(uri="urn:x") or "").getroot()
        assert stored.tag == "{urn:x}x" and stored.get("a") == "1" and stored[0].tag == "{urn:x}y"
    finally:
        guest.destroy()


def test_attach_on_a_driver_without_hotplug_is_a_clear_error(host: Host) -> None:
    guest = host.create_guest(devframe.parse_domain(engine_xml(name="tnohp", disk_source="/x/vda.img")))
    try:
        sound = devframe.device_from_spec({"type": "sound", "device": "ich6"})
        with pytest.raises(DevframeError, match=r"attach device .*tnohp.*sound"):
            guest.attach(sound)
        assert sound not in guest.dev_map.get_list("sound")
    finally:
        guest.destroy()


def test_attach_refuses_a_device_of_another_domain_before_libvirt_is_asked(host: Host) -> None:
    guest = host.create_guest(devframe.parse_domain(engine_xml(name="town", disk_source="/x/vda.img")))
    try:
        other = devframe.parse_domain(engine_xml(name="elsewhere", disk_source="/x/vdb.img"))
        disk = other.dev_map["disk"][0]
        # Not the test driver's "no hotplug" error: refused before libvirt is called.
        with pytest.raises(devframe.DomainError, match=r"is in domain 'elsewhere'.*into domain 'town'"):
            guest.attach(disk)
        assert disk in other.dev_map["disk"] and len(guest.dev_map["disk"]) == 1
    finally:
        guest.destroy()


def test_host_resolvers_prepare_the_example(host: Host) -> None:
    domain = devframe.load_domain(EXAMPLE)
    prepare_domain(domain, host_resolvers(host, storage_root="/srv/st"))
    source = domain.dev_map["disk"][0].element.find("source").get("file")
    assert source.startswith("/srv/st/") and source.endswith(
        "/images/6e6f6f4d-0000-4000-8000-00000000a001/6e6f6f4d-0000-4000-8000-00000000c001"
    )


# -- CLI ---------------------------------------------------------------------------------


def test_cli_run_example_on_default_uri() -> None:
    result = CliRunner().invoke(cli_main, ["run", str(EXAMPLE)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "engine-example" in result.output and "running on test:///default" in result.output
    assert "ua-6e6f6f4d-0000-4000-8000-00000000a001" in result.output
    assert "/var/lib/devframe/storage/" in result.output


def test_cli_run_json_and_resolve(tmp_path: Path) -> None:
    xml = tmp_path / "d.xml"
    xml.write_text(
        engine_xml(
            name="clijson",
            extra_devices="<disk type='file' device='cdrom'>"
            "<source file='PAYLOAD:'/><target dev='hdc' bus='ide'/></disk>",
        )
    )
    args = ["run", str(xml), "--json", "--resolve", "vda=/img/vda.raw", "--resolve", "PAYLOAD:=/img/p.iso"]
    result = CliRunner().invoke(cli_main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)  # the test driver's warning is on stderr
    assert "libvirt's test driver" in result.stderr
    paths = sorted(d["path"] for d in out["dev_map"]["disk"])
    assert paths == ["/img/p.iso", "/img/vda.raw"] and len(out["devices_hash"]) == 64


def test_cli_run_unresolved_placeholder_exits_2_naming_it(tmp_path: Path) -> None:
    xml = tmp_path / "d.xml"
    xml.write_text(
        engine_xml(
            name="clibad",
            extra_devices="<disk type='file' device='cdrom'>"
            "<source file='PAYLOAD:'/><target dev='hdc' bus='ide'/></disk>",
        )
    )
    result = CliRunner().invoke(cli_main, ["run", str(xml)])
    assert result.exit_code == 2
    assert "PAYLOAD:" in result.output and "disk" in result.output
    bad = CliRunner().invoke(cli_main, ["run", str(xml), "--resolve", "novalue"])
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.output


def test_cli_monitor_reports_running_guests_and_stops() -> None:
    result = CliRunner().invoke(
        cli_main, ["monitor", "--json", "--duration", "0.5", "--interval", "0.2"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert records[0] == {"type": "watching", "uri": "test:///default"}
    guests = [r for r in records if r["type"] == "guest"]
    # test:///default is shared within a process: every running guest of it is listed once.
    with Host("test:///default") as host:
        running = sorted(g.name for g in host.guests(running=True))
    assert sorted(g["domain"] for g in guests) == running and "test" in running
    assert all(len(g["devices_hash"]) == 64 for g in guests)
    counted = CliRunner().invoke(cli_main, ["monitor", "--count", "1"], catch_exceptions=False)
    assert counted.exit_code == 0 and len(counted.output.splitlines()) == 1


def test_known_devices_compare_metadata_edited_before_the_snapshot() -> None:
    reported_xml = MD_REPORTED
    # Edited, not yet written: the section's XML is still as parsed, the values are not.
    edited = devframe.parse_domain(MD_REPORTED)
    edited.dev_map["disk"][0].metadata["poolID"] = "NEW"
    result = KnownDevices(edited).correlate(devframe.parse_domain(reported_xml))
    assert result.changed == {"d1": {"poolID": ("NEW", "POOL")}}
    # Edited and written: the section was rewritten, so entry positions prove nothing.
    written = devframe.parse_domain(MD_REPORTED)
    written.dev_map["disk"][0].metadata["poolID"] = "NEW"
    written.to_xml()
    assert written._metadata_section is not None and not written._metadata_section.pristine
    result = KnownDevices(written).correlate(devframe.parse_domain(reported_xml))
    assert result.changed == {"d1": {"poolID": ("NEW", "POOL")}}
    # Unedited on both sides: equal without decoding either entry.
    known = devframe.parse_domain(MD_REPORTED)
    live = devframe.parse_domain(reported_xml)
    assert not KnownDevices(known).correlate(live).changed
    assert all(d.metadata_if_any() is None or d.metadata_if_any().pending for d in live.devices)


def test_known_devices_read_the_alias_of_every_changed_live_device() -> None:
    # Unchanged live devices take their deviceId from the known side (same XML, same
    # place); a device whose alias changed must still be read from its own element.
    snapshot = KnownDevices(devframe.parse_domain(MD_REPORTED))
    live = devframe.parse_domain(MD_REPORTED.replace("ua-n1", "ua-n9"))
    result = snapshot.correlate(live)
    assert result.reported is not None and result.reported.ids == ["d1", "n9"]
    assert result.by == {"d1": "alias", "n1": "identity"}  # the NIC is found again by its MAC
    assert result.matched["n1"].alias == "ua-n9"
    assert result.changed == {"n1": {"alias": ("ua-n1", "ua-n9"), "deviceId": ("n1", "n9")}}
