"""Which libvirt a command talks to, as virsh decides it, and reading a domain from a file
or from a host.

``-c/--connect URI`` (:func:`connect_option`) names the host; without it
``$LIBVIRT_DEFAULT_URI``; without that the command's own fallback (``run`` and
``monitor``: libvirt's in-process test driver, which :func:`warn_test_driver` says
loudly). ``edit`` and ``tree`` take a FILE or, with a URI, a DOMAIN name or UUID
(:func:`open_target`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from devframe.cli.output import style

if TYPE_CHECKING:
    from devframe.agent import Guest, Host
    from devframe.core.domain import Domain

__all__ = [
    "ENV_URI",
    "TEST_DRIVER",
    "Target",
    "connect_option",
    "is_test_driver",
    "open_target",
    "resolve_uri",
    "warn_test_driver",
]

#: libvirt's own variable for the URI a client connects to without one
ENV_URI = "LIBVIRT_DEFAULT_URI"
#: libvirt's in-process test driver: a simulation, nothing runs and nothing is kept
TEST_DRIVER = "test:///default"

F = TypeVar("F", bound=Callable[..., Any])


def connect_option(*, multiple: bool = False, fallback: str | None = None) -> Callable[[F], F]:
    """``-c/--connect URI`` (``--uri`` is kept for earlier scripts); parameter ``uri``
    (``uris`` with ``multiple``). Resolve it with :func:`resolve_uri`."""
    where = f"${ENV_URI}" + (f", else {fallback}" if fallback else "")
    text = "libvirt URI of the host" + (" (repeatable)" if multiple else "") + f" (default: {where})."
    return click.option(
        "-c",
        "--connect",
        "--uri",
        "uris" if multiple else "uri",
        multiple=multiple,
        default=None,
        metavar="URI",
        help=text,
    )


def resolve_uri(given: str | None, fallback: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """``given``, else ``$LIBVIRT_DEFAULT_URI`` (when not empty), else ``fallback``."""
    if given:
        return given
    env = os.environ if env is None else env
    return env.get(ENV_URI, "").strip() or fallback


def is_test_driver(uri: str) -> bool:
    """True for libvirt's test driver (``test:///default``, ``test:///path/to/file.xml``)."""
    return uri.split(":", 1)[0].lower() == "test"


def warn_test_driver(uri: str, what: str) -> None:
    """Say on stderr, loudly, that ``what`` happens on libvirt's test driver only."""
    if not is_test_driver(uri):
        return
    text = (
        f"devframe: WARNING: {what} on {uri}, libvirt's test driver: a simulation inside this "
        "process; no VM runs and nothing is kept after devframe exits. "
        f"Use -c qemu:///system (or set {ENV_URI}) for a real host."
    )
    click.echo(style(text, err=True, fg="yellow", bold=True), err=True)


@dataclass
class Target:
    """A domain read from a file or a host, and where it came from."""

    domain: Domain
    #: for messages: the path, ``<stdin>``, or ``URI domain NAME``
    source: str
    #: the file read (None: stdin or a host)
    path: str | None = None
    host: Host | None = None
    guest: Guest | None = None

    @property
    def on_host(self) -> bool:
        return self.guest is not None


@contextmanager
def open_target(ctx: click.Context, name: str, uri: str | None, *, inactive: bool | None = None) -> Iterator[Target]:
    """The domain ``name`` refers to: a file (``-`` is stdin) unless a URI is given
    (``-c`` or ``$LIBVIRT_DEFAULT_URI`` for a name that is no file), then the domain of
    that name or UUID on the host. ``inactive``: read the persistent definition
    (default: the live XML of a running domain, else the definition). The host's
    connection is closed when the block ends.
    """
    from devframe.cli import UserError, get_registry
    from devframe.cli.common import STDIN, read_domain

    if uri is None and (name == STDIN or os.path.exists(name)):
        yield Target(read_domain(name, ctx), "<stdin>" if name == STDIN else name, None if name == STDIN else name)
        return
    uri = resolve_uri(uri)
    if uri is None:
        raise UserError(f"{name}: no such file (to read a domain of a host, pass -c URI or set {ENV_URI})")
    from devframe.agent import Host

    host = Host(uri, registry=get_registry(ctx), reconnect_timeout=5.0)
    try:
        guest = host.guest(name)
        read_inactive = inactive if inactive is not None else not guest.is_active()
        domain = guest.domain(inactive=read_inactive)
        state = "definition" if read_inactive else "live"
        yield Target(domain, f"{uri} domain {guest.name} ({state})", host=host, guest=guest)
    finally:
        host.close()
