"""Issue 18 item 6: correlate builds each changed device's dev_spec once.

A snapshot keeps the specs a correlation built for its reported devices (and carries the
known side's over to unchanged ones), so the next correlation compares against them
instead of building them again. Each test below fails if a kept spec hides a change, or
if specs are built twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import devframe
from devframe.agent import KnownDevices, spec_changes
from devframe.agent.correlate import _diff
from devframe.core.device import Device, DeviceMetadata

DOMAIN = """<domain type='kvm'><name>s</name>{metadata}<devices>
  <disk type='file' device='disk'><source file='/a.img'/><target dev='vda' bus='virtio'/>
    <serial>{serial}</serial><alias name='ua-d1'/></disk>
  <interface type='bridge'><mac address='52:54:00:00:00:01'/><source bridge='br0'/>
    <link state='{link}'/><alias name='ua-n1'/></interface>
  <interface type='bridge'><mac address='52:54:00:00:00:02'/><source bridge='br0'/><alias name='ua-n2'/></interface>
</devices></domain>"""
METADATA = (
    "<metadata><ovirt-vm:vm xmlns:ovirt-vm='http://ovirt.org/vm/1.0'>"
    "<ovirt-vm:device devtype='disk' name='vda'><ovirt-vm:poolID>{pool}</ovirt-vm:poolID></ovirt-vm:device>"
    "</ovirt-vm:vm></metadata>"
)


def domain(serial: str = "s1", link: str = "up", pool: str | None = None) -> devframe.Domain:
    metadata = METADATA.format(pool=pool) if pool is not None else ""
    return devframe.parse_domain(DOMAIN.format(serial=serial, link=link, metadata=metadata))


@contextmanager
def counting_to_spec() -> Iterator[list[str]]:
    """Every Device.to_spec() call, by the device's alias."""
    calls: list[str] = []
    original = Device.to_spec

    def counted(self: Device, *args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append(str(self.alias))
        return original(self, *args, **kwargs)

    Device.to_spec = counted  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        Device.to_spec = original  # type: ignore[method-assign]


def test_each_round_builds_only_the_changed_devices_specs() -> None:
    snapshot = KnownDevices(domain())
    with counting_to_spec() as calls:
        first = snapshot.correlate(domain(serial="s2"))
    # The first round builds both sides of the changed disk, nothing for the NICs.
    assert sorted(calls) == ["ua-d1", "ua-d1"]
    assert first.changed == {"d1": {"serial": ("s1", "s2")}}
    assert first.reported is not None
    with counting_to_spec() as calls:
        second = first.reported.correlate(domain(serial="s3", link="down"))
    # The disk's "before" is the spec built last round: only the new sides are built.
    assert sorted(calls) == ["ua-d1", "ua-n1", "ua-n1"]
    assert second.changed == {"d1": {"serial": ("s2", "s3")}, "n1": {"linkActive": (True, False)}}
    assert second.specs["d1"][0] is first.specs["d1"][1]
    assert second.reported is not None
    with counting_to_spec() as calls:
        third = second.reported.correlate(domain(serial="s4", link="up"))
    assert sorted(calls) == ["ua-d1", "ua-n1"]
    assert third.changed == {"d1": {"serial": ("s3", "s4")}, "n1": {"linkActive": (False, True)}}


def test_an_unchanged_device_carries_its_spec_to_the_next_snapshot() -> None:
    snapshot = KnownDevices(domain())
    first = snapshot.correlate(domain(link="down"))
    assert first.reported is not None
    # The disk did not change this round; the NIC's spec was built. The next round the
    # disk changes: its "before" was never built, so it is built now (once), and is right.
    with counting_to_spec() as calls:
        second = first.reported.correlate(domain(serial="s9", link="down"))
    assert sorted(calls) == ["ua-d1", "ua-d1"]
    assert second.changed == {"d1": {"serial": ("s1", "s9")}}
    # A spec carried over through an unchanged round is the same object.
    assert second.reported is not None
    third = second.reported.correlate(domain(serial="s9", link="up"))
    assert third.reported is not None
    assert third.specs["n1"][0] is first.specs["n1"][1]


def test_kept_specs_always_equal_freshly_built_ones() -> None:
    rounds = [domain(), domain("s2"), domain("s2", "down"), domain("s2", "down"), domain("s3", "up"), domain()]
    known: KnownDevices = KnownDevices(rounds[0])
    for live in rounds[1:]:
        result = known.correlate(live)
        for key, (old, new) in result.pairs.items():
            assert result.changed.get(key, {}) == spec_changes(old, new), key
        assert result.reported is not None
        known = result.reported
        for index, device in enumerate(known.devices):
            kept = known.known_spec(index)
            assert kept is None or kept == device.to_spec()


def test_a_spec_built_from_decoded_metadata_is_kept_until_the_metadata_is_written() -> None:
    # to_spec decodes a device's metadata. Decoded metadata can be edited without its XML
    # moving, so its spec is kept only while the mapping has had no write since: an
    # unwritten one is reused (a changed device's known side is not built every poll),
    # a written one, a deleted key or a replaced mapping make it built again.
    first = KnownDevices(domain(pool="P")).correlate(domain(serial="s2", pool="P"))
    assert first.reported is not None
    snapshot = first.reported
    assert first.specs["d1"][1]["poolID"] == "P"
    assert snapshot.known_spec(0) is first.specs["d1"][1]
    with counting_to_spec() as calls:
        again = snapshot.correlate(domain(serial="s3", pool="P"))
    assert calls == ["ua-d1"]  # the reported side only
    assert again.specs["d1"][0] is first.specs["d1"][1]
    assert again.changed["d1"] == {"serial": ("s2", "s3")}

    device = snapshot.devices[0]
    device.metadata["poolID"] = "EDITED"
    assert snapshot.known_spec(0) is None
    with counting_to_spec() as calls:
        result = snapshot.correlate(domain(serial="s3", pool="P"))
    assert sorted(calls) == ["ua-d1", "ua-d1"]
    assert result.changed["d1"] == {"poolID": ("EDITED", "P"), "serial": ("s2", "s3")}
    assert snapshot.spec(0)["poolID"] == "EDITED"  # kept again, as now written

    del device.metadata["poolID"]
    assert snapshot.known_spec(0) is None
    assert "poolID" not in snapshot.spec(0)

    before = snapshot.spec(0)
    device.metadata_source = DeviceMetadata({"poolID": "NEW"})  # a new mapping, none of its writes counted
    assert snapshot.known_spec(0) is None
    assert snapshot.spec(0) is not before and snapshot.spec(0)["poolID"] == "NEW"
    # Without metadata, the spec built for the reported device is kept.
    plain = KnownDevices(domain()).correlate(domain(serial="s2"))
    assert plain.reported is not None and plain.reported.known_spec(0) is plain.specs["d1"][1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["set", "delete", "replace", "spec", "correlate"]), min_size=1, max_size=12))
def test_a_kept_spec_always_reflects_the_metadata_as_it_is_now(steps: list[str]) -> None:
    first = KnownDevices(domain(pool="P")).correlate(domain(serial="s2", pool="P"))
    assert first.reported is not None
    snapshot = first.reported
    device = snapshot.devices[0]
    for number, step in enumerate(steps):
        if step == "set":
            device.metadata["poolID"] = f"v{number}"
        elif step == "delete":
            device.metadata.pop("poolID", None)
        elif step == "replace":
            device.metadata_source = DeviceMetadata({"poolID": f"r{number}"})
        elif step == "spec":
            snapshot.spec(0)
        else:
            snapshot.correlate(domain(serial=f"s{number}", pool="P"))
        kept = snapshot.known_spec(0)
        assert kept is None or kept == device.to_spec(), steps


# -- the diff -----------------------------------------------------------------------------


def reference_diff(known: Mapping[str, Any], reported: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """What correlate's diff was before it skipped equal parts: flatten both, compare."""

    def flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(item, Mapping):
                out.update(flatten(item, f"{prefix}{key}."))
            else:
                out[f"{prefix}{key}"] = item
        return out

    old, new = flatten(known), flatten(reported)
    changes = {name: (old.get(name), new.get(name)) for name in old.keys() | new.keys()}
    return dict(sorted((name, pair) for name, pair in changes.items() if pair[0] != pair[1]))


KEYS = st.sampled_from(["type", "device", "specParams", "a", "b", "c"])  # no dots: paths stay unique
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["x", "y", ""]), st.just([1, 2]))
SPECS = st.recursive(SCALARS, lambda inner: st.dictionaries(KEYS, inner, max_size=4), max_leaves=12)
TOP = st.dictionaries(KEYS, SPECS, max_size=5)


@settings(max_examples=400, deadline=None)
@given(TOP, TOP)
def test_the_diff_is_the_flattened_comparison(known: dict[str, Any], reported: dict[str, Any]) -> None:
    assert _diff(known, reported) == reference_diff(known, reported)
    assert _diff(known, known) == {}


def test_the_diff_names_nested_paths_and_ignores_empty_mappings() -> None:
    before = {"type": "disk", "specParams": {}, "iotune": {"total": 1, "read": {"max": 2}}, "x": None}
    after = {"type": "disk", "iotune": {"total": 1, "read": {"max": 3}}, "x": {"y": 1}}
    assert _diff(before, after) == {"iotune.read.max": (2, 3), "x.y": (None, 1)}
    assert _diff({"a": 1}, {"a": {"b": 1}}) == {"a": (1, None), "a.b": (None, 1)}
