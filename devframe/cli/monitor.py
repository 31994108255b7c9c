"""``devframe monitor``: print device changes and libvirt events of one or more hosts,
and with ``--publish URL`` send them to the fleet as CloudEvents.

A :class:`~devframe.fleet.FleetAgent` watches every ``--uri``: for every running guest
the devices of its live XML are remembered with their hash; a lifecycle or device event
(or, every ``--interval`` seconds, a changed devices hash) makes the guest's live XML be
read again and correlated with what was known. Each change is printed (``--json``:
JSON lines) and, with ``--publish`` (repeatable: ``nats://HOST:PORT``, ``file:///PATH``,
or a scheme a plugin registers), sent to that event sink (docs/fleet.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from devframe.cli import UserError, get_registry
from devframe.cli.inspect import format_address

if TYPE_CHECKING:
    from devframe.fleet import GuestReport

__all__ = ["monitor"]


class _Printer:
    """Prints what the fleet agent reports, one record per line."""

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

    def report(self, report: GuestReport) -> None:
        from devframe.agent.correlate import device_label

        if report.error is not None:
            self.emit(
                {"type": "error", "uri": report.uri, "uuid": report.uuid, "error": report.error},
                f"{report.uri} error {report.error}",
            )
            return
        current = report.domain
        if current is None:
            return  # stopped or gone: the lifecycle event says so
        if report.first and report.correlation is None:
            self.emit(
                {
                    "type": "guest",
                    "uri": report.uri,
                    "domain": current.name,
                    "uuid": report.uuid,
                    "devices_hash": current.devices_hash,
                    "devices": len(current.devices),
                },
                f"{report.uri} {current.name} running, {len(current.devices)} devices, "
                f"hash {current.devices_hash[:12]}",
            )
            return
        result = report.correlation
        if result is None or not (result.added or result.removed or result.changed):
            return
        added = [device_label(d) for d in result.added]
        removed = [device_label(d) for d in result.removed]
        changed = {key: {f: [a, b] for f, (a, b) in diff.items()} for key, diff in result.changed.items()}
        lines = [_text_device("+", label) for label in added] + [_text_device("-", label) for label in removed]
        lines += [f"~{key} {', '.join(sorted(diff))}" for key, diff in changed.items()]
        self.emit(
            {
                "type": "devices",
                "uri": report.uri,
                "domain": current.name,
                "uuid": report.uuid,
                "devices_hash": current.devices_hash,
                "added": added,
                "removed": removed,
                "changed": changed,
            },
            f"{report.uri} {current.name} devices changed: " + "; ".join(lines),
        )

    def event(self, host: str, event: Any) -> None:
        self.emit({"type": "event", **event.as_dict()}, _event_text(event))


def _event_text(event: Any) -> str:
    """One line per event: its kind, its values (``key=value``), the device it names."""
    detail = getattr(event, "detail", None) or {}
    shown = {key: value for key, value in detail.items() if value not in (None, "", {}, [])}
    values = " ".join(f"{key}={_short(value)}" for key, value in shown.items())
    alias = f" alias={event.alias}" if getattr(event, "alias", None) else ""
    device = getattr(event, "device", None)
    named = f" device={device.dev_type}" if device is not None else ""
    domain = getattr(event, "domain", None) or "-"
    return f"{event.uri} {domain} event {event.kind} {values}{alias}{named}".replace("  ", " ").rstrip()


def _short(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True) if isinstance(value, (dict, list)) else str(value)


def _text_device(sign: str, label: dict[str, Any]) -> str:
    address = format_address(label["address"]) if label["address"] else ""
    return f"{sign}{label['dev_type']} alias={label['alias']} {address}".rstrip()


@click.command()
@click.option(
    "--uri", "uris", multiple=True, default=("test:///default",), show_default=True, help="Host to watch (repeatable)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds (default: run until ^C).")
@click.option("--count", type=int, default=None, help="Stop after printing this many records.")
@click.option("--interval", type=float, default=5.0, show_default=True, help="Seconds between devices-hash polls.")
@click.option(
    "--publish",
    "publish",
    multiple=True,
    metavar="URL",
    help="Send device changes and events as CloudEvents to this sink (nats://HOST:PORT; repeatable).",
)
@click.option(
    "--spool",
    "spool",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory where events wait while a sink's server is away (default: under $XDG_STATE_HOME).",
)
@click.option("--quiet", is_flag=True, help="Print nothing (with --publish).")
@click.pass_context
def monitor(
    ctx: click.Context,
    uris: tuple[str, ...],
    as_json: bool,
    duration: float | None,
    count: int | None,
    interval: float,
    publish: tuple[str, ...],
    spool: Path | None,
    quiet: bool,
) -> None:
    """Print device changes and libvirt events of the guests of one or more hosts."""
    from devframe.agent import Host
    from devframe.fleet import FleetAgent, open_sink

    registry = get_registry(ctx)
    printer = _Printer(as_json, 0 if quiet else count)
    hosts: list[Host] = []
    sinks: list[Any] = []
    agent: FleetAgent | None = None
    try:
        for index, url in enumerate(dict.fromkeys(publish)):
            options: dict[str, Any] = {}
            if spool is not None:
                options["spool_dir"] = spool / str(index) if len(publish) > 1 else spool
            try:
                sinks.append(open_sink(url, registry=registry, **options))
            except ImportError as exc:
                raise UserError(f"--publish {url}: {exc}") from None
        for uri in dict.fromkeys(uris):
            hosts.append(Host(uri, registry=registry))
        agent = FleetAgent(hosts, sinks, interval=interval, listeners=[printer])
        for host in hosts:
            printer.emit({"type": "watching", "uri": host.uri}, f"{host.uri} watching")
        agent.run(duration=duration, stop=lambda: printer.done and count is not None)
    except KeyboardInterrupt:
        pass
    finally:
        if agent is not None:
            agent.close()
        else:
            for sink in sinks:
                sink.close()
        for host in hosts:
            host.close()
