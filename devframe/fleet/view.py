"""The engine side: the fleet's current devices, per host and VM, from the event stream.

A :class:`FleetView` applies devframe CloudEvents in stream order (each with its
stream sequence number; a batch's events share their message's) and keeps, for every
host and VM, the devices the agent last reported (dev_specs, secrets already redacted
by the agent). It answers "devices of VM X" (:meth:`FleetView.devices`, or as a
:class:`~devframe.agent.KnownDevices` to correlate against), "what changed since
sequence N" (:meth:`FleetView.changes_since`) and the whole fleet as JSON
(:meth:`FleetView.as_dict`).

Applying is idempotent: an event already applied (same sequence, or same id within the
last ``remember`` ids) is skipped, and each event sets state (a device under its key,
a VM's key list) rather than adding to it, so a replayed or duplicated event never
doubles anything. A message that is neither a devframe event nor a batch of them is
logged and skipped, as is each item of a batch that is not a devframe event. The
transport (:mod:`devframe.fleet.jetstream`) feeds it; :meth:`save` / :meth:`load`
keep it across restarts (else it replays the stream from the start).
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devframe.core.errors import DevframeError
from devframe.core.log import get_logger
from devframe.fleet.cloudevents import (
    ADDED,
    CHANGED,
    GUEST_GONE,
    GUEST_SYNCED,
    HOST_SYNCED,
    LIBVIRT_PREFIX,
    REMOVED,
    FleetMessageError,
    decode_message,
)

if TYPE_CHECKING:
    from devframe.agent import KnownDevices
    from devframe.core.registry import Registry

__all__ = ["FleetView", "HistoryError", "VmView"]

SNAPSHOT_VERSION = 1


class HistoryError(DevframeError):
    """Asked for changes older than the view remembers."""


@dataclass
class VmView:
    """One VM as its host reported it: ``devices`` key -> entry (``key``, ``dev_type``,
    ``alias``, ``deviceId``, ``spec``, ``seq`` of the event that last set it)."""

    host: str
    uuid: str
    name: str | None = None
    running: bool = True
    state: str | None = None
    seq: int = 0
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "uuid": self.uuid,
            "name": self.name,
            "running": self.running,
            "state": self.state,
            "seq": self.seq,
            "devices": list(self.devices.values()),
        }


@dataclass
class _Host:
    name: str
    uri: str | None = None
    seq: int = 0
    vms: dict[str, VmView] = field(default_factory=dict)


class FleetView:
    """Every host's VMs and devices, as the event stream says (see the module doc).

    ``registry``: for :meth:`known` (dev_specs to devices). ``history``: how many
    removals :meth:`changes_since` remembers. ``remember``: how many event ids are
    kept to skip duplicates that arrive with a new sequence number.
    """

    def __init__(self, registry: Registry | None = None, *, history: int = 100_000, remember: int = 200_000) -> None:
        self.registry = registry
        self.hosts: dict[str, _Host] = {}
        #: the stream sequence of the last event applied (or skipped)
        self.last_seq = 0
        self.applied = 0
        self.duplicates = 0
        self.skipped = 0
        self._history = history
        self._remember = remember
        self._ids: OrderedDict[str, None] = OrderedDict()
        #: (seq, host, uuid, key or None for a whole VM) of every removal, oldest first
        self._removals: list[tuple[int, str, str, str | None]] = []
        #: removals older than this sequence were forgotten
        self._floor = 0
        self._log = get_logger(component="fleet-view")
        # A reader thread applies while the engine asks: one lock around both.
        self._lock = threading.RLock()

    # -- applying -------------------------------------------------------------------------

    def apply_message(self, payload: bytes, seq: int, *, subject: str | None = None) -> int:
        """Decode and apply one message, a single event or a batch (a JSON array of
        events, all with the message's sequence); returns how many events changed the
        view. A message that is not a devframe event or batch, and each item of a
        batch that is not a devframe event, is logged (subject, sequence, why) and
        skipped; the rest of the batch is applied."""
        try:
            events, problems = decode_message(payload)
        except FleetMessageError as exc:
            with self._lock:
                self.skipped += 1
                self.last_seq = max(self.last_seq, seq)
            self._log.warning(
                "skipped a message that is not a devframe event", subject=subject, seq=seq, error=str(exc)
            )
            return 0
        if problems:
            with self._lock:
                self.skipped += len(problems)
            self._log.warning(
                "skipped items of a batch that are not devframe events",
                subject=subject,
                seq=seq,
                items=len(problems),
                error=problems[0],
            )
        return self.apply_batch(events, seq)

    def apply(self, event: dict[str, Any], seq: int) -> bool:
        """Apply one decoded event with its stream sequence; True when it was new."""
        return self.apply_batch([event], seq) == 1

    def apply_batch(self, events: list[dict[str, Any]], seq: int) -> int:
        """Apply decoded events that arrived in one message (sequence ``seq``), in
        order; returns how many were new. A sequence already applied skips them all;
        otherwise each is still deduped by its id, so a batch sent again, or one that
        repeats some events of another, never doubles anything."""
        with self._lock:
            if seq and seq <= self.last_seq:
                self.duplicates += len(events)
                return 0
            self.last_seq = max(self.last_seq, seq)
            return sum(1 for event in events if self._apply_new(event, seq))

    def _apply_new(self, event: dict[str, Any], seq: int) -> bool:
        event_id = f"{event['source']} {event['id']}"
        if event_id in self._ids:
            self.duplicates += 1
            return False
        self._ids[event_id] = None
        if len(self._ids) > self._remember:
            self._ids.popitem(last=False)
        try:
            self._apply(event, seq)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            self.skipped += 1
            self._log.warning(
                "skipped a devframe event with a malformed body", id=event.get("id"), seq=seq, error=repr(exc)
            )
            return False
        self.applied += 1
        return True

    def _apply(self, event: dict[str, Any], seq: int) -> None:
        data: dict[str, Any] = event["data"]
        kind: str = event["type"]
        host = self.hosts.get(data["host"])
        if host is None:
            host = self.hosts[data["host"]] = _Host(data["host"])
        host.uri = data.get("uri") or host.uri
        host.seq = seq
        if kind == HOST_SYNCED:
            listed = set(data["guests"])
            for vm in host.vms.values():
                if vm.uuid not in listed and vm.running:
                    vm.running = False
                    vm.seq = seq
            return
        uuid = data.get("uuid")
        if not isinstance(uuid, str) or not uuid:
            if kind.startswith(LIBVIRT_PREFIX):
                return  # a host-wide libvirt event (connection closed)
            raise ValueError(f"{kind} without a domain uuid")
        if kind == GUEST_GONE and data.get("reason") == "gone":
            if host.vms.pop(uuid, None) is not None:
                self._removed(seq, host.name, uuid, None)
            return
        vm = host.vms.get(uuid) or host.vms.setdefault(uuid, VmView(host.name, uuid))
        vm.name = data.get("domain") or vm.name
        vm.seq = seq
        if kind in (ADDED, CHANGED):
            key = str(data["key"])
            new_key = str(data.get("new_key") or key)
            if new_key != key and vm.devices.pop(key, None) is not None:
                self._removed(seq, host.name, uuid, key)
            vm.devices[new_key] = {
                "key": new_key,
                "dev_type": data["dev_type"],
                "alias": data.get("alias"),
                "deviceId": data.get("deviceId"),
                "spec": data["spec"],
                "seq": seq,
            }
        elif kind == REMOVED:
            key = str(data["key"])
            if vm.devices.pop(key, None) is not None:
                self._removed(seq, host.name, uuid, key)
        elif kind == GUEST_SYNCED:
            keys = [str(k) for k in data["keys"]]
            keep = set(keys)
            for key in [k for k in vm.devices if k not in keep]:
                del vm.devices[key]
                self._removed(seq, host.name, uuid, key)
            # The agent's order: the domain's device order.
            vm.devices = {k: vm.devices[k] for k in keys if k in vm.devices}
            vm.running = True
        elif kind == GUEST_GONE:
            vm.running = False
            vm.state = data.get("reason")
        elif kind.startswith(LIBVIRT_PREFIX):
            detail = data.get("detail")
            if data.get("kind") == "lifecycle" and isinstance(detail, dict):
                vm.state = detail.get("event") or vm.state
        # other devframe types of this format version: recorded by seq, nothing to keep

    def _removed(self, seq: int, host: str, uuid: str, key: str | None) -> None:
        self._removals.append((seq, host, uuid, key))
        if len(self._removals) > self._history:
            cut = len(self._removals) - self._history
            self._floor = self._removals[cut - 1][0]
            del self._removals[:cut]

    # -- questions ------------------------------------------------------------------------

    def vms(self) -> list[VmView]:
        """Every VM of every host (a list made under the lock)."""
        with self._lock:
            return [vm for host in self.hosts.values() for vm in host.vms.values()]

    def vm(self, uuid: str, host: str | None = None) -> VmView:
        """One VM by uuid (and host, when two hosts report the same uuid)."""
        with self._lock:
            return self._vm(uuid, host)

    def _vm(self, uuid: str, host: str | None) -> VmView:
        found = [h.vms[uuid] for name, h in self.hosts.items() if uuid in h.vms and (host is None or name == host)]
        if not found:
            raise DevframeError(f"fleet: no VM {uuid!r}" + (f" on host {host!r}" if host else ""))
        if len(found) > 1:
            raise DevframeError(f"fleet: VM {uuid!r} is reported by hosts {sorted(v.host for v in found)}: name one")
        return found[0]

    def devices(self, uuid: str, host: str | None = None) -> list[dict[str, Any]]:
        """The devices of one VM (entries with ``key``, ``dev_type``, ``spec``, ``seq``)."""
        with self._lock:
            return list(self._vm(uuid, host).devices.values())

    def known(self, uuid: str, host: str | None = None) -> KnownDevices:
        """The devices of one VM as a KnownDevices snapshot (to correlate against)."""
        from devframe.agent import KnownDevices

        if self.registry is None:
            raise DevframeError("fleet: known() needs the view to have a registry")
        specs = [entry["spec"] for entry in self.devices(uuid, host) if "error" not in entry["spec"]]
        return KnownDevices(specs, registry=self.registry)

    def changes_since(self, seq: int) -> dict[str, Any]:
        """What changed after sequence ``seq``: the devices set since (their current
        entry), the devices and VMs removed since, and the VMs whose state moved."""
        if seq < self._floor:
            raise HistoryError(
                f"fleet: changes since {seq} are forgotten (history starts after {self._floor}): read the whole view"
            )
        devices, vms = [], []
        for vm in self.vms():
            if vm.seq > seq:
                vms.append({k: v for k, v in vm.as_dict().items() if k != "devices"})
            devices += [{"host": vm.host, "uuid": vm.uuid, **e} for e in vm.devices.values() if e["seq"] > seq]
        removed = [{"seq": s, "host": h, "uuid": u, "key": k} for s, h, u, k in self._removals if s > seq]
        return {"since": seq, "seq": self.last_seq, "devices": devices, "removed": removed, "vms": vms}

    def as_dict(self) -> dict[str, Any]:
        """The whole fleet, JSON-ready."""
        with self._lock:
            return self._as_dict()

    def _as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.last_seq,
            "hosts": {
                name: {"uri": host.uri, "seq": host.seq, "vms": {u: vm.as_dict() for u, vm in host.vms.items()}}
                for name, host in sorted(self.hosts.items())
            },
        }

    def counts(self) -> dict[str, int]:
        """How many hosts, VMs and devices the view holds."""
        with self._lock:
            return self._counts()

    def _counts(self) -> dict[str, int]:
        return {
            "hosts": len(self.hosts),
            "vms": sum(len(h.vms) for h in self.hosts.values()),
            "devices": sum(len(vm.devices) for vm in self.vms()),
        }

    # -- keeping it across restarts -------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the view (atomically) so a restart resumes after :attr:`last_seq`."""
        with self._lock:
            self._save(path)

    def _save(self, path: str | os.PathLike[str]) -> None:
        state = {
            "version": SNAPSHOT_VERSION,
            "seq": self.last_seq,
            "floor": self._floor,
            "hosts": {
                name: {
                    "uri": host.uri,
                    "seq": host.seq,
                    "vms": {u: vm.as_dict() for u, vm in host.vms.items()},
                }
                for name, host in self.hosts.items()
            },
            "removals": self._removals,
            "ids": list(self._ids),
        }
        target = Path(path)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(json.dumps(state, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, target)

    def load(self, path: str | os.PathLike[str]) -> bool:
        """Read a :meth:`save` d view; False when there is none (start empty)."""
        with self._lock:
            return self._load(path)

    def _load(self, path: str | os.PathLike[str]) -> bool:
        try:
            state = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return False
        except (OSError, ValueError) as exc:
            raise DevframeError(f"fleet view state {path}: unreadable ({exc})") from None
        if not isinstance(state, dict) or state.get("version") != SNAPSHOT_VERSION:
            raise DevframeError(f"fleet view state {path}: not a version {SNAPSHOT_VERSION} snapshot")
        self.hosts = {}
        for name, saved in state["hosts"].items():
            host = self.hosts[name] = _Host(name, saved.get("uri"), saved.get("seq", 0))
            for uuid, vm in saved["vms"].items():
                devices = {entry["key"]: entry for entry in vm["devices"]}
                host.vms[uuid] = VmView(
                    name, uuid, vm.get("name"), vm.get("running", True), vm.get("state"), vm.get("seq", 0), devices
                )
        self.last_seq = int(state["seq"])
        self._floor = int(state.get("floor", 0))
        self._removals = [(int(s), str(h), str(u), k) for s, h, u, k in state.get("removals", [])]
        self._ids = OrderedDict.fromkeys(state.get("ids", []))
        return True
