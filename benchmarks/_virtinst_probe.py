"""virt-manager's virtinst on one file, against lxml's floor in the same process (run by run.py).

    PYTHONPATH=/usr/share/virt-manager:<dir holding lxml> /usr/bin/python3 _virtinst_probe.py FILE REPEAT

virtinst ships as a Debian package for the system Python, so it runs there, in its own process;
lxml's floor (parse the same bytes, iterate ``<devices>``) is measured beside it so the two
processes are compared by ratio, never by absolute time. Prints JSON (seconds, best of REPEAT).
"""

from __future__ import annotations

import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path


def best_of(repeat: int, func: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = func()
        elapsed = time.perf_counter() - start  # before the result is freed
        del result
        best = min(best, elapsed)
    return best


def main(argv: list[str]) -> int:
    path, repeat_arg = argv
    repeat = int(repeat_arg)
    data = Path(path).read_bytes()
    text = data.decode()

    import virtinst
    from lxml import etree

    conn = virtinst.VirtinstConnection("test:///default")
    conn.open(None, None)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, collect_ids=False)

    def floor() -> object:
        root = etree.fromstring(data, parser)
        return root, [child.tag for child in root.find("devices")]

    def parse() -> object:
        guest = virtinst.Guest(conn, parsexml=text)
        devices = guest.devices.get_all()
        return guest, [device.DEVICE_TYPE for device in devices]

    count = len(parse()[1])  # type: ignore[index]
    floor_t = best_of(max(repeat, 3), floor)
    parse_t = best_of(repeat, parse)
    print(json.dumps({"floor": floor_t, "parse": parse_t, "devices": count, "version": virtinst.__name__}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
