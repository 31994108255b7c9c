"""Every hook a devframe plugin can implement.

A plugin is a module (or object) registered under the ``devframe`` entry-point group.
It implements any of these hooks as plain functions marked with
:data:`devframe.hookimpl`, named after the hook and taking only the arguments it needs.

Every hook is **collected**: called on every loaded plugin, the results gathered in
plugin order. What a device type *is* (its fields, spec conversion, identity, metadata
keys, placeholders) is not a hook: it lives in its device class
(:class:`devframe.Device`), which a plugin registers through
:func:`devframe_register_device_types`. The core calls into that class through a guard
(failures logged with the plugin, the device kept, strict mode raises).

Hook names are a public contract: new hooks may be added, none renamed or removed
without a deprecation period. The routed hooks of earlier releases
(``devframe_device_types``, ``devframe_parse_device``, ``devframe_build_device``,
``devframe_device_from_spec``, ``devframe_device_metadata``,
``devframe_metadata_identity``, ``devframe_prepare_device``) still work in this release
and warn (``DeprecationWarning`` naming the plugin); see :mod:`devframe.core.compat`.
See docs/writing-plugins.md for a tutorial.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    from devframe.core.device import Device

PROJECT = "devframe"

hookspec = pluggy.HookspecMarker(PROJECT)
#: Mark a plugin function as the implementation of the hook of the same name.
hookimpl = pluggy.HookimplMarker(PROJECT)


class DeviceTypeRegister(Protocol):
    """What :func:`devframe_register_device_types` receives: call it once per device class."""

    def __call__(self, dev_class: type[Device]) -> None:
        """Register ``dev_class`` (a :class:`devframe.Device` subclass): its ``dev_type``,
        ``claims`` and ``description`` say the rest. Two plugins providing the same
        dev_type, or overlapping claims, are refused; the error names both."""


@hookspec
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    """Register the device classes this plugin provides.

    Receives: ``register``, a :class:`DeviceTypeRegister`; call ``register(MyDevice)``
    for each class.
    Returns: nothing.
    Called: collected, once when the registry is built.
    """
    raise NotImplementedError


class EventSink(Protocol):
    """Where device events go: one transport (NATS JetStream, AMQP, a file, ...).

    Each event is a CloudEvents 1.0 document as a JSON-ready dict, secrets already
    redacted (docs/fleet.md). ``publish`` must return at once, never waiting for the
    network (queue or spool the event): the agent calls it from the thread that reads
    libvirt, and a slow transport must not stall it.
    """

    def publish(self, event: Mapping[str, Any]) -> bool:
        """Take one event; False when it could not be kept (a full spool): the agent
        then sends every guest's whole state again once :meth:`accepting` says so."""

    def accepting(self) -> bool:
        """True when the sink has room for events again."""

    # Optional, not part of the protocol's required surface (the agent looks it up):
    #     def publish_many(self, events: Sequence[Mapping[str, Any]]) -> int
    # takes one guest's events as one message (a CloudEvents batch, docs/fleet.md
    # "Messages") and returns how many it kept, in order; a sink without it gets
    # ``publish`` once per event.

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued within ``timeout`` seconds (what is not stays
        spooled, where the sink spools), then release the connection."""


class EventSinkRegister(Protocol):
    """What :func:`devframe_register_event_sinks` receives: call it once per transport."""

    def __call__(self, scheme: str, factory: Callable[..., EventSink]) -> None:
        """Offer ``factory`` for publish URLs of ``scheme`` (``amqp`` for
        ``amqp://host/vhost``). ``factory(url, **options)`` returns an
        :class:`EventSink`; the options are documented in docs/fleet.md (``spool_dir``,
        ``spool_bytes``). A scheme already taken is refused and logged."""


@hookspec
def devframe_register_event_sinks(register: EventSinkRegister) -> None:
    """Register the event transports this plugin provides.

    Receives: ``register``, an :class:`EventSinkRegister`; call
    ``register("amqp", AmqpSink)`` for each URL scheme.
    Returns: nothing.
    Called: collected, when a fleet agent opens its sinks (``devframe monitor --publish URL``).
    """
    raise NotImplementedError


@hookspec
def devframe_spec_list_from_legacy_conf(conf: Mapping[str, Any], arch: str) -> list[dict[str, Any]]:
    """Convert the part of a legacy (pre-3.3 engine) flat VM conf this plugin owns.

    Receives: ``conf``, the whole legacy conf dict (read only the keys you own);
    ``arch``, the guest architecture (``x86_64``, ``ppc64``, ``ppc64le``, ``s390x``,
    ``aarch64``).
    Returns: a dev_spec_list (possibly empty).
    Called: collected from every plugin; the lists are concatenated in plugin order.
    Deprecated path: the caller warns once per call.
    """
    raise NotImplementedError


@hookspec
def devframe_legacy_conf_keys() -> list[str]:
    """Name the legacy conf keys this plugin reads (for the deprecation log line).

    Receives: nothing. Returns: a list of key names.
    Called: collected from every plugin.
    """
    raise NotImplementedError


@hookspec
def devframe_cli_commands() -> list[Any]:
    """Add subcommands to the ``devframe`` command line.

    Receives: nothing.
    Returns: a list of ``click.Command`` objects (or groups) to add to ``devframe``.
    Called: collected, when the CLI starts. A name already taken is refused and logged.
    """
    raise NotImplementedError


# -- deprecated (routed hooks of earlier releases; still honoured, with a warning) ----------


@hookspec
def devframe_device_types() -> list[Any]:
    """Deprecated: return ``[DeviceType(dev_type, dev_class, claims)]``; register the
    class with :func:`devframe_register_device_types` instead."""
    raise NotImplementedError


@hookspec(firstresult=True)
def devframe_parse_device(element: Any, dev_type: str, metadata: Mapping[str, Any] | None) -> Any:
    """Deprecated: the device class is built from its element; metadata is bound after."""
    raise NotImplementedError


@hookspec(firstresult=True)
def devframe_build_device(device: Any) -> Any:
    """Deprecated: override :meth:`devframe.Device.build`."""
    raise NotImplementedError


@hookspec(firstresult=True)
def devframe_device_from_spec(spec: Mapping[str, Any], dev_type: str) -> Any:
    """Deprecated: override :meth:`devframe.Device.read_spec`."""
    raise NotImplementedError


@hookspec(firstresult=True)
def devframe_device_metadata(dev_type: str) -> Any:
    """Deprecated: declare ``metadata_keys`` on the device class."""
    raise NotImplementedError


@hookspec(firstresult=True)
def devframe_metadata_identity(element: Any, dev_type: str) -> Any:
    """Deprecated: override :meth:`devframe.Device.identity`."""
    raise NotImplementedError


@hookspec(firstresult=True)
def devframe_prepare_device(device: Any, resolvers: Any) -> None:
    """Deprecated: override :meth:`devframe.Device.prepare`."""
    raise NotImplementedError


#: the hooks of earlier releases, honoured for one release with a DeprecationWarning
DEPRECATED_HOOKS = (
    "devframe_device_types",
    "devframe_parse_device",
    "devframe_build_device",
    "devframe_device_from_spec",
    "devframe_device_metadata",
    "devframe_metadata_identity",
    "devframe_prepare_device",
)
