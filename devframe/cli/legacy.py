"""``devframe legacy CONF.json --arch ARCH [--xml]``: the deprecated legacy conf path."""

from __future__ import annotations

import json
import warnings

import click

from devframe.cli.common import echo_json, read_input

__all__ = ["legacy"]


@click.command()
@click.argument("conf_file", metavar="CONF.json")
@click.option("--arch", required=True, help="Guest architecture: x86_64, ppc64, ppc64le, s390x or aarch64.")
@click.option("--xml", "as_xml", is_flag=True, help="Print the whole domain XML instead of the dev_spec_list.")
@click.option("--json", "as_json", is_flag=True, help='JSON (the default); with --xml: {"xml": ...}.')
@click.pass_context
def legacy(ctx: click.Context, conf_file: str, arch: str, as_xml: bool, as_json: bool) -> None:
    """Convert a legacy (pre-3.3 engine) flat VM conf to a dev_spec_list (deprecated).

    The dev_spec_list is printed as JSON. With --xml, build the domain (the conf needs
    vmName and vmId; memSize in MiB and smp are read when present). '-' reads the conf
    from stdin.
    """
    from devframe.cli import get_registry
    from devframe.core.errors import DevframeError
    from devframe.core.specflow import domain_from_conf, spec_list_from_legacy_conf

    data, source = read_input(conf_file)
    try:
        conf = json.loads(data)
    except json.JSONDecodeError as exc:
        raise DevframeError(f"{source}: line {exc.lineno}, column {exc.colno}: not JSON: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise DevframeError(f"{source}: not UTF-8 text: {exc.reason}") from None
    if not isinstance(conf, dict):
        raise DevframeError(f"{source}: a legacy conf is a JSON object, got {type(conf).__name__}")
    registry = get_registry(ctx)
    with warnings.catch_warnings():
        # The deprecation is logged by the conversion itself; don't print it twice.
        warnings.simplefilter("ignore", DeprecationWarning)
        if as_xml:
            legacy_only = {k: v for k, v in conf.items() if k != "devices"}
            text = domain_from_conf(legacy_only, arch=arch, registry=registry).to_xml()
            if as_json:
                echo_json({"xml": text})
            else:
                click.echo(text, nl=not text.endswith("\n"))
            return
        specs = spec_list_from_legacy_conf(conf, arch, registry=registry)
    echo_json(specs)
