"""Benchmark for issue 2: parse_domain and to_xml against lxml's own floor, in one process.

    python benchmarks/bench_parse.py [--devices N] [--runs R]

Generates a domain with N devices (``generate.generate_domain``: a realistic mix of disks, interfaces,
graphics, sound, video, controllers, and devices no built-in plugin claims such as channel,
memballoon, rng, serial and input, with aliases and addresses), then prints, best of R runs each:

* parse ratio: ``parse_domain(xml)`` over the floor ``lxml parses the same bytes and iterates
  <devices>``;
* build ratio: ``Domain.to_xml()`` over the floor ``etree.tostring`` of the same tree.

Exits with status 1 when the parse ratio is above 3.0 (issue 2's acceptance bound).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from _heap import settle_heap
from generate import generate_domain  # the shared generator, beside this script
from lxml import etree

import devframe

PARSE_RATIO_LIMIT = 3.0


def best_of(runs: int, func: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        settle_heap()
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=10_000, help="devices in the generated domain")
    parser.add_argument("--runs", type=int, default=7, help="runs of each measurement (best is kept)")
    args = parser.parse_args(argv)
    if args.devices < 1 or args.runs < 1:
        parser.error("--devices and --runs must be positive")

    xml = generate_domain(args.devices)
    registry = devframe.default_registry()  # plugin loading is not part of a parse
    safe_parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, collect_ids=False)

    def floor_parse() -> object:
        root = etree.fromstring(xml, safe_parser)
        devices = root.find("devices")
        return [child.tag for child in devices]

    def parse() -> object:
        return devframe.parse_domain(xml, registry=registry)

    domain = parse()
    assert isinstance(domain, devframe.Domain)
    counts = {k: len(v) for k, v in domain.dev_map.items()}
    unknown = sum(1 for d in domain.devices if isinstance(d, devframe.UnknownDevice))

    floor_parse_t = best_of(args.runs, floor_parse)
    parse_t = best_of(args.runs, parse)

    tree = domain.tree

    def floor_build() -> object:
        return etree.tostring(tree, encoding="unicode")

    build_t = best_of(args.runs, domain.to_xml)
    floor_build_t = best_of(args.runs, floor_build)

    # After an edit the <devices> element is rebuilt from the objects: the slow path of to_xml.
    def edited_build() -> object:
        last = domain.devices[-1]
        domain.remove(last)
        domain.to_xml()
        domain.add(last)
        return domain.to_xml()

    edited_t = best_of(args.runs, edited_build)

    parse_ratio = parse_t / floor_parse_t
    build_ratio = build_t / floor_build_t
    print(f"domain: {args.devices} devices, {len(xml) / 1e6:.1f} MB, {unknown} unknown; {counts}")
    print(f"parse_domain / (lxml parse + iterate <devices>): {parse_ratio:.2f}  (limit {PARSE_RATIO_LIMIT})")
    print(f"to_xml / etree.tostring:                         {build_ratio:.2f}")
    print(f"remove+to_xml+add+to_xml / (2 x etree.tostring): {edited_t / (2 * floor_build_t):.2f}")
    if parse_ratio > PARSE_RATIO_LIMIT:
        print(f"FAIL: parse ratio {parse_ratio:.2f} is above {PARSE_RATIO_LIMIT}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
