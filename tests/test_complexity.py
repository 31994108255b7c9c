"""Issue 8 item 3: work per device stays constant as a domain grows, for metadata binding,
to_xml with metadata, and correlate (the dispatcher's own guard is in test_core_dispatch.py).

Complexity, not time: Python calls (sys.setprofile), lxml lookups (``find``/``findall``/
``findtext``/``iterfind``/``xpath``/``iter`` counted through an lxml element class) and calls
into the plugin's device classes (made, built, asked their identity), each divided by the number
of devices, at 100, 1,000 and 10,000 devices. A quadratic step multiplies the per-device figure
by ~100 between the ends; constant work keeps it flat.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import pytest
from lxml import etree

from devframe import Device, DeviceTypeRegister, Domain, Field, Identity, create_registry, hookimpl
from devframe.agent import correlate

SIZES = (100, 1_000, 10_000)
LOOKUPS: Counter[str] = Counter()


class CountingElement(etree.ElementBase):  # type: ignore[misc]
    """Every element of the test trees: counts the lookups that could hide a scan."""

    def find(self, *args: Any, **kwargs: Any) -> Any:
        LOOKUPS["find"] += 1
        return super().find(*args, **kwargs)

    def findall(self, *args: Any, **kwargs: Any) -> Any:
        LOOKUPS["findall"] += 1
        return super().findall(*args, **kwargs)

    def findtext(self, *args: Any, **kwargs: Any) -> Any:
        LOOKUPS["findtext"] += 1
        return super().findtext(*args, **kwargs)

    def iterfind(self, *args: Any, **kwargs: Any) -> Any:
        LOOKUPS["iterfind"] += 1
        return super().iterfind(*args, **kwargs)

    def iter(self, *args: Any, **kwargs: Any) -> Any:
        LOOKUPS["iter"] += 1
        return super().iter(*args, **kwargs)

    def xpath(self, *args: Any, **kwargs: Any) -> Any:
        LOOKUPS["xpath"] += 1
        return super().xpath(*args, **kwargs)


def _tree(xml: str) -> etree._ElementTree:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    parser.set_element_class_lookup(etree.ElementDefaultClassLookup(element=CountingElement))
    return etree.fromstring(xml.encode(), parser).getroottree()


class Knob(Device):
    """Keyed in metadata by its target (like a disk); half of them carry no alias."""

    dev_type = "knob"
    tag = "knob"
    target: Field[str] = Field("target@dev", spec="target")

    def identity(self) -> Identity | None:
        target = self.element.find("target")
        name = target.get("dev") if target is not None else None
        return {"devtype": "knob", "name": name} if name else None


class Dial(Device):
    """Keyed in metadata by its user alias."""

    dev_type = "dial"
    tag = "dial"


def _counted(base: type[Device], calls: Counter[str], *, quadratic: bool) -> type[Device]:
    """``base`` counting every call the core makes into it: made, built, asked its identity."""

    class Counted(base):  # type: ignore[valid-type,misc]
        __slots__ = ()

        def __init__(self, element: etree._Element, **kwargs: Any) -> None:
            calls["parse"] += 1
            super().__init__(element, **kwargs)

        def build(self) -> etree._Element:
            calls["build"] += 1
            return self.element

        def identity(self) -> Identity | None:
            calls["identity"] += 1
            if quadratic:  # the planted defect the guard must catch: a scan of every sibling
                parent = self.element.getparent()
                for sibling in parent if parent is not None else ():
                    len(sibling)
            return super().identity()

    Counted.__name__ = Counted.__qualname__ = base.__name__
    return Counted


class Plugin:
    def __init__(self, *, quadratic: bool = False) -> None:
        self.calls: Counter[str] = Counter()
        self.classes = [_counted(base, self.calls, quadratic=quadratic) for base in (Knob, Dial)]

    @hookimpl
    def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
        for dev_class in self.classes:
            register(dev_class)


def _domain_xml(n: int, *, metadata: bool = True) -> str:
    devices: list[str] = []
    entries: list[str] = []
    for i in range(n):
        kind = i % 4
        if kind in (0, 1):
            alias = f"<alias name='ua-knob-{i}'/>" if kind == 0 else ""
            devices.append(f"<knob><target dev='k{i}'/>{alias}<address type='pci' slot='0x{i % 32:x}'/></knob>")
            entries.append(
                f"<ovirt-vm:device devtype='knob' name='k{i}'><ovirt-vm:pool>p{i}</ovirt-vm:pool>"
                f"<ovirt-vm:size type='int'>{i}</ovirt-vm:size></ovirt-vm:device>"
            )
        elif kind == 2:
            devices.append(f"<dial><alias name='ua-dial-{i}'/></dial>")
            entries.append(
                f"<ovirt-vm:device devtype='dial' alias='ua-dial-{i}'>"
                f"<ovirt-vm:network>n{i}</ovirt-vm:network></ovirt-vm:device>"
            )
        else:
            devices.append(f"<memballoon model='virtio'><alias name='ua-balloon-{i}'/></memballoon>")
    section = (
        "<metadata><ovirt-vm:vm><ovirt-vm:clusterVersion>4.7</ovirt-vm:clusterVersion>"
        + "".join(entries)
        + "</ovirt-vm:vm></metadata>"
        if metadata
        else ""
    )
    return (
        "<domain type='kvm' xmlns:ovirt-vm='http://ovirt.org/vm/1.0'><name>c</name>"
        f"{section}<devices>{''.join(devices)}</devices></domain>"
    )


def _count(func: Callable[[], object]) -> tuple[int, int]:
    """(Python calls, lxml lookups) made by ``func``."""
    calls = 0

    def profiler(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    LOOKUPS.clear()
    sys.setprofile(profiler)
    try:
        func()
    finally:
        sys.setprofile(None)
    return calls, sum(LOOKUPS.values())


def _domain(n: int, plugin: Plugin, *, metadata: bool = True) -> Domain:
    registry = create_registry(entry_points=False, plugins=[("counting", plugin)])
    return Domain(_tree(_domain_xml(n, metadata=metadata)), registry=registry)


def _per_device(stage: str, n: int, plugin: Plugin) -> tuple[float, float, float]:
    """(Python calls, lxml lookups, plugin hook calls) per device for one stage at size n."""
    registry = create_registry(entry_points=False, plugins=[("counting", plugin)])
    assert registry.plugins["counting"].state == "loaded", registry.plugins["counting"].error
    if stage == "binding":
        # What binding adds: parse with the metadata section minus parse without it.
        with_md, without_md = _tree(_domain_xml(n)), _tree(_domain_xml(n, metadata=False))
        plugin.calls.clear()
        calls_with, lookups_with = _count(lambda: Domain(with_md, registry=registry))
        calls_without, lookups_without = _count(lambda: Domain(without_md, registry=registry))
        calls, lookups = calls_with - calls_without, lookups_with - lookups_without
    elif stage == "to_xml":
        domain = Domain(_tree(_domain_xml(n)), registry=registry)
        domain.to_xml()  # the first call lays <devices> out; measure the steady state
        edited = [d for d in domain.devices if d.has_metadata][:: max(n // 100, 1)]

        def build() -> None:
            for device in edited:  # 1 % of the metadata edited, then written back
                device.metadata["touched"] = 1
            domain.to_xml()

        plugin.calls.clear()
        calls, lookups = _count(build)
    elif stage == "correlate":
        known = Domain(_tree(_domain_xml(n)), registry=registry)
        reported = Domain(_tree(_domain_xml(n)), registry=registry)
        plugin.calls.clear()
        calls, lookups = _count(lambda: correlate(known, reported))
        result = correlate(known, reported)
        assert not result.added and not result.removed, "every device matches its twin"
    else:  # pragma: no cover - parametrize lists the stages
        raise AssertionError(stage)
    return calls / n, lookups / n, sum(plugin.calls.values()) / n


def _assert_flat(figures: dict[int, float], what: str, slack: float) -> None:
    sizes = sorted(figures)
    for smaller, larger in pairwise(sizes):
        assert figures[larger] <= figures[smaller] * 1.25 + slack, f"{what} per device grows with the domain: {figures}"


@pytest.mark.parametrize("stage", ["binding", "to_xml", "correlate"])
def test_work_per_device_stays_constant(stage: str) -> None:
    calls: dict[int, float] = {}
    lookups: dict[int, float] = {}
    hooks: dict[int, float] = {}
    for n in SIZES:
        calls[n], lookups[n], hooks[n] = _per_device(stage, n, Plugin())
    _assert_flat(calls, f"{stage}: Python calls", slack=2)
    _assert_flat(lookups, f"{stage}: lxml lookups", slack=0.05)
    _assert_flat(hooks, f"{stage}: plugin hook calls", slack=0.01)
    # Lookups are bounded in absolute terms too: a handful per device, not a scan.
    assert lookups[SIZES[-1]] <= 10, lookups


def test_binding_asks_each_plugin_once_per_device_at_most() -> None:
    for n in SIZES[:2]:
        plugin = Plugin()
        domain = _domain(n, plugin)
        assert plugin.calls["parse"] == n * 3 // 4  # knobs and dials; balloons are unknown
        assert plugin.calls["identity"] <= plugin.calls["parse"], plugin.calls
        assert sum(1 for d in domain.devices if d.has_metadata) == n * 3 // 4
        assert not domain.orphan_metadata


def test_the_guard_catches_a_planted_quadratic_step() -> None:
    """The check above can fail: an identity hook that scans its siblings trips it."""
    calls = {n: _per_device("binding", n, Plugin(quadratic=True))[0] for n in SIZES[:2]}
    with pytest.raises(AssertionError, match="grows with the domain"):
        _assert_flat(calls, "binding: Python calls", slack=2)


def test_a_parsed_domain_is_freed_without_the_cycle_collector() -> None:
    """No reference cycle in a parsed domain (devices, metadata entries, index): dropping it
    frees it at once. A cycle (an entry pointing back at its device, say) left every parsed
    domain for the collector, which rescans each of its objects until then."""
    import gc

    from benchmark_scripts import benchmark_module

    xml = benchmark_module("generate").generate_domain(300, metadata=True)
    from devframe import parse_domain

    parse_domain(xml).to_xml()  # plugins loaded, caches filled: their objects live on
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        domain = parse_domain(xml)
        assert sum(1 for d in domain.devices if d.has_metadata) > 100  # metadata really bound
        assert next(d for d in domain.devices if d.has_metadata).metadata  # read: wrapped on first use
        domain.to_xml()
        del domain
        assert gc.collect() == 0
    finally:
        if was_enabled:
            gc.enable()
