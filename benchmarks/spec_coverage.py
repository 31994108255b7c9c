"""Issue 15's acceptance figures on any directory of domain XML.

    .venv/bin/python benchmarks/spec_coverage.py DIR [DIR ...] [--schema domain.rng] [--no-validate]

For every ``*.xml`` below the directories (files that are no ``<domain>`` are counted
and skipped), every device is taken through its dev_spec and three things are counted:

* **no escape**: the device's ``to_spec(secrets=True)`` carries no raw XML (an unknown
  device's ``xml``, or ``specParams.xml``, where a plugin keeps children it does not model);
* **round trip**: ``device_from_spec(spec)`` is a device of the same class whose
  ``to_spec(secrets=True)`` equals ``spec``;
* **XML round trip**: the XML of that device equals the original's, compared as the
  contract suite compares them (:func:`devframe.testing.spec_canonical` of
  :func:`devframe.testing.typed_form`: attribute order, whitespace, comments, the order of
  children of different tags and a number's spelling aside);
* **valid**: the device its spec built validates against libvirt's schema (``--schema``,
  default ``$DEVFRAME_DOMAIN_RNG`` or the machine's own) in a minimal domain of the
  original's arch, and so does the whole domain with each device replaced by the one its
  spec built. A device or domain whose original XML does not validate either is counted
  apart: that failure is the sample's, not the spec's.

Escapes are listed by source (the unknown device's tag, or each place of
``specParams.xml``: an attribute, text or child element no field carries), largest
first, so the biggest gaps show. Exit status 0 always: this measures.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lxml import etree

import devframe
from devframe import UnknownDevice
from devframe.schema import validate_domain_xml
from devframe.testing import spec_canonical, typed_form

DEFAULT_RNG = os.environ.get("DEVFRAME_DOMAIN_RNG", "/usr/share/libvirt/schemas/domain.rng")


def escape_sources(device: Any, spec: dict[str, Any]) -> list[str]:
    """Where ``spec`` carries raw XML, as labels (empty: no escape)."""
    found: list[str] = []
    if isinstance(device, UnknownDevice) or "xml" in spec:
        found.append(f"unknown <{device.dev_type}>")
    params = spec.get("specParams")
    raw = params.get("xml") if isinstance(params, dict) else None
    if isinstance(raw, dict):
        for path, entry in raw.items():
            if path == "version" or not isinstance(entry, dict):
                continue
            place = f"{device.dev_type} {path}"
            found.extend(f"{place} @{name}" for name in entry.get("attrs") or {})
            if entry.get("text") is not None:
                found.append(f"{place} text")
            for text in entry.get("children") or []:
                try:
                    tag = etree.QName(etree.fromstring(text.encode())).localname
                except etree.XMLSyntaxError:
                    tag = "?"
                found.append(f"{place} <{tag}>")
    elif raw:
        found.append(f"{device.dev_type} specParams.xml (?)")
    return found


def xml_round_trips(device: Any, again: Any) -> bool:
    """True when ``again`` (built from ``device``'s spec) holds the same XML, compared as
    the contract suite does."""
    loose = getattr(type(device), "unordered_children", ())
    want = spec_canonical(typed_form(device, again.element), loose)
    return bool(want == spec_canonical(again.to_xml(), loose))


def _files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        out.extend(sorted(path.rglob("*.xml")) if path.is_dir() else [path])
    return out


def measure(paths: Iterable[Path], schema: str | None) -> dict[str, Any]:
    registry = devframe.default_registry()
    devices = clean = round_trip = xml_round_trip = unreadable = 0
    sources: Counter[str] = Counter()
    failures: list[str] = []
    domains = skipped = valid = invalid_spec_built = invalid_original = 0
    device_valid = device_invalid = device_invalid_original = 0
    for path in _files(paths):
        try:
            domain = devframe.load_domain(path, registry=registry)
        except devframe.DevframeError as exc:
            skipped += 1
            failures.append(f"{path}: not read: {exc}")
            continue
        domains += 1
        rebuilt_any = True
        pairs = []
        for device in domain.devices:
            devices += 1
            try:
                spec = device.to_spec(secrets=True)
            except devframe.DevframeError as exc:
                failures.append(f"{path}: {device.describe()}: to_spec: {exc}")
                unreadable += 1
                rebuilt_any = False
                continue
            escaped = escape_sources(device, spec)
            if escaped:
                sources.update(escaped)
            else:
                clean += 1
            try:
                again = registry.device_from_spec(spec)
                same = type(again) is type(device) and again.to_spec(secrets=True) == spec
            except devframe.DevframeError as exc:
                failures.append(f"{path}: {device.describe()}: device_from_spec: {exc}")
                rebuilt_any = False
                continue
            if same:
                round_trip += 1
            else:
                failures.append(f"{path}: {device.describe()}: the spec does not come back the same")
            if xml_round_trips(device, again):
                xml_round_trip += 1
            else:
                failures.append(f"{path}: {device.describe()}: XML -> spec -> XML differs")
            pairs.append((device, again))
            if schema is not None:
                arch = domain.arch or "x86_64"
                errors = validate_domain_xml(_alone(again.to_xml(), arch), schema=schema)
                if not errors:
                    device_valid += 1
                elif validate_domain_xml(_alone(device.to_xml(), arch), schema=schema):
                    device_invalid_original += 1
                else:
                    device_invalid += 1
                    failures.append(
                        f"{path}: {device.describe()}: the spec-built device does not validate: {errors[:2]}"
                    )
        if schema is None or not rebuilt_any:
            continue
        original = domain.to_xml()
        built = _with_devices_replaced(original, [again.to_xml() for _, again in pairs])
        errors = validate_domain_xml(built, schema=schema, timeout=120)
        if not errors:
            valid += 1
        elif validate_domain_xml(original, schema=schema, timeout=120):
            invalid_original += 1
        else:
            invalid_spec_built += 1
            failures.append(f"{path}: the spec-built domain does not validate: {errors[:3]}")
    return {
        "domains": domains,
        "skipped": skipped,
        "devices": devices,
        "no_escape": clean,
        "to_spec_failed": unreadable,
        "round_trip": round_trip,
        "xml_round_trip": xml_round_trip,
        "valid": valid,
        "device_valid": device_valid,
        "device_invalid": device_invalid,
        "device_invalid_original_too": device_invalid_original,
        "invalid_spec_built": invalid_spec_built,
        "invalid_original_too": invalid_original,
        "escapes": sources.most_common(),
        "failures": failures,
    }


#: a machine type per arch, for a minimal domain around one device
_MACHINES = {"aarch64": "virt", "ppc64": "pseries", "ppc64le": "pseries", "s390x": "s390-ccw-virtio"}


def _alone(device_xml: str, arch: str) -> str:
    """A minimal domain of ``arch`` holding one device."""
    machine = _MACHINES.get(arch, "pc")
    return (
        "<domain type='kvm'><name>one</name><uuid>00000000-0000-0000-0000-000000000001</uuid>"
        "<memory unit='KiB'>1048576</memory><vcpu>1</vcpu>"
        f"<os><type arch='{arch}' machine='{machine}'>hvm</type></os>"
        f"<devices>{device_xml}</devices></domain>"
    )


def _with_devices_replaced(domain_xml: str, device_xml: list[str]) -> str:
    """``domain_xml`` with the element children of ``<devices>`` replaced, in order."""
    root = etree.fromstring(domain_xml.encode())
    holder = root.find("devices")
    if holder is None:
        return domain_xml  # no devices: nothing of it came from a spec
    olds = [child for child in holder if isinstance(child.tag, str)]
    for old, text in zip(olds, device_xml, strict=False):
        new = etree.fromstring(text.encode())
        new.tail = old.tail
        holder.replace(old, copy.deepcopy(new))
    return etree.tostring(root, encoding="unicode")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="directories (or files) of domain XML")
    parser.add_argument("--schema", default=DEFAULT_RNG, help="domain.rng to validate against")
    parser.add_argument("--no-validate", action="store_true", help="skip schema validation (faster)")
    parser.add_argument("--failures", type=int, default=20, help="how many failures to list")
    args = parser.parse_args(argv)
    result = measure(args.paths, None if args.no_validate else args.schema)
    devices = result["devices"] or 1

    def share(count: int, total: int) -> str:
        return f"{count}/{total} ({100.0 * count / (total or 1):.2f} %)"

    print(f"domains read: {result['domains']} (skipped: {result['skipped']})")
    print(f"devices: {result['devices']}")
    print(f"no raw-XML escape: {share(result['no_escape'], devices)} (to_spec refused: {result['to_spec_failed']})")
    print(f"spec round trip holds: {share(result['round_trip'], devices)}")
    print(f"XML round trip through the spec holds: {share(result['xml_round_trip'], devices)}")
    if not args.no_validate:
        print(f"schema: {args.schema}")
        print(
            f"spec-built devices valid: {share(result['device_valid'], devices)}; invalid where the original "
            f"is valid: {result['device_invalid']}; invalid as the original is: "
            f"{result['device_invalid_original_too']}"
        )
        print(
            f"spec-built domains valid: {share(result['valid'], result['domains'])}; invalid where the original "
            f"is valid: {result['invalid_spec_built']}; invalid as the original is: {result['invalid_original_too']}"
        )
    if result["escapes"]:
        print("escapes by source:")
        for label, count in result["escapes"]:
            print(f"  {count:5d}  {label}")
    if result["failures"]:
        print(f"failures ({len(result['failures'])}, first {args.failures}):")
        for line in result["failures"][: args.failures]:
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
