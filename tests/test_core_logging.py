"""Logging is loaded lazily: structlog is imported when the first line is written."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=False
    )


def test_building_a_registry_and_listing_plugins_does_not_load_structlog() -> None:
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


def test_deferred_settings_apply_at_the_first_line() -> None:
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


def test_without_defer_settings_apply_at_once() -> None:
    result = _run(
        """
        import structlog
        from devframe.core.log import configure_logging
        configure_logging(json=True)
        print(structlog.is_configured())
        """
    )
    assert result.stdout.strip() == "True", result.stderr


def test_unconfigured_library_writes_warnings_to_stderr_only() -> None:
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


# -- issue 19 item 8: logging for library users ---------------------------------------------------


def test_an_application_with_basicconfig_gets_devframes_lines_through_stdlib_logging() -> None:
    result = _run(
        """
        import logging, sys
        logging.basicConfig(level=logging.DEBUG, stream=sys.stdout, format="%(name)s|%(levelname)s|%(message)s")
        import devframe
        devframe.get_logger(domain="d").info("hello", passwd="hunter2", alias="ua-1")
        devframe.device_from_spec({"type": "teleporter"})   # a real warning of devframe's own
        print("structlog loaded:", "structlog" in sys.modules)
        """
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "devframe|INFO|hello domain=d passwd=*** alias=ua-1"
    assert any(line.startswith("devframe|DEBUG|registry built plugins=[") for line in lines)  # debug too
    assert "devframe|WARNING|dev_spec of unknown type kept as UnknownDevice dev_type=teleporter" in lines
    assert lines[-1] == "structlog loaded: False"  # a library user who never asked for structlog does not pay for it
    assert "hunter2" not in result.stdout + result.stderr


def test_records_carry_the_fields_and_a_redacted_traceback() -> None:
    result = _run(
        """
        import json, logging
        records = []
        class Keep(logging.Handler):
            def emit(self, record):
                records.append(record)
        logging.getLogger().addHandler(Keep())
        logging.getLogger().setLevel(logging.DEBUG)
        import devframe
        try:
            raise ValueError("cannot attach <graphics passwd='hunter2'/>")
        except ValueError:
            devframe.get_logger(plugin="p").exception("attach failed", spec={"passwd": "hunter2"})
        (record,) = records
        text = logging.Formatter().format(record)
        print(json.dumps({"fields": record.devframe, "text": text, "exc_info": record.exc_info is None}))
        """
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["fields"] == {"plugin": "p", "spec": {"passwd": "***"}}
    assert "Traceback" in out["text"] and "ValueError" in out["text"] and "passwd='***'" in out["text"]
    assert "hunter2" not in result.stdout and out["exc_info"] is True


def test_an_application_configured_structlog_without_devframes_processor_still_gets_no_secrets() -> None:
    result = _run(
        """
        import sys, structlog
        structlog.configure(
            processors=[structlog.processors.add_log_level, structlog.processors.JSONRenderer()],
            logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        )
        import devframe
        log = devframe.get_logger(domain="d").bind(cephSecret="hunter2")
        log.warning("bound", xml="<graphics passwd='hunter2'/>")
        try:
            raise RuntimeError("token=hunter2")
        except RuntimeError:
            log.exception("failed")
        """
    )
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first == {
        "event": "bound",
        "domain": "d",
        "cephSecret": "***",
        "xml": "<graphics passwd='***'/>",
        "level": "warning",
    }
    assert second["level"] == "error" and "RuntimeError: token=***" in second["exception"]
    assert "hunter2" not in result.stdout + result.stderr


def test_the_exported_filter_and_processor_redact_an_applications_own_logs() -> None:
    result = _run(
        """
        import logging, sys, structlog
        import devframe
        handler = logging.StreamHandler(sys.stdout)
        handler.addFilter(devframe.RedactingFilter())
        app = logging.getLogger("app")
        app.addHandler(handler)
        app.propagate = False
        app.warning("login with passwd=%s", "hunter2")
        structlog.configure(
            processors=[devframe.redact_secrets, structlog.processors.KeyValueRenderer()],
            logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        )
        structlog.get_logger().info("login", password="hunter2")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["login with passwd=***", "password='***' event='login'"]


def test_pytests_caplog_sees_devframes_warnings(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    import structlog

    import devframe

    structlog.reset_defaults()
    with caplog.at_level(logging.WARNING, logger="devframe"):
        devframe.device_from_spec({"type": "teleporter"})
    (record,) = caplog.records
    assert record.name == "devframe" and record.levelname == "WARNING"
    assert record.__dict__["devframe"] == {"dev_type": "teleporter"}
