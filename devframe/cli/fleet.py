"""``devframe fleet``: the engine's view of every host's VMs and devices, from NATS.

Reads the fleet's JetStream stream through a durable consumer into a
:class:`~devframe.fleet.FleetView` (replaying the stream, or resuming after
``--state FILE``), then prints the whole fleet, one VM (``--vm UUID``) or what changed
since a stream sequence (``--since N``). ``--follow`` keeps reading and prints each
applied event.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from devframe.cli import UserError, get_registry

__all__ = ["fleet"]


def _text(view: Any) -> list[str]:
    lines = []
    for vm in view.vms():
        state = "running" if vm.running else (vm.state or "stopped")
        lines.append(f"{vm.host} {vm.name or '-'} {vm.uuid} {state}, {len(vm.devices)} devices")
        for entry in vm.devices.values():
            alias = f" alias={entry['alias']}" if entry.get("alias") else ""
            lines.append(f"  {entry['dev_type']} {entry['key']}{alias}")
    counts = view.counts()
    lines.append(f"{counts['hosts']} hosts, {counts['vms']} VMs, {counts['devices']} devices, sequence {view.last_seq}")
    return lines


@click.command()
@click.option("--nats", "url", required=True, metavar="URL", help="NATS server(s): nats://HOST:PORT[,nats://...].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--vm", "vm", default=None, metavar="UUID", help="Only this VM's devices.")
@click.option("--since", type=int, default=None, metavar="N", help="What changed after stream sequence N.")
@click.option("--durable", default="devframe-fleet-cli", show_default=True, help="Durable consumer name.")
@click.option("--stream", default="DEVFRAME", show_default=True, help="JetStream stream.")
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Keep the view in this file and resume from it (default: replay the stream).",
)
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds to catch up.")
@click.option("--follow", is_flag=True, help="Keep reading; print each event as it is applied.")
@click.option("--duration", type=float, default=None, help="With --follow: stop after this many seconds.")
@click.pass_context
def fleet(
    ctx: click.Context,
    url: str,
    as_json: bool,
    vm: str | None,
    since: int | None,
    durable: str,
    stream: str,
    state: Path | None,
    timeout: float,
    follow: bool,
    duration: float | None,
) -> None:
    """Print the fleet's VMs and devices as the agents reported them to NATS."""
    from devframe.fleet import FleetView
    from devframe.fleet.jetstream import NatsFleetReader

    view = FleetView(get_registry(ctx))
    try:
        reader = NatsFleetReader(url, view, durable=durable, stream=stream, state_file=state)
    except ImportError as exc:
        raise UserError(str(exc)) from None
    reader.catch_up(timeout)
    if follow:
        _follow(reader, view, as_json, duration)
        return
    if since is not None:
        out: Any = view.changes_since(since)
        text = [json.dumps(out, sort_keys=True, default=str)]
    elif vm is not None:
        out = view.vm(vm).as_dict()
        text = [f"{out['host']} {out['name']} {out['uuid']}"] + [
            f"  {e['dev_type']} {e['key']} {json.dumps(e['spec'], sort_keys=True)}" for e in out["devices"]
        ]
    else:
        out = view.as_dict()
        text = _text(view)
    if as_json:
        click.echo(json.dumps(out, sort_keys=True, default=str, indent=1))
    else:
        for line in text:
            click.echo(line)


def _follow(reader: Any, view: Any, as_json: bool, duration: float | None) -> None:
    seen = view.last_seq
    reader.start()
    deadline = time.monotonic() + duration if duration is not None else None
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)
            if view.last_seq > seen:
                changes = view.changes_since(seen)
                seen = changes["seq"]
                if as_json:
                    click.echo(json.dumps(changes, sort_keys=True, default=str))
                else:
                    for entry in changes["devices"]:
                        click.echo(
                            f"{changes['seq']} {entry['host']} {entry['uuid']} {entry['dev_type']} {entry['key']}"
                        )
                    for entry in changes["removed"]:
                        click.echo(f"{entry['seq']} {entry['host']} {entry['uuid']} removed {entry['key'] or 'VM'}")
    except KeyboardInterrupt:
        pass
    finally:
        reader.stop()
