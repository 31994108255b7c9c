"""Issue 13 item 2: identity in one module; indistinguishable devices are matched in
document order, so correlate reports exactly what was added and removed."""

from __future__ import annotations

import pytest

import devframe
from devframe.agent import KnownDevices, correlate
from devframe.core import identity
from devframe.testing import wrap_in_domain

SPICE = "<graphics type='spice' autoport='yes'/>"
BALLOON = "<memballoon model='virtio'/>"
GIZMO = "<gizmo kind='future'/>"  # a tag no plugin claims: an UnknownDevice, no identity
DISK = "<disk type='file' device='disk'><source file='/i/{0}.img'/><target dev='{0}' bus='virtio'/></disk>"


def domain(*devices: str) -> devframe.Domain:
    return devframe.parse_domain(wrap_in_domain(*devices))


@pytest.mark.parametrize("element", [SPICE, BALLOON, GIZMO], ids=["graphics", "memballoon", "unknown"])
def test_the_same_domain_matches_every_identical_device(element: str) -> None:
    known = domain(*[element] * 5, DISK.format("vda"))
    result = correlate(known, domain(*[element] * 5, DISK.format("vda")))
    assert len(result.matched) == 6 and not result.added and not result.removed and not result.changed
    # one key per known device, numbered in document order
    assert len(set(result.matched)) == 6
    known_devices = [pair[0] for pair in result.pairs.values()]
    assert sorted(known_devices, key=known.devices.index) == known.devices
    # each pair is the same position: indistinguishable devices pair in document order
    positions = {id(d): i for i, d in enumerate(known.devices)}
    live_positions = {id(d): i for i, d in enumerate(result.reported.devices)}  # type: ignore[union-attr]
    assert all(positions[id(k)] == live_positions[id(r)] for k, r in result.pairs.values())


@pytest.mark.parametrize("element", [SPICE, BALLOON, GIZMO], ids=["graphics", "memballoon", "unknown"])
def test_two_removed_identical_devices_are_exactly_the_two_removed(element: str) -> None:
    known = domain(*[element] * 5, DISK.format("vda"))
    result = correlate(known, domain(*[element] * 3, DISK.format("vda")))
    assert len(result.removed) == 2 and all(d.dev_type == known.devices[0].dev_type for d in result.removed)
    assert len(result.matched) == 4 and not result.added and not result.changed
    # document order: the first three are kept, the last two went away
    assert result.removed == known.devices[3:5]


@pytest.mark.parametrize("element", [SPICE, BALLOON, GIZMO], ids=["graphics", "memballoon", "unknown"])
def test_two_added_identical_devices_are_exactly_the_two_added(element: str) -> None:
    known = domain(*[element] * 5)
    live = domain(*[element] * 7)
    result = correlate(known, live)
    assert result.added == live.devices[5:7]
    assert len(result.matched) == 5 and not result.removed and not result.changed


def test_snapshot_between_polls_keeps_counting_identical_devices() -> None:
    snapshot = KnownDevices(domain(*[SPICE] * 4))
    first = snapshot.correlate(domain(*[SPICE] * 2))
    assert len(first.removed) == 2
    assert first.reported is not None
    second = first.reported.correlate(domain(*[SPICE] * 5))
    assert len(second.added) == 3 and not second.removed


def test_devices_without_identity_pair_identical_xml_first_then_in_order() -> None:
    # <gizmo>: a tag no plugin claims, so an UnknownDevice without identity
    a, b, c = (f"<gizmo model='virtio'><stats period='{p}'/></gizmo>" for p in (1, 2, 3))
    known = domain(a, b, c)
    # b left; c changed its period: identical XML pairs first (a, then nothing for c),
    # then the rest in order (c's old self with the changed one)
    live = domain(a, "<gizmo model='virtio'><stats period='9'/></gizmo>")
    result = correlate(known, live)
    assert next(d for d, _ in result.pairs.values()) is known.devices[0]
    assert len(result.removed) == 1 and len(result.matched) == 2 and not result.added
    assert result.by == dict.fromkeys(result.by, "order")


def test_alias_first_then_identity_then_order() -> None:
    known = domain(
        DISK.format("vda").replace("</disk>", "<alias name='ua-11111111-1111-4111-8111-111111111111'/></disk>"),
        DISK.format("vdb"),
        SPICE,
    )
    live = domain(
        SPICE,
        DISK.format("vdb"),
        # the same deviceId, another target: matched by alias, reported as changed
        DISK.format("vdc").replace("</disk>", "<alias name='ua-11111111-1111-4111-8111-111111111111'/></disk>"),
    )
    result = correlate(known, live)
    assert result.by == {
        "11111111-1111-4111-8111-111111111111": "alias",
        "disk:name=vdb": "identity",
        "graphics:name=spice": "identity",
    }
    assert "target.dev" in str(result.changed) or result.changed["11111111-1111-4111-8111-111111111111"]


def test_match_is_one_pass_and_loses_nothing() -> None:
    types = ["a"] * 6
    found = identity.match(
        types,
        ["x", None, None, None, None, None],
        lambda i: ("a", (("k", "1"),)) if i in (1, 2) else None,
        types,
        [None, None, "x", None, None, None],
        lambda i: ("a", (("k", "1"),)) if i in (0, 1, 3) else None,
    )
    assert sorted(found.pairs + [(i, -1) for i in found.removed]) == sorted(
        [(0, 2), (1, 0), (2, 1), (3, 4), (4, 5), (5, -1)]
    )
    assert found.added == [3]
    assert found.how == ["alias", "identity", "identity", "order", "order"]


def test_the_user_alias_rule_is_written_once() -> None:
    assert identity.device_id_from_alias("ua-abc") == "abc"
    assert identity.device_id_from_alias("ua-") is None
    assert identity.device_id_from_alias("net0") is None
    assert identity.user_alias("abc") == "ua-abc"
    assert identity.alias_key("ua-abc") == "abc" and identity.alias_key("net0") == "net0"
    assert identity.alias_key(None, "abc") == "abc"
    assert devframe.device_id_from_alias is identity.device_id_from_alias


def test_domain_find_device_by_alias_then_identity() -> None:
    live = domain(DISK.format("vda").replace("</disk>", "<alias name='virtio-disk0'/></disk>"), SPICE)
    engine = devframe.device_from_spec({"type": "disk", "device": "disk", "path": "/i/vda.img", "name": "vda"})
    assert live.find_device(engine) is live.devices[0]  # by identity: no alias on the engine's side
    graphics = devframe.device_from_spec({"type": "graphics", "device": "spice"})
    assert live.find_device(graphics) is live.devices[1]
    assert live.find_device(devframe.device_from_spec({"type": "graphics", "device": "vnc"})) is None
