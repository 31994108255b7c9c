"""Where ``devframe inspect --json``'s wall time goes: its stages one after another, beside
the lower bound of its design (parse_domain + to_spec + json.dumps of every spec).

    .venv/bin/python benchmarks/inspect_phases.py mix|varied [N] [REPEAT]

Each measure is timed alone (best of REPEAT, default 7), on a settled heap
(``_heap.settle_heap`` before each sample), its result freed after the clock stops; the
ratio is to lxml parsing the same file and iterating ``<devices>``. Wall time on a shared
machine: compare rows of one run, not runs (docs/benchmarks.md, branch insp6).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _heap import settle_heap
from lxml import etree

import devframe
from devframe.cli.inspect import inspect_stream
from devframe.core.stream import DomainStream

HERE = Path(__file__).resolve().parent


def _dumps(spec: Any) -> str:
    return json.dumps(spec, separators=(",", ":"), ensure_ascii=False)


def measures(path: str, devnull: Any) -> dict[str, Callable[[], object]]:
    """The stages, each adding one step to the one before, then the lower bounds."""
    registry = devframe.create_registry()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, collect_ids=False)

    def floor() -> object:
        root = etree.parse(path, parser).getroot()
        devices = root.find("devices")
        return root, [child.tag for child in (devices if devices is not None else [])]

    def stream() -> object:
        for _device in DomainStream(path, registry=registry):
            pass
        return None

    def stream_spec() -> object:
        for device in DomainStream(path, registry=registry):
            device.to_spec()
        return None

    def stream_spec_note() -> object:
        for device in DomainStream(path, registry=registry):
            device.to_spec()
            device.unmapped_spec_keys  # noqa: B018 - the note's walk of the metadata
        return None

    def stream_spec_dumps() -> object:
        for device in DomainStream(path, registry=registry):
            devnull.write(_dumps(device.to_spec()))
        return None

    def inspect() -> object:
        inspect_stream(path, as_json=True, out=devnull, err=devnull, registry=registry)
        return None

    def parse_spec_kept() -> object:
        domain = devframe.parse_domain(Path(path).read_bytes(), registry=registry)
        return domain, [device.to_spec() for device in domain.devices]

    def parse_spec_dumps_freed() -> object:
        domain = devframe.parse_domain(Path(path).read_bytes(), registry=registry)
        for device in domain.devices:
            devnull.write(_dumps(device.to_spec()))
        return None

    return {
        "lxml parse of the file (floor)": floor,
        "DomainStream alone": stream,
        "+ to_spec": stream_spec,
        "+ the unmapped-keys note": stream_spec_note,
        "stream + to_spec + json.dumps": stream_spec_dumps,
        "inspect --json": inspect,
        "parse_domain + to_spec, kept": parse_spec_kept,
        "parse_domain + to_spec + json.dumps, freed": parse_spec_dumps_freed,
    }


def main() -> None:
    sys.path.insert(0, str(HERE))
    import generate

    domain = sys.argv[1] if len(sys.argv) > 1 else "mix"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    xml = generate.generate_domain(n, metadata=True) if domain == "mix" else generate.generate_varied_domain(n)
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as devnull:
        path = str(Path(tmp) / f"{domain}-{n}.xml")
        Path(path).write_bytes(xml)
        calls = measures(path, devnull)
        for call in calls.values():
            call()  # warm-up: readers compiled, caches filled
        best = dict.fromkeys(calls, float("inf"))
        for _ in range(repeat):
            for name, call in calls.items():
                settle_heap()
                start = time.perf_counter()
                result = call()
                elapsed = time.perf_counter() - start
                del result
                best[name] = min(best[name], elapsed)
    floor = best["lxml parse of the file (floor)"]
    print(f"{domain}, {n:,} devices, best of {repeat}; load {os.getloadavg()[0]:.2f}")
    for name, seconds in best.items():
        print(f"  {name:45s} {seconds * 1e3:9.2f} ms  {seconds / floor:6.2f}x")


if __name__ == "__main__":
    main()
