"""Shared test set-up for the core suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog


@pytest.fixture(autouse=True)
def _restore_structlog() -> Iterator[None]:
    """Put structlog back as it was after each test.

    In-process CLI runs call configure_logging(), which changes structlog for the
    whole process; without this, a later test's log capture depends on test order.
    """
    config = structlog.get_config()
    configured = structlog.is_configured()
    yield
    if configured:
        structlog.configure(**config)
    else:
        structlog.reset_defaults()
