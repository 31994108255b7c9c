"""``devframe plugins``: every plugin found, its state, dev_types, claims and hooks."""

from __future__ import annotations

from typing import Any

import click

from devframe.cli.common import echo_json, warn_no_device_plugins
from devframe.cli.output import fit, style, terminal_width, wide_option

__all__ = ["plugins"]


#: how a plugin's state is drawn on a terminal
STATE_STYLES: dict[str, dict[str, Any]] = {"loaded": {"fg": "green"}, "broken": {"fg": "red", "bold": True}}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of plugins.")
@wide_option
@click.pass_context
def plugins(ctx: click.Context, as_json: bool, wide: bool) -> None:
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
    width = None if wide else terminal_width()
    for info in infos:
        dist = info["distribution"] or "?"
        version = info["version"] or "?"
        state = style(info["state"], **STATE_STYLES.get(info["state"], {"fg": "yellow"}))
        # Cut before styling, so escape codes never count against the width.
        head = fit(f"{info['name']}  [{info['state']}]  {dist} {version}  ({info['module'] or '?'})", width)
        click.echo(head.replace(f"[{info['state']}]", f"[{state}]", 1))
        for label, key in (("dev_types", "dev_types"), ("claims", "claims"), ("hooks", "hooks")):
            if info[key]:
                click.echo(fit(f"    {label + ':':<10} {', '.join(info[key])}", width))
        if info["error"]:
            click.echo(fit(f"    error:     {info['error']}", width))
