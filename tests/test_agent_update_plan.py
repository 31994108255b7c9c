"""Issue 17 item 1, without libvirt: the plans Guest.update makes from libvirt's XML and the
caller's dev_spec (the operations on real libvirt are in test_agent_live.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import devframe
from devframe import Device
from devframe.agent import UpdatePlan, UpdateRefusedError
from devframe.agent.update import (
    BLOCK_RESIZE,
    MEDIA_CHANGE_ATTEMPTS,
    MEDIA_CHANGE_PAUSE,
    SAVE_METADATA,
    SET_BLOCK_IOTUNE,
    UPDATE_DEVICE,
    plan_resize,
    plan_update,
    tray_closed_meanwhile,
)

# libvirt's live XML of a running guest (as libvirt 9.0 writes it), one device of each kind.
LIVE = """<domain type='qemu' id='7'><name>plan</name><devices>
<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/iso/a.iso' index='2'/>
  <backingStore/><target dev='hdc' bus='ide'/><readonly/><alias name='ua-cd'/>
  <address type='drive' controller='0' bus='1' target='0' unit='0'/></disk>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/img/vda.qcow2' index='1'/>
  <backingStore/><target dev='vda' bus='virtio'/><iotune><total_bytes_sec>5000</total_bytes_sec></iotune>
  <alias name='ua-vda'/><address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></disk>
<interface type='bridge'><mac address='52:54:00:11:22:33'/><source bridge='br0'/><target dev='vnet0'/>
  <model type='virtio'/><alias name='ua-nic'/>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/></interface>
<graphics type='vnc' port='5900' autoport='yes' listen='127.0.0.1' passwdValidTo='1970-01-01T00:00:01'>
  <listen type='address' address='127.0.0.1'/></graphics>
</devices></domain>"""
# The same with secrets (VIR_DOMAIN_XML_SECURE): the graphics password is there.
SECURE = LIVE.replace("listen='127.0.0.1' passwd", "listen='127.0.0.1' passwd='old-pw' passwd")
PASSWORD = "n3w-Pw!"


def _running(dev_type: str, index: int = 0, xml: str = LIVE) -> Device:
    return devframe.parse_domain(xml).dev_map[dev_type][index]


def _plan(running: Device, wanted: Device, *, live: bool = True, config: bool = True, **bases: Any) -> UpdatePlan:
    return plan_update(
        uri="qemu:///system",
        domain="plan",
        running=running,
        wanted=wanted,
        live_base=bases.get("live_base", running),
        config_base=bases.get("config_base", running),
        live=live,
        config=config,
    )


def _edited(device: Device, **changes: Any) -> Device:
    spec = device.to_spec()
    for dotted, value in changes.items():
        target = spec
        *parents, last = dotted.split("__")
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    return devframe.device_from_spec(spec)


def test_eject_is_one_device_update_per_scope_on_libvirts_own_xml() -> None:
    cdrom = _running("disk", 0)
    plan = _plan(cdrom, _edited(cdrom, path=""))
    assert [(s.operation, s.scope) for s in plan.steps] == [(UPDATE_DEVICE, ("live",)), (UPDATE_DEVICE, ("config",))]
    assert [c.name for c in plan.steps[0].changes] == ["source_file"] and not plan.kept
    sent = devframe.parse_domain(f"<domain><devices>{plan.steps[0].xml}</devices></domain>").devices[0]
    source = sent.element.find("source")  # the file gone, libvirt's index kept
    assert source is not None and source.get("file") is None and source.get("index") == "2"
    assert sent.alias == "ua-cd" and sent.address == cdrom.address and sent.element.find("backingStore") is not None
    assert "source_file: '/iso/a.iso' -> (none)" in str(plan)


def test_a_field_libvirt_cannot_change_live_is_refused_naming_it() -> None:
    nic = _running("interface")
    wanted = _edited(nic, nicModel="e1000", linkActive=False)
    with pytest.raises(UpdateRefusedError) as info:
        _plan(nic, wanted)
    assert info.value.fields == ("model",)
    message = str(info.value)
    assert "model" in message and "'nicModel'" in message and "'virtio' -> 'e1000'" in message
    assert "ua-nic" in message and "nothing was changed" in message
    # Only the definition: any field may change (libvirt checks what it accepts).
    plan = _plan(nic, wanted, live=False, live_base=None)
    assert [(s.operation, s.scope) for s in plan.steps] == [(UPDATE_DEVICE, ("config",)), (SAVE_METADATA, ("config",))]
    assert {c.name for c in plan.steps[0].changes} == {"model", "link_active"}


def test_nic_bandwidth_filter_and_bridge_change_in_one_device_update() -> None:
    nic = _running("interface")
    wanted = _edited(
        nic,
        network="br1",
        filter="clean-traffic",
        filterParameters=[{"name": "IP", "value": "10.0.0.1"}],
        specParams__inbound={"average": 1000, "peak": 2000},
    )
    (live_step, config_step, _metadata) = _plan(nic, wanted).steps
    changed = [c.name for c in live_step.changes]
    assert changed == ["source_bridge", "filter", "filter_parameters", "inbound_average", "inbound_peak"]
    sent = devframe.parse_domain(f"<domain><devices>{live_step.xml}</devices></domain>").devices[0]
    assert sent.element.find("source").get("bridge") == "br1"  # type: ignore[union-attr]
    assert sent.element.find("filterref/parameter").attrib["value"] == "10.0.0.1"  # type: ignore[union-attr]
    assert sent.element.find("bandwidth/inbound").get("peak") == "2000"  # type: ignore[union-attr]
    assert sent.element.find("target").get("dev") == "vnet0"  # type: ignore[union-attr]
    assert config_step.scope == ("config",) and config_step.changes == live_step.changes


def test_hard_disk_source_cannot_change_live_but_cdrom_media_can() -> None:
    disk = _running("disk", 1)
    with pytest.raises(UpdateRefusedError, match="source_file"):
        _plan(disk, _edited(disk, path="/img/other.qcow2"))
    cdrom = _running("disk", 0)
    assert _plan(cdrom, _edited(cdrom, path="/iso/b.iso")).steps[0].changes[0].new == "/iso/b.iso"


def test_what_a_short_spec_leaves_out_is_kept_not_removed() -> None:
    nic = _running("interface")
    short = devframe.device_from_spec(
        {"type": "interface", "device": "bridge", "network": "br0", "macAddr": "52:54:00:11:22:33", "linkActive": False}
    )
    plan = _plan(nic, short)
    kept = {c.name for c in plan.kept}
    assert {"model", "target", "alias", "address"} <= kept
    # The NIC plugin keeps the spec's network name in metadata too: saved after the update.
    (step, _config, metadata) = plan.steps
    assert metadata.operation == SAVE_METADATA and metadata.keys == ("network",)
    assert [c.name for c in step.changes] == ["link_active"]
    assert '<model type="virtio"/>' in (step.xml or "") and '<link state="down"/>' in (step.xml or "")
    assert "kept as running: " in str(plan) and "model" in str(plan).split("kept as running: ")[1]


def test_iotune_goes_through_its_own_call_with_removed_limits_at_zero() -> None:
    disk = _running("disk", 1)
    wanted = _edited(disk, specParams__ioTune={"read_iops_sec": 100, "group_name": "g1"})
    plan = _plan(disk, wanted)
    (step,) = plan.steps
    assert step.operation == SET_BLOCK_IOTUNE and step.target == "vda" and step.scope == ("live", "config")
    assert step.params == {"total_bytes_sec": 0, "read_iops_sec": 100, "group_name": "g1"}
    assert "params" not in repr(step) or "100" not in repr(step)


def test_a_graphics_password_is_sent_from_the_secure_xml_and_never_shown() -> None:
    graphics = _running("graphics")
    secure = _running("graphics", xml=SECURE)
    spec = graphics.to_spec()
    spec["passwd"] = PASSWORD
    spec["specParams"]["passwdValidTo"] = "2035-01-01T00:00:00"
    plan = _plan(graphics, devframe.device_from_spec(spec), live_base=secure, config_base=secure)
    live_step = plan.steps[0]
    assert f"passwd='{PASSWORD}'" in (live_step.xml or "").replace('"', "'")
    assert "2035-01-01T00:00:00" in (live_step.xml or "")
    shown = str(plan) + repr(plan) + json.dumps(plan.as_dict()) + str(live_step) + repr(live_step)
    assert PASSWORD not in shown and "passwd: (none) -> '***'" in str(plan)
    # Updating something else keeps the password libvirt has (the secure XML's).
    other = devframe.device_from_spec({**graphics.to_spec(), "specParams": {**spec["specParams"]}})
    again = _plan(graphics, other, live_base=secure, config_base=secure)
    assert "passwd='old-pw'" in (again.steps[0].xml or "").replace('"', "'")
    assert "old-pw" not in str(again) + repr(again)


def test_metadata_the_spec_brings_is_saved_by_name_only() -> None:
    nic = _running("interface")
    wanted = _edited(nic, network="br1", custom={"apiToken": "abc123"})
    plan = _plan(nic, wanted)
    assert [s.operation for s in plan.steps] == [UPDATE_DEVICE, UPDATE_DEVICE, SAVE_METADATA]
    assert set(plan.steps[-1].keys) == {"network", "custom"}
    assert "abc123" not in str(plan) + repr(plan) + json.dumps(plan.as_dict())


def test_nothing_to_change_is_an_empty_plan() -> None:
    for disk in (_running("disk", 0), _running("disk", 1)):
        plan = _plan(disk, devframe.device_from_spec(disk.to_spec()))
        assert plan.empty and "nothing to change" in str(plan), plan


def test_resize_plan_names_the_disk_target_and_size() -> None:
    plan = plan_resize(uri="qemu:///system", domain="plan", running=_running("disk", 1), size=64 << 20)
    (step,) = plan.steps
    assert step.operation == BLOCK_RESIZE and step.target == "vda" and step.size == 64 << 20
    assert str(step) == "block-resize (live) disk vda to 67108864 bytes"


# -- the tray race of a live media change ------------------------------------------------------

# What libvirt 9.0 with QEMU said when a slow guest closed the tray between libvirt opening it
# and removing the medium (seen in a loaded run of test_agent_live.py's eject).
TRAY_RACE = (
    "update-device (live) (host 'qemu:///system', domain 'dftest-live-d32151da', device \"disk alias='ua-1'\"): "
    "internal error: unable to execute QEMU command 'blockdev-remove-medium': Tray of device 'ua-1' is not open"
)


def test_the_tray_race_is_told_apart_from_other_media_change_failures() -> None:
    assert tray_closed_meanwhile(TRAY_RACE)
    assert not tray_closed_meanwhile(TRAY_RACE.replace("blockdev-remove-medium", "blockdev-insert-medium"))
    assert not tray_closed_meanwhile(
        "internal error: unable to execute QEMU command 'blockdev-remove-medium': Device is locked"
    )
    assert not tray_closed_meanwhile("operation failed: timed out waiting to open tray of 'hdc'")
    assert MEDIA_CHANGE_ATTEMPTS > 1 and MEDIA_CHANGE_PAUSE > 0
