"""Shared test set-up for the core suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from libvirt_host import libvirtd  # noqa: F401 - the session fixture of the libvirtd-backed tests


@pytest.fixture(autouse=True)
def _restore_structlog() -> Iterator[None]:
    """Put structlog back exactly as it was after each test.

    In-process CLI runs call configure_logging(), which changes structlog for the
    whole process; without this, a later test's log capture depends on test order.
    The processors list is restored in place, not replaced: a logger bound earlier
    holds that very list, and would otherwise miss every later capture_logs().
    """
    from structlog import _config

    config = _config._CONFIG
    processors = config.default_processors
    saved = (
        config.is_configured,
        list(processors),
        config.default_wrapper_class,
        config.default_context_class,
        config.logger_factory,
        config.cache_logger_on_first_use,
    )
    try:
        yield
    finally:
        (
            config.is_configured,
            contents,
            config.default_wrapper_class,
            config.default_context_class,
            config.logger_factory,
            config.cache_logger_on_first_use,
        ) = saved
        config.default_processors = processors
        processors[:] = contents
