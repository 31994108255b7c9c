"""Peak memory of one parse, measured in a fresh process (run by run.py, one case per process).

    python benchmarks/_memprobe.py lxml|devframe|inspect FILE

``lxml``: lxml's tree of the file (the floor); ``devframe``: parse_domain, its Domain and dev_map
held; ``inspect``: ``devframe inspect --json`` of the file, in process, its output to /dev/null
(nothing held after: the figure is the peak while streaming).

tracemalloc sees only Python's allocator, not libxml2's C allocations (the tree itself), so this
measures the process's resident set instead: everything is imported and the file read first,
then the kernel's peak-RSS mark is reset (``/proc/self/clear_refs``), the case runs and its
result is kept alive, and the peak RSS above the starting RSS is printed as JSON (KiB).
Where the mark cannot be reset the peak since start is used and the output says so.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path

from lxml import etree

import devframe


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} missing from /proc/self/status")


def main(argv: list[str]) -> int:
    case, path = argv
    data = Path(path).read_bytes()
    registry = devframe.default_registry()  # plugin loading is not part of the parse
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, collect_ids=False)
    if case not in ("lxml", "devframe", "inspect"):
        raise SystemExit(f"unknown case {case!r}")
    from devframe.cli.inspect import inspect_stream  # imported before the mark is reset

    devnull = open(os.devnull, "w")
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        reset = True
    except OSError:
        reset = False
    start = _status("VmRSS")
    if case == "lxml":
        root = etree.fromstring(data, parser)
        kept: object = (root, list(root.find("devices")))
    elif case == "devframe":
        domain = devframe.parse_domain(data, registry=registry)
        kept = (domain, domain.dev_map, domain.devices)
    else:
        inspect_stream(path, as_json=True, out=devnull, err=devnull, registry=registry)
        kept = None
    peak = _status("VmHWM")
    end = _status("VmRSS")
    print(json.dumps({"case": case, "peak_kib": peak - start, "held_kib": end - start, "hwm_reset": reset}))
    del kept
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
