"""The plugin interface of earlier releases, honoured for one more release.

Before device classes described their type alone, a plugin returned
:class:`DeviceType` records from ``devframe_device_types`` and could implement routed
hooks (parse, build, from_spec, metadata schema, metadata identity, prepare) beside its
class. Such a plugin keeps working: the registry turns each old hook into the matching
member of a subclass of the plugin's device class, made here, and warns once with a
``DeprecationWarning`` naming the plugin and the hooks. Nothing else in devframe knows
the old hooks exist.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from lxml import etree

from devframe.core.device import Device
from devframe.core.devtype import Claim, MetadataSchema
from devframe.core.errors import PluginError

__all__ = ["DeviceType", "adapt_class", "warn_deprecated"]


@dataclass(frozen=True)
class DeviceType:
    """Deprecated: one dev_type as ``devframe_device_types`` returned it.

    Register the class with ``devframe_register_device_types`` instead; ``claims`` and
    ``description`` are class attributes of the device class now.
    """

    dev_type: str
    dev_class: type[Device]
    claims: tuple[Claim, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.dev_class, type) or not issubclass(self.dev_class, Device):
            raise TypeError(
                f"DeviceType {self.dev_type!r}: dev_class must be a devframe.Device subclass, got {self.dev_class!r}"
            )
        if self.dev_class.dev_type != self.dev_type:
            # Devices are grouped in the dev_map by their class's dev_type: a mismatch would
            # file them under another key than the one specs and routes use.
            raise TypeError(
                f"DeviceType {self.dev_type!r}: dev_class {self.dev_class.__name__} has "
                f"dev_type {self.dev_class.dev_type!r}; they must be the same"
            )
        claims = tuple(self.claims) or tuple(self.dev_class.claims) or (Claim(self.dev_type),)
        object.__setattr__(self, "claims", claims)


def warn_deprecated(plugin: str, hooks: Sequence[str]) -> None:
    """The one warning a plugin on the old interface gets."""
    warnings.warn(
        f"devframe plugin {plugin!r} implements {', '.join(hooks)}: deprecated, and removed in the next "
        "release. Register the device class with devframe_register_device_types and put the behaviour "
        "in the class (identity, read_spec/write_spec, metadata_keys, prepare, build); see "
        "docs/writing-plugins.md.",
        DeprecationWarning,
        stacklevel=2,
    )


def _adapter(function: Callable[..., Any], argnames: Sequence[str], offered: Sequence[str]) -> Callable[..., Any]:
    """Call a hookimpl that takes a subset of ``offered`` with positional ``offered`` args."""
    picks = [offered.index(name) for name in argnames]
    return lambda *args: function(*[args[i] for i in picks])


def adapt_class(
    plugin: str,
    dtype: DeviceType,
    impls: Mapping[str, tuple[Callable[..., Any], Sequence[str]]],
) -> tuple[type[Device], MetadataSchema | None]:
    """A subclass of ``dtype.dev_class`` whose members call the plugin's old hooks
    (build, identity, prepare, metadata schema) and that carries the DeviceType's claims.

    ``impls``: hook name -> (function, its argument names). Returns the class to route
    to and the metadata schema the old hook gave (None: the class's own). The parse and
    from_spec hooks make devices themselves; the registry's route calls those.
    """
    base = dtype.dev_class
    dev_type = dtype.dev_type
    members: dict[str, Any] = {
        "__slots__": (),
        "__module__": base.__module__,
        "__qualname__": base.__qualname__,
        "claims": dtype.claims,
        "description": dtype.description or base.description,
    }
    schema: MetadataSchema | None = None

    if "devframe_build_device" in impls:
        build = _adapter(*impls["devframe_build_device"], ("device",))

        def build_member(self: Device) -> etree._Element:
            element = build(self)
            if element is None:
                return self.element
            if not isinstance(element, etree._Element):
                raise PluginError(
                    plugin, f"devframe_build_device returned {type(element).__name__}, expected an lxml element"
                )
            return element

        members["build"] = build_member

    if "devframe_metadata_identity" in impls:
        identify = _adapter(*impls["devframe_metadata_identity"], ("element", "dev_type"))

        def identity_member(self: Device) -> Any:
            found = identify(self.element, dev_type)
            if found is not None and not isinstance(found, dict):
                raise PluginError(
                    plugin,
                    f"devframe_metadata_identity returned {type(found).__name__} {found!r:.200}, "
                    "expected a dict of str to str (or None)",
                )
            return found

        members["identity"] = identity_member

    if "devframe_prepare_device" in impls:
        prepare = _adapter(*impls["devframe_prepare_device"], ("device", "resolvers"))
        members["prepare"] = lambda self, resolvers: prepare(self, resolvers)

    if "devframe_device_metadata" in impls:
        answer = _adapter(*impls["devframe_device_metadata"], ("dev_type",))(dev_type)
        if answer is not None and not isinstance(answer, MetadataSchema):
            raise PluginError(plugin, f"devframe_device_metadata returned {answer!r:.200}, expected a MetadataSchema")
        schema = answer

    with warnings.catch_warnings():
        # The adapter's own overrides are not the plugin author's to fix twice.
        warnings.simplefilter("ignore", DeprecationWarning)
        adapted = cast("type[Device]", type(base.__name__, (base,), members))
    if schema is not None:
        adapted.metadata_schema = schema
    return adapted, schema
