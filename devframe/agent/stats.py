"""Per-device statistics, keyed by the Guest's own device objects.

libvirt reports the statistics of every running domain of a host in one call
(``virConnectGetAllDomainStats``, or ``virDomainListGetStats`` for some of them) as
flat typed parameters: ``block.N.*`` named by the disk's target, ``net.N.*`` by the
interface's host-side name (its ``<target dev>``), ``balloon.*``. :func:`read_stats`
turns one domain's record into typed values keyed by the devices of the Guest's
dev_map; a value libvirt did not report is None, and a block or interface no device
of the dev_map matches is kept in :attr:`GuestStats.unmatched`, never dropped.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from devframe.agent.correlate import device_label
from devframe.core.device import Device
from devframe.core.domain import Domain

__all__ = [
    "STATS_GROUPS",
    "BalloonStats",
    "BlockStats",
    "DeviceStats",
    "GuestStats",
    "InterfaceStats",
    "read_stats",
]

#: the libvirt stats groups asked for (``VIR_DOMAIN_STATS_*`` names)
STATS_GROUPS = ("VIR_DOMAIN_STATS_BLOCK", "VIR_DOMAIN_STATS_INTERFACE", "VIR_DOMAIN_STATS_BALLOON")


@dataclass(frozen=True)
class BlockStats:
    """One disk: requests and bytes read and written, and its sizes in bytes
    (``allocation`` written on the host, ``capacity`` the guest sees, ``physical``
    the host file or device)."""

    name: str
    path: str | None = None
    rd_reqs: int | None = None
    rd_bytes: int | None = None
    wr_reqs: int | None = None
    wr_bytes: int | None = None
    fl_reqs: int | None = None
    errors: int | None = None
    allocation: int | None = None
    capacity: int | None = None
    physical: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"type": "block", **asdict(self)}


@dataclass(frozen=True)
class InterfaceStats:
    """One network interface, from the host side: bytes, packets, errors and drops."""

    name: str
    rx_bytes: int | None = None
    rx_packets: int | None = None
    rx_errors: int | None = None
    rx_drops: int | None = None
    tx_bytes: int | None = None
    tx_packets: int | None = None
    tx_errors: int | None = None
    tx_drops: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"type": "interface", **asdict(self)}


@dataclass(frozen=True)
class BalloonStats:
    """The memory balloon, in KiB: ``current`` the guest has, ``maximum`` it may have,
    and what the guest's balloon driver reports (None without one)."""

    current: int | None = None
    maximum: int | None = None
    swap_in: int | None = None
    swap_out: int | None = None
    major_fault: int | None = None
    minor_fault: int | None = None
    unused: int | None = None
    available: int | None = None
    usable: int | None = None
    disk_caches: int | None = None
    rss: int | None = None
    last_update: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"type": "balloon", **asdict(self)}


DeviceStats = BlockStats | InterfaceStats | BalloonStats


@dataclass
class GuestStats:
    """One guest's statistics from one poll, keyed by its dev_map's devices."""

    guest: Any
    devices: dict[Device, DeviceStats] = field(default_factory=dict)
    #: what libvirt reported that no device of the dev_map matches
    unmatched: list[DeviceStats] = field(default_factory=list)
    time: float = field(default_factory=time.time)

    def __getitem__(self, device: Device) -> DeviceStats:
        return self.devices[device]

    def get(self, device: Device) -> DeviceStats | None:
        return self.devices.get(device)

    def as_dict(self) -> dict[str, Any]:
        return {
            "domain": getattr(self.guest, "name", None),
            "uuid": getattr(self.guest, "uuid", None),
            "time": self.time,
            "devices": [{"device": device_label(d), "stats": s.as_dict()} for d, s in self.devices.items()],
            "unmatched": [s.as_dict() for s in self.unmatched],
        }


def _ints(record: Mapping[str, Any], prefix: str, keys: Mapping[str, str]) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for name, key in keys.items():
        value = record.get(prefix + key)
        out[name] = int(value) if isinstance(value, int) else None
    return out


_BLOCK = {
    "rd_reqs": "rd.reqs",
    "rd_bytes": "rd.bytes",
    "wr_reqs": "wr.reqs",
    "wr_bytes": "wr.bytes",
    "fl_reqs": "fl.reqs",
    "errors": "errors",
    "allocation": "allocation",
    "capacity": "capacity",
    "physical": "physical",
}
_NET = {
    "rx_bytes": "rx.bytes",
    "rx_packets": "rx.pkts",
    "rx_errors": "rx.errs",
    "rx_drops": "rx.drop",
    "tx_bytes": "tx.bytes",
    "tx_packets": "tx.pkts",
    "tx_errors": "tx.errs",
    "tx_drops": "tx.drop",
}
_BALLOON = {name: name for name in BalloonStats.__dataclass_fields__}
_BALLOON.update({"last_update": "last-update", "disk_caches": "disk_caches"})


def _by_child(domain: Domain, dev_type: str, child: str) -> dict[str, Device]:
    # A disk's and an interface's names in the stats are their <target dev>.
    found: dict[str, Device] = {}
    for device in domain.find(dev_type=dev_type):
        element = next(device.element.iterchildren(child), None)
        name = element.get("dev") if element is not None else None
        if name and name not in found:
            found[name] = device
    return found


def read_stats(guest: Any, domain: Domain, record: Mapping[str, Any]) -> GuestStats:
    """One domain's stats record (libvirt's typed parameters) keyed by ``domain``'s devices."""
    result = GuestStats(guest=guest)
    disks = _by_child(domain, "disk", "target")
    for index in range(int(record.get("block.count", 0))):
        prefix = f"block.{index}."
        name = str(record.get(prefix + "name", ""))
        if record.get(prefix + "backingIndex") is not None and name in disks and disks[name] in result.devices:
            continue  # a backing image of a disk already counted (with VIR_DOMAIN_STATS_BACKING)
        path = record.get(prefix + "path")
        block = BlockStats(name=name, path=str(path) if path else None, **_ints(record, prefix, _BLOCK))
        _put(result, disks.get(name), block)
    nics = _by_child(domain, "interface", "target")
    for index in range(int(record.get("net.count", 0))):
        prefix = f"net.{index}."
        name = str(record.get(prefix + "name", ""))
        values = _ints(record, prefix, _NET)
        if not name and not any(v is not None for v in values.values()):
            continue  # an interface libvirt counts but cannot measure (user networking)
        _put(result, nics.get(name), InterfaceStats(name=name, **values))
    if any(key.startswith("balloon.") for key in record):
        balloon = BalloonStats(**_ints(record, "balloon.", _BALLOON))
        balloons = domain.find(dev_type="memballoon")
        _put(result, balloons[0] if balloons else None, balloon)
    return result


def _put(result: GuestStats, device: Device | None, stats: DeviceStats) -> None:
    if device is None:
        result.unmatched.append(stats)
    else:
        result.devices[device] = stats
