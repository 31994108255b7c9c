"""``devframe rebuild FILE``: parse, then print the XML built back from the dev_map."""

from __future__ import annotations

import click

from devframe.cli.common import read_domain

__all__ = ["rebuild"]


@click.command()
@click.argument("file", metavar="FILE")
@click.pass_context
def rebuild(ctx: click.Context, file: str) -> None:
    """Parse domain XML FILE ('-' for stdin) and print the XML rebuilt from its devices.

    The output is the domain itself, so it carries whatever the input carried
    (graphics passwords included): it is meant to be fed back to libvirt.
    """
    domain = read_domain(file, ctx)
    text = domain.to_xml()
    click.echo(text, nl=not text.endswith("\n"))
