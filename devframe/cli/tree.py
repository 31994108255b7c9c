"""``devframe tree``: the address topology of a domain, in a file or on a host.

Each device under what it plugs into (PCI buses and root ports, SCSI/IDE/SATA units,
USB ports and hubs, virtio-serial ports, CCID slots, the s390 channel subsystem), the
places still free, and a warning when the next PCI hot-plug has nowhere to go. See
:mod:`devframe.topology` for the model. ``--format dot`` writes Graphviz's input,
``--format svg`` runs Graphviz's ``dot`` on it (Debian: ``apt install graphviz``).
"""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING, Any

import click

from devframe.cli import UserError
from devframe.cli.common import echo_json
from devframe.cli.connect import connect_option, open_target
from devframe.cli.output import fit, style, terminal_width, wide_option

if TYPE_CHECKING:
    from devframe.topology import Node, Topology

__all__ = ["render_dot", "render_text", "tree"]

FORMATS = ("text", "dot", "svg")


#: how each kind of line is drawn on a terminal (click.style arguments)
STYLES: dict[str, dict[str, Any]] = {
    "bus": {"bold": True},
    "group": {"bold": True},
    "free": {"fg": "green"},
    "full": {"dim": True},
    "warning": {"fg": "yellow", "bold": True},
}


def render_text(title: str, found: Topology) -> list[tuple[str, str]]:
    """The tree as indented lines, each with its kind (``bus``, ``device``, ``free``,
    ``full`` for a free place that takes no hot-plug, ``warning``), warnings last."""
    lines = [(title, "title")]

    def visit(node: Node, prefix: str, last: bool, top: bool) -> None:
        branch = "" if top else ("└─ " if last else "├─ ")
        text = f"{node.address}  {node.label}" if node.address else node.label
        kind = ("free" if node.free else "full") if node.kind == "free" else node.kind
        lines.append((f"{prefix}{branch}{text}", kind))
        below = prefix + ("" if top else ("   " if last else "│  "))
        for i, child in enumerate(node.children):
            visit(child, below, i == len(node.children) - 1, False)

    for root in found.roots:
        visit(root, "", True, True)
    lines.extend((f"warning: {warning}", "warning") for warning in found.warnings)
    return lines


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


#: DOT's line breaks: centred, and left-aligned (which also ends the last line)
CENTRED, LEFT = "\\n", "\\l"


def _label(parts: list[str], end: str = CENTRED) -> str:
    """A quoted DOT label of ``parts``, one per line."""
    joined = end.join(_escape(part) for part in parts if part)
    tail = end if end == LEFT else ""
    return '"' + joined + tail + '"'


def render_dot(title: str, found: Topology) -> str:
    """Graphviz's DOT language: one box per bus and device, dashed green ones for free places."""
    lines = [
        f"digraph {_label([title])} {{",
        "  rankdir=LR;",
        '  node [shape=box, fontname="monospace", fontsize=10];',
    ]
    counter = 0

    def visit(node: Node, parent: str | None) -> None:
        nonlocal counter
        name = f"n{counter}"
        counter += 1
        extra = ""
        if node.kind == "free":
            extra = ', style=dashed, color="darkgreen"' if node.free else ', style=dashed, color="gray"'
        elif node.kind in ("bus", "group"):
            extra = ", style=bold"
        lines.append(f"  {name} [label={_label([node.address, node.label])}{extra}];")
        if parent is not None:
            lines.append(f"  {parent} -> {name};")
        for child in node.children:
            visit(child, name)

    for root in found.roots:
        visit(root, None)
    caption = _label([title, *(f"warning: {w}" for w in found.warnings)], end=LEFT)
    lines.append(f"  labelloc=b; labeljust=l; label={caption};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _svg(dot: str) -> str:
    program = shutil.which("dot")
    if program is None:
        raise UserError(
            "--format svg needs Graphviz's dot, which is not installed (Debian: apt install graphviz); "
            "--format dot prints its input"
        )
    done = subprocess.run([program, "-Tsvg"], input=dot, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise UserError(f"dot -Tsvg failed: {done.stderr.strip() or done.returncode}")
    return done.stdout


@click.command()
@click.argument("target", metavar="FILE|DOMAIN")
@connect_option()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text, Graphviz's DOT, or SVG drawn by Graphviz's dot.",
)
@click.option("--inactive", is_flag=True, help="On a host: the persistent definition, not the running domain.")
@click.option("--json", "as_json", is_flag=True, help="Print the tree and the warnings as JSON.")
@wide_option
@click.pass_context
def tree(ctx: click.Context, target: str, uri: str | None, fmt: str, inactive: bool, as_json: bool, wide: bool) -> None:
    """Show the address topology of FILE ('-' for stdin), or of DOMAIN (a name or UUID)
    on the host of -c URI / $LIBVIRT_DEFAULT_URI: each device under what it plugs into,
    the free slots and ports, and a warning when the next hot-plug has nowhere to go."""
    from devframe.topology import topology

    with open_target(ctx, target, uri, inactive=True if inactive else None) as found:
        domain = found.domain
        result = topology(domain)
        title = f"domain {domain.name or '?'} ({found.source})"
    if as_json:
        echo_json({"domain": domain.name, "source": found.source, **result.as_dict()})
        return
    if fmt == "dot":
        click.echo(render_dot(title, result), nl=False)
        return
    if fmt == "svg":
        click.echo(_svg(render_dot(title, result)), nl=False)
        return
    width = None if wide else terminal_width()
    for line, kind in render_text(title, result):
        # Styled after cutting, so escape codes never count against the width.
        click.echo(style(fit(line, width), **STYLES.get(kind, {})))
