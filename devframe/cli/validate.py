"""``devframe validate FILE``: check domain XML against libvirt's RelaxNG schema."""

from __future__ import annotations

import click

from devframe.cli.common import read_input

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
@click.pass_context
def validate(ctx: click.Context, file: str, schema: str | None, timeout: float) -> None:
    """Validate domain XML FILE ('-' for stdin) against libvirt's domain schema.

    Exit status 0 when valid, 1 when not (each problem printed with its line),
    2 when the file or the schema cannot be read or validation ran out of time.
    """
    from devframe.core.safexml import ParseLimits
    from devframe.schema import domain_schema_problems, schema_path

    # A missing schema is reported before reading input; the schema itself is loaded
    # inside the time limit (a FIFO among its includes must not hang past --timeout).
    schema_path(schema)
    data, source = read_input(file)
    problems = domain_schema_problems(
        data, schema=schema, source=source, limits=ParseLimits.from_env(), timeout=timeout or None
    )
    if not problems:
        click.echo(f"{source}: valid")
        return
    for problem in problems:
        where = f"{source}:{problem.line}" if problem.line else source
        click.echo(f"{where}: {problem.message}")
    click.echo(f"{source}: invalid ({len(problems)} problem{'s' if len(problems) != 1 else ''})", err=True)
    ctx.exit(1)
