"""Issue 16 item 2: correlate's shortcuts (what a reported device takes from the known
side, metadata entries compared as cut from their section written once) must never hide
a change. Each test below fails if a shortcut trusts what it should not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from benchmark_scripts import benchmark_module
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from structlog.testing import capture_logs

import devframe
from devframe.agent import KnownDevices, spec_changes
from devframe.core.identity import device_key, identity_key, unique_keys
from devframe.core.registry import create_registry
from devframe.core.xmlcut import children_xml
from devframe.testing import SAMPLE_DOMAINS

NS = "http://ovirt.org/vm/1.0"
DISK = (
    "<disk type='file' device='disk'><source file='/i/{0}.img'/><target dev='{0}' bus='virtio'/>"
    "<alias name='ua-{1}'/></disk>"
)
ENTRY = '<{p}:device devtype="disk" name="{0}"><{p}:poolID>{1}</{p}:poolID></{p}:device>'


def indented(disks: list[tuple[str, str]], entries: list[tuple[str, str]] = (), prefix: str = "ovirt-vm") -> str:  # type: ignore[assignment]
    """A domain laid out as libvirt writes it: one device (and one entry) per line."""
    section = ""
    if entries:
        body = "\n      ".join(ENTRY.format(name, pool, p=prefix) for name, pool in entries)
        section = (
            f"  <metadata>\n    <{prefix}:vm xmlns:{prefix}='{NS}'>\n      {body}\n    </{prefix}:vm>\n  </metadata>\n"
        )
    devices = "\n    ".join(DISK.format(dev, device_id) for dev, device_id in disks)
    return f"<domain type='kvm'>\n  <name>snap</name>\n{section}  <devices>\n    {devices}\n  </devices>\n</domain>\n"


def fresh_view(domain: devframe.Domain) -> tuple[list[Any], list[Any], list[Any]]:
    """What a snapshot reads from each device when it reads every device itself."""
    alone = KnownDevices(domain)
    return alone.ids, alone.alias_keys(), [alone.identity(i) for i in range(len(alone))]


def assert_reads_like_a_fresh_snapshot(result: devframe.agent.Correlation, domain: devframe.Domain) -> None:
    reported = result.reported
    assert reported is not None
    ids, alias_keys, identities = fresh_view(domain)
    assert reported.ids == ids
    assert reported.alias_keys() == alias_keys
    assert [reported.identity(i) for i in range(len(reported))] == identities
    assert identities == [identity_key(d.dev_type, d.checked_identity()) for d in domain.devices]
    assert_reads_as_each_device(reported, domain)


def reference_keys(domain: devframe.Domain) -> list[str]:
    """Each device's key read from the device itself: deviceId, else alias, else identity."""
    return unique_keys(
        [d.device_id or d.alias or device_key(d.dev_type, None, None, d.checked_identity()) for d in domain.devices]
    )


def assert_changes_are_the_spec_changes(result: devframe.agent.Correlation) -> None:
    """The reference: every pair's dev_specs compared, no shortcut taken."""
    for key, (known, reported) in result.pairs.items():
        assert result.changed.get(key, {}) == spec_changes(known, reported), key


# -- children_xml: the cut itself ---------------------------------------------------------


def test_children_xml_cuts_an_indented_parent_into_each_childs_xml() -> None:
    root = etree.fromstring(indented([("vda", "a"), ("vdb", "b")]).encode())
    devices = root.find("devices")
    assert devices is not None
    cut = children_xml(devices)
    assert cut is not None
    head, pieces = cut
    assert head == b"<devices>"
    assert pieces == [etree.tostring(child, with_tail=False) for child in devices]


def test_children_xml_pieces_under_their_start_tag_are_the_children() -> None:
    # The root declares namespaces: a child written alone declares them, a piece does
    # not; the start tag does, so start tag + piece is the child.
    xml = indented([("vda", "a")], [("vda", "P")]).replace("<domain type='kvm'>", f"<domain xmlns:x='{NS}'>")
    root = etree.fromstring(xml.encode())
    vm = root.find(f"metadata/{{{NS}}}vm")
    assert vm is not None
    cut = children_xml(vm)
    assert cut is not None
    head, pieces = cut
    assert b"xmlns:ovirt-vm" in head
    close = f"</{vm.prefix}:vm>".encode()
    again = [etree.tostring(etree.fromstring(head + piece + close)[0]) for piece in pieces]
    assert again == [etree.tostring(child, with_tail=False) for child in vm]


@pytest.mark.parametrize(
    "devices",
    [
        "<devices><disk/><disk/></devices>",  # no layout
        # no layout before the second disk, and the layout inside it would stand in for its start
        "<devices>\n    <disk/><disk>\n    <x/></disk>\n  </devices>",
        "<devices>\n    <disk/>\n    <disk/>text\n  </devices>",  # text after the last child
        # the layout inside the first disk starts as the next disk does: no join is sure
        "<devices>\n    <disk>\n    <disk/></disk>\n    <disk/>\n  </devices>",
        # the same, the inner start's name longer than the next child's
        "<devices>\n    <disk>\n    <diskette/></disk>\n    <disk/>\n  </devices>",
        # an empty text is no layout (an empty run would split the parent's start tag
        # off, and a child named as the parent would take it as its own)
        "<disk></disk>",
        # a comment holding the layout and a start like the next child's
        "<devices>\n    <disk><!--\n    <x>--></disk>\n    <x/>\n  </devices>",
    ],
    ids=[
        "compact",
        "uneven-tails",
        "trailing-text",
        "inner-start-like-next",
        "inner-longer-name",
        "empty-text",
        "comment-like-next",
    ],
)
def test_children_xml_refuses_a_layout_it_cannot_cut_exactly(devices: str) -> None:
    parent = etree.fromstring(devices)
    if not len(parent):  # empty runs: lxml keeps "" where set, as a caller may
        parent.text = ""
        etree.SubElement(parent, "disk").text = "\n  "
        parent[0].tail = ""
    assert children_xml(parent) is None


@pytest.mark.parametrize(
    "devices",
    [
        # uneven layout, and a run of it inside the second disk
        "<devices>\n    <disk/>\n  <disk>\n    <x/></disk>\n  </devices>",
        # a child holding the layout: the pieces it was split into are joined again
        "<devices>\n    <disk>\n    <source/>\n    </disk>\n    <disk/>\n  </devices>",
        "<devices>\n    <disk><!--\n    <x/>--></disk>\n    <disk/>\n  </devices>",
        # as the benchmark's report: a child appended after a device's closing indentation
        "<devices>\n    <disk>\n      <source/>\n    <driver/></disk>\n    <nic>\n      <mac/>\n    <link/>"
        "</nic>\n    <disk/>\n  </devices>",
        # a piece starting with a longer name than the next child's is joined
        "<devices>\n    <disk>\n    <diskette/></disk>\n    <x/>\n  </devices>",
        # the last child holds it, and the last tail differs
        "<devices>\n    <disk/>\n    <nic>\n    <link/>\n    <y/></nic>\n  </devices>",
    ],
    ids=[
        "uneven-tails-and-layout-inside",
        "layout-inside",
        "layout-in-comment",
        "appended-children",
        "longer-name-inside",
        "in-the-last",
    ],
)
def test_children_xml_joins_the_pieces_of_a_child_holding_the_layout(devices: str) -> None:
    parent = etree.fromstring(devices)
    cut = children_xml(parent)
    assert cut is not None
    assert cut[1] == [etree.tostring(child, with_tail=False) for child in parent]


def test_children_xml_joins_pieces_under_a_start_tag_declaring_namespaces() -> None:
    root = etree.fromstring(
        f"<domain xmlns:x='{NS}'><devices>\n    <disk>\n      <source/>\n    <x:y/></disk>\n    <disk/>\n"
        "  </devices></domain>"
    )
    devices = root[0]
    cut = children_xml(devices)
    assert cut is not None
    head, pieces = cut
    assert b"xmlns:x" in head
    again = [etree.tostring(etree.fromstring(head + piece + b"</devices>")[0]) for piece in pieces]
    assert again == [etree.tostring(child, with_tail=False) for child in devices]


_NAMES = st.sampled_from(["disk", "d", "nic"])
_RUNS = st.sampled_from(["\n  ", "\n    ", "\n      ", " ", "", None])


@st.composite
def _laid_out(draw: st.DrawFn, depth: int = 2) -> etree._Element:
    """An element whose text and tails are drawn from a few runs of layout."""
    element = etree.Element(draw(_NAMES))
    element.text = draw(_RUNS)
    if depth:
        for _ in range(draw(st.integers(0, 3))):
            child = (
                draw(_laid_out(depth - 1))
                if draw(st.booleans())
                else etree.Comment(draw(st.sampled_from(["c", "\n    <d>"])))
            )
            child.tail = draw(_RUNS)
            element.append(child)
    return element


@settings(max_examples=400, deadline=None)
@given(_laid_out(3))
def test_children_xml_is_exact_or_refuses(parent: etree._Element) -> None:
    # Whatever the layout, a cut is each child's XML (or there is none).
    cut = children_xml(parent)
    if cut is not None:
        assert cut[1] == [etree.tostring(child, with_tail=False) for child in parent]


def test_children_xml_refuses_an_entity_reference_among_the_children() -> None:
    devices = etree.fromstring("<devices>\n    <disk/>\n    <disk>\n    <x/></disk>\n  </devices>")
    # An entity reference is written as "&name;", not "<": its start would not be found,
    # and the layout inside the second disk would stand in for it.
    devices.insert(1, etree.Entity("ref"))
    devices[0].tail = devices[1].tail = devices.text
    assert children_xml(devices) is None


def test_children_xml_cuts_an_uneven_layout() -> None:
    # As after appending a copy of a device: the last two tails swapped.
    devices = etree.fromstring("<devices>\n    <disk/>\n  <disk>\n      <x/></disk>\n    <y/>\n    </devices>")
    cut = children_xml(devices)
    assert cut is not None
    assert cut[1] == [etree.tostring(child, with_tail=False) for child in devices]


def test_children_xml_keeps_comments_and_deeper_layout() -> None:
    devices = etree.fromstring("<devices>\n  <!-- c -->\n  <disk>\n    <source/>\n  </disk>\n  <?pi x?>\n</devices>")
    cut = children_xml(devices)
    assert cut is not None
    assert cut[1] == [etree.tostring(child, with_tail=False) for child in devices]


# -- devices: what a reported device takes from the known side --------------------------


def test_a_change_of_equal_length_after_a_shift_is_reported() -> None:
    known = devframe.parse_domain(indented([("vda", "d1"), ("vdb", "d2"), ("vdc", "d3")]))
    snapshot = KnownDevices(known)
    # vda is gone, so every device moved up one place; vdc's file changed, same length.
    live = devframe.parse_domain(indented([("vdb", "d2"), ("vdc", "d3")]).replace("/i/vdc.img", "/i/vdx.img"))
    result = snapshot.correlate(live)
    assert [d.alias for d in result.removed] == ["ua-d1"]
    assert set(result.changed) == {"d3"}
    assert ("/i/vdc.img", "/i/vdx.img") in result.changed["d3"].values()
    assert_reads_like_a_fresh_snapshot(result, live)
    assert_changes_are_the_spec_changes(result)


def test_devices_that_moved_keep_their_ids_and_an_equal_length_alias_change_is_read() -> None:
    known = devframe.parse_domain(indented([("vda", "d1"), ("vdb", "d2"), ("vdc", "d3")]))
    snapshot = KnownDevices(known)
    live = devframe.parse_domain(indented([("vdc", "d3"), ("vda", "d1"), ("vdb", "d9")]))
    result = snapshot.correlate(live)
    assert result.reported is not None and result.reported.ids == ["d3", "d1", "d9"]
    assert result.by == {"d1": "alias", "d3": "alias", "d2": "identity"}  # vdb found by its target
    assert result.changed == {"d2": {"alias": ("ua-d2", "ua-d9"), "deviceId": ("d2", "d9")}}
    assert_reads_like_a_fresh_snapshot(result, live)


class Knob(devframe.Device):
    """A kind whose identity always fails (the plugin guard reports each failure)."""

    dev_type = "knob"
    tag = "knob"

    def identity(self) -> Any:
        raise RuntimeError("boom in identity")


class KnobPlugin:
    @devframe.hookimpl
    def devframe_register_device_types(self, register: Any) -> None:
        register(Knob)


def test_a_failing_identity_is_asked_and_reported_for_each_reported_device() -> None:
    # The known side's failure says nothing about the reported device: it is asked too,
    # and its failure reported (strict mode: raised) on its own.
    xml = "<domain><name>d</name><devices>\n    <knob size='1'/>\n  </devices></domain>"
    lenient = create_registry(entry_points=False, plugins=[("knob", KnobPlugin())], strict=False, env={})
    strict = create_registry(entry_points=False, plugins=[("knob", KnobPlugin())], strict=True, env={})
    snapshot = KnownDevices(devframe.parse_domain(xml, registry=lenient))
    with capture_logs() as logs:
        assert snapshot.identity(0) is None and snapshot.keys() == ["knob"]  # read (and reported) once
    # the key takes the identity already read: one failure, one report
    assert [e["operation"] for e in logs if e["log_level"] == "error"] == ["identity"]
    with capture_logs() as logs:
        result = snapshot.correlate(devframe.parse_domain(xml, registry=lenient))
    failures = [e for e in logs if e["log_level"] == "error" and e.get("operation") == "identity"]
    assert len(failures) == 1, failures  # the reported device's own
    assert result.by == dict.fromkeys(result.by, "order")
    with pytest.raises(devframe.PluginError, match="boom in identity"):
        snapshot.correlate(devframe.parse_domain(xml, registry=strict))


def test_equal_xml_of_another_device_class_takes_nothing_from_the_known_side() -> None:
    # Known: a disk the drive plugin reads (identity: its target). Reported with no drive
    # plugin: the same XML is an UnknownDevice with no identity, and must not take one.
    xml = indented([("vda", "d1")]).replace("<alias name='ua-d1'/>", "")
    known = devframe.parse_domain(xml)
    snapshot = KnownDevices(known)
    assert snapshot.identity(0) is not None
    no_drive = create_registry(only=("sound",), strict=False, env={})
    live = devframe.parse_domain(xml, registry=no_drive)
    result = snapshot.correlate(live)
    assert type(live.devices[0]) is not type(known.devices[0])
    assert result.reported is not None and result.reported.identity(0) is None
    assert_reads_like_a_fresh_snapshot(result, live)


def test_a_report_whose_devices_hold_the_layout_is_cut_and_every_change_read() -> None:
    # As libvirt's XML edited by a tool that appends a child after a device's closing
    # indentation: <devices> is still written once and cut (the pieces joined again),
    # and a change inside the joined device, or in the device after it, is read.
    disks = [("vda", "d1"), ("vdb", "d2"), ("vdc", "d3")]
    xml = indented(disks, [(dev, "P") for dev, _ in disks])
    snapshot = KnownDevices(devframe.parse_domain(xml))
    assert snapshot._layout
    appended = xml.replace("<alias name='ua-d2'/></disk>", "<alias name='ua-d2'/>\n    <driver cache='none'/></disk>")
    for live_xml, changed in [
        (appended, {"d2"}),
        (appended.replace("/i/vdc.img", "/i/vdx.img"), {"d2", "d3"}),
        (appended.replace("/i/vda.img", "/i/vdy.img"), {"d1", "d2"}),
    ]:
        live = devframe.parse_domain(live_xml)
        result = snapshot.correlate(live)
        reported = result.reported
        assert reported is not None and reported._layout, "cut, not written device by device"
        assert reported.xml == [etree.tostring(d.element, with_tail=False) for d in live.devices]
        assert set(result.changed) == changed
        assert result.changed["d2"] == {"cache": (None, "none")}
        assert_changes_are_the_spec_changes(result)
        assert_reads_like_a_fresh_snapshot(result, live)


def graphics_domain(device_id: str, *, root_ns: bool = False) -> str:
    """Graphics have no alias in libvirt: their deviceId is in their metadata entry."""
    root = f"<domain type='kvm' xmlns:ovirt-vm='{NS}'>" if root_ns else "<domain type='kvm'>"
    return (
        f"{root}\n  <name>g</name>\n  <metadata>\n    <ovirt-vm:vm xmlns:ovirt-vm='{NS}'>\n"
        '      <ovirt-vm:device devtype="graphics" name="spice">'
        f"<ovirt-vm:deviceId>{device_id}</ovirt-vm:deviceId></ovirt-vm:device>\n"
        "    </ovirt-vm:vm>\n  </metadata>\n  <devices>\n"
        "    <graphics type='spice' autoport='yes'/>\n    <graphics type='vnc' autoport='yes'/>\n"
        "  </devices>\n</domain>\n"
    )


def test_a_deviceid_kept_in_metadata_is_read_again_when_its_entry_changed() -> None:
    known = devframe.parse_domain(graphics_domain("g1"))
    snapshot = KnownDevices(known)
    assert snapshot.ids == ["g1", None]
    assert type(known.devices[0].metadata_source).__name__ == "Entry", "read without wrapping the entry"
    same = devframe.parse_domain(graphics_domain("g1"))
    result = snapshot.correlate(same)
    assert result.reported is not None and result.reported.ids == ["g1", None] and not result.changed
    # The same device XML, the deviceId in its entry changed (same length): read again.
    live = devframe.parse_domain(graphics_domain("g2"))
    result = snapshot.correlate(live)
    assert result.reported is not None and result.reported.ids == ["g2", None]
    assert result.changed == {"g1": {"deviceId": ("g1", "g2")}}
    assert_reads_like_a_fresh_snapshot(result, live)
    # No entry at all: no deviceId.
    bare = devframe.parse_domain(
        graphics_domain("g1")
        .replace("<ovirt-vm:deviceId>g1</ovirt-vm:deviceId>", "")
        .replace('devtype="graphics" name="spice"', 'devtype="graphics" name="rdp"')
    )
    result = snapshot.correlate(bare)
    assert result.reported is not None and result.reported.ids == [None, None]
    assert_reads_like_a_fresh_snapshot(result, bare)


def test_devices_reordered_behind_the_domains_back_keep_their_own_xml() -> None:
    # The tree's order is not the domain's: the cut pieces must not be handed out by position.
    domain = devframe.parse_domain(indented([("vda", "d1"), ("vdb", "d2")]))
    devices = domain.devices[0].element.getparent()
    assert devices is not None
    devices.insert(0, devices[1])
    devices[0].tail, devices[1].tail = devices[1].tail, devices[0].tail  # the layout as before
    assert children_xml(devices) is not None
    snapshot = KnownDevices(domain)
    assert [device_id for device_id in snapshot.ids] == ["d1", "d2"]
    assert snapshot.xml == [etree.tostring(d.element, with_tail=False) for d in domain.devices]


def test_devices_written_under_a_start_tag_with_namespaces_compare_with_devices_written_alone() -> None:
    # The root declares a namespace: devices cut from <devices> are relative to its start
    # tag. Against a report that cannot be cut (no layout), each side is compared as
    # written on its own, the known side as it was when the snapshot was made.
    known = devframe.parse_domain(
        indented([("vda", "d1"), ("vdb", "d2")]).replace("<domain type='kvm'>", f"<domain type='kvm' xmlns:x='{NS}'>")
    )
    snapshot = KnownDevices(known)
    assert snapshot._context is not None
    source = known.devices[0].element.find("source")
    assert source is not None
    source.set("file", "/moved.img")  # edited after the snapshot: not seen
    compact = indented([("vda", "d1"), ("vdb", "d2")]).replace("\n    <disk", "<disk")
    compact = compact.replace("<domain type='kvm'>", f"<domain type='kvm' xmlns:x='{NS}'>")
    live = devframe.parse_domain(compact)
    result = snapshot.correlate(live)
    assert result.reported is not None and result.reported._context is None
    assert not result.changed and len(result.matched) == 2
    changed = devframe.parse_domain(compact.replace("/i/vdb.img", "/i/vdx.img"))
    assert set(snapshot.correlate(changed).changed) == {"d2"}


def test_a_report_cut_under_a_start_tag_with_namespaces_compares_with_a_known_side_written_alone() -> None:
    root = f"<domain type='kvm' xmlns:x='{NS}'>"
    plain = indented([("vda", "d1"), ("vdb", "d2")])
    text = plain.replace("<domain type='kvm'>", root)
    snapshot = KnownDevices(devframe.parse_domain(plain))  # cut, no namespace: each as written alone
    assert snapshot._context is None and snapshot._layout
    result = snapshot.correlate(devframe.parse_domain(text))
    assert result.reported is not None and result.reported._context is not None
    assert not result.changed and len(result.matched) == 2
    changed = snapshot.correlate(devframe.parse_domain(text.replace("/i/vda.img", "/i/vdx.img")))
    assert set(changed.changed) == {"d1"}
    # and from dev_specs (devices written alone, outside any domain)
    specs = KnownDevices(
        [d.to_spec() for d in devframe.parse_domain(text).devices], registry=devframe.default_registry()
    )
    assert set(specs.correlate(devframe.parse_domain(text)).matched) == {"d1", "d2"}


# -- metadata: entries cut from their section ----------------------------------------------


def test_a_metadata_change_of_equal_length_after_a_shift_is_reported() -> None:
    disks = [("vda", "d1"), ("vdb", "d2"), ("vdc", "d3")]
    known = devframe.parse_domain(indented(disks, [("vda", "P1"), ("vdb", "P2"), ("vdc", "P3")]))
    assert known.devices[2].metadata.pending  # wrapped, not decoded: still compared as its entry's XML
    snapshot = KnownDevices(known)
    # vda's entry is gone (every entry moved up one place), vdc's pool changed, same length.
    live = devframe.parse_domain(indented(disks, [("vdb", "P2"), ("vdc", "P9")]))
    result = snapshot.correlate(live)
    assert result.changed == {"d1": {"poolID": ("P1", None)}, "d3": {"poolID": ("P3", "P9")}}
    # The shortcut ran: both sections were cut, and vdb's entry was never decoded.
    assert snapshot._entry_pieces() is not None and result.reported is not None
    assert result.reported._entry_pieces() is not None
    assert live.devices[1].metadata_if_any() is None or live.devices[1].metadata_if_any().pending  # type: ignore[union-attr]
    assert_changes_are_the_spec_changes(result)


def test_sections_that_bind_another_prefix_compare_by_value() -> None:
    disks = [("vda", "d1"), ("vdb", "d2")]
    known = devframe.parse_domain(indented(disks, [("vda", "P1"), ("vdb", "P2")]))
    snapshot = KnownDevices(known)
    # The same values under another prefix: different XML, equal values.
    same = devframe.parse_domain(indented(disks, [("vda", "P1"), ("vdb", "P2")], prefix="ovm"))
    assert not snapshot.correlate(same).changed
    other = devframe.parse_domain(indented(disks, [("vda", "P1"), ("vdb", "P7")], prefix="ovm"))
    assert snapshot.correlate(other).changed == {"d2": {"poolID": ("P2", "P7")}}


def test_entries_of_equal_xml_under_sections_that_start_differently_are_decoded() -> None:
    # The same entry XML: under a section declaring the default namespace, <poolID> is a
    # value; under one that does not, it is foreign XML and no value.
    def domain(default: str) -> devframe.Domain:
        return devframe.parse_domain(
            indented([("vda", "d1")], [("vda", "P")])
            .replace("<ovirt-vm:poolID>P</ovirt-vm:poolID>", "<poolID>P</poolID>")
            .replace(f"<ovirt-vm:vm xmlns:ovirt-vm='{NS}'>", f"<ovirt-vm:vm xmlns:ovirt-vm='{NS}'{default}>")
        )

    snapshot = KnownDevices(domain(f" xmlns='{NS}'"))
    result = snapshot.correlate(domain(""))
    assert result.changed == {"d1": {"poolID": ("P", None)}}
    cut = snapshot._entry_pieces()
    assert cut is not None and result.reported is not None
    reported = result.reported._entry_pieces()
    assert reported is not None and list(cut[1].values()) == list(reported[1].values())  # equal entry XML


def test_a_section_that_cannot_be_cut_is_compared_entry_by_entry() -> None:
    disks = [("vda", "d1"), ("vdb", "d2")]
    known = devframe.parse_domain(indented(disks, [("vda", "P1"), ("vdb", "P2")]))
    snapshot = KnownDevices(known)
    compact = indented(disks, [("vda", "P1"), ("vdb", "P7")]).replace("\n      <ovirt-vm:device", "<ovirt-vm:device")
    live = devframe.parse_domain(compact)
    result = snapshot.correlate(live)
    assert result.reported is not None and result.reported._entry_pieces() is None
    assert result.changed == {"d2": {"poolID": ("P2", "P7")}}


# -- the generated domains: every kind, devices without aliases, identical devices ---------


def _generators() -> Any:
    return benchmark_module("generate")


@pytest.mark.parametrize("name", ["mix", "varied"])
def test_generated_domains_correlate_as_every_device_read_afresh(name: str) -> None:
    generate = _generators()
    xml = generate.GENERATORS[name](300)
    known = devframe.parse_domain(xml)
    snapshot = KnownDevices(known)
    same = devframe.parse_domain(xml)
    result = snapshot.correlate(same)
    assert not result.changed and len(result.added) == len(result.removed)
    assert_reads_like_a_fresh_snapshot(result, same)

    # Live: the first device is gone (every device moves up one place), every 7th
    # device's first attribute value gains a character, the devices come in reverse order.
    root = etree.fromstring(xml)
    devices = root.find("devices")
    assert devices is not None
    devices.remove(devices[1])
    edited = 0
    for index, element in enumerate(devices):
        if index % 7 == 3 and element.attrib:
            attr = next(iter(element.attrib))
            element.set(attr, element.get(attr, "") + "x")
            edited += 1
    devices[:] = list(reversed(devices))
    live = devframe.parse_domain(etree.tostring(root))
    result = snapshot.correlate(live)
    assert_reads_like_a_fresh_snapshot(result, live)
    assert_changes_are_the_spec_changes(result)
    assert len(result.changed) >= edited // 2  # most edits show in the dev_spec
    # the next poll, against the reported side
    assert result.reported is not None
    again = result.reported.correlate(devframe.parse_domain(etree.tostring(root)))
    assert not again.changed and not again.added and not again.removed


SAMPLES = sorted(SAMPLE_DOMAINS.glob("*.xml"))


def assert_reads_as_each_device(snapshot: KnownDevices, domain: devframe.Domain) -> None:
    """keys(), alias() and ids take what was read on the way (or from the known side);
    the reference reads each device itself."""
    assert snapshot.keys() == reference_keys(domain)
    assert [snapshot.alias(i) for i in range(len(snapshot))] == [d.alias for d in domain.devices]
    assert snapshot.ids == [d.device_id for d in domain.devices]


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_keys_aliases_and_ids_read_as_from_each_device_on_every_sample_domain(path: Path) -> None:
    xml = path.read_text(encoding="utf-8")
    domain = devframe.parse_domain(xml)
    assert_reads_as_each_device(KnownDevices(domain), domain)
    live = devframe.parse_domain(xml)
    result = KnownDevices(domain).correlate(live)
    assert result.reported is not None
    assert_reads_as_each_device(result.reported, live)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_devices_written_once_for_a_digest_cut_as_written_afresh(path: Path) -> None:
    # The fleet agent writes <devices> once, for its digest, and the snapshot cuts that
    # XML: the same pieces as a snapshot that writes it itself, on every sample domain.
    from devframe.agent.correlate import devices_written

    xml = path.read_text(encoding="utf-8")
    known = devframe.parse_domain(xml)
    live = devframe.parse_domain(xml)
    written = devices_written(live)
    if live.devices:
        assert written == (live.devices[0].element.getparent(), live.devices_xml().encode("ascii", "xmlcharrefreplace"))
    afresh, reused = KnownDevices(live), KnownDevices(live, written=written)
    assert reused.xml == afresh.xml and reused._context == afresh._context
    result = KnownDevices(known).correlate(live, written=written)
    assert not result.changed and not result.added and not result.removed
    assert result.reported is not None and result.reported.xml == afresh.xml


def test_devices_written_of_another_element_are_not_taken_for_this_ones() -> None:
    from devframe.agent.correlate import devices_written

    live = devframe.parse_domain(indented([("vda", "a"), ("vdb", "b")]))
    other = devframe.parse_domain(indented([("vdc", "c"), ("vdd", "d")]))  # the same layout
    snapshot = KnownDevices(live, written=devices_written(other))
    assert snapshot.xml == KnownDevices(live).xml
    assert b"vda" in snapshot.xml[0] and b"vdc" not in b"".join(snapshot.xml)
