"""The benchmarks' own modules (``benchmarks/``: the generators, spec_bound), imported by
tests that hold them to what they claim or use their generated domains."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def benchmark_module(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` as a module (its neighbours importable while it loads)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCHMARKS))


def generated(name: str, devices: int) -> bytes:
    """A domain of ``devices`` devices from the benchmarks' generator ``name`` (mix, varied)."""
    xml: bytes = benchmark_module("generate").GENERATORS[name](devices)
    return xml
