"""Instructions per device of one measure, counted by callgrind (the steadier figure on a
shared machine: wall-clock ratios move with the load and the heap, instruction counts do not).

    .venv/bin/python benchmarks/instructions.py MEASURE DOMAIN [N]

MEASURE: ``floor`` (lxml parse + iterate ``<devices>``), ``parse`` (parse_domain),
``tospec`` (parse_domain + to_spec of every device), ``spec_only`` (to_spec of a parsed
domain's devices), ``inspect`` (``inspect --json`` in process, to /dev/null), ``table``
(``inspect``'s table); ``tospec_instant`` and ``inspect_instant``: ``tospec`` and ``inspect``
with every compiled reader replaced by a copy of its answer (``spec_bound.py``). DOMAIN:
``mix`` (generate_domain with metadata) or ``varied`` (generate_varied_domain). N: devices
(2,000 by default).

It runs itself under ``valgrind --tool=callgrind --toggle-collect=starmap_next`` with
``PYTHONHASHSEED=0``: after one untimed warm-up call (its frees finished by
``_heap.settle_heap``), the measure is called twice through ``itertools.starmap``, and only
what runs inside those calls is counted. Prints the instructions per device and the
callgrind file (for ``callgrind_annotate``). The ratios in
docs/benchmarks.md divide a measure's count by ``floor``'s on the same domain.
"""

from __future__ import annotations

import io
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MEASURES = ("floor", "parse", "tospec", "spec_only", "inspect", "table", "tospec_instant", "inspect_instant")
_INSIDE = "DEVFRAME_INSTRUCTIONS_INSIDE"


def _measure(name: str, domain: str, n: int, workdir: Path) -> Callable[[], Any]:
    """The measure's call, with its document made (and written, for inspect) beforehand."""
    sys.path.insert(0, str(HERE))
    import generate
    from lxml import etree

    import devframe
    from devframe.cli.inspect import inspect_stream

    xml = generate.generate_domain(n, metadata=True) if domain == "mix" else generate.generate_varied_domain(n)
    path = workdir / f"{domain}-{n}.xml"
    path.write_bytes(xml)
    parsed = devframe.parse_domain(xml)

    def floor() -> Any:
        root = etree.fromstring(xml)
        devices = root.find("devices")
        return list(devices) if devices is not None else []

    def inspect(as_json: bool) -> None:
        with open(os.devnull, "w") as out:
            inspect_stream(str(path), as_json=as_json, out=out, err=io.StringIO())

    def instant(work: Callable[[], Any]) -> Callable[[], Any]:
        from spec_bound import instant_readers, prepared

        answers = prepared(xml, path, f"{domain}, {n} devices")
        # for the rest of this process (it measures only this); held by ``call``, since the
        # context manager's collection would close it and put the real readers back
        held = instant_readers(answers)
        held.__enter__()

        def call(_held: Any = held) -> Any:
            answers.rewind()
            return work()

        return call

    calls: dict[str, Callable[[], Any]] = {
        "floor": floor,
        "parse": lambda: devframe.parse_domain(xml),
        "tospec": lambda: [device.to_spec() for device in devframe.parse_domain(xml).devices],
        "spec_only": lambda: [device.to_spec() for device in parsed.devices],
        "inspect": lambda: inspect(True),
        "table": lambda: inspect(False),
    }
    if name.endswith("_instant"):
        return instant(calls[name.removesuffix("_instant")])
    return calls[name]


def _inside(name: str, domain: str, n: int, workdir: Path) -> None:
    call = _measure(name, domain, n, workdir)
    call()  # the warm-up: readers compiled, caches filled, outside the count
    from _heap import settle_heap

    settle_heap()  # the warm-up's frees finished here, not inside the first counted call
    kept = list(itertools.starmap(call, [(), ()]))  # only starmap_next is counted
    del kept


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or argv[0] not in MEASURES or argv[1] not in ("mix", "varied"):
        print(__doc__, file=sys.stderr)
        return 2
    name, domain = argv[0], argv[1]
    n = int(argv[2]) if len(argv) == 3 else 2000
    if os.environ.get(_INSIDE):
        _inside(name, domain, n, Path(os.environ[_INSIDE]))
        return 0
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("instructions.py needs valgrind (apt-get install valgrind)", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="devframe-instructions-"))
    out = workdir / f"callgrind.{name}.{domain}.{n}.out"
    env = {**os.environ, "PYTHONHASHSEED": "0", _INSIDE: str(workdir)}
    command = [
        valgrind,
        "--tool=callgrind",
        "--toggle-collect=starmap_next",
        f"--callgrind-out-file={out}",
        sys.executable,
        __file__,
        *argv,
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        return 1
    total = next(
        int(line.split()[1]) for line in out.read_text().splitlines() if line.startswith(("summary:", "totals:"))
    )
    print(f"{name} {domain} {n}: {round(total / 2 / n):,} instructions per device")
    print(f"callgrind file: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
