"""``devframe monitor``: print device changes and libvirt events of one or more hosts.

Every libvirt event devframe reads (lifecycle, device added and removed, tray change,
I/O error, block job, balloon, graphics, ...: :mod:`devframe.agent.event_types`) is
printed as it comes, with its values and the device it names. For every guest, the
devices of its live XML are remembered with their hash; an event (or, every
``--interval`` seconds, a changed devices hash) makes the guest's live XML be read
again and correlated with what was known: the added, removed and changed devices are
printed. ``--json`` prints JSON lines (an event as ``Event.as_dict()``).
"""

from __future__ import annotations

import json
import queue
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from devframe.cli import get_registry
from devframe.cli.inspect import format_address

if TYPE_CHECKING:
    from devframe.agent import Event, Host
    from devframe.core.domain import Domain

__all__ = ["monitor"]


@dataclass
class _Watch:
    host: Host
    known: dict[str, Domain] = field(default_factory=dict)


class _Printer:
    def __init__(self, as_json: bool, count: int | None) -> None:
        self.as_json = as_json
        self.count = count
        self.printed = 0

    @property
    def done(self) -> bool:
        return self.count is not None and self.printed >= self.count

    def emit(self, record: dict[str, Any], text: str) -> None:
        if self.done:
            return
        click.echo(json.dumps(record, default=str, sort_keys=True) if self.as_json else text)
        self.printed += 1


def _text_device(sign: str, label: dict[str, Any]) -> str:
    address = format_address(label["address"]) if label["address"] else ""
    return f"{sign}{label['dev_type']} alias={label['alias']} {address}".rstrip()


def _check(watch: _Watch, uuid: str, printer: _Printer) -> None:
    """Re-read one guest's live devices and print what changed since last time."""
    from devframe.agent import AgentError, GuestGoneError, correlate
    from devframe.agent.correlate import device_label

    host = watch.host
    try:
        guest = host.guest(uuid)
        if not guest.is_active():
            watch.known.pop(uuid, None)
            return
        current = guest.domain()
    except GuestGoneError:
        watch.known.pop(uuid, None)
        return
    except AgentError as exc:
        printer.emit({"type": "error", "uri": host.uri, "uuid": uuid, "error": str(exc)}, f"{host.uri} error {exc}")
        return
    previous = watch.known.get(uuid)
    watch.known[uuid] = current
    if previous is None:
        _ = guest.tracked  # the Guest keeps its devices from now on: its events name them
        printer.emit(
            {
                "type": "guest",
                "uri": host.uri,
                "domain": current.name,
                "uuid": uuid,
                "devices_hash": current.devices_hash,
                "devices": len(current.devices),
            },
            f"{host.uri} {current.name} running, {len(current.devices)} devices, hash {current.devices_hash[:12]}",
        )
        return
    if previous.devices_hash == current.devices_hash:
        return
    result = correlate(previous, current)
    added = [device_label(d) for d in result.added]
    removed = [device_label(d) for d in result.removed]
    changed = {key: {f: [a, b] for f, (a, b) in diff.items()} for key, diff in result.changed.items()}
    lines = [_text_device("+", label) for label in added] + [_text_device("-", label) for label in removed]
    lines += [f"~{key} {', '.join(sorted(diff))}" for key, diff in changed.items()]
    printer.emit(
        {
            "type": "devices",
            "uri": host.uri,
            "domain": current.name,
            "uuid": uuid,
            "devices_hash": current.devices_hash,
            "added": added,
            "removed": removed,
            "changed": changed,
        },
        f"{host.uri} {current.name} devices changed: " + "; ".join(lines),
    )


def _event_text(event: Event) -> str:
    """One line per event: its kind, its values (``key=value``), the device it names."""
    shown = {key: value for key, value in event.detail.items() if value not in (None, "", {}, [])}
    values = " ".join(f"{key}={_short(value)}" for key, value in shown.items())
    alias = f" alias={event.alias}" if event.alias else ""
    device = event.device
    named = f" device={device.dev_type}" if device is not None else ""
    return f"{event.uri} {event.domain or '-'} event {event.kind} {values}{alias}{named}".replace("  ", " ").rstrip()


def _short(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True) if isinstance(value, (dict, list)) else str(value)


@click.command()
@click.option(
    "--uri", "uris", multiple=True, default=("test:///default",), show_default=True, help="Host to watch (repeatable)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds (default: run until ^C).")
@click.option("--count", type=int, default=None, help="Stop after printing this many records.")
@click.option("--interval", type=float, default=5.0, show_default=True, help="Seconds between devices-hash polls.")
@click.pass_context
def monitor(
    ctx: click.Context,
    uris: tuple[str, ...],
    as_json: bool,
    duration: float | None,
    count: int | None,
    interval: float,
) -> None:
    """Print device changes and libvirt events of the guests of one or more hosts."""
    from devframe.agent import CONNECTION_CLOSED, Host

    registry = get_registry(ctx)
    printer = _Printer(as_json, count)
    inbox: queue.Queue[Event] = queue.Queue()
    watches: dict[str, _Watch] = {}
    deadline = time.monotonic() + duration if duration is not None else None
    try:
        for uri in dict.fromkeys(uris):
            host = Host(uri, registry=registry)
            watches[uri] = _Watch(host)
            # Subscribe before the first snapshot, so no change falls between the two.
            host.subscribe(inbox.put)
            printer.emit({"type": "watching", "uri": uri}, f"{uri} watching")
        for watch in watches.values():
            for guest in watch.host.guests(running=True):
                _check(watch, guest.uuid, printer)
        next_poll = time.monotonic() + interval
        while not printer.done:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            wait = next_poll - now if deadline is None else min(next_poll, deadline) - now
            try:
                event = inbox.get(timeout=max(wait, 0.0))
            except queue.Empty:
                event = None
            if event is not None:
                record = {"type": "event", **event.as_dict()}
                printer.emit(record, _event_text(event))
                source = watches.get(event.uri)
                if source is not None and event.uuid and event.kind != CONNECTION_CLOSED:
                    _check(source, event.uuid, printer)
            if time.monotonic() >= next_poll:
                for watch in watches.values():
                    running = {g.uuid for g in watch.host.guests(running=True)}
                    for uuid in running | set(watch.known):
                        _check(watch, uuid, printer)
                next_poll = time.monotonic() + interval
    except KeyboardInterrupt:
        pass
    finally:
        for watch in watches.values():
            watch.host.close()
