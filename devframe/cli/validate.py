"""``devframe validate FILE``: check domain XML against libvirt's RelaxNG schema, and
explain each problem: which device, which attribute or element, what the schema
expects there (see :mod:`devframe.schema_explain`)."""

from __future__ import annotations

from typing import Any

import click

from devframe.cli.common import echo_json, read_input
from devframe.cli.output import style
from devframe.cli.progress import Progress

__all__ = ["validate"]


@click.command()
@click.argument("file", metavar="FILE")
@click.option(
    "--schema",
    "schema",
    metavar="PATH",
    default=None,
    help="RelaxNG domain schema (default: /usr/share/libvirt/schemas/domain.rng).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="Stop validating after this long (libxml2's RelaxNG check can take minutes on an "
    "element with many optional attributes); 0: no limit.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (valid, problems, notes).")
@click.pass_context
def validate(ctx: click.Context, file: str, schema: str | None, timeout: float, as_json: bool) -> None:
    """Validate domain XML FILE ('-' for stdin) against libvirt's domain schema.

    Each problem names the device (DEV_TYPE:INDEX, as inspect and edit count them), the
    element and attribute, and what libvirt's schema expects there, with the line; an
    unresolved engine placeholder (DRIVE-PATH:, OS-NAME:, ...) is named as one. Exit
    status 0 when valid, 1 when not, 2 when the file or the schema cannot be read or
    validation ran out of time.
    """
    from devframe.core.safexml import ParseLimits, parse_xml
    from devframe.schema import schema_path
    from devframe.schema_explain import explain

    # A missing schema is reported before reading input; the schema itself is loaded
    # inside the time limit (a FIFO among its includes must not hang past --timeout).
    schema_path(schema)
    data, source = read_input(file)
    document = parse_xml(data, source=source, limits=ParseLimits.from_env())
    with Progress(f"validating {source} against libvirt's schema"):
        report = explain(document, schema=schema, timeout=timeout or None, source=source)
    if as_json:
        out: dict[str, Any] = {
            "source": source,
            "valid": report.valid,
            "problems": [problem.as_dict() for problem in report.problems],
            "notes": [note.as_dict() for note in report.notes],
            "libxml2": [{"line": line, "message": message} for line, message in report.libxml2],
        }
        echo_json(out)
    else:
        _print(source, report)
    if not report.valid:
        ctx.exit(1)


def _print(source: str, report: Any) -> None:
    def at(line: int | None) -> str:
        return f"{source}:{line}" if line else source

    for problem in report.problems:
        click.echo(f"{style(at(problem.line), bold=True)}: {problem}")
    if not report.problems:  # nothing narrowed down: libxml2's own words
        for line, message in report.libxml2:
            click.echo(f"{style(at(line), bold=True)}: {message}")
    for note in report.notes:
        click.echo(f"{style(at(note.line), bold=True)}: note: {note}")
    if report.valid:
        click.echo(f"{source}: valid")
        return
    count = len(report.problems) or len(report.libxml2)
    click.echo(f"{source}: invalid ({count} problem{'s' if count != 1 else ''})", err=True)
