"""Logging is loaded lazily: structlog is imported when the first line is written."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=False
    )


def test_building_a_registry_and_listing_plugins_does_not_load_structlog():
    result = _run(
        """
        import sys
        from click.testing import CliRunner
        from devframe.cli import main
        out = CliRunner().invoke(main, ["plugins", "--json"])
        assert out.exit_code == 0, out.output
        print("structlog" in sys.modules)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_deferred_settings_apply_at_the_first_line():
    result = _run(
        """
        import sys
        from devframe.core.log import configure_logging, get_logger
        configure_logging(json=True, level="info", defer=True)
        assert "structlog" not in sys.modules
        get_logger(plugin="p").debug("below the level: dropped without loading structlog")
        assert "structlog" not in sys.modules
        get_logger(plugin="p").info("first line", passwd="hunter2")
        """
    )
    assert result.returncode == 0, result.stderr
    (line,) = result.stderr.strip().splitlines()
    event = json.loads(line)
    assert (event["event"], event["plugin"], event["passwd"]) == ("first line", "p", "***")


def test_without_defer_settings_apply_at_once():
    result = _run(
        """
        import structlog
        from devframe.core.log import configure_logging
        configure_logging(json=True)
        print(structlog.is_configured())
        """
    )
    assert result.stdout.strip() == "True", result.stderr


def test_unconfigured_library_writes_warnings_to_stderr_only():
    result = _run(
        """
        from devframe.core.log import get_logger
        log = get_logger(domain="d")
        log.info("quiet")
        log.warning("loud", alias="ua-1")
        """
    )
    assert result.stdout == ""
    assert "loud" in result.stderr and "quiet" not in result.stderr and "ua-1" in result.stderr
