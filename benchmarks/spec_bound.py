"""What parse + to_spec and ``inspect --json`` would cost with a reader that costs nothing.

Issue 16 asks parse + to_spec of every device within 4x the lxml floor and ``inspect --json``
within 6x a parse. A device's compiled reader (:mod:`devframe.core.specgen`) is the part a
compiled (C) extension could take over; everything around it (parse_domain, the secrets
check, the device id, each plugin's ``write_spec``, the metadata merge, the JSON writer) is
devframe's design: Python classes that plugins extend.

This script measures that rest alone. Every spec plan's reader is replaced by one that
copies its answer, recorded beforehand from the real reader, into the spec (``dict.update``,
in C; the answers are taken in the order the pass over the devices asks for them). Nothing
else changes, and the script first checks that every device's spec, and ``inspect --json``'s
whole output, come out equal to what the real readers give. If the rest alone is over a
target, no reader, however fast, meets it.

The copy is shallow: a spec's nested dicts (specParams, the address) are the recorded ones,
and what ``write_spec`` or the metadata merge adds to them in one pass is already there in
the next, so those passes may do less. That can only make the figure lower: a bound.

Timing as ``run.py``: both methods (each measure warmed by itself; measures alternating),
every sample on a settled heap, the worse ratio reported. Usage::

    .venv/bin/python benchmarks/spec_bound.py              # 1,000 and 10,000 devices
    .venv/bin/python benchmarks/spec_bound.py --sizes 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import copy
import io
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from generate import GENERATORS  # the shared generators, beside this script
from lxml import etree
from run import INSPECT_TIME_LIMIT, TO_SPEC_LIMIT, Timed, _devices, _safe_parser, timed

import devframe
from devframe.cli.inspect import inspect_stream
from devframe.core.specread import plan_for

#: a reader's answer: what it put into the spec, and what it returned
Answer = tuple[dict[str, Any], tuple[Any, bool]]


class Answers:
    """Every reader call's answer, in the order ``to_spec`` of each device in document order
    makes them (two for a device whose reading is repeated from its copy without secrets).
    The instant reader takes the next one: :meth:`rewind` before each pass over a domain.
    (Not found by the element: libxml2's line numbers stop at 65,535.)"""

    def __init__(self, plans: dict[type, Any], answers: list[Answer]) -> None:
        self.plans = plans
        self.answers = answers
        self.next: Callable[[], Answer] = iter(answers).__next__

    def rewind(self) -> None:
        self.next = iter(self.answers).__next__


def _answers(domain: devframe.Domain) -> Answers:
    """Every device class's spec plan, and what its reader answers inside each device's
    ``to_spec`` (on the copy without secrets where ``to_spec`` reads one)."""
    plans: dict[type, Any] = {}
    for device in domain.devices:
        if type(device) not in plans:
            plans[type(device)] = plan_for(type(device), "spec")
    real = {cls: plan.reader for cls, plan in plans.items()}
    answers: list[Answer] = []

    def recording(cls: type) -> Any:
        def record(view: Any, element: Any, out: dict[str, Any], want_device: bool) -> tuple[Any, bool]:
            returned: tuple[Any, bool] = real[cls](view, element, out, want_device)
            answers.append((copy.deepcopy(out), returned))
            return returned

        return record

    for cls, plan in plans.items():
        plan.reader = recording(cls)
    try:
        for device in domain.devices:
            device.to_spec()
    finally:
        for cls, plan in plans.items():
            plan.reader = real[cls]
    return Answers(plans, answers)


@contextmanager
def instant_readers(answers: Answers) -> Iterator[None]:
    """Every plan's reader replaced by a copy of its next answer, for the ``with`` block."""
    plans = answers.plans
    real = {cls: plan.reader for cls, plan in plans.items()}

    def given(view: Any, element: Any, out: dict[str, Any], want_device: bool, _answers: Answers = answers) -> Any:
        found, returned = _answers.next()
        out.update(found)
        return returned

    for plan in plans.values():
        plan.reader = given
    answers.rewind()
    try:
        yield
    finally:
        for cls, plan in plans.items():
            plan.reader = real[cls]


def _inspected(path: Path) -> str:
    out, err = io.StringIO(), io.StringIO()
    inspect_stream(str(path), as_json=True, out=out, err=err)
    return out.getvalue()


def prepared(xml: bytes, path: Path, where: str) -> Answers:
    """The answers of ``xml``'s devices (also written at ``path``), checked: with the instant
    readers every device's spec, and ``inspect --json``'s output, are what the real readers
    give (else SystemExit naming ``where``)."""
    answers = _answers(devframe.parse_domain(xml))
    with instant_readers(answers):
        given = [d.to_spec() for d in devframe.parse_domain(xml).devices]
        answers.rewind()
        given_text = _inspected(path)
    real = [d.to_spec() for d in devframe.parse_domain(xml).devices]
    if given != real:
        wrong = sum(a != b for a, b in zip(given, real, strict=True))
        raise SystemExit(f"{where}: the copied answers give other specs than the readers ({wrong} devices)")
    if given_text != _inspected(path):
        raise SystemExit(f"{where}: the copied answers give another inspect --json than the readers")
    return answers


def _ratios(times: Timed, index: int) -> tuple[float, float]:
    return times.warm[index] / times.warm[0], times.alternating[index] / times.alternating[0]


def measure(name: str, n: int, repeat: int, workdir: Path) -> list[tuple[str, float, float, float, float, float]]:
    """Rows (measure, warm, alternating with the real readers, the same with instant ones, limit)."""
    xml = GENERATORS[name](n)
    path = workdir / f"{name}-{n}.xml"
    path.write_bytes(xml)
    parser = _safe_parser()
    answers = prepared(xml, path, f"{name}, {n} devices")

    def floor() -> object:
        root = etree.fromstring(xml, parser)
        return root, [child.tag for child in _devices(root)]

    def floor_file() -> object:
        root = etree.parse(str(path), parser).getroot()
        return root, [child.tag for child in _devices(root)]

    def parse_to_spec() -> object:
        answers.rewind()  # (the real readers never take an answer: the same small cost in both)
        parsed = devframe.parse_domain(xml)
        return parsed, [device.to_spec() for device in parsed.devices]

    devnull = open(os.devnull, "w")  # closed below

    def inspect_json() -> object:
        answers.rewind()
        inspect_stream(str(path), as_json=True, out=devnull, err=devnull)
        return None

    measures: list[tuple[str, Callable[[], object], Callable[[], object], float]] = [
        ("parse + to_spec / lxml floor", floor, parse_to_spec, TO_SPEC_LIMIT),
        ("inspect --json / lxml parse", floor_file, inspect_json, INSPECT_TIME_LIMIT),
    ]
    rows = []
    try:
        for label, base, work, limit in measures:
            with_readers = _ratios(timed(repeat, base, work), 1)
            with instant_readers(answers):
                instant = _ratios(timed(repeat, base, work), 1)
            rows.append((label, *with_readers, *instant, limit))
    finally:
        devnull.close()
    path.unlink()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--domains", nargs="+", default=list(GENERATORS), choices=list(GENERATORS))
    args = parser.parse_args(argv)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load: {load} on {os.cpu_count()} cores", file=sys.stderr)
    header = f"{'devices':>8}  {'domain':<7} {'measure':<30} {'readers':>16} {'instant reader':>16} {'target':>7}"
    lines = [header]
    unreachable = 0
    with tempfile.TemporaryDirectory(prefix="devframe-bound-") as tmp:
        for n in args.sizes:
            for name in args.domains:
                print(f"measuring {name} at {n:,} devices ...", file=sys.stderr, flush=True)
                for label, warm, alt, iwarm, ialt, limit in measure(name, n, args.repeat, Path(tmp)):
                    worse, iworse = max(warm, alt), max(iwarm, ialt)
                    unreachable += iworse > limit
                    lines.append(
                        f"{n:>8,}  {name:<7} {label:<30} {worse:>6.2f} ({warm:.2f}/{alt:.2f})"
                        f" {iworse:>6.2f} ({iwarm:.2f}/{ialt:.2f}) {'<= ' + str(limit):>7}"
                    )
    print("\n".join(lines))
    print(
        "\neach ratio: the worse of the two methods (warm/alternating in brackets); 'instant reader':"
        " every compiled reader replaced by a copy of its answer."
    )
    print(f"rows whose target no reader can meet (the instant reader's ratio above it): {unreachable}")
    print(f"load: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
