"""``devframe inspect FILE``: the dev_map as a table, or the dev_spec_map as JSON.

Both stream (issue 16): the document is read a chunk at a time
(:class:`~devframe.core.stream.DomainStream`), each device is printed and freed as it is
read, so memory stays bounded whatever the document's size.

A document of up to :data:`HOLD_BYTES` (1 MiB: some 2,000 devices, far more than a VM has)
prints nothing before its end, and then exactly what reading it whole printed: the table's
columns as wide as their widest cell, nothing on stdout when the document turns out bad.
A larger one prints from its first device: the table's header (name, uuid, number of
devices) comes from a first pass over the document (DomainStream.outline, about one lxml
parse), its columns are as wide as the registered dev_types and plugin names, a user alias
and a PCI address need (a wider cell shifts only its own row); JSON starts at once. JSON
is one document in the same layout either way (a dev_spec per line, compact: see
:func:`write_spec_map`): the specs of the first dev_type are
written as they come, those of later dev_types wait in temporary files (in memory up to
:data:`SPOOL_MEMORY` characters each, redacted as everything printed) until their turn.

A device holding dev_spec keys no plugin maps (kept in its metadata, see
:attr:`devframe.Device.unmapped_spec_keys`) shows them: in the table as
``unmapped=key,key`` among its key fields; with ``--json`` as one line per device on
stderr, after the JSON, so stdout stays the dev_spec_map an engine reads.
"""

from __future__ import annotations

import codecs
import json
import sys
import tempfile
from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, TextIO

import click

from devframe.cli.common import open_input, redact, warn_no_device_plugins
from devframe.cli.output import fit, render_table, terminal_width, wide_option
from devframe.cli.progress import StatusLine
from devframe.core.errors import DevframeError
from devframe.core.limits import describe_int
from devframe.core.log import (
    REDACTED,
    is_secret_key,
    redact_text,
    redact_value,
    secret_key_answers,
    texts_kept_by_redact_text,
)

if TYPE_CHECKING:
    from devframe.core.device import Device
    from devframe.core.domain import Domain
    from devframe.core.registry import Registry
    from devframe.core.stream import DomainOutline, DomainStream

__all__ = [
    "HOLD_BYTES",
    "device_row",
    "device_spec",
    "format_address",
    "inspect",
    "inspect_stream",
    "spec_map",
    "table_rows",
    "unmapped_note",
    "unmapped_notes",
    "write_spec_map",
    "write_table",
]

#: documents up to this size print only at their end, exactly as read whole (module docstring)
HOLD_BYTES = 1 << 20
#: a streamed table's ALIAS and ADDRESS columns: ``ua-<uuid>``, ``virtio-serial 0:0:1``
ALIAS_WIDTH = 39
ADDRESS_WIDTH = 20
#: characters of a later dev_type's JSON kept in memory before they go to a temporary file
SPOOL_MEMORY = 1 << 20
#: dev_specs made before their JSON text is written (the text of many is cheaper to check)
SPEC_BATCH = 64
HEADER = ("DEV_TYPE", "PLUGIN", "ALIAS", "ADDRESS", "KEY FIELDS")

NO_PLUGIN = "-"
#: values redact_value visits before it shows ``***`` (its ``budget``)
_REDACT_BUDGET = 10_000


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
    return _fields_text(fields)


def _fields_text(fields: dict[str, Any]) -> str:
    """``" ".join(f"{name}={_show(value)}" for name, value in redact(fields).items())``
    with fewer steps: redact_value's rules for a mapping, inlined (a secret key's value
    is ``***`` and not counted; each other value counted against the same budget); a
    plain scalar is shown at once, its strings checked for secrets in one search
    (:func:`~devframe.core.log.texts_kept_by_redact_text`); anything else is redacted
    by redact_value itself, from the same depth and budget."""
    strings = [value for value in fields.values() if type(value) is str]
    strings_kept = texts_kept_by_redact_text(strings)
    budget = [_REDACT_BUDGET - 1]  # the mapping itself is the first value counted
    secret_answers = secret_key_answers()  # is_secret_key's own answers: a lookup, not a call
    parts: list[str] = []
    for name, value in fields.items():
        kind = type(value)
        if value is not None and (
            is_secret_key(name) if type(name) is not str or name not in secret_answers else secret_answers[name]
        ):
            shown = REDACTED
        elif kind is str or kind is int or kind is bool or kind is float or value is None:
            budget[0] -= 1
            if budget[0] < 0:
                shown = REDACTED
            elif kind is str:
                text = value if strings_kept else redact_text(value)
                shown = text if text and " " not in text else json.dumps(text)
            elif kind is int:
                text = describe_int(value)  # past int/str's limit: a text naming its size
                shown = text if text[0] != "<" else json.dumps(text)
            elif kind is bool:
                shown = "yes" if value else "no"
            else:
                shown = str(value)
        else:
            shown = _show(redact_value(value, 1, budget))
        parts.append(f"{name}={shown}")
    return " ".join(parts)


def _unmapped(device: Device) -> tuple[str, ...]:
    """The device's unmapped dev_spec keys; never raises (metadata a plugin cannot read)."""
    try:
        return device.unmapped_spec_keys
    except Exception:  # noqa: BLE001 - one odd device must not hide the rest
        return ()


def unmapped_note(device: Device) -> str | None:
    """The line naming a device's dev_spec keys no plugin maps (key names only), or None."""
    unmapped = _unmapped(device)
    return _note(device, unmapped) if unmapped else None


def _note(device: Device, unmapped: tuple[str, ...]) -> str:
    who = f"{device.dev_type} alias={device.alias}" if device.alias else device.dev_type
    return f"{who}: dev_spec keys no plugin maps (kept in metadata): {', '.join(unmapped)}"


def unmapped_notes(domain: Domain) -> list[str]:
    """One line per device holding dev_spec keys no plugin maps (key names only)."""
    return [note for note in map(unmapped_note, domain.devices) if note is not None]


def device_row(device: Device) -> tuple[str, str, str, str, str]:
    """One device's row: dev_type, plugin, alias, address, key fields (secrets hidden)."""
    try:
        address = format_address(device.address)
    except Exception as exc:  # noqa: BLE001 - one odd device must not hide the rest
        address = f"<invalid address: {exc}>"
    return (device.dev_type, device.plugin or NO_PLUGIN, device.alias or "", address, _key_fields(device))


def table_rows(domain: Domain) -> list[tuple[str, str, str, str, str]]:
    """One row per device, document order: dev_type, plugin, alias, address, key fields."""
    return [device_row(device) for device in domain.devices]


def device_spec(device: Device) -> dict[str, Any]:
    """The device's dev_spec, not yet redacted; a DevframeError from ``to_spec`` becomes
    ``{"type", "alias", "error"}``."""
    try:
        return device.to_spec()
    except DevframeError as exc:
        return {"type": device.dev_type, "alias": device.alias, "error": str(exc)}


def spec_map(domain: Domain) -> dict[str, list[dict[str, Any]]]:
    """The dev_spec_map ``{dev_type: [dev_spec, ...]}``, secrets redacted.

    A device whose ``to_spec`` fails with a DevframeError is listed with its error.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    for dev_type, devices in domain.dev_map.items():
        out[dev_type] = [redact(device_spec(device)) for device in devices]
    return out


def _line(row: tuple[str, ...], widths: Sequence[int], limit: int | None = None) -> str:
    cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
    return fit("  ".join([*cells, row[-1]]).rstrip(), limit)


class _Output:
    """stdout, held back until :meth:`release` (then written as it comes), wiping the
    progress line first when both share the terminal."""

    def __init__(self, stream: TextIO, progress: StatusLine) -> None:
        self.stream = stream
        self.progress = progress
        self.held: list[str] | None = []

    def write(self, text: str) -> None:
        if self.held is not None:
            self.held.append(text)
            return
        self.progress.before_output()
        self.stream.write(text)

    def release(self) -> None:
        if self.held is not None:
            held, self.held = self.held, None
            self.write("".join(held))

    def flush(self) -> None:
        if self.held is None:
            self.stream.flush()


def _header(outline: DomainOutline, limit: int | None) -> str:
    title = f"domain {outline.name or '?'}  uuid {outline.uuid or '?'}  devices {outline.devices}"
    return fit(title, limit) + "\n"


def _streamed_widths(stream: DomainStream) -> list[int]:
    """Column widths known before any row: every registered dev_type and plugin name fits."""
    routes = stream.registry.routes
    return [
        max([len(HEADER[0]), *(len(dev_type) for dev_type in routes)]),
        max([len(HEADER[1]), len(NO_PLUGIN), *(len(route.plugin) for route in routes.values())]),
        ALIAS_WIDTH,
        ADDRESS_WIDTH,
    ]


def write_table(stream: DomainStream, out: _Output, *, wide: bool = False) -> None:
    """The table; unless ``wide``, every line cut to the terminal's width (``fit``)."""
    limit = None if wide else terminal_width()
    if stream.size > HOLD_BYTES:
        out.write(_header(stream.outline(), limit))  # the first pass, then a row per device as it is read
        widths = _streamed_widths(stream)
        out.write(_line(HEADER, widths, limit) + "\n")
        out.release()
        for device in stream:
            out.write(_line(device_row(device), widths, limit) + "\n")
        return
    rows = [device_row(device) for device in stream]
    out.write(_header(stream.outline(), limit))
    out.write("".join(line + "\n" for line in render_table(rows, HEADER, wide=wide)))
    out.release()


class _Spool:
    """The JSON text of one later dev_type: in memory up to SPOOL_MEMORY characters, then
    in a temporary file (already redacted, as everything printed; removed on close)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.file: IO[bytes] | None = None

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size > SPOOL_MEMORY:
            if self.file is None:
                self.file = tempfile.TemporaryFile()  # closed by close()
            self.file.write("".join(self.parts).encode("utf-8"))
            self.parts, self.size = [], 0

    def copy_to(self, out: _Output) -> None:
        if self.file is not None:
            self.file.seek(0)
            decoder = codecs.getincrementaldecoder("utf-8")()
            while block := self.file.read(SPOOL_MEMORY):
                out.write(decoder.decode(block))
            out.write(decoder.decode(b"", final=True))
        out.write("".join(self.parts))

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


class _SpecMapWriter:
    """The dev_spec_map's text as the devices come: the first dev_type's items straight to
    the output, later dev_types' to their spools."""

    def __init__(self, out: _Output) -> None:
        self.out = out
        self.first: str | None = None
        self.later: dict[str, _Spool] = {}

    def items(self, dev_types: Sequence[str], items: Sequence[str]) -> None:
        """The next items, each of its dev_type (the first one's in one write, each later
        dev_type's in one write to its spool). Separators and items are joined once, not
        concatenated per item: a copy and a string less per device."""
        first = self.first
        parts: list[str] = []
        add = parts.append  # no tuple per item, as ``parts += (_NEXT, item)`` makes
        later: dict[str, list[str]] = {}
        for dev_type, item in zip(dev_types, items, strict=True):
            if dev_type == first:
                add(_NEXT)
                add(item)
            elif first is None:
                first = self.first = dev_type
                parts += ("{\n  ", _key(dev_type), ": [\n    ", item)
            else:
                pending = later.get(dev_type)
                if pending is None:
                    pending = later[dev_type] = []
                    if dev_type not in self.later:
                        self.later[dev_type] = _Spool()
                        pending.append("\n    ")
                        pending.append(item)
                        continue
                pending.append(_NEXT)
                pending.append(item)
        if parts:
            self.out.write("".join(parts))
        for dev_type, pending in later.items():
            self.later[dev_type].write("".join(pending))

    def end(self) -> None:
        if self.first is None:
            self.out.write("{}\n")
            return
        self.out.write("\n  ]")
        for dev_type, spool in self.later.items():
            self.out.write(",\n  " + _key(dev_type) + ": [")
            spool.copy_to(self.out)
            self.out.write("\n  ]")
        self.out.write("\n}\n")

    def close(self) -> None:
        for spool in self.later.values():
            spool.close()


def write_spec_map(stream: DomainStream, out: _Output) -> list[str]:
    """The dev_spec_map: an object of dev_types (first-seen order), each a list of
    dev_specs, a dev_spec per line in compact JSON (``json.dumps(spec, separators=(",",
    ":"), ensure_ascii=False)``, redacted); returns the :func:`unmapped_note` of every
    device that has one (a line each)."""
    from devframe.cli.jsonout import RedactedJSON

    dumps_many = RedactedJSON().dumps_many
    writer = _SpecMapWriter(out)
    notes: list[str] = []
    # The JSON text of SPEC_BATCH specs at a time: their secret search is one (jsonout).
    dev_types: list[str] = []
    specs: list[dict[str, Any]] = []

    def write_batch() -> None:
        batch_types, batch_specs = dev_types[:], specs[:]
        dev_types.clear()
        specs.clear()
        writer.items(batch_types, dumps_many(batch_specs))

    if stream.size > HOLD_BYTES:
        out.release()  # from the first device on
    try:
        try:
            for device in stream:
                dev_types.append(device.dev_type)
                # device_spec and unmapped_note inlined: two Python calls less per device
                try:
                    specs.append(device.to_spec())
                except DevframeError as exc:
                    specs.append({"type": device.dev_type, "alias": device.alias, "error": str(exc)})
                unmapped = _unmapped(device)
                if unmapped:
                    notes.append(_note(device, unmapped))
                if len(specs) >= SPEC_BATCH:
                    write_batch()
        except DevframeError:
            write_batch()  # what was read before the error is printed, as without batches
            raise
        write_batch()
        writer.end()
        out.release()
    finally:
        writer.close()
    return notes


#: what comes before every item of a dev_type but its first
_NEXT = ",\n    "


def _key(dev_type: str) -> str:
    return json.dumps(dev_type, ensure_ascii=False)


def inspect_stream(
    target: str | IO[bytes],
    *,
    as_json: bool,
    out: TextIO,
    err: TextIO,
    registry: Registry | None = None,
    source: str | None = None,
    wide: bool = False,
) -> None:
    """What ``devframe inspect [--json]`` prints of ``target`` (a path or a seekable binary
    file), written to ``out``; progress goes to ``err`` when it is a terminal, and so do
    the notes on unmapped dev_spec keys of ``--json``."""
    from devframe.core.safexml import ParseLimits
    from devframe.core.stream import DomainStream

    progress = StatusLine(err, shares_output=out.isatty())
    output = _Output(out, progress)

    def report(stream: DomainStream) -> None:
        output.flush()
        if progress.enabled:
            progress.update(_progress_text(stream))

    notes: list[str] = []
    try:
        stream = DomainStream(target, registry=registry, source=source, limits=ParseLimits.from_env(), progress=report)
        if as_json:
            notes = write_spec_map(stream, output)
        else:
            write_table(stream, output, wide=wide)
    finally:
        progress.clear()
    for note in notes:  # after the JSON: stdout stays the dev_spec_map an engine reads
        err.write(note + "\n")


@click.command()
@click.argument("file", metavar="FILE")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the dev_spec_map {dev_type: [dev_spec, ...]} as JSON, a dev_spec per line.",
)
@wide_option
@click.pass_context
def inspect(ctx: click.Context, file: str, as_json: bool, wide: bool) -> None:
    """Show the devices of domain XML FILE ('-' for stdin), secrets hidden.

    dev_spec keys no plugin maps (kept in a device's metadata) show as unmapped=...
    in the table; with --json they are listed on stderr.

    Large documents are read and printed as they go, in bounded memory. Work lasting
    more than 2 seconds shows its progress on stderr when stderr is a terminal
    ($DEVFRAME_PROGRESS_AFTER sets the delay).
    """
    from devframe.cli import get_registry

    registry = get_registry(ctx)
    warn_no_device_plugins(registry)
    target, source = open_input(file)
    try:
        inspect_stream(
            target, as_json=as_json, out=sys.stdout, err=sys.stderr, registry=registry, source=source, wide=wide
        )
    finally:
        if not isinstance(target, str):
            target.close()


def _progress_text(stream: DomainStream) -> str:
    share = f"{100 * stream.done // stream.size}% of {stream.size / 1e6:.1f} MB" if stream.size else ""
    if stream.phase == "scanning":
        return f"devframe inspect: first pass (metadata, device count): {share}"
    return f"devframe inspect: {share}, {stream.devices:,} devices"
