"""The one place devframe imports libvirt-python.

Imported on first use (a Host's first connection), so devframe without the ``agent``
extra still imports; every module of the agent layer that needs libvirt's constants or
``libvirtError`` asks :func:`libvirt_module` for the module.
"""

from __future__ import annotations

from typing import Any

from devframe.agent.errors import LibvirtMissingError

__all__ = ["libvirt_module"]


def libvirt_module() -> Any:
    """The ``libvirt`` module, with its default stderr error printer silenced.

    devframe reports every libvirt error itself, wrapped with what was being done.
    Raises :class:`~devframe.agent.LibvirtMissingError` when libvirt-python is missing.
    """
    try:
        import libvirt
    except ImportError as exc:
        raise LibvirtMissingError(
            "libvirt-python is not installed; install devframe[agent] (needs libvirt's development files)"
        ) from exc
    libvirt.registerErrorHandler(_ignore_error, None)
    return libvirt


def _ignore_error(_ctx: Any, _err: Any) -> None:
    return None
