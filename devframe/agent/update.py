"""Plans for live device updates: what :meth:`Guest.update <devframe.agent.Guest.update>`
will ask libvirt, worked out before anything is asked.

A plan compares the device libvirt runs with the one the caller wants, field by field
(:mod:`devframe.core.changes`), and turns the differences into the smallest libvirt
operations:

* ``update-device``: libvirt's device update (``virDomainUpdateDeviceFlags``) with the
  device's XML as libvirt has it (live, or the persistent definition) carrying the
  changed fields: media change and eject, NIC link state, source network or bridge,
  bandwidth, filter, graphics password and its validity;
* ``set-block-iotune``: a disk's I/O limits (``virDomainSetBlockIoTune``; libvirt does
  not change them through a device update);
* ``block-resize``: a disk's size (``virDomainBlockResize``; the size is not in the XML);
* ``save-metadata``: devframe's metadata of the device (``<ovirt-vm:device>``), through
  libvirt's metadata API.

On a running domain a change to a field whose class does not declare it ``live`` is
refused (:class:`~devframe.agent.UpdateRefusedError`) before the plan exists; a field
the wanted device leaves out that cannot change live is *kept* as libvirt has it
(a device built from a short spec does not ask to remove what libvirt filled in).
A plan never shows secret values: its text, ``repr`` and :meth:`UpdatePlan.as_dict`
carry ``***``, and the XML it sends is kept out of all three.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from devframe.agent.errors import UpdateRefusedError, describe
from devframe.core.changes import FieldChange, copy_fields, field_changes
from devframe.core.device import Device
from devframe.core.fields import Child, Field

__all__ = [
    "BLOCK_RESIZE",
    "SAVE_METADATA",
    "SET_BLOCK_IOTUNE",
    "UPDATE_DEVICE",
    "UpdatePlan",
    "UpdateStep",
    "disk_target",
    "plan_resize",
    "plan_update",
    "tray_closed_meanwhile",
]

UPDATE_DEVICE = "update-device"
SET_BLOCK_IOTUNE = "set-block-iotune"
BLOCK_RESIZE = "block-resize"
SAVE_METADATA = "save-metadata"

LIVE = "live"
CONFIG = "config"

#: how often a live media change is sent when QEMU answers that the tray is not open
MEDIA_CHANGE_ATTEMPTS = 6
#: seconds before the next attempt (doubled each time: 0.25, 0.5, 1, 2, 4 s; 7.75 s in all).
#: Four attempts (1.75 s) were too few for a TCG guest on a loaded 2-core host.
MEDIA_CHANGE_PAUSE = 0.25


def tray_closed_meanwhile(message: str) -> bool:
    """Whether a failed live media change is QEMU refusing to take the medium out of a
    closed tray: libvirt opened the tray (and saw it open) but the guest closed it again
    before the medium was removed, as a slow guest probing its drive does. Nothing was
    changed; the same update may be sent again."""
    return "blockdev-remove-medium" in message and "is not open" in message


@dataclass(frozen=True)
class UpdateStep:
    """One libvirt operation of a plan.

    ``scope``: ``("live",)``, ``("config",)`` or both. ``changes``: the fields it
    changes. ``target``: the disk target for block operations; ``size``: bytes for a
    resize; ``keys``: metadata keys for ``save-metadata``. ``xml`` and ``params``
    (what is sent) may hold a password: never printed.
    """

    operation: str
    scope: tuple[str, ...]
    changes: tuple[FieldChange, ...] = ()
    target: str | None = None
    size: int | None = None
    keys: tuple[str, ...] = ()
    xml: str | None = field(default=None, repr=False, compare=False)
    params: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    def __str__(self) -> str:
        head = f"{self.operation} ({'+'.join(self.scope)})"
        if self.target:
            head += f" disk {self.target}"
        if self.size is not None:
            head += f" to {self.size} bytes"
        parts = [str(change) for change in self.changes]
        if self.keys:
            parts.append("metadata " + ", ".join(self.keys))
        return head + (": " + "; ".join(parts) if parts else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "scope": list(self.scope),
            "changes": [change.as_dict() for change in self.changes],
            "target": self.target,
            "size": self.size,
            "keys": list(self.keys),
        }


@dataclass(frozen=True)
class UpdatePlan:
    """What an update will do (``Guest.update(..., dry_run=True)`` returns it).

    ``steps`` run in order; ``kept``: fields the wanted device leaves out that cannot
    change on a running domain, kept as libvirt has them. Printable (``str``) and
    JSON-ready (:meth:`as_dict`); secret values show as ``***``.
    """

    uri: str
    domain: str
    device: str
    live: bool
    config: bool
    steps: tuple[UpdateStep, ...]
    kept: tuple[FieldChange, ...] = ()

    @property
    def empty(self) -> bool:
        """True when the running device already is the wanted one."""
        return not self.steps

    def __str__(self) -> str:
        scope = "+".join(s for s, on in ((LIVE, self.live), (CONFIG, self.config)) if on)
        lines = [f"update {self.device} on domain {self.domain!r} (host {self.uri!r}, {scope})"]
        lines += [f"  {step}" for step in self.steps] or ["  nothing to change"]
        if self.kept:
            lines.append("  kept as running: " + ", ".join(change.name for change in self.kept))
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "domain": self.domain,
            "device": self.device,
            "live": self.live,
            "config": self.config,
            "steps": [step.as_dict() for step in self.steps],
            "kept": [change.name for change in self.kept],
        }


def disk_target(device: Device) -> str | None:
    """A disk's ``<target dev>``, the name libvirt's block calls take."""
    target = next(device.element.iterchildren("target"), None)
    return target.get("dev") if target is not None else None


def _tuned_by_call(device: Device, name: str) -> bool:
    # A disk's <iotune> children are libvirt's setBlockIoTune parameters, same names:
    # one field per limit, or the whole <iotune> as one child view (the drive plugin's).
    declared = type(device).fields[name]
    steps = getattr(declared, "steps", ())
    return device.dev_type == "disk" and isinstance(declared, (Field, Child)) and tuple(steps[:1]) == ("iotune",)


def _iotune_value(parameter: str, value: Any) -> Any:
    # libvirt lifts a limit set to 0; a group is left by naming none.
    return value if value is not None else ("" if parameter == "group_name" else 0)


def _iotune_params(running: Device, wanted: Device, changes: list[FieldChange]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for change in changes:
        declared = type(wanted).fields[change.name]
        if isinstance(declared, Field):
            parameter = declared.steps[-1]
            params[parameter] = _iotune_value(parameter, declared.__get__(wanted, type(wanted)))
            continue
        assert isinstance(declared, Child)
        # The whole <iotune>: each of its limits that differs, by its element's name.
        old, new = declared.__get__(running, type(running)), declared.__get__(wanted, type(wanted))
        for inner in declared.item.fields.values():
            if not isinstance(inner, Field) or not inner.steps:
                continue
            before = inner.__get__(old, type(old)) if old is not None else None
            after = inner.__get__(new, type(new)) if new is not None else None
            if before != after:
                parameter = inner.steps[-1]
                params[parameter] = _iotune_value(parameter, after)
    return params


def _metadata_changes(running: Device, wanted: Device) -> tuple[str, ...]:
    mine = wanted.metadata_if_any()
    if not mine:
        return ()
    theirs = running.metadata_if_any()
    current = theirs.to_dict() if theirs is not None else {}
    return tuple(key for key, value in mine.to_dict().items() if current.get(key) != value)


def _device_xml(base: Device, wanted: Device, names: list[str]) -> str:
    """``base``'s element (libvirt's, left as it is) with the fields ``names`` of ``wanted``."""
    element = copy.deepcopy(base.element)
    element.tail = None
    carrier = type(base)(element)
    copy_fields(wanted, carrier, names)
    return carrier.to_xml()


def plan_update(
    *,
    uri: str,
    domain: str,
    running: Device,
    wanted: Device,
    live_base: Device | None,
    config_base: Device | None,
    live: bool,
    config: bool,
) -> UpdatePlan:
    """The plan that makes ``running`` (libvirt's device, as its live XML shows it, or
    its persistent definition when only ``config``) into ``wanted``.

    ``live_base`` / ``config_base``: libvirt's element of the device with secrets (the
    XML sent starts from it, so a graphics password is not lost), None when the device
    is not in that scope. Raises :class:`UpdateRefusedError` for a change ``live``
    cannot make.
    """
    what = running.describe()
    changes = field_changes(running, wanted)
    refused = [c for c in changes if live and not c.live and not c.removal]
    if refused:
        where = describe(host=uri, domain=domain, device=what)
        listed = "; ".join(f"{c} (spec key {c.spec!r})" if c.spec else str(c) for c in refused)
        raise UpdateRefusedError(
            f"update device ({where}): libvirt cannot change on a running domain: {listed}; nothing was changed",
            fields=tuple(c.name for c in refused),
            operation="update device",
            uri=uri,
            domain=domain,
            device=what,
        )
    kept = tuple(c for c in changes if not c.live and c.removal)
    applied = [c for c in changes if c not in kept]
    tuned = [c for c in applied if _tuned_by_call(running, c.name)]
    updated = [c for c in applied if c not in tuned]
    steps: list[UpdateStep] = []
    names = [c.name for c in updated]
    for scope, on, base in ((LIVE, live, live_base), (CONFIG, config, config_base)):
        if updated and on and base is not None:
            steps.append(UpdateStep(UPDATE_DEVICE, (scope,), tuple(updated), xml=_device_xml(base, wanted, names)))
    if tuned:
        scopes = tuple(s for s, on in ((LIVE, live), (CONFIG, config and config_base is not None)) if on)
        steps.append(
            UpdateStep(
                SET_BLOCK_IOTUNE,
                scopes,
                tuple(tuned),
                target=disk_target(running),
                params=_iotune_params(running, wanted, tuned),
            )
        )
    keys = _metadata_changes(running, wanted)
    if keys:  # names only: metadata values may be secret
        scopes = tuple(s for s, on in ((LIVE, live), (CONFIG, config)) if on)
        steps.append(UpdateStep(SAVE_METADATA, scopes, keys=keys))
    return UpdatePlan(uri=uri, domain=domain, device=what, live=live, config=config, steps=tuple(steps), kept=kept)


def plan_resize(*, uri: str, domain: str, running: Device, size: int) -> UpdatePlan:
    """The plan of :meth:`Guest.resize_disk <devframe.agent.Guest.resize_disk>`."""
    step = UpdateStep(BLOCK_RESIZE, (LIVE,), target=disk_target(running), size=size)
    return UpdatePlan(uri=uri, domain=domain, device=running.describe(), live=True, config=False, steps=(step,))
