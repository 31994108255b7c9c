"""Issue 13 item 4: linear editing.

Every edit keeps the document order it always had (checked operation by operation and against
a plain list model over random edit sequences), a device is in one Domain at a time, and the
work per edit stays flat as the domain grows (Python calls counted, as in test_complexity.py).
"""

from __future__ import annotations

import gc
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from devframe import Device, Domain, DomainError, UnknownDevice, device_from_spec, parse_domain
from devframe.core.domain import _Order
from devframe.core.registry import create_registry

#: no plugins: every device is an UnknownDevice whose dev_type is its tag
REGISTRY = create_registry(entry_points=False)
TAGS = ("disk", "interface", "serial", "sound", "channel")

BASE = """<domain type="kvm">
  <name>one</name>
  <devices>
    <!-- c0 -->
    <emulator><alias name="e0"/></emulator>
    <disk><alias name="d0"/></disk>
    <interface><alias name="n0"/></interface>
    <!-- c1 -->
    <disk><alias name="d1"/></disk>
    <serial><alias name="s0"/></serial>
    <interface><alias name="n1"/></interface>
    <!-- c2 -->
  </devices>
</domain>"""


def domain(xml: str = BASE) -> Domain:
    return parse_domain(xml, registry=REGISTRY)


def dev(tag: str, name: str) -> Device:
    return UnknownDevice(etree.fromstring(f'<{tag}><alias name="{name}"/></{tag}>'))


def names(devices: Any) -> list[str | None]:
    return [d.alias for d in devices]


def by_name(domain: Domain, name: str) -> Device:
    return next(d for d in domain.devices if d.alias == name)


def tokens(xml: str) -> list[str]:
    """`<devices>` of a document as the names of its devices and ``#text`` of its comments."""
    devices = etree.fromstring(xml.encode()).find("devices")
    if devices is None:
        return []
    out = []
    for child in devices:
        if isinstance(child.tag, str):
            alias = child.find("alias")
            out.append(alias.get("name") if alias is not None else f"<{child.tag}>")
        elif isinstance(child, etree._Comment):
            out.append("#" + (child.text or "").strip())
    return out


# -- each operation's order -----------------------------------------------------------------


def test_add_at_the_end_before_and_after_another_device() -> None:
    d = domain()
    d.add(dev("disk", "x"))
    d.add(dev("serial", "y"), before=by_name(d, "n0"))
    d.add(dev("disk", "z"), after=by_name(d, "e0"))
    assert names(d.devices) == ["e0", "z", "d0", "y", "n0", "d1", "s0", "n1", "x"]
    assert names(d.dev_map["disk"]) == ["z", "d0", "d1", "x"]
    assert names(d.dev_map["serial"]) == ["y", "s0"]
    with pytest.raises(DomainError, match="not both"):
        d.add(dev("disk", "w"), before=by_name(d, "d0"), after=by_name(d, "d1"))
    with pytest.raises(DomainError, match="not a device of domain 'one'"):
        d.add(dev("disk", "w"), before=dev("disk", "stranger"))
    assert tokens(d.to_xml()) == ["#c0", "e0", "z", "d0", "y", "n0", "#c1", "d1", "s0", "n1", "x", "#c2"]


def _expected_after_list_insert(doc: list[str], tag_of: dict[str, str], tag: str, index: int, new: str) -> list[str]:
    """Where DeviceList.insert puts ``new``: the documented rule, on plain lists."""
    same = [name for name in doc if tag_of[name] == tag]
    model = list(same)
    model.insert(index, new)  # the list's own reading of the index
    position = model.index(new)
    out = list(doc)
    if position < len(same):
        out.insert(out.index(same[position]), new)  # before the device it now precedes
    elif same:
        out.insert(out.index(same[-1]) + 1, new)  # after the last of its type
    else:
        out.append(new)  # none of its type: at the end of <devices>
    return out


@pytest.mark.parametrize("index", range(-5, 6))
@pytest.mark.parametrize("tag", ["disk", "interface", "serial", "sound"])
def test_list_insert_reads_the_index_as_list_insert_does(tag: str, index: int) -> None:
    d = domain()
    before = [str(n) for n in names(d.devices)]
    tag_of = {str(x.alias): x.dev_type for x in d.devices} | {"new": tag}
    d.dev_map.get_list(tag).insert(index, dev(tag, "new"))
    assert names(d.devices) == _expected_after_list_insert(before, tag_of, tag, index, "new")
    expected_list = [n for n in before if tag_of[n] == tag]
    expected_list.insert(index, "new")
    assert names(d.dev_map[tag]) == expected_list


def test_append_goes_after_the_last_of_its_type_or_to_the_end() -> None:
    d = domain()
    d.dev_map["disk"].append(dev("disk", "x"))
    d.dev_map.get_list("sound").append(dev("sound", "snd"))
    assert names(d.devices) == ["e0", "d0", "n0", "d1", "x", "s0", "n1", "snd"]
    assert list(d.dev_map)[-1] == "sound"
    assert tokens(d.to_xml())[-2:] == ["snd", "#c2"]


def test_setitem_and_delitem_with_negative_indexes_and_slices() -> None:
    d = domain()
    d.dev_map["interface"][-1] = dev("interface", "n9")
    assert names(d.devices) == ["e0", "d0", "n0", "d1", "s0", "n9"]
    del d.dev_map["disk"][-2]
    assert names(d.devices) == ["e0", "n0", "d1", "s0", "n9"]
    d.dev_map["disk"].extend([dev("disk", "x"), dev("disk", "y")])
    del d.dev_map["disk"][::2]
    assert names(d.dev_map["disk"]) == ["x"]
    del d.dev_map["disk"][:]
    assert "disk" not in d.dev_map
    with pytest.raises(KeyError):
        d.dev_map["disk"]
    with pytest.raises(DomainError, match="'disk' device into the 'interface' list"):
        d.dev_map["interface"][0] = dev("disk", "wrong")
    with pytest.raises(TypeError, match="slice assignment"):
        d.dev_map["interface"][0:1] = [dev("interface", "n8")]
    with pytest.raises(IndexError):
        d.dev_map["interface"][5] = dev("interface", "n8")
    assert names(d.devices) == ["e0", "n0", "s0", "n9"]


def test_move_to_any_index_reads_it_as_list_insert_does() -> None:
    start = names(domain().devices)
    for name in start:
        for index in range(-len(start) - 2, len(start) + 3):
            d = domain()
            d.move(by_name(d, name), index)
            model = list(start)
            model.remove(name)
            model.insert(index, name)
            assert names(d.devices) == model, (name, index)
            assert names(d.dev_map["disk"]) == [n for n in model if n is not None and n.startswith("d")]
    d = domain()
    with pytest.raises(DomainError, match="not a device"):
        d.move(dev("disk", "stranger"), 0)


def test_list_index_contains_and_remove_find_the_device_without_a_scan() -> None:
    d = domain()
    disks = d.dev_map["disk"]
    d0, d1, n0 = by_name(d, "d0"), by_name(d, "d1"), by_name(d, "n0")
    assert d0 in disks and d1 in disks and n0 not in disks and "d0" not in disks
    assert disks.index(d1) == 1 and disks.index(d1, -1) == 1
    for args in ((n0,), (d0, 1), (d1, 0, 1), (d1, 0, -1), (dev("disk", "stranger"),)):
        with pytest.raises(ValueError, match="not in the 'disk' list"):
            disks.index(*args)
    disks.remove(d0)
    assert names(d.devices) == ["e0", "n0", "d1", "s0", "n1"]
    n1 = by_name(d, "n1")
    assert d.dev_map["interface"].pop() is n1 and names(d.devices) == ["e0", "n0", "d1", "s0"]


def test_replace_keeps_the_comments_that_stood_before_the_old_device() -> None:
    d = domain()
    d.replace(by_name(d, "e0"), dev("sound", "snd"))  # another dev_type, the same place
    d.dev_map["disk"][1] = dev("disk", "d9")
    assert tokens(d.to_xml()) == ["#c0", "snd", "d0", "n0", "#c1", "d9", "s0", "n1", "#c2"]
    assert list(d.dev_map) == ["sound", "disk", "interface", "serial"]
    assert "emulator" not in d.dev_map


def test_remove_hands_comments_on_and_move_carries_them() -> None:
    d = domain()
    d.remove(by_name(d, "d1"))  # "c1" stood before it: it now stands before the next device
    assert tokens(d.to_xml()) == ["#c0", "e0", "d0", "n0", "#c1", "s0", "n1", "#c2"]
    d.move(by_name(d, "s0"), 0)  # and travels with it
    assert tokens(d.to_xml()) == ["#c1", "s0", "#c0", "e0", "d0", "n0", "n1", "#c2"]
    d.remove(by_name(d, "n1"))
    d.remove(by_name(d, "n0"))
    d.remove(by_name(d, "d0"))
    d.remove(by_name(d, "e0"))  # the last device: its comments join the trailing ones
    assert tokens(d.to_xml()) == ["#c1", "s0", "#c0", "#c2"]


def test_dev_map_lists_types_in_order_of_their_first_device() -> None:
    d = domain()
    d.move(by_name(d, "s0"), 0)
    assert list(d.dev_map) == ["serial", "emulator", "disk", "interface"]
    d.move(by_name(d, "d0"), len(d.devices))
    assert list(d.dev_map) == ["serial", "emulator", "interface", "disk"]
    assert len(d.dev_map) == 4
    assert repr(d) == "<Domain name='one' devices={'serial': 1, 'emulator': 1, 'interface': 2, 'disk': 2}>"
    assert next(iter(d.dev_map.values())) == [by_name(d, "s0")]


def test_an_unknown_device_renamed_in_place_is_regrouped_on_the_next_edit() -> None:
    d = domain()
    assert len(d.dev_map["serial"]) == 1  # bookkeeping built
    serial = by_name(d, "s0")
    serial.element.tag = "console"  # an UnknownDevice's dev_type is its tag
    d.remove(serial)
    assert "serial" not in d.dev_map and "console" not in d.dev_map
    assert names(d.devices) == ["e0", "d0", "n0", "d1", "n1"]


def test_a_parsed_domain_builds_no_bookkeeping_until_it_is_edited_or_read() -> None:
    d = domain()
    d.to_xml()
    assert d._positions is None
    d.devices  # noqa: B018 - a plain list, no bookkeeping either
    assert d._positions is None
    assert len(d.dev_map["disk"]) == 2
    assert d._positions is not None


# -- random edit sequences against a list model ---------------------------------------------


@dataclass
class Entry:
    device: Device
    comments: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.device.alias)


class Model:
    """What the domain should hold: devices in order, each with the comments before it."""

    def __init__(self, d: Domain) -> None:
        self.entries: list[Entry] = []
        self.trailing: list[str] = []
        pending: list[str] = []
        for token in tokens(d.to_xml()):
            if token.startswith("#"):
                pending.append(token)
            else:
                self.entries.append(Entry(by_name(d, token), pending))
                pending = []
        self.trailing = pending

    def of_type(self, tag: str) -> list[int]:
        return [i for i, e in enumerate(self.entries) if e.device.dev_type == tag]

    def remove(self, i: int) -> Device:
        entry = self.entries.pop(i)
        target = self.entries[i].comments if i < len(self.entries) else self.trailing
        target[:0] = entry.comments
        return entry.device

    def list_insert(self, tag: str, index: int, device: Device) -> None:
        same = self.of_type(tag)
        at = max(0, len(same) + index) if index < 0 else min(index, len(same))
        if at < len(same):
            self.entries.insert(same[at], Entry(device))
        elif same:
            self.entries.insert(same[-1] + 1, Entry(device))
        else:
            self.entries.append(Entry(device))

    def tokens(self) -> list[str]:
        return [t for e in self.entries for t in (*e.comments, e.name)] + self.trailing


OPS = (
    "add",
    "add_before",
    "add_after",
    "remove",
    "replace",
    "move",
    "list_insert",
    "list_append",
    "list_set",
    "list_del",
    "list_del_slice",
    "burst",
    "read",
    "to_xml",
)
op_strategy = st.tuples(st.sampled_from(OPS), st.integers(0, 10_000), st.integers(-12, 12), st.sampled_from(TAGS))


def _apply(d: Domain, model: Model, op: tuple[str, int, int, str], fresh: Callable[[str], Device]) -> list[Device]:
    """Run one edit on the domain and the model; returns the devices it took out."""
    kind, pick, index, tag = op
    n = len(model.entries)
    out: list[Device] = []
    if kind in ("add_before", "add_after", "remove", "replace", "move") and n == 0:
        kind = "add"
    i = pick % n if n else 0
    if kind == "add":
        new = fresh(tag)
        d.add(new)
        model.entries.append(Entry(new))
    elif kind in ("add_before", "add_after"):
        new = fresh(tag)
        anchor = model.entries[i].device
        if kind == "add_before":
            d.add(new, before=anchor)
            model.entries.insert(i, Entry(new))
        else:
            d.add(new, after=anchor)
            model.entries.insert(i + 1, Entry(new))
    elif kind == "remove":
        device = model.entries[i].device
        d.remove(device)
        out.append(model.remove(i))
    elif kind == "replace":
        old, new = model.entries[i].device, fresh(tag)
        d.replace(old, new)
        model.entries[i].device = new
        out.append(old)
    elif kind == "move":
        entry = model.entries.pop(i)
        d.move(entry.device, index)
        model.entries.insert(index, entry)
    elif kind in ("list_insert", "list_append", "burst"):
        for _ in range(30 if kind == "burst" else 1):
            new = fresh(tag)
            if kind == "list_append":
                d.dev_map.get_list(tag).append(new)
                model.list_insert(tag, len(model.of_type(tag)), new)
            else:  # a burst inserts 30 devices at one place: labels there run out and are spread again
                d.dev_map.get_list(tag).insert(index, new)
                model.list_insert(tag, index, new)
    elif kind in ("list_set", "list_del", "list_del_slice"):
        same = model.of_type(tag)
        if not same:
            return out
        k = pick % (2 * len(same)) - len(same)  # negative indexes too
        lst = d.dev_map[tag]
        if kind == "list_set":
            new = fresh(tag)
            out.append(model.entries[same[k]].device)
            lst[k] = new
            model.entries[same[k]].device = new
        elif kind == "list_del":
            del lst[k]
            out.append(model.remove(same[k]))
        else:
            targets = [model.entries[j].device for j in same[k : index or None]]
            del lst[k : index or None]
            for device in targets:
                out.append(model.remove(next(j for j, e in enumerate(model.entries) if e.device is device)))
    elif kind == "read":
        assert len(d.dev_map.get_list(tag)) == len(model.of_type(tag))
    elif kind == "to_xml":
        assert tokens(d.to_xml()) == model.tokens()
    return out


def _check(d: Domain, model: Model) -> None:
    assert names(d.devices) == [e.name for e in model.entries]
    for tag in (*TAGS, "emulator"):
        assert names(d.dev_map.get_list(tag)) == [model.entries[i].name for i in model.of_type(tag)]
    first_seen = list(dict.fromkeys(e.device.dev_type for e in model.entries))
    assert list(d.dev_map) == first_seen and len(d.dev_map) == len(first_seen)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(op_strategy, max_size=40))
def test_random_edit_sequences_match_a_list_model(ops: list[tuple[str, int, int, str]]) -> None:
    d = domain()
    model = Model(d)
    counter = iter(range(1_000_000))

    def fresh(tag: str) -> Device:
        return dev(tag, f"{tag[0]}{next(counter)}x")

    taken_out: list[Device] = []
    for op in ops:
        taken_out += _apply(d, model, op, fresh)
        _check(d, model)
    xml = d.to_xml()
    assert tokens(xml) == model.tokens()
    again = parse_domain(xml, registry=REGISTRY)
    assert names(again.devices) == [e.name for e in model.entries]
    # Ownership held through it all: what was taken out may join another Domain, the rest may not.
    other = domain("<domain><name>two</name></domain>")
    for device in d.devices[:3]:
        with pytest.raises(DomainError, match="is in domain 'one'"):
            other.add(device)
    for device in taken_out:
        other.add(device)
    assert names(other.devices) == names(taken_out)


@pytest.mark.parametrize("pattern", ["append", "prepend", "before-one", "after-one", "random", "alternate"])
def test_labels_stay_ordered_through_thousands_of_inserts_and_deletes(pattern: str) -> None:
    """The relabelling paths, driven hard on the bookkeeping itself."""
    devices = [dev(TAGS[i % 3], f"p{i}") for i in range(20)]
    order = _Order(devices)
    rnd = random.Random(pattern)
    anchor = devices[10]
    for step in range(6_000):
        n = len(order.devices)
        if step % 7 == 6:  # a delete now and then, never the anchor
            victim = rnd.randrange(n)
            if order.devices[victim] is not anchor:
                order.delete(victim)
            continue
        where = {
            "append": n,
            "prepend": 0,
            "before-one": order.index(anchor),
            "after-one": (order.index(anchor) or 0) + 1,
            "random": rnd.randint(0, n),
            "alternate": n if step % 2 else max(n - 1, 0),
        }[pattern]
        order.insert(where, dev(TAGS[step % 3], f"q{step}"))
    labels = [order.labels[x] for x in order.devices]
    assert labels == sorted(set(labels)) and labels[0] >= 0 and labels[-1] < 1 << order.bits
    assert len(order.labels) == len(order.devices)
    for tag, bucket in order.by_type.items():
        assert bucket == [x for x in order.devices if x.dev_type == tag]


# -- one Domain per device -------------------------------------------------------------------


SECOND = '<domain><name>two</name><devices><disk><alias name="t0"/></disk><!-- t --></devices></domain>'


def test_a_device_of_another_domain_is_refused_by_every_edit() -> None:
    first, second = domain(), domain(SECOND)
    disk = by_name(first, "d0")
    message = r"disk alias='d0' is in domain 'one': remove it there before putting it into domain 'two'"
    with pytest.raises(DomainError, match=message):
        second.add(disk)
    with pytest.raises(DomainError, match=message):
        second.replace(by_name(second, "t0"), disk)
    with pytest.raises(DomainError, match=message):
        second.dev_map["disk"][0] = disk
    with pytest.raises(DomainError, match=message):
        second.dev_map["disk"].insert(0, disk)
    with pytest.raises(DomainError, match=message):
        second.dev_map["disk"].append(disk)
    with pytest.raises(DomainError, match="already in domain 'one'"):
        first.replace(by_name(first, "d1"), disk)
    assert tokens(first.to_xml()) == tokens(BASE) and tokens(second.to_xml()) == ["t0", "#t"]


def test_a_removed_or_replaced_device_may_join_another_domain() -> None:
    first, second = domain(), domain(SECOND)
    disk = first.remove(by_name(first, "d0"))
    second.add(disk, before=by_name(second, "t0"))
    old = by_name(first, "n0")
    first.replace(old, dev("interface", "n7"))
    second.dev_map.get_list("interface").insert(0, old)
    with pytest.raises(DomainError, match="is in domain 'two'"):
        first.add(disk)
    assert tokens(first.to_xml()) == ["#c0", "e0", "n7", "#c1", "d1", "s0", "n1", "#c2"]
    assert tokens(second.to_xml()) == ["d0", "t0", "n0", "#t"]
    assert names(second.dev_map["disk"]) == ["d0", "t0"]


def test_devices_from_specs_belong_to_no_domain_and_a_dropped_domain_lets_go() -> None:
    disk = device_from_spec({"type": "disk", "device": "disk", "alias": "ua-new"})
    first = parse_domain(BASE)  # the default registry: plugin devices behave alike
    first.add(disk)
    with pytest.raises(DomainError, match="already in domain 'one'"):
        first.add(disk)
    del first  # nothing else holds it (no reference cycle), so it is gone at once
    second = parse_domain(SECOND)
    second.add(disk)
    assert "ua-new" in second.to_xml()


def test_an_edited_domain_is_still_freed_without_the_cycle_collector() -> None:
    d = domain()
    d.add(dev("disk", "x"))
    d.dev_map["disk"].insert(0, dev("disk", "y"))
    d.to_xml()
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        d = domain()
        d.add(dev("disk", "x"))
        d.move(by_name(d, "x"), 0)
        d.dev_map["disk"][0] = dev("disk", "z")
        d.to_xml()
        del d
        assert gc.collect() == 0
    finally:
        if was_enabled:
            gc.enable()


# -- work per edit stays flat --------------------------------------------------------------


def _count_calls(func: Callable[[], object]) -> int:
    calls = 0

    def profiler(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(profiler)
    try:
        func()
    finally:
        sys.setprofile(None)
    return calls


def _domain_of_disks(k: int) -> Domain:
    disks = "".join(f'<disk><alias name="d{i}"/></disk>' for i in range(k))
    return domain(f"<domain><name>big</name><devices><emulator/>{disks}<serial/></devices></domain>")


def _calls_per_device(mode: str, k: int) -> float:
    """Python calls per device for k edits of one kind, each followed by a dev_map read."""
    growing = mode in ("add", "list append", "list insert(0)")
    d = domain() if growing else _domain_of_disks(k)
    len(d.dev_map["disk"])  # the bookkeeping is built before the count (once, O(n))
    new = [dev("disk", f"x{i}") for i in range(k)]
    old = d.dev_map["disk"][:]

    def run() -> None:
        for i in range(k):
            if mode == "add":
                d.add(new[i])
            elif mode == "list append":  # after the last disk, before a fixed device
                d.dev_map["disk"].append(new[i])
            elif mode == "list insert(0)":  # before the first disk, after a fixed device
                d.dev_map["disk"].insert(0, new[i])
            elif mode == "remove":
                d.remove(old[i])
            elif mode == "replace":
                d.replace(old[i], new[i])
            elif mode == "move":
                d.move(old[i], 1)
            len(d.dev_map.get_list("disk"))  # the read: empty at the end of "remove"

    calls = _count_calls(run)
    assert len(d.devices) == (k + len(domain().devices) if growing else k + 2 - k * (mode == "remove"))
    return calls / k


@pytest.mark.parametrize("mode", ["add", "list append", "list insert(0)", "remove", "replace", "move"])
def test_work_per_edit_stays_flat_as_the_domain_grows(mode: str) -> None:
    figures = {k: _calls_per_device(mode, k) for k in (1_000, 4_000, 16_000)}
    assert figures[16_000] < figures[1_000] * 1.5, f"{mode}: Python calls per edit grow with the domain: {figures}"


# -- reorder: the whole order at once (Guest re-reading libvirt's order) -------------------


def test_reorder_puts_the_devices_in_the_given_order_and_comments_travel() -> None:
    d = domain()
    wanted = [by_name(d, n) for n in ("n1", "d1", "e0", "s0", "n0", "d0")]
    d.reorder(wanted)
    assert names(d.devices) == ["n1", "d1", "e0", "s0", "n0", "d0"]
    assert names(d.dev_map["disk"]) == ["d1", "d0"]
    assert list(d.dev_map) == ["interface", "disk", "emulator", "serial"]
    assert tokens(d.to_xml()) == ["n1", "#c1", "d1", "#c0", "e0", "s0", "n0", "d0", "#c2"]
    d.move(by_name(d, "d0"), 0)  # later edits work on the new order
    d.add(dev("disk", "x"), after=by_name(d, "e0"))
    assert names(d.devices) == ["d0", "n1", "d1", "e0", "x", "s0", "n0"]
    again = parse_domain(d.to_xml(), registry=REGISTRY)
    assert names(again.devices) == names(d.devices)


def test_reorder_refuses_anything_but_a_permutation_and_changes_nothing() -> None:
    d = domain()
    before = names(d.devices)
    devices = d.devices
    cases = [
        (devices[:-1], "exactly once"),
        ([*devices, devices[0]], "exactly once"),
        ([devices[0], *devices[:-1]], "exactly once"),
        ([dev("disk", "stranger"), *devices[1:]], "not a device"),
    ]
    for wanted, message in cases:
        with pytest.raises(DomainError, match=message):
            d.reorder(wanted)
        assert names(d.devices) == before


def test_reorder_work_per_device_stays_flat_as_the_domain_grows() -> None:
    def per_device(k: int) -> float:
        d = _domain_of_disks(k)
        len(d.dev_map["disk"])
        wanted = list(reversed(d.devices))
        calls = _count_calls(lambda: (d.reorder(wanted), len(d.dev_map.get_list("disk"))))
        assert d.devices == wanted
        return calls / k

    figures = {k: per_device(k) for k in (1_000, 4_000, 16_000)}
    assert figures[16_000] < figures[1_000] * 1.5, f"Python calls per device grow with the domain: {figures}"
