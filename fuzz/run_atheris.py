"""Coverage-guided fuzzing of devframe with atheris (libFuzzer), on demand.

    uv pip install -p .venv/bin/python atheris          # not a project dependency
    .venv/bin/python fuzz/run_atheris.py parse -atheris_runs=200000
    .venv/bin/python fuzz/run_atheris.py spec -max_total_time=600
    .venv/bin/python fuzz/run_atheris.py legacy|metadata ...

Targets check the same invariants as tests/test_fuzz.py (fuzz/checks.py): only a
DevframeError may escape, whatever parses rebuilds losslessly. The parse target starts
from the sample domains (libFuzzer mutates those documents); the others decode the
fuzzer's bytes as JSON into a dev_spec, a legacy conf (with an arch) or a metadata value.
A crash writes ``crash-<sha>`` in the working directory; replay it with
``fuzz/run_atheris.py <target> crash-<sha>``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import atheris

with atheris.instrument_imports(include=["devframe", "devframe_drive", "devframe_nic", "devframe_graphics",
                                         "devframe_sound", "devframe_video", "devframe_controller"]):  # fmt: skip
    import devframe
    from devframe.testing import corpus_files

sys.path.insert(0, str(Path(__file__).resolve().parent))
import checks

REGISTRY = devframe.create_registry(env={})
ARCHES = sorted(devframe.ARCHES)


def _json(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8", "surrogatepass"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def parse_target(data: bytes) -> None:
    checks.check_parse(data, REGISTRY)


def spec_target(data: bytes) -> None:
    spec = _json(data)
    if spec is not None:
        checks.check_spec(spec, REGISTRY)


def legacy_target(data: bytes) -> None:
    if not data:
        return
    conf = _json(data[1:])
    if conf is not None:
        checks.check_legacy(conf, ARCHES[data[0] % len(ARCHES)], REGISTRY)


def metadata_target(data: bytes) -> None:
    value = _json(data)
    if isinstance(value, dict) and len(value) == 1:
        ((key, inner),) = value.items()
        checks.check_metadata_value(key, inner)
    elif value is not None:
        checks.check_metadata_value("value", value)


TARGETS = {"parse": parse_target, "spec": spec_target, "legacy": legacy_target, "metadata": metadata_target}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{'|'.join(TARGETS)}}} [libFuzzer options] [corpus dirs or crash files]")
    name = sys.argv.pop(1)
    args = list(sys.argv)
    if name == "parse" and not any(not a.startswith("-") for a in args[1:]):
        seeds = Path(tempfile.mkdtemp(prefix="devframe-fuzz-seeds-"))
        for index, path in enumerate(corpus_files()):
            (seeds / f"{index:04d}.xml").write_bytes(path.read_bytes())
        args.append(str(seeds))
    warnings.simplefilter("ignore", DeprecationWarning)
    atheris.Setup(args, TARGETS[name])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
