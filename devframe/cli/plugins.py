"""``devframe plugins``: every plugin found, its state, dev_types, claims and hooks."""

from __future__ import annotations

import click

from devframe.cli.common import echo_json, warn_no_device_plugins

__all__ = ["plugins"]


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of plugins.")
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List plugins: name, distribution, version, dev_types, claims, hooks, state.

    State is loaded, broken (with the error) or blocked (by DEVFRAME_LOAD_PLUGINS or
    DEVFRAME_DISABLE_PLUGINS).
    """
    from devframe.cli import get_registry

    registry = get_registry(ctx)
    warn_no_device_plugins(registry)
    infos = [info.as_dict() for info in registry.plugins.values()]
    if as_json:
        echo_json(infos)
        return
    if not infos:
        click.echo("no plugins found (entry-point group 'devframe')")
        return
    for info in infos:
        dist = info["distribution"] or "?"
        version = info["version"] or "?"
        click.echo(f"{info['name']}  [{info['state']}]  {dist} {version}  ({info['module'] or '?'})")
        if info["dev_types"]:
            click.echo(f"    dev_types: {', '.join(info['dev_types'])}")
        if info["claims"]:
            click.echo(f"    claims:    {', '.join(info['claims'])}")
        if info["hooks"]:
            click.echo(f"    hooks:     {', '.join(info['hooks'])}")
        if info["error"]:
            click.echo(f"    error:     {info['error']}")
