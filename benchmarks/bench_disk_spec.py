"""Plain disks through the engine's view: parse, to_spec and device_from_spec as ratios.

Issue 15 made the drive plugin model all of libvirt 11.3's ``<disk>``; this measures that
the plain disks an engine sends (generate.generate_disks: file-backed qcow2 disks and
cdroms, aliases, PCI/drive addresses) did not get slower. Floors, in one process, best of
N in CPU time: lxml parsing the same bytes and iterating ``<devices>`` for
``parse_domain``; ``etree.tostring`` of each disk for ``to_spec`` and ``device_from_spec``
(what turning an element into text costs, the least any conversion does).

    .venv/bin/python benchmarks/bench_disk_spec.py [--disks 2000] [--repeat 15]

Ratios drift on shared machines by 30 % and more between runs; for a before/after
comparison that does not, count instructions (``valgrind --tool=callgrind``) of a run
with and without the measured calls.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate_disks

import devframe


def best(function: Callable[[], object], repeat: int) -> float:
    """The least CPU time of ``repeat`` calls, each after an untimed warm-up call."""
    times = []
    for _ in range(repeat):
        function()
        gc.collect()
        gc.disable()
        start = time.process_time()
        result = function()
        times.append(time.process_time() - start)
        gc.enable()
        del result
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--disks", type=int, default=2000, help="disks in the domain (default 2000)")
    parser.add_argument("--repeat", type=int, default=15, help="runs per measurement, best kept (default 15)")
    args = parser.parse_args(argv)
    xml = generate_disks(args.disks)
    registry = devframe.create_registry(only=["drive"], env={})
    safe = etree.XMLParser(resolve_entities=False, no_network=True)
    disks = devframe.parse_domain(xml, registry=registry).dev_map["disk"]
    specs = [disk.to_spec() for disk in disks]

    def floor_parse() -> object:
        root = etree.fromstring(xml, safe)
        devices = root.find("devices")
        return list(devices) if devices is not None else []

    def floor_text() -> object:
        return [etree.tostring(disk.element) for disk in disks]

    measures = {
        "parse_domain / lxml parse": (lambda: devframe.parse_domain(xml, registry=registry).dev_map, floor_parse),
        "to_spec / tostring": (lambda: [disk.to_spec() for disk in disks], floor_text),
        "device_from_spec / tostring": (lambda: [registry.device_from_spec(s) for s in specs], floor_text),
    }
    print(f"{args.disks} plain disks, best of {args.repeat} (CPU time)")
    for label, (measure, floor) in measures.items():
        spent, least = best(measure, args.repeat), best(floor, args.repeat)
        print(f"  {label:30} {spent / least:7.2f}x   {spent / args.disks * 1e6:8.1f} us/disk")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
