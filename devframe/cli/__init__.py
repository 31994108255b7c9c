"""The ``devframe`` command line.

One module per command. A new built-in command is one line in :data:`COMMANDS`
(``"name": "module:attribute"``); the module is imported only when that command runs
(or ``--help`` lists it), so start-up stays fast. Plugins add commands through the
``devframe_cli_commands`` hook; a name already taken is refused and logged.

Exit status: 0 success, 1 a negative answer (``validate`` found problems) or an
internal error, 2 a user error (bad input, missing file, bad option), printed as one
line on stderr; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from devframe.core.registry import Registry

__all__ = ["COMMANDS", "CliState", "DevframeGroup", "UserError", "get_registry", "main"]

#: Built-in commands: name -> "module:attribute" of a click command, imported lazily.
COMMANDS: dict[str, str] = {
    "inspect": "devframe.cli.inspect:inspect",
    "rebuild": "devframe.cli.rebuild:rebuild",
    "validate": "devframe.cli.validate:validate",
    "plugins": "devframe.cli.plugins:plugins",
    "legacy": "devframe.cli.legacy:legacy",
    "run": "devframe.cli.run:run",
    "monitor": "devframe.cli.monitor:monitor",
    "fleet": "devframe.cli.fleet:fleet",
}

PROG = "devframe"
_REGISTRY_KEY = "devframe.registry"
_PLUGIN_COMMANDS_KEY = "devframe.plugin_commands"


class UserError(click.ClickException):
    """A user error: exit status 2, one line."""

    exit_code = 2


class InternalError(click.ClickException):
    """A bug (in devframe or a plugin): exit status 1, one line unless --debug."""

    exit_code = 1


@dataclass
class CliState:
    """Global options, shared with every command through ``ctx.obj``."""

    debug: bool = False
    log_json: bool | None = None
    log_level: str | None = None


def get_registry(ctx: click.Context | None = None) -> Registry:
    """The plugin registry of this invocation, built once on first use."""
    root = (ctx or click.get_current_context()).find_root()
    registry: Registry | None = root.meta.get(_REGISTRY_KEY)
    if registry is None:
        from devframe.core.registry import create_registry

        registry = root.meta[_REGISTRY_KEY] = create_registry()
    return registry


def _load_builtin(name: str) -> click.Command:
    module_name, _, attribute = COMMANDS[name].partition(":")
    command = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{COMMANDS[name]} is not a click command")
    return command


def _plugin_commands(ctx: click.Context) -> dict[str, click.Command]:
    """Commands contributed by plugins, collected once per invocation."""
    root = ctx.find_root()
    cached: dict[str, click.Command] | None = root.meta.get(_PLUGIN_COMMANDS_KEY)
    if cached is not None:
        return cached
    from devframe.core.errors import DevframeError
    from devframe.core.log import get_logger

    log = get_logger()
    commands: dict[str, click.Command] = {}
    owners: dict[str, str] = {}
    root.meta[_PLUGIN_COMMANDS_KEY] = commands
    try:
        results = get_registry(ctx).call_collected("devframe_cli_commands")
    except DevframeError as exc:
        # A plugin hook raising a DevframeError must not take the whole CLI down
        # (strict mode re-raises through call_collected as a PluginError: respect it).
        if get_registry(ctx).strict:
            raise
        log.error("plugin CLI commands not loaded", error=str(exc))
        return commands
    for plugin, offered in results:
        items = offered if isinstance(offered, (list, tuple)) else [offered]
        for command in items:
            if not isinstance(command, click.Command) or not command.name:
                log.error(
                    "plugin CLI command refused: not a named click command",
                    plugin=plugin,
                    command=repr(command)[:200],
                )
                continue
            name = command.name
            if name in COMMANDS:
                log.warning(
                    "plugin CLI command refused: name taken by a built-in command",
                    plugin=plugin,
                    command=name,
                )
                continue
            if name in commands:
                log.warning(
                    "plugin CLI command refused: name taken by another plugin",
                    plugin=plugin,
                    command=name,
                    owner=owners[name],
                )
                continue
            commands[name] = command
            owners[name] = plugin
    return commands


class DevframeGroup(click.Group):
    """click group with lazy built-ins, plugin commands and one-line errors."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(COMMANDS) | set(self.commands)
        names |= set(_plugin_commands(ctx))
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name in COMMANDS:
            return _load_builtin(cmd_name)
        # Only an unknown name pays for loading every plugin's commands.
        return _plugin_commands(ctx).get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        state = CliState(
            debug=bool(ctx.params.get("debug")),
            log_json=ctx.params.get("log_json"),
            log_level=ctx.params.get("log_level"),
        )
        ctx.obj = state
        from devframe.core.log import configure_logging, discard_pending_logging

        # structlog's configuration is process-global: put back what the embedding
        # process had (tests run the CLI in process), so the CLI leaves no trace. A
        # process that has not loaded structlog has nothing to put back, and loading
        # it only to save its state would cost start-up time.
        loaded = "structlog" in sys.modules
        if loaded:
            import structlog

            was_configured = structlog.is_configured()
            saved = structlog.get_config()
        configure_logging(json=state.log_json, level=state.log_level, defer=True)
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise
        except Exception as exc:
            raise _translate(exc, state.debug) from exc
        finally:
            discard_pending_logging()
            if loaded:
                if was_configured:
                    structlog.configure(**saved)
                else:
                    structlog.reset_defaults()
            elif "structlog" in sys.modules:
                sys.modules["structlog"].reset_defaults()

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name or PROG, complete_var, standalone_mode=False, **extra)
            sys.stdout.flush()
        except BrokenPipeError:
            # The reader went away (`devframe inspect x | head`): not an error to report.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(1)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.format_message(), err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            _fail("aborted", 1)
        sys.exit(result if isinstance(result, int) else 0)


def _translate(exc: Exception, debug: bool) -> click.ClickException:
    from devframe.core.errors import DevframeError

    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, DevframeError):
        return UserError(str(exc))
    if isinstance(exc, OSError):
        # Reading or writing a file the user named (stdin, a path, a closed pipe).
        where = f"{exc.filename}: " if exc.filename else ""
        return UserError(f"{where}{exc.strerror or exc}")
    hint = "" if debug else " (run with --debug for the traceback)"
    return InternalError(f"internal error: {type(exc).__name__}: {exc}{hint}")


def _fail(message: str, code: int) -> NoReturn:
    # One line, whatever the message: multi-line messages are joined.
    line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    click.echo(f"{PROG}: error: {line}", err=True)
    sys.exit(code)


@click.group(cls=DevframeGroup, name=PROG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="devframe", prog_name=PROG)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option(
    "--log-json/--no-log-json",
    "log_json",
    default=None,
    help="Log JSON lines to stderr (default: $DEVFRAME_LOG_FORMAT=json).",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default=None,
    help="Log level (default: $DEVFRAME_LOG_LEVEL or warning).",
)
def main(debug: bool, log_json: bool | None, log_level: str | None) -> None:
    """devframe: libvirt domain XML as typed device objects, through device plugins.

    Logs go to stderr, results to stdout.
    """
