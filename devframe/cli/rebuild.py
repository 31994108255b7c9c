"""``devframe rebuild FILE``: parse, then print the XML built back from the dev_map."""

from __future__ import annotations

import click

from devframe.cli.common import echo_json, read_domain

__all__ = ["rebuild"]


@click.command()
@click.argument("file", metavar="FILE")
@click.option("--json", "as_json", is_flag=True, help='Print {"source", "name", "uuid", "xml"} as JSON.')
@click.pass_context
def rebuild(ctx: click.Context, file: str, as_json: bool) -> None:
    """Parse domain XML FILE ('-' for stdin) and print the XML rebuilt from its devices.

    The output is the domain itself, so it carries whatever the input carried
    (graphics passwords included): it is meant to be fed back to libvirt.
    """
    domain = read_domain(file, ctx)
    text = domain.to_xml()
    if as_json:
        echo_json({"source": "<stdin>" if file == "-" else file, "name": domain.name, "uuid": domain.uuid, "xml": text})
        return
    click.echo(text, nl=not text.endswith("\n"))
