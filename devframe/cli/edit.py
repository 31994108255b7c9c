"""``devframe edit``: change a domain's devices in a file or on a host.

    devframe edit vm.xml --add-device '{"type": "sound", "device": "ich9"}' --print-diff
    devframe edit vm.xml --remove-device disk:1 --in-place
    devframe edit vm.xml --set interface:0 specParams.link=down
    devframe edit -c qemu:///system web-01 --set graphics:0 keyMap=fr --define

A device is named by its alias (``ua-...``), by ``dev_type:index`` (0-based, document
order within its dev_type, as ``inspect`` lists them) or by its dev_type alone when the
domain has one of them. The edits apply in this order: every ``--set``, then every
``--remove-device`` (each named in the domain as it was read), then every
``--add-device``. Each edit goes through the device's class: what devframe does not
model in the rest of the domain is kept as it was.

Where the result goes: a file's edited XML is printed (``--print-diff``: the unified
diff instead), or written back with ``--in-place`` (the original kept as FILE.bak). On
a host, ``--define`` replaces the domain's persistent definition (its next start uses
it) and ``--update`` changes the running domain and its definition through
:class:`~devframe.agent.Guest` (``attach``, ``detach``, and ``update`` for ``--set``, which
refuses a field libvirt cannot change live); without either
nothing changes on the host. Secret values show as ``***`` in diffs and messages.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from devframe.cli import UserError
from devframe.cli.common import echo_json, read_input
from devframe.cli.connect import Target, connect_option, open_target
from devframe.cli.output import style
from devframe.cli.progress import Progress

if TYPE_CHECKING:
    from devframe.agent import Guest
    from devframe.core.device import Device
    from devframe.core.domain import Domain
    from devframe.core.fields import _Base
    from devframe.core.registry import Registry

__all__ = ["EditPlan", "apply_set", "edit", "find_device", "new_device", "unified_diff"]

BACKUP_SUFFIX = ".bak"


def find_device(domain: Domain, selector: str, option: str) -> Device:
    """The device ``selector`` names: an alias, ``dev_type:index`` or a lone dev_type."""
    by_alias = domain.find(alias=selector)
    if by_alias:
        return by_alias[0]
    dev_type, sep, index_text = selector.rpartition(":") if ":" in selector else (selector, "", "")
    devices = list(domain.dev_map.get(dev_type, ()))
    if not sep:
        if len(devices) == 1:
            return devices[0]
        if devices:
            raise UserError(
                f"{option} {selector}: the domain has {len(devices)} {dev_type} devices; "
                f"name one as {dev_type}:INDEX (0-{len(devices) - 1}) or by its alias"
            )
        raise UserError(f"{option} {selector}: no device has this alias, and the domain has no {selector} device")
    if not index_text.isdigit():
        raise UserError(f"{option} {selector}: expected an alias or DEV_TYPE:INDEX (INDEX a number from 0)")
    index = int(index_text)
    if index >= len(devices):
        have = f"{len(devices)} ({dev_type}:0-{dev_type}:{len(devices) - 1})" if devices else "none"
        raise UserError(f"{option} {selector}: the domain's {dev_type} devices: {have}")
    return devices[index]


def _label(domain: Domain, device: Device) -> str:
    """``dev_type:index alias=...`` as messages name a device."""
    devices = list(domain.dev_map.get(device.dev_type, ()))
    index = next((i for i, d in enumerate(devices) if d is device), None)
    name = f"{device.dev_type}:{index}" if index is not None else device.dev_type
    return f"{name} alias={device.alias}" if device.alias else name


def new_device(text: str, registry: Registry, option: str = "--add-device") -> Device:
    """A device from a dev_spec (JSON object) or a device element (XML), given inline or
    as ``@FILE``."""
    from devframe.core.errors import DevframeError
    from devframe.core.safexml import parse_xml

    source = option
    if text.startswith("@"):
        data, source = read_input(text[1:])
        text = data.decode("utf-8", "replace")
    stripped = text.lstrip()
    if stripped.startswith("<"):
        root = parse_xml(stripped, source=source).getroot()
        return registry.parse_element(root)
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"{source}: neither a device element (XML) nor a dev_spec (JSON): line {exc.lineno}, "
            f"column {exc.colno}: {exc.msg}"
        ) from None
    if not isinstance(spec, dict):
        raise UserError(f"{source}: a dev_spec is a JSON object, got {type(spec).__name__}")
    kind = spec.get("type")
    if isinstance(kind, str) and kind not in registry.routes and kind not in registry.spec_routes:
        # device_from_spec would keep it as an UnknownDevice: nothing libvirt could use.
        raise DevframeError(f"{source}: no installed plugin provides dev_type {kind!r} (devframe plugins lists them)")
    return registry.device_from_spec(spec)


def _value(text: str) -> Any:
    """A --set value: JSON for objects, lists and null; anything else is the text."""
    stripped = text.strip()
    if stripped == "" or stripped == "null":
        return None
    if stripped[0] in "[{":
        try:
            return json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise UserError(f"--set value {text!r}: not JSON: {exc.msg}") from None
    return text


def _settable(device: Device) -> dict[str, _Base]:
    """The device's fields by dev_spec key (and by Python name, for fields without one)."""
    keys: dict[str, _Base] = {}
    for name, declared in type(device).fields.items():
        keys.setdefault(declared.spec or name, declared)
    return keys


def apply_set(device: Device, key: str, text: str, where: str) -> tuple[Any, Any]:
    """Set the dev_spec ``key`` of ``device`` from ``text``; return the old and new values
    as they may be shown (a secret as ``***``).

    ``key`` is a field's dev_spec key (``specParams.vram``), a key inside a field whose
    value is a mapping (``address.slot``), a field's Python name, or one of the class's
    ``metadata_keys``. The field's kind converts the text (``yes``/``no``, numbers,
    choices); an empty VALUE or ``null`` removes the value.
    """
    from devframe.core.fields import get_path, put_path
    from devframe.core.log import REDACTED, is_secret_key

    value = _value(text)
    fields = _settable(device)
    declared = fields.get(key) or type(device).fields.get(key)
    if declared is not None:
        old = declared.spec_value(device)
        declared.apply_spec_value(device, value)
        return declared.shown(old), declared.shown(declared.spec_value(device))
    for spec_key, outer in fields.items():
        if key.startswith(spec_key + "."):
            current = outer.spec_value(device)
            changed = json.loads(json.dumps(current if isinstance(current, dict) else {}, default=str))
            inner = key[len(spec_key) + 1 :]
            old = get_path(changed, inner)
            put_path(changed, inner, value)
            outer.apply_spec_value(device, changed)
            return outer.shown(old), outer.shown(get_path(outer.spec_value(device) or {}, inner))
    if key in type(device).metadata_keys:
        old = device.metadata.get(key)
        if value is None:
            device.metadata.pop(key, None)
        else:
            device.metadata[key] = type(device).metadata_schema.coerce(key, value)
        new = device.metadata.get(key)
        if is_secret_key(key):
            return (REDACTED if old is not None else None), (REDACTED if new is not None else None)
        return old, new
    known = sorted(k for k in fields if k != "alias") + sorted(type(device).metadata_keys)
    close = difflib.get_close_matches(key, known, n=5, cutoff=0.5) or known[:8]
    raise UserError(
        f"--set {where} {key}=...: {device.dev_type} has no dev_spec key {key!r}; "
        f"{'close' if close != known[:8] else 'some'} of its {len(known)} keys: {', '.join(close)} "
        "(devframe inspect --json shows a device's dev_spec)"
    )


def unified_diff(before: str, after: str, name: str) -> str:
    """The unified diff of two XML texts, secret values shown as ``***``."""
    from devframe.core.log import redact_text

    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"{name} (before)", f"{name} (after)"
    )
    return "".join(redact_text(line) if line.endswith("\n") else redact_text(line) + "\n" for line in lines)


def _coloured(diff: str) -> str:
    out = []
    for line in diff.splitlines(keepends=True):
        if line.startswith(("+++", "---")):
            out.append(style(line, bold=True))
        elif line.startswith("+"):
            out.append(style(line, fg="green"))
        elif line.startswith("-"):
            out.append(style(line, fg="red"))
        elif line.startswith("@@"):
            out.append(style(line, fg="cyan"))
        else:
            out.append(line)
    return "".join(out)


@dataclass
class EditPlan:
    """The edits asked for, resolved against one domain, and what was done."""

    sets: list[tuple[Device, str, str, str]] = field(default_factory=list)
    removes: list[tuple[Device, str]] = field(default_factory=list)
    adds: list[tuple[str, Device]] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)


def _plan(
    domain: Domain,
    registry: Registry,
    adds: Sequence[str],
    removes: Sequence[str],
    sets: Sequence[tuple[str, str]],
) -> EditPlan:
    """Resolve every edit against ``domain`` (all names first), then apply them."""
    plan = EditPlan()
    for selector, assignment in sets:
        key, sep, text = assignment.partition("=")
        if not sep or not key:
            raise UserError(f"--set {selector} {assignment}: expected KEY=VALUE (KEY a dev_spec key, dots nest)")
        device = find_device(domain, selector, "--set")
        plan.sets.append((device, key, text, _label(domain, device)))
    for selector in removes:
        device = find_device(domain, selector, "--remove-device")
        if any(device is other for other, _ in plan.removes):
            raise UserError(f"--remove-device {selector}: {_label(domain, device)} is named twice")
        plan.removes.append((device, _label(domain, device)))
    for text in adds:
        plan.adds.append((text, new_device(text, registry)))
    for device, key, text, label in plan.sets:
        old, new = apply_set(device, key, text, label)
        plan.changes.append(f"set {label} {key}: {json.dumps(old, default=str)} -> {json.dumps(new, default=str)}")
    for device, label in plan.removes:
        domain.remove(device)
        plan.changes.append(f"removed {label}")
    for _, device in plan.adds:
        domain.add(device)
        plan.changes.append(f"added {_label(domain, device)}")
    return plan


def _write_in_place(path: str, text: str, backup_suffix: str) -> str:
    """Write ``text`` to ``path`` atomically, the original kept at path + suffix."""
    backup = path + backup_suffix
    shutil.copy2(path, backup)
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".devframe-edit-", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text if text.endswith("\n") else text + "\n")
        shutil.copymode(backup, temporary)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return backup


def _update_live(guest: Guest, plan: EditPlan, registry: Registry, timeout: float) -> list[str]:
    """Apply the plan to the running domain (and its definition) through the Guest."""
    done = []
    for device, key, _, label in plan.sets:
        guest.update(device)  # refuses a change libvirt cannot make live, naming the field
        done.append(f"updated {label} {key}")
    for device, label in plan.removes:
        guest.detach(device, timeout=timeout)
        done.append(f"detached {label}")
    for text, _ in plan.adds:
        attached = guest.attach(new_device(text, registry))  # a fresh object: the plan's is in the edited copy
        done.append(f"attached {attached.dev_type} alias={attached.alias}")
    return done


@click.command()
@click.argument("target", metavar="FILE|DOMAIN")
@connect_option()
@click.option(
    "--add-device",
    "adds",
    multiple=True,
    metavar="SPEC|XML|@FILE",
    help="Add a device: a dev_spec as JSON, a device element as XML, or @FILE holding either (repeatable).",
)
@click.option(
    "--remove-device",
    "removes",
    multiple=True,
    metavar="DEVICE",
    help="Remove a device: its alias, DEV_TYPE:INDEX, or DEV_TYPE when there is one (repeatable).",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    nargs=2,
    metavar="DEVICE KEY=VALUE",
    help="Set a dev_spec key of a device (dots nest: specParams.vram, address.slot; empty VALUE removes it).",
)
@click.option("--print-diff", is_flag=True, help="Print the unified diff of the domain XML instead of the XML.")
@click.option(
    "--in-place", is_flag=True, help=f"Write the edited XML back to FILE (the original kept as FILE{BACKUP_SUFFIX})."
)
@click.option("--define", is_flag=True, help="On a host: replace the domain's persistent definition with the result.")
@click.option(
    "--update", is_flag=True, help="On a host: change the running domain (and its definition) device by device."
)
@click.option(
    "--timeout", type=float, default=30.0, show_default=True, help="With --update: seconds to wait for a detach."
)
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON (changes, diff, written file).")
@click.pass_context
def edit(
    ctx: click.Context,
    target: str,
    uri: str | None,
    adds: tuple[str, ...],
    removes: tuple[str, ...],
    sets: tuple[tuple[str, str], ...],
    print_diff: bool,
    in_place: bool,
    define: bool,
    update: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """Add, remove or change devices of a domain: FILE ('-' for stdin), or DOMAIN (a
    name or UUID) on the host of -c URI / $LIBVIRT_DEFAULT_URI."""
    from devframe.cli import get_registry

    if not (adds or removes or sets):
        raise UserError("nothing to edit: give --add-device, --remove-device or --set")
    if define and update:
        raise UserError("--update already changes the definition with the running domain; give one of them")
    registry = get_registry(ctx)
    with open_target(ctx, target, uri, inactive=True if define else None) as found:
        if (define or update) and not found.on_host:
            raise UserError(f"--{'define' if define else 'update'}: {found.source} is a file, not a domain of a host")
        if in_place and (found.on_host or found.path is None):
            raise UserError(f"--in-place: {found.source} is not a file (use --define or --update on a host)")
        if update and found.guest is not None and not found.guest.is_active():
            raise UserError(f"--update: {found.source} is not running (use --define)")
        before = found.domain.to_xml()
        plan = _plan(found.domain, registry, adds, removes, sets)
        after = found.domain.to_xml()
        diff = unified_diff(before, after, found.source)
        result: dict[str, Any] = {"source": found.source, "changes": plan.changes, "diff": diff}
        _deliver(found, plan, registry, after, result, in_place=in_place, define=define, update=update, timeout=timeout)
    _report(result, after, as_json=as_json, print_diff=print_diff)


def _deliver(
    found: Target,
    plan: EditPlan,
    registry: Registry,
    after: str,
    result: dict[str, Any],
    *,
    in_place: bool,
    define: bool,
    update: bool,
    timeout: float,
) -> None:
    """Write the file, define the domain or update it live, and note it in ``result``."""
    result.update(written=None, backup=None, defined=False, updated=[])
    if in_place and found.path is not None:
        result["backup"] = _write_in_place(found.path, after, BACKUP_SUFFIX)
        result["written"] = found.path
    elif define and found.host is not None:
        with Progress(f"defining {found.domain.name} on {found.host.uri}"):
            found.host.create_guest(found.domain, persistent=True, start=False)
        result["defined"] = True
    elif update and found.guest is not None:
        with Progress(f"updating {found.guest.name} on {found.guest.host.uri}"):
            result["updated"] = _update_live(found.guest, plan, registry, timeout)


def _report(result: dict[str, Any], after: str, *, as_json: bool, print_diff: bool) -> None:
    quiet = result["written"] or result["defined"] or result["updated"]
    if as_json:
        if not quiet:
            result["xml"] = after
        echo_json(result)
        return
    for line in result["changes"]:
        click.echo(f"devframe: {line}", err=True)
    for line in result["updated"]:
        click.echo(f"devframe: {line}", err=True)
    if result["written"]:
        click.echo(f"devframe: wrote {result['written']} (the original is {result['backup']})", err=True)
    if result["defined"]:
        click.echo(f"devframe: defined {result['source'].split(' (')[0]}", err=True)
    if print_diff:
        click.echo(_coloured(result["diff"]), nl=False)
    elif not quiet:
        click.echo(after, nl=not after.endswith("\n"))
