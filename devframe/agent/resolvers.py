"""Build :class:`~devframe.core.resolve.Resolvers` for a Host.

The defaults suit a host without a storage layer (``devframe run``, tests): volume
paths from the plugins' own file layout under ``storage_root`` (the drive plugin's is
oVirt's), host facts from the Host. An agent with real storage passes its own
resolvers to :func:`devframe.core.prepare.prepare_domain`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from devframe.agent.host import Host
from devframe.core.resolve import LeaseResolver, PayloadResolver, Resolvers, StoragePathResolver

__all__ = ["DEFAULT_STORAGE_ROOT", "host_resolvers"]

#: where the default storage layout looks for volumes: ROOT/poolID/domainID/images/imageID/volumeID
DEFAULT_STORAGE_ROOT = "/var/lib/devframe/storage"


def host_resolvers(
    host: Host,
    *,
    storage_root: str | Path = DEFAULT_STORAGE_ROOT,
    storage_path: StoragePathResolver | None = None,
    payload: PayloadResolver | None = None,
    lease: LeaseResolver | None = None,
    values: Mapping[str, str] | None = None,
    os_release: str | Path | None = "/etc/os-release",
    machine_id: str | Path | None = "/etc/machine-id",
) -> Resolvers:
    """Resolvers for ``host``: the given resolvers, else each plugin's file layout under
    ``storage_root``; host facts from the Host (``os_release`` and ``machine_id`` are
    local files: None for a remote host); ``values`` override everything (``--resolve``)."""
    return Resolvers(
        storage_path=storage_path,
        storage_root=str(storage_root),
        payload=payload,
        lease=lease,
        host=host.host_facts(os_release, machine_id),
        values=dict(values or {}),
    )
