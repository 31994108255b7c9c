"""Every hook a devframe plugin can implement.

A plugin is a module (or object) registered under the ``devframe`` entry-point group.
It implements any of these hooks as plain functions marked with
:data:`devframe.hookimpl`, named after the hook and taking only the arguments it needs.

How each hook is called:

* **collected**: called on every plugin; the results of all plugins are gathered.
* **routed**: called only on the plugin that registered the dev_type in question
  (the registry builds a lookup table once; no other plugin is asked). A plugin that
  does not implement a routed hook gets the default described in the hook.

Hook names are a public contract: new hooks may be added, none renamed or removed
without a deprecation period. See docs/writing-plugins.md for a tutorial.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pluggy
from lxml import etree

if TYPE_CHECKING:
    from devframe.core.device import Device
    from devframe.core.devtype import DeviceType, MetadataSchema

PROJECT = "devframe"

hookspec = pluggy.HookspecMarker(PROJECT)
#: Mark a plugin function as the implementation of the hook of the same name.
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def devframe_device_types() -> list[DeviceType]:
    """Declare the dev_types this plugin provides.

    Receives: nothing.
    Returns: a list of :class:`devframe.DeviceType` (dev_type, dev_class and the
    `<devices>` children it claims: a tag, optionally narrowed by an attribute).
    Called: collected, once when the registry is built. Two plugins claiming the same
    dev_type or an overlapping claim are refused; the error names both.
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def devframe_parse_device(element: etree._Element, dev_type: str, metadata: Mapping[str, Any] | None) -> Device | None:
    """Turn one claimed `<devices>` child into a dev_object.

    Receives: ``element``, the device's element inside the parsed domain (the
    dev_object keeps and wraps it); ``dev_type``, which of the plugin's dev_types
    claimed it; ``metadata``, the values bound to this device from the domain's
    ``<metadata>`` (``None`` when there are none).
    Returns: the dev_object, an instance of the dev_type's ``dev_class``.
    Called: routed to the claiming plugin. Default: ``dev_class(element,
    metadata=metadata)``. If the plugin raises or returns something else, the
    device is kept as an :class:`~devframe.UnknownDevice` and the error logged
    (``DEVFRAME_STRICT_PLUGINS=1`` raises instead).
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def devframe_build_device(device: Device) -> etree._Element | None:
    """Build the element for a dev_object, used by ``to_xml`` and by hotplug.

    Receives: ``device``, a dev_object of one of the plugin's dev_types.
    Returns: the element to serialize; returning ``device.element`` itself is normal
    (it is always up to date, since fields write it directly).
    Called: routed to the owning plugin. Default: ``device.element``.
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def devframe_device_from_spec(spec: Mapping[str, Any], dev_type: str) -> Device | None:
    """Build a dev_object from an engine dev_spec dict.

    Receives: ``spec``, one dev_spec (``spec['type'] == dev_type``); ``dev_type``.
    Returns: the new dev_object, with libvirt's defaults filled in where the spec
    leaves required values out.
    Called: routed by ``spec['type']``. Default: ``dev_class.from_spec(spec)``.
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


@hookspec(firstresult=True)
def devframe_device_metadata(dev_type: str) -> MetadataSchema | None:
    """Say which dev_spec values of a dev_type live in the domain's ``<metadata>``.

    Receives: ``dev_type``, one of the plugin's dev_types.
    Returns: a :class:`devframe.MetadataSchema`: the keys kept in metadata and the
    type each is read back as. Those keys of a dev_spec go to ``Device.metadata``;
    ``Domain.to_xml`` writes them back.
    Called: routed. Default: the dev_class's ``metadata_keys`` with no declared types.
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def devframe_metadata_identity(element: etree._Element, dev_type: str) -> dict[str, str] | None:
    """Give the attributes that key this device's entry in oVirt-style metadata.

    Receives: ``element``, the device element; ``dev_type``.
    Returns: the identifying attributes of its ``<ovirt-vm:device>`` entry, e.g.
    ``{"devtype": "disk", "name": "vda"}`` or ``{"mac_address": "..."}``; ``None``
    when the device has no identity besides its alias.
    Called: routed. Default: ``{"devtype": dev_type, "alias": alias}`` when the
    device has an alias.
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


@hookspec(firstresult=True)
def devframe_prepare_device(device: Device, resolvers: Resolvers) -> None:
    """Resolve the host-specific placeholders of one device before it goes to libvirt.

    Receives: ``device``, a dev_object of one of the plugin's dev_types, parsed from
    the engine's domain XML with its metadata bound; ``resolvers``, a
    :class:`devframe.Resolvers` built by the agent on the host (storage
    path from storage IDs, payload, lease, host facts, explicit values).
    Returns: nothing; the hook edits the device in place (fields write its element),
    e.g. ``device.source_file = resolvers.drive_path(device, placeholder)``. Raise a
    ``DevframeError`` naming the device and placeholder when one cannot be resolved.
    Called: routed to the owning plugin, once per device, by
    :func:`devframe.prepare_domain`. Default: nothing. The core then resolves what no
    plugin owns (``PAYLOAD:`` paths, ``<lease>`` values, sysinfo) itself, and any
    placeholder still left is a DevframeError naming device and placeholder. The core
    logs every substitution, the plugin's too. (The drive plugin resolves
    ``DRIVE-PATH:`` here, through ``resolvers.drive_path``.)
    """
    raise NotImplementedError


# The prepare hook's argument type; imported last so hookspecs stays importable first.
from devframe.core.prepare import Resolvers  # noqa: E402
