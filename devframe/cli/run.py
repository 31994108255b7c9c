"""``devframe run DOMAIN.xml``: prepare an engine domain on a host, start it, show what libvirt made.

The engine's placeholders are resolved first (see docs/agent.md): drive paths from
their storage IDs under ``--storage-root``, sysinfo from the host, anything else from
``--resolve KEY=VALUE``. The domain is then defined and started, and the devices of
its live XML are printed with libvirt's aliases and addresses.

The host is ``-c URI``, else ``$LIBVIRT_DEFAULT_URI``, else libvirt's in-process test
driver, and then a warning on stderr says that nothing really runs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import click

from devframe.cli import UserError, get_registry
from devframe.cli.common import echo_json, read_domain
from devframe.cli.connect import TEST_DRIVER, connect_option, resolve_uri, warn_test_driver
from devframe.cli.inspect import HEADER, spec_map, table_rows
from devframe.cli.output import fit, render_table, terminal_width, wide_option
from devframe.cli.progress import Progress

__all__ = ["parse_resolve", "run"]


def parse_resolve(items: tuple[str, ...]) -> dict[str, str]:
    """``KEY=VALUE`` options to a dict; a malformed one is a user error naming it."""
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise UserError(f"--resolve {item!r}: expected KEY=VALUE (e.g. vda=/images/vda.img or PAYLOAD:=/tmp/p.iso)")
        values[key] = value
    return values


def _is_local(uri: str) -> bool:
    parts = urlsplit(uri)
    return not parts.hostname and "+" not in parts.scheme


@click.command()
@click.argument("domain_xml", metavar="DOMAIN.xml")
@connect_option(fallback=TEST_DRIVER)
@click.option(
    "--resolve",
    "resolve",
    multiple=True,
    metavar="KEY=VALUE",
    help="Answer a placeholder: KEY is the placeholder text (PAYLOAD:, LEASE-PATH:lease:sd) or a drive's target (vda).",
)
@click.option(
    "--storage-root",
    default=None,
    metavar="DIR",
    help="Root of the storage layout DIR/poolID/domainID/images/imageID/volumeID (default /var/lib/devframe/storage).",
)
@click.option("--transient", is_flag=True, help="Create a transient domain (not defined).")
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds to wait until it runs.")
@click.option("--json", "as_json", is_flag=True, help="Print the live dev_spec_map as JSON.")
@wide_option
@click.pass_context
def run(
    ctx: click.Context,
    domain_xml: str,
    uri: str | None,
    resolve: tuple[str, ...],
    storage_root: str | None,
    transient: bool,
    timeout: float,
    as_json: bool,
    wide: bool,
) -> None:
    """Prepare, define and start DOMAIN.xml, then show its live devices."""
    from devframe.agent import Host, host_resolvers
    from devframe.agent.resolvers import DEFAULT_STORAGE_ROOT
    from devframe.core.prepare import prepare_domain

    uri = resolve_uri(uri, TEST_DRIVER)
    assert uri is not None  # the fallback
    values = parse_resolve(resolve)
    domain = read_domain(domain_xml, ctx)
    warn_test_driver(uri, f"running domain {domain.name or '?'}")
    host = Host(uri, registry=get_registry(ctx))
    try:
        resolvers = host_resolvers(
            host,
            storage_root=storage_root or DEFAULT_STORAGE_ROOT,
            values=values,
            os_release="/etc/os-release" if _is_local(uri) else None,
            machine_id="/etc/machine-id" if _is_local(uri) else None,
        )
        prepare_domain(domain, resolvers)
        with Progress(f"starting {domain.name or 'the domain'} on {uri}"):
            guest = host.create_guest(domain, persistent=not transient, timeout=timeout)
        live = guest.domain()
        if as_json:
            out: dict[str, Any] = {
                "uri": uri,
                "domain": live.name,
                "uuid": live.uuid,
                "devices_hash": live.devices_hash,
                "dev_map": spec_map(live),
            }
            echo_json(out)
            return
        rows = table_rows(live)
        title = f"domain {live.name}  uuid {live.uuid}  running on {uri}  devices {len(rows)}"
        click.echo(title if wide else fit(title, terminal_width()))
        for line in render_table(rows, HEADER, wide=wide):
            click.echo(line)
    finally:
        host.close()
