"""parse_domain's shortcuts (issue 16, branch parse5), each against the path it replaces.

* ``parse_devices`` makes a dev_object with :func:`parsed_device` (its slots set, no
  ``type.__call__`` / ``__init__``) when the class keeps Device's ``__init__``: the same
  object as ``cls(element)`` with its route and owner.
* Binding asks no device for its identity when its class declares the ``devtype`` every
  identity carries (:attr:`Device.identity_devtype`) and no identity-keyed entry has it:
  the same bindings, orphans and errors as asking every device.
* The built-in plugins' dev_objects carry no ``__dict__``.
* Binding finds the aliases of a whole ``<devices>`` in one XPath query
  (:func:`~devframe.core.metadata.section.first_aliases`, branch parse6): the same
  elements as the search per device, and the same bindings.
"""

from __future__ import annotations

import gc
import weakref
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import pytest
from benchmark_scripts import generated
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

import devframe
from devframe import Device, DeviceTypeRegister, Identity, MetadataError, hookimpl
from devframe.core.device import UnknownDevice, parsed_device, plain_construction
from devframe.core.identity import device_id_from_alias, identity_key
from devframe.core.metadata import section as section_module
from devframe.core.metadata.binding import Entry, EntryIndex, IdentityPlan
from devframe.core.metadata.section import first_alias, first_aliases
from devframe.testing import sample_domain_files, wrap_in_domain

NS = "http://ovirt.org/vm/1.0"
_UNSET = object()


def _routes() -> list[Any]:
    return list(devframe.default_registry().routes.values())


def _slots(cls: type) -> list[str]:
    return [name for klass in cls.__mro__ for name in klass.__dict__.get("__slots__", ())]


def _state(device: Device) -> dict[str, Any]:
    return {name: getattr(device, name, _UNSET) for name in _slots(type(device))}


def _generated(name: str, n: int) -> bytes:
    return generated(name, n)


# -- construction -------------------------------------------------------------------------


def test_builtin_device_classes_keep_no_instance_dict() -> None:
    routes = _routes()
    assert len(routes) >= 25, "the test must run with every built-in plugin installed"
    for route in routes:
        device = route.dev_class(route.dev_class.new_element())
        assert not hasattr(device, "__dict__"), f"{route.dev_class.__qualname__} instances carry a __dict__"


@pytest.mark.parametrize("cls", [UnknownDevice, *(route.dev_class for route in _routes())], ids=lambda c: c.__name__)
def test_parsed_device_is_what_the_constructor_makes(cls: type[Device]) -> None:
    assert plain_construction(cls)
    route, owner = object(), object()
    element = etree.Element(cls.tag or "gadget")
    made = cls(element)
    made._route = route  # type: ignore[assignment]
    made._owner = owner
    fast = parsed_device(cls, element, route, owner)  # type: ignore[arg-type]
    assert type(fast) is cls
    assert _state(fast) == _state(made)
    assert all(value is not _UNSET for value in _state(fast).values())


def test_a_class_with_its_own_init_is_made_through_it() -> None:
    made: list[str] = []

    class Recording(Device):
        __slots__ = ()
        dev_type = "gadget"
        tag = "gadget"

        def __init__(self, element: etree._Element, **kwargs: Any) -> None:
            made.append(element.get("name", ""))
            super().__init__(element, **kwargs)

    class WithNew(Device):
        __slots__ = ()
        dev_type = "gizmo"
        tag = "gizmo"

        def __new__(cls, *args: Any, **kwargs: Any) -> WithNew:
            made.append("new")
            return super().__new__(cls)

    assert not plain_construction(Recording) and not plain_construction(WithNew)

    class Plugin:
        @hookimpl
        def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
            register(Recording)
            register(WithNew)

    registry = devframe.create_registry(entry_points=False, plugins=[("own-init", Plugin())])
    domain = devframe.parse_domain(
        wrap_in_domain("<gadget name='a'/>", "<gizmo/>", "<gadget name='b'/>"), registry=registry
    )
    assert made == ["a", "new", "b"]
    devices = domain.devices
    assert [type(d) for d in devices] == [Recording, WithNew, Recording]
    assert all(d._owner is domain._token and d.plugin == "own-init" for d in devices)


@pytest.mark.parametrize("path", sample_domain_files(), ids=lambda p: p.name)
def test_parsed_devices_match_constructed_ones(path: Path) -> None:
    domain = devframe.parse_domain(path.read_bytes())
    for device in domain.devices:
        made = type(device)(device.element)
        made._route = device._route
        made._owner = device._owner
        made.metadata_source = device.metadata_source
        if hasattr(device, "_failed_identity"):
            made._failed_identity = device._failed_identity  # type: ignore[attr-defined]
        assert _state(made) == _state(device), device.describe()


# -- identity_devtype ---------------------------------------------------------------------


def _sample_devices() -> list[Device]:
    return [device for path in sample_domain_files() for device in devframe.parse_domain(path.read_bytes()).devices]


def test_every_declared_identity_carries_its_devtype() -> None:
    declared = {route.dev_class for route in _routes() if route.dev_class.identity_devtype is not None}
    assert len(declared) >= 25, "every built-in kind but the NIC and the redirfilter declares one"
    seen: Counter[type] = Counter()
    for device in _sample_devices():
        cls = type(device)
        if cls.identity_devtype is None:
            continue
        identity = device.identity()
        assert identity is None or identity.get("devtype") == cls.identity_devtype, (device.describe(), identity)
        seen[cls] += identity is not None
    # the sample domains give most declared classes an identity to check
    assert len([cls for cls in declared if seen[cls]]) >= 20, seen


def test_a_subclass_with_its_own_identity_drops_the_declaration() -> None:
    class Base(Device):
        dev_type = "gadget"
        identity_devtype: ClassVar[str | None] = "gadget"

        def identity(self) -> Identity | None:
            return {"devtype": "gadget", "name": "x"}

    class Renamed(Base):
        def identity(self) -> Identity | None:
            return {"serial": "1"}

    class Same(Base):
        pass

    class Redeclared(Base):
        identity_devtype: ClassVar[str | None] = "other"

        def identity(self) -> Identity | None:
            return {"devtype": "other", "name": "y"}

    assert Base.identity_devtype == "gadget" and Same.identity_devtype == "gadget"
    assert Renamed.identity_devtype is None
    assert Redeclared.identity_devtype == "other"


def _keyed_everywhere(xml: bytes) -> bytes:
    """The domain with a metadata entry for every device that can have one: keyed by its
    identity where that is unique in the domain (else by its alias), as the engine writes."""
    domain = devframe.parse_domain(xml)
    counts = Counter(identity_key(d.dev_type, d.checked_identity()) for d in domain.devices)
    for number, device in enumerate(domain.devices):
        key = identity_key(device.dev_type, device.checked_identity())
        if (key is not None and counts[key] == 1) or device.alias:
            device.metadata["label"] = f"device-{number}"
    return domain.to_xml().encode()


def _outcome(xml: bytes) -> Any:
    """What binding made of ``xml``: each device's entry (by position) and the orphans, or
    the error it raised."""
    try:
        domain = devframe.parse_domain(xml)
    except MetadataError as exc:
        return ("error", str(exc))
    section = domain.metadata_section
    if section is None:
        return ("no metadata", len(domain.devices))
    bound = []
    for device in domain.devices:
        entry = section.entry_of(device)
        bound.append(None if entry is None else (entry.position, entry.attrs))
    return ("bound", bound, sorted(str(orphan.key) for orphan in domain.orphan_metadata))


def _outcome_asking_everyone(xml: bytes, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as patch:
        for route in _routes():
            patch.setattr(route.dev_class, "identity_devtype", None)
        return _outcome(xml)


_KEYED = [_keyed_everywhere(path.read_bytes()) for path in sample_domain_files()]


@pytest.mark.parametrize("xml", [path.read_bytes() for path in sample_domain_files()] + _KEYED)
def test_binding_is_the_same_as_asking_every_device(xml: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _outcome(xml) == _outcome_asking_everyone(xml, monkeypatch)


def test_keyed_samples_bind_declared_kinds_by_identity() -> None:
    # The comparison above means something only if identity binds devices of declared
    # classes in these domains (their devtypes keyed, so asked).
    kinds: set[str] = set()
    for xml in _KEYED:
        try:
            domain = devframe.parse_domain(xml)
        except MetadataError:
            continue  # identities of different shapes keying one device (memory): compared above
        section = domain.metadata_section
        if section is None:
            continue  # no device the metadata could key
        for device in domain.devices:
            entry = section.entry_of(device)
            if entry is not None and type(device).identity_devtype is not None and "alias" not in entry.attrs:
                kinds.add(device.dev_type)
    assert {"disk", "controller", "video", "sound", "graphics", "channel"} <= kinds, kinds


@pytest.mark.parametrize("name", ["mix", "varied"])
def test_generated_domains_bind_the_same(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    xml = _generated(name, 300)
    found = _outcome(xml)
    assert found[0] == "bound" and sum(entry is not None for entry in found[1]) >= 100
    assert found == _outcome_asking_everyone(xml, monkeypatch)


_DEVTYPES = sorted({route.dev_class.identity_devtype or "interface" for route in _routes()})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    which=st.integers(0, len(_KEYED) - 1),
    edits=st.lists(
        st.tuples(
            st.integers(0, 200), st.sampled_from(["drop", "retype", "untype", "copy"]), st.sampled_from(_DEVTYPES)
        ),
        max_size=8,
    ),
)
def test_edited_entries_bind_the_same(
    which: int, edits: list[tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Entries dropped, given another kind's devtype, left without one, or doubled (an
    # ambiguity or a double bind): whatever binding makes of it, the same both ways.
    root = etree.fromstring(_KEYED[which])
    entries = root.findall(f"metadata/{{{NS}}}vm/{{{NS}}}device")
    for at, how, devtype in edits:
        if not entries:
            break
        entry = entries[at % len(entries)]
        parent = entry.getparent()
        if how == "drop" and parent is not None:
            parent.remove(entry)
        elif how == "retype":
            entry.set("devtype", devtype)
        elif how == "untype" and "devtype" in entry.attrib:
            del entry.attrib["devtype"]
        elif how == "copy" and parent is not None:
            entry.addnext(etree.fromstring(etree.tostring(entry)))
    xml = etree.tostring(root)
    assert _outcome(xml) == _outcome_asking_everyone(xml, monkeypatch)


def test_identity_is_asked_only_when_an_entry_could_match() -> None:
    asked: list[str] = []

    class Gadget(Device):
        __slots__ = ()
        dev_type = "gadget"
        tag = "gadget"
        identity_devtype: ClassVar[str | None] = "gadget"

        def identity(self) -> Identity | None:
            asked.append(self.element.get("name", ""))
            return {"devtype": "gadget", "name": self.element.get("name", "")}

    class Plugin:
        @hookimpl
        def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
            register(Gadget)

    registry = devframe.create_registry(entry_points=False, plugins=[("gadgets", Plugin())])

    def domain_with(*entries: str) -> str:
        metadata = (
            f"<metadata><ovirt-vm:vm xmlns:ovirt-vm='{NS}'>"
            + "".join(f"<ovirt-vm:device {e}><ovirt-vm:x>1</ovirt-vm:x></ovirt-vm:device>" for e in entries)
            + "</ovirt-vm:vm></metadata>"
        )
        xml = wrap_in_domain("<gadget name='a'/>", "<gadget name='b'/>")
        return xml.replace("<devices>", metadata + "<devices>", 1)

    # Entries only for other kinds, or keyed by devtype alone: no gadget identity can match.
    domain = devframe.parse_domain(
        domain_with("devtype='disk' name='a'", "devtype='gadget' alias='ua-1'", "mac_address='52:54:00:00:00:01'"),
        registry=registry,
    )
    assert asked == [] and [d.metadata_source for d in domain.devices] == [None, None]
    assert len(domain.orphan_metadata) == 3
    # One gadget entry keyed by identity: every gadget is asked, the one named binds.
    domain = devframe.parse_domain(
        domain_with("devtype='disk' name='a'", "devtype='gadget' name='b'"), registry=registry
    )
    assert asked == ["a", "b"]
    assert domain.devices[0].metadata_source is None and domain.devices[1].metadata["x"] == "1"


@pytest.mark.parametrize("xml", [_generated("mix", 50), _generated("varied", 50), *_KEYED[:3]])
def test_a_parsed_domain_is_no_reference_cycle(xml: bytes) -> None:
    # Binding's plans and closures hold no reference back to themselves: the domain, its
    # tree and the metadata index go when the last reference does, without the collector.
    devframe.parse_domain(xml)  # first-use caches filled, garbage of their own collected
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        domain = devframe.parse_domain(xml)
        assert domain.devices
        gone = weakref.ref(domain)
        del domain
        assert gone() is None
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        left = Counter(
            type(o).__name__ for o in gc.garbage if isinstance(o, (Device, Entry, IdentityPlan, etree._Element))
        )
        assert not left, left
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()


_VARIED = _generated("varied", 200)


@settings(max_examples=40, deadline=None)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 400), st.integers(0, 400), st.sampled_from(["alias", "deviceId", "both", "unalias"])),
        max_size=6,
    )
)
def test_alias_binding_is_alias_hits(edits: list[tuple[int, int, str]]) -> None:
    # Entries named by alias, by deviceId, by both, by another device's id: a device whose
    # alias finds entries is bound as EntryIndex.alias_hits answers (binding reads it inline).
    root = etree.fromstring(_VARIED)
    entries = root.findall(f"metadata/{{{NS}}}vm/{{{NS}}}device")
    aliases = [el.get("name") or "" for el in root.iterfind("devices/*/alias")]
    for at, other, how in edits:
        entry, alias = entries[at % len(entries)], aliases[other % len(aliases)]
        if how in ("alias", "both"):
            entry.set("alias", alias)
        if how in ("deviceId", "both") and alias.startswith("ua-"):
            entry.set("deviceId", alias[3:])
        if how == "unalias":
            entry.attrib.pop("alias", "")
    xml = etree.tostring(root)
    try:
        domain = devframe.parse_domain(xml)
    except MetadataError:
        return  # an entry for two devices, or two for one: the same error either way (above)
    section = domain.metadata_section
    assert section is not None
    index = section._index
    for device in domain.devices:
        name = device.alias
        hits = index.alias_hits(name) if name else None
        if hits is not None:
            assert type(hits) is not list
            assert section.entry_of(device) is hits, device.describe()


# -- the aliases of <devices> in one pass (branch parse6) ----------------------------------


def _each_first_alias(devices_el: etree._Element) -> dict[etree._Element, etree._Element | None]:
    return {child: first_alias(child) for child in devices_el}


@pytest.mark.parametrize(
    "xml",
    [path.read_bytes() for path in sample_domain_files() if b"<devices>" in path.read_bytes()]
    + [_generated("mix", 100), _generated("varied", 200)],
)
def test_first_aliases_is_first_alias_of_each_child(xml: bytes) -> None:
    devices_el = etree.fromstring(xml).find("devices")
    assert devices_el is not None
    found = first_aliases(devices_el)
    assert found == _each_first_alias(devices_el)
    assert list(found) == list(devices_el)  # every child, in order, the same proxies


# What an alias search could trip on: an alias in a namespace, two of them, one deeper
# down, comments and instructions before it, a text-only or empty device.
_ODD_CHILDREN = [
    "<alias name='ua-1'/>",
    "<alias name='second'/>",
    "<x:alias xmlns:x='urn:x' name='ns'/>",
    "<alias xmlns='urn:default' name='default-ns'/>",
    "<source><alias name='deep'/></source>",
    "<!-- alias -->",
    "<?alias name='pi'?>",
    "<target dev='vda'/>",
    "<address type='pci'/>",
    "<alias/>",
]


@settings(max_examples=80, deadline=None)
@given(
    devices=st.lists(
        st.one_of(
            st.lists(st.sampled_from(_ODD_CHILDREN), max_size=9).map(lambda kids: "<disk>" + "".join(kids) + "</disk>"),
            st.sampled_from(["<!-- between -->", "<?pi x?>", "<hub type='usb'>text</hub>", "<x:odd xmlns:x='urn:x'/>"]),
        ),
        max_size=8,
    )
)
def test_first_aliases_on_odd_devices(devices: list[str]) -> None:
    devices_el = etree.fromstring("<devices>" + "".join(devices) + "</devices>")
    assert first_aliases(devices_el) == _each_first_alias(devices_el)


@pytest.mark.parametrize("xml", [*_KEYED, _generated("varied", 200), _generated("mix", 100)])
def test_binding_with_the_aliases_found_in_one_pass_is_the_same(xml: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    # The binder asked with every alias found per device (first_aliases finding nothing)
    # binds, orphans and refuses as the one made with the aliases found in one pass.
    found = _outcome(xml)
    with monkeypatch.context() as patch:
        patch.setattr(section_module, "first_aliases", lambda devices_el: {})
        assert _outcome(xml) == found


# -- the section's index: groups by the attribute names as written (branch parse6) ---------


def _index_as_written(vm: etree._Element) -> Any:
    """EntryIndex's tables built the plain way: each entry's non-alias attribute names
    sorted, per entry; the alias and deviceId keys by EntryIndex's rule (_add)."""
    groups: dict[tuple[str, ...], list[int]] = {}
    by_alias: dict[str, list[int]] = {}
    by_id: dict[str, list[int]] = {}
    for position, element in enumerate(vm.iterchildren(f"{{{NS}}}device")):
        names = tuple(sorted(str(n) for n in element.keys() if n not in ("alias", "deviceId")))
        if names:
            groups.setdefault(names, []).append(position)
        alias = element.get("alias")
        device_id = element.get("deviceId") or device_id_from_alias(alias)
        if "alias" in element.keys() or "deviceId" in element.keys():
            if alias:
                by_alias.setdefault(alias, []).append(position)
            if device_id:
                by_id.setdefault(device_id, []).append(position)
    return groups, by_alias, by_id


def _index_tables(index: EntryIndex) -> Any:
    def positions(bucket: Any) -> list[int]:
        return [entry.position for entry in (bucket if type(bucket) is list else [bucket])]

    return (
        {names: positions(group) for names, group in index._groups.items()},
        {key: positions(bucket) for key, bucket in index.by_alias.items()},
        {key: positions(bucket) for key, bucket in index.by_device_id.items()},
    )


def _vm_of(xml: bytes) -> etree._Element | None:
    return etree.fromstring(xml).find(f"metadata/{{{NS}}}vm")


_WITH_METADATA = [
    xml for xml in (*_KEYED, _generated("mix", 100), _generated("varied", 200)) if _vm_of(xml) is not None
]


@pytest.mark.parametrize("xml", _WITH_METADATA)
def test_entry_index_groups_as_the_plain_build(xml: bytes) -> None:
    vm = _vm_of(xml)
    assert vm is not None
    tables = _index_tables(EntryIndex(vm, None))
    assert tables == _index_as_written(vm)
    assert list(tables[0]) == list(_index_as_written(vm)[0])  # the groups in the same order


@settings(max_examples=80, deadline=None)
@given(
    entries=st.lists(
        st.lists(
            st.tuples(
                st.sampled_from(["devtype", "name", "alias", "deviceId", "mac_address", "serial"]),
                st.sampled_from(["", "disk", "ua-1", "ua-2", "1", "vda"]),
            ),
            max_size=5,
        ),
        max_size=8,
    )
)
def test_entry_index_on_any_attributes(entries: list[list[tuple[str, str]]]) -> None:
    # Any attribute names in any order, alias keys alone or mixed in, empty values, no
    # attributes at all: the same groups (and order) and alias tables as the plain build.
    vm = etree.Element(f"{{{NS}}}vm", nsmap={"ovirt-vm": NS})
    for attrs in entries:
        entry = etree.SubElement(vm, f"{{{NS}}}device")
        for name, value in attrs:
            entry.set(name, value)
    tables = _index_tables(EntryIndex(vm, None))
    assert tables == _index_as_written(vm)
    assert list(tables[0]) == list(_index_as_written(vm)[0])
