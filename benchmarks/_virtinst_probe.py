"""virt-manager's virtinst and devframe on one file, in one process under the system Python.

    PYTHONPATH=/usr/share/virt-manager:<dir holding lxml> /usr/bin/python3 _virtinst_probe.py \
        FILE REPEAT [DEVFRAME_SITE_PACKAGES]

virtinst ships as a Debian package for the system Python, so it runs there. devframe's
parse_domain is timed in the same process when the dev venv's site-packages is given (its
packages are pure Python but lxml, which is built for this CPython minor version): the two are
then compared on the same interpreter. That matters: Debian's Python is built with
profile-guided optimisation and ran plain Python code ~30 % faster here than the dev venv's, so
comparing across interpreters would charge devframe for its interpreter. lxml's floor (parse the
same bytes, iterate ``<devices>``) is measured beside them. Two virtinst workloads, each taking
turns with the floor:

* ``objects``: ``Guest(conn, parsexml=...)`` plus ``guest.devices.get_all()`` (information);
* ``same_work``: the same, plus reading the keys devframe's parse_domain reads to bind oVirt
  metadata: ``target`` (``<target dev>``) of every disk and ``macaddr`` (``<mac address>``) of
  every interface. virtinst binds no metadata, so this is the nearest equal work (judged).

Prints JSON: per workload its time and its floor's (seconds, best of REPEAT), and the counts.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _heap import settle_heap  # beside this script

#: functions slower than this are timed without a warm-up call before each run
WARM_UP_MAX_S = 2.0


def best_of(repeat: int, *funcs: Callable[[], object]) -> list[float]:
    """Best time of each function; they take turns so drift hits all of them alike.

    As in run.py, each timed call follows an untimed call of the same function, so each
    runs in the heap it leaves itself, not in the one the other left (which moved lxml's
    floor by ~40 % in run.py). A function slower than WARM_UP_MAX_S (virtinst at 10,000
    devices) is not warmed: the effect is small beside its time, and a warm-up doubles it.
    """
    best = [float("inf")] * len(funcs)
    for _ in range(repeat):
        for i, func in enumerate(funcs):
            if best[i] == float("inf") or best[i] < WARM_UP_MAX_S:
                func()  # warm-up: its result is freed at once, as after a timed run
            settle_heap()
            start = time.perf_counter()
            result = func()
            elapsed = time.perf_counter() - start  # before the result is freed
            del result
            best[i] = min(best[i], elapsed)
    return best


def main(argv: list[str]) -> int:
    path, repeat_arg, *rest = argv
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

    def objects() -> tuple[Any, list[str]]:
        guest = virtinst.Guest(conn, parsexml=text)
        devices = guest.devices.get_all()
        return guest, [device.DEVICE_TYPE for device in devices]

    def same_work() -> tuple[Any, list[str], list[str | None], list[str | None]]:
        guest, types = objects()
        targets = [disk.target for disk in guest.devices.disk]
        macs = [nic.macaddr for nic in guest.devices.interface]
        return guest, types, targets, macs

    _, types, targets, macs = same_work()  # warms up, and checks the keys are read
    if None in targets or None in macs:
        raise SystemExit(f"virtinst read {targets.count(None)} disk targets and {macs.count(None)} MACs as empty")
    figures: dict[str, object] = {"devices": len(types), "disks": len(targets), "interfaces": len(macs)}
    for name, func in (("objects", objects), ("same_work", same_work)):
        floor_t, work_t = best_of(repeat, floor, func)
        if repeat < 3:  # the floor is cheap: at least 3 runs of it
            floor_t = min(floor_t, *best_of(3 - repeat, floor))
        figures[name] = {"time": work_t, "floor": floor_t}
    if rest:
        import site

        site.addsitedir(rest[0])  # after the system's own paths: virtinst keeps its modules
        import devframe

        registry = devframe.default_registry()  # plugin loading is not part of a parse

        def parse() -> object:
            return devframe.parse_domain(data, registry=registry)

        domain = devframe.parse_domain(data, registry=registry)
        if domain.orphan_metadata:
            raise SystemExit(f"devframe left {len(domain.orphan_metadata)} metadata entries unbound")
        figures["devframe_devices"] = len(domain.devices)
        floor_t, parse_t = best_of(repeat, floor, parse)
        figures["devframe"] = {"time": parse_t, "floor": floor_t}
    figures["version"] = virtinst.BuildConfig.version
    figures["python"] = sys.version.split()[0]
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
