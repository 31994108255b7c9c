"""The package and the built-in plugins stay clean under ``mypy --strict`` (pyproject's config).

Typed public API is a promise to plugin authors and agent writers (their own code is checked
against ours); a test keeps the promise from eroding one ``# type: ignore`` at a time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _mypy(*targets: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", *targets],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_devframe_is_clean_under_mypy_strict() -> None:
    result = _mypy("devframe")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_builtin_plugins_are_clean_under_mypy_strict() -> None:
    plugins = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "plugins").glob("*/devframe_*") if p.is_dir())
    assert len(plugins) >= 6, plugins  # the six first plugins at least: the glob found them
    result = _mypy(*plugins)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
