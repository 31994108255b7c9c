"""Run checks in a Python where ``import orjson`` fails, as where it is not installed
(orjson comes with the nats extra; devframe must write and read the same without it)."""

from __future__ import annotations

import subprocess
import sys


def run_without_orjson(checks: str) -> None:
    """Run ``checks`` (Python lines) in a fresh interpreter whose ``import orjson`` fails;
    they must print nothing, and the run must succeed."""
    code = "import sys\nsys.modules['orjson'] = None\n" + checks + "\nprint('ok')\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout == "ok\n", result.stderr[-2000:]
