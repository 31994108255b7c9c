"""The invariants every fuzzer checks, shared by tests/test_fuzz.py (hypothesis) and the
atheris harness (fuzz/run_atheris.py).

Each ``check_*`` function takes one input, runs it through devframe and raises
``AssertionError`` when an invariant breaks. Any exception that is not a
``DevframeError`` escapes, which is the bug the fuzzers look for.
"""

from __future__ import annotations

import copy
import math
import warnings
from typing import Any

from lxml import etree

from devframe import (
    DevframeError,
    Device,
    DeviceMetadata,
    Domain,
    Registry,
    UnknownDevice,
    parse_domain,
    spec_list_from_legacy_conf,
)
from devframe.core.domain import merged_devices
from devframe.core.errors import quoted
from devframe.core.limits import MAX_DEPTH, value_problem
from devframe.core.metadata import NS, decode_value, encode_value, same_value
from devframe.core.safexml import parse_xml
from devframe.testing import canonical, wrap_in_domain

__all__ = [
    "check_device",
    "check_edit",
    "check_field_assignment",
    "check_legacy",
    "check_metadata_assignment",
    "check_metadata_value",
    "check_metadata_xml",
    "check_parse",
    "check_spec",
    "json_normalized",
    "same_spec",
]


def check_device(device: Device) -> None:
    """repr, summary() and problems() never raise; to_spec() works or raises DevframeError."""
    assert isinstance(repr(device), str)
    assert isinstance(device.summary(), dict)
    assert isinstance(device.problems(), list)
    assert isinstance(device.dev_type, str)
    try:
        spec = device.to_spec()
    except DevframeError:
        return
    # the engine's name for the kind where it differs from libvirt's tag (memballoon: balloon)
    assert isinstance(spec, dict) and spec.get("type") == (type(device).spec_type or device.dev_type), (device, spec)


def as_read(data: bytes | str) -> str:
    """:func:`canonical` of ``data`` as devframe reads it: several ``<devices>`` blocks are
    one, as libvirt's parser takes them (:func:`devframe.core.domain.merged_devices`), so a
    domain that had several is written back with one, the devices in document order."""
    text = canonical(data)
    root = etree.fromstring(text.encode("utf-8"))
    if sum(1 for _ in root.iterchildren("devices")) < 2:
        return text
    merged_devices(root, "fuzz")
    return canonical(etree.tostring(root.getroottree()))


def check_parse(data: bytes | str, registry: Registry) -> Domain | None:
    """Parse; whatever parses rebuilds losslessly, re-parses the same, and every device
    survives repr/summary/problems/to_spec. Returns the domain (None when refused)."""
    try:
        domain = parse_domain(data, registry=registry, source="fuzz")
    except DevframeError:
        return None
    for device in domain.devices:
        check_device(device)
    try:
        rebuilt = domain.to_xml()
    except DevframeError:
        # Only metadata that cannot be keyed may refuse to be written back; the parse
        # itself kept everything, so the failure is named and nothing is lost.
        return domain
    assert canonical(rebuilt) == as_read(data), "parse -> to_xml is not lossless"
    again = parse_domain(rebuilt, registry=registry, source="fuzz-again")
    assert [type(d) for d in again.devices] == [type(d) for d in domain.devices]
    assert canonical(again.to_xml()) == canonical(rebuilt), "second round trip differs"
    return domain


def check_spec(spec: Any, registry: Registry) -> Device | None:
    """device_from_spec raises only DevframeError; a built device's XML (with its metadata,
    through a domain) parses back to the same dev_spec."""
    try:
        device = registry.device_from_spec(spec)
    except DevframeError:
        return None
    check_device(device)
    try:
        spec_out = device.to_spec()
    except DevframeError:
        # A value the plugin accepted but cannot show again: a plugin bug.
        raise AssertionError(f"device built from {spec!r:.300} cannot give its spec back") from None
    host = parse_domain(wrap_in_domain(), registry=registry, source="fuzz-spec")
    host.add(device)
    try:
        xml = host.to_xml()
    except DevframeError:
        return device  # e.g. metadata with neither alias nor identity to key it by: named
    back = parse_domain(xml, registry=registry, source="fuzz-spec-again")
    assert len(back.devices) == 1, xml
    again = back.devices[0]
    assert type(again) is type(device) or isinstance(again, UnknownDevice) == isinstance(device, UnknownDevice)
    assert same_spec(again.to_spec(), spec_out), f"spec -> XML -> spec differs for {spec!r:.300}"
    return device


def check_legacy(conf: Any, arch: str, registry: Registry) -> list[dict[str, Any]] | None:
    """Legacy conf -> dev_spec_list raises only DevframeError (and warns); the specs it
    produces build devices or raise DevframeError."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any other warning is a finding
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            specs = spec_list_from_legacy_conf(conf, arch, registry=registry)
        except DevframeError:
            return None
    assert isinstance(specs, list) and all(isinstance(s, dict) for s in specs)
    for spec in specs:
        check_spec(spec, registry)
    return specs


def json_normalized(value: Any) -> Any:
    """What the codec promises to give back: tuples read back as lists."""
    if isinstance(value, tuple | list):
        return [json_normalized(v) for v in value]
    if isinstance(value, dict):
        return {k: json_normalized(v) for k, v in value.items()}
    return value


def _typed(value: Any, depth: int = 0) -> bool:
    """JSON-like all the way down (the codec's types), whatever the size."""
    if depth > MAX_DEPTH:
        return False
    if value is None or isinstance(value, str | bool | int | float):
        return True
    if isinstance(value, tuple | list):
        return all(_typed(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _typed(v, depth + 1) for k, v in value.items())
    return False


def _storable(key: Any, value: Any, key_depth: int) -> bool:
    """A value the codec must take: JSON-like, and within the limits the XML reader reads
    back (devframe.core.limits) at the depth its key element is written."""
    return (
        isinstance(key, str)
        and value_problem({key: value}, max_depth=MAX_DEPTH - key_depth + 1) is None
        and _typed(value)
    )


def check_metadata_value(key: Any, value: Any) -> None:
    """A value round-trips exactly through the codec (and through serialization), or
    the codec refuses it with a DevframeError."""
    parent = etree.Element(f"{{{NS}}}device")
    storable = _storable(key, value, key_depth=2)
    try:
        encode_value(parent, key, value, ns=NS)
    except DevframeError:
        assert not storable, f"storable value refused: {quoted(key)}={quoted(value)}"
        return
    assert storable, f"unstorable value accepted: {quoted(value)}"
    text = etree.tostring(parent)
    reread = parse_xml(text).getroot()  # devframe's reader, with its limits: what was written reads back
    got = decode_value(reread[0], ns=NS)
    want = json_normalized(value)
    assert same_value(got, want), f"{quoted(key)}: {quoted(want)} came back as {quoted(got)}"


def same_spec(a: Any, b: Any) -> bool:
    """``a == b`` for dev_specs, except that a float NaN is the same value as a NaN.

    Metadata carries NaN (the codec writes ``nan`` with ``type="float"``, which libvirt
    keeps like any text), and reads it back as a new float object: ``==`` then calls
    two equal specs different, since NaN equals nothing, itself included, unless it is
    the very same object.
    """
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_spec(v, b[k]) for k, v in a.items())
    if isinstance(a, list | tuple) and isinstance(b, list | tuple) and type(a) is type(b):
        return len(a) == len(b) and all(same_spec(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def check_metadata_xml(element: etree._Element) -> None:
    """Arbitrary metadata XML decodes to a value that re-encodes to the same value, or
    raises a DevframeError."""
    key = etree.QName(element).localname
    try:
        value = decode_value(element, key, ns=NS)
    except DevframeError:
        return
    scratch = etree.Element("x")
    encode_value(scratch, key, copy.deepcopy(value), ns=NS)
    again = decode_value(etree.fromstring(etree.tostring(scratch))[0], key, ns=NS)
    assert same_value(again, value), (value, again)


def _reread(domain: Domain, registry: Registry) -> Domain:
    """The domain written and read back with devframe's default (safe) limits: what
    devframe writes, it reads, and it reads the same."""
    xml = domain.to_xml()
    again = parse_domain(xml, registry=registry, source="fuzz-reread")
    assert canonical(again.to_xml()) == canonical(xml), "what devframe wrote does not read back the same"
    assert [type(d) for d in again.devices] == [type(d) for d in domain.devices]
    return again


def check_field_assignment(domain: Domain, index: int, name: str, value: Any, registry: Registry) -> None:
    """Setting one field of one device raises only a DevframeError, and then leaves the
    element as it was; a value taken is written and reads back the same."""
    device = domain.devices[index]
    before = etree.tostring(device.element)
    try:
        setattr(device, name, value)
    except DevframeError:
        assert etree.tostring(device.element) == before, f"a refused {name}={quoted(value)} changed the element"
        return
    check_device(device)
    try:
        again = _reread(domain, registry)
    except DevframeError:
        return  # metadata that cannot be keyed any more (an alias removed): named, nothing lost
    assert canonical(again.devices[index].to_xml()) == canonical(device.to_xml()), f"{name}={quoted(value)}"


def check_metadata_assignment(domain: Domain, index: int | None, key: Any, value: Any, registry: Registry) -> None:
    """Setting a device's (``index``) or the VM's (None) metadata value raises only a
    DevframeError; a value taken reads back equal after a write and a parse."""
    store: DeviceMetadata = domain.vm_metadata if index is None else domain.devices[index].metadata
    try:
        store[key] = value
    except DevframeError:
        return
    try:
        again = _reread(domain, registry)
    except DevframeError:
        return  # a device with neither alias nor identity to key its entry by: named
    back = again.vm_metadata if index is None else again.devices[index].metadata
    want = json_normalized(value)
    assert same_value(back[key], want), f"{quoted(key)}: {quoted(want)} came back as {quoted(back[key])}"


def check_edit(domain: Domain, index: int, position: Any, registry: Registry) -> None:
    """Moving, removing and adding a device back, at any position given, raise only a
    DevframeError and keep every device exactly once; the result reads back."""
    device = domain.devices[index]
    count = len(domain.devices)
    try:
        domain.move(device, position)
    except DevframeError:
        pass
    domain.remove(device)
    try:
        domain.dev_map.get_list(device.dev_type).insert(position, device)
    except (DevframeError, TypeError):  # a list position must be an int: Python's own rule
        domain.add(device)
    assert len(domain.devices) == count and sum(d is device for d in domain.devices) == 1
    try:
        _reread(domain, registry)
    except DevframeError:
        return
