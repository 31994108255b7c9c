"""``devframe inspect FILE``: the dev_map as a table, or the dev_spec_map as JSON.

A device holding dev_spec keys no plugin maps (kept in its metadata, see
:attr:`devframe.Device.unmapped_spec_keys`) shows them: in the table as
``unmapped=key,key`` among its key fields; with ``--json`` as one line per device on
stderr, so stdout stays the dev_spec_map an engine reads.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from devframe.cli.common import echo_json, read_domain, redact

if TYPE_CHECKING:
    from devframe.core.device import Device
    from devframe.core.domain import Domain

__all__ = ["format_address", "inspect", "spec_map", "table_rows", "unmapped_notes"]

NO_PLUGIN = "-"


def _num(value: str | None, width: int) -> str | None:
    """A libvirt number attribute ('0x03', '3') as fixed-width hex; None if unparsable."""
    if value is None:
        return "0" * width
    try:
        return format(int(value, 0), f"0{width}x")
    except ValueError:
        return None


def _dec(value: str | None) -> str:
    if value is None:
        return "0"
    try:
        return str(int(value, 0))
    except ValueError:
        return value


def format_address(address: Mapping[str, str] | None) -> str:
    """A compact guest address: ``pci 0000:00:03.0``, ``drive 0:0:0:0``, ``usb 0:1``, ..."""
    if not address:
        return ""
    kind = address.get("type", "?")
    if kind == "pci":
        parts = [
            _num(address.get("domain"), 4),
            _num(address.get("bus"), 2),
            _num(address.get("slot"), 2),
            _num(address.get("function"), 1),
        ]
        if all(part is not None for part in parts):
            return f"pci {parts[0]}:{parts[1]}:{parts[2]}.{parts[3]}"
    elif kind == "drive":
        keys = ("controller", "bus", "target", "unit")
        return "drive " + ":".join(_dec(address.get(key)) for key in keys)
    elif kind == "virtio-serial":
        return "virtio-serial " + ":".join(_dec(address.get(key)) for key in ("controller", "bus", "port"))
    elif kind == "ccid":
        return "ccid " + ":".join(_dec(address.get(key)) for key in ("controller", "slot"))
    elif kind == "usb":
        return f"usb {_dec(address.get('bus'))}:{address.get('port', '?')}"
    elif kind == "ccw":
        return "ccw " + ".".join([_dec(address.get("cssid")), _dec(address.get("ssid")), address.get("devno", "?")])
    rest = ",".join(f"{key}={value}" for key, value in address.items() if key != "type")
    return f"{kind} {rest}".strip()


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value if value and " " not in value else json.dumps(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(redact(value), separators=(",", ":"), default=str)
    return str(value)


def _key_fields(device: Device) -> str:
    from devframe.core.device import UnknownDevice

    try:
        fields = dict(device.summary())
    except Exception as exc:  # noqa: BLE001 - summary() must not, but a plugin's might
        fields = {"summary_error": repr(exc)}
    if isinstance(device, UnknownDevice):
        for attribute in ("type", "model", "device"):
            value = device.element.get(attribute)
            if value is not None:
                fields.setdefault(attribute, value)
    unmapped = _unmapped(device)
    if unmapped:
        fields["unmapped"] = ",".join(unmapped)
    if device.error:
        fields["error"] = device.error
    return " ".join(f"{name}={_show(value)}" for name, value in redact(fields).items())


def _unmapped(device: Device) -> tuple[str, ...]:
    """The device's unmapped dev_spec keys; never raises (metadata a plugin cannot read)."""
    try:
        return device.unmapped_spec_keys
    except Exception:  # noqa: BLE001 - one odd device must not hide the rest
        return ()


def unmapped_notes(domain: Domain) -> list[str]:
    """One line per device holding dev_spec keys no plugin maps (key names only)."""
    notes = []
    for device in domain.devices:
        unmapped = _unmapped(device)
        if unmapped:
            who = f"{device.dev_type} alias={device.alias}" if device.alias else device.dev_type
            notes.append(f"{who}: dev_spec keys no plugin maps (kept in metadata): {', '.join(unmapped)}")
    return notes


def table_rows(domain: Domain) -> list[tuple[str, str, str, str, str]]:
    """One row per device, document order: dev_type, plugin, alias, address, key fields."""
    rows = []
    for device in domain.devices:
        try:
            address = format_address(device.address)
        except Exception as exc:  # noqa: BLE001 - one odd device must not hide the rest
            address = f"<invalid address: {exc}>"
        rows.append((device.dev_type, device.plugin or NO_PLUGIN, device.alias or "", address, _key_fields(device)))
    return rows


def spec_map(domain: Domain) -> dict[str, list[dict[str, Any]]]:
    """The dev_spec_map ``{dev_type: [dev_spec, ...]}``, secrets redacted.

    A device whose ``to_spec`` fails with a DevframeError is listed with its error.
    """
    from devframe.core.errors import DevframeError

    out: dict[str, list[dict[str, Any]]] = {}
    for dev_type, devices in domain.dev_map.items():
        specs = out.setdefault(dev_type, [])
        for device in devices:
            try:
                spec = device.to_spec()
            except DevframeError as exc:
                spec = {"type": dev_type, "alias": device.alias, "error": str(exc)}
            specs.append(redact(spec))
    return out


def _render(rows: Sequence[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return lines


@click.command()
@click.argument("file", metavar="FILE")
@click.option("--json", "as_json", is_flag=True, help="Print the dev_spec_map {dev_type: [dev_spec, ...]} as JSON.")
@click.pass_context
def inspect(ctx: click.Context, file: str, as_json: bool) -> None:
    """Show the devices of domain XML FILE ('-' for stdin), secrets hidden.

    dev_spec keys no plugin maps (kept in a device's metadata) show as unmapped=...
    in the table; with --json they are listed on stderr.
    """
    domain = read_domain(file, ctx)
    if as_json:
        echo_json(spec_map(domain))
        for note in unmapped_notes(domain):
            click.echo(note, err=True)
        return
    rows = table_rows(domain)
    click.echo(f"domain {domain.name or '?'}  uuid {domain.uuid or '?'}  devices {len(rows)}")
    for line in _render(rows, ("DEV_TYPE", "PLUGIN", "ALIAS", "ADDRESS", "KEY FIELDS")):
        click.echo(line)
