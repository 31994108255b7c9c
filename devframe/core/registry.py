"""The plugin registry: loads plugins, validates them, and routes devices to them.

A registry is built by :func:`create_registry`; there is no registry created at import
time. It loads every plugin registered under the ``devframe`` entry-point group (the
built-in plugins too: there is no shortcut for them), validates each hookimpl against
:mod:`devframe.core.hookspecs`, collects device types, refuses overlapping claims, and
builds the lookup tables the dispatcher uses: one dict lookup per `<devices>` child.

A plugin that fails (import error, raising hook, unknown hook or argument name, claim
conflict) is isolated: logged, listed as ``broken`` with the reason, and the rest keeps
working. ``DEVFRAME_STRICT_PLUGINS=1`` (or ``strict=True``) re-raises instead.

Environment:

* ``DEVFRAME_LOAD_PLUGINS``: comma-separated allow-list of plugin names; set but
  empty loads none.
* ``DEVFRAME_DISABLE_PLUGINS``: comma-separated block-list (state ``blocked``).
* ``DEVFRAME_STRICT_PLUGINS``: ``1`` to turn every plugin failure into an error.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal

import pluggy
from lxml import etree

from devframe.core import hookspecs
from devframe.core.compat import DeviceType, adapt_class, warn_deprecated
from devframe.core.device import (
    Device,
    FailedDevice,
    SpecReadError,
    UnknownDevice,
    check_spec,
    valid_identity,
)
from devframe.core.devtype import Claim, MetadataSchema
from devframe.core.entrypoints import EntryPointRef, find_entry_points
from devframe.core.errors import (
    ClaimConflictError,
    DevframeError,
    PluginError,
    SpecError,
    describe_exception,
    quoted,
)
from devframe.core.hookspecs import DEPRECATED_HOOKS
from devframe.core.log import get_logger, redact_value

__all__ = ["ENTRY_POINT_GROUP", "PluginInfo", "Registry", "Route", "create_registry"]

ENTRY_POINT_GROUP = "devframe"

PluginState = Literal["loaded", "broken", "blocked"]


def _env_flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _env_list(env: Mapping[str, str], name: str) -> list[str] | None:
    if name not in env:
        return None
    return [item.strip() for item in env[name].split(",") if item.strip()]


@dataclass
class PluginInfo:
    """What ``devframe plugins`` reports about one plugin."""

    name: str
    state: PluginState
    distribution: str | None = None
    version: str | None = None
    module: str | None = None
    error: str | None = None
    dev_types: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)
    hooks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "module": self.module,
            "state": self.state,
            "error": self.error,
            "dev_types": list(self.dev_types),
            "claims": list(self.claims),
            "hooks": list(self.hooks),
        }


@dataclass(eq=False)
class Route:
    """Everything the core needs to handle one dev_type, resolved once; also the guard
    around every call into the device class (:class:`devframe.core.device.PluginGuard`)."""

    dev_type: str
    plugin: str
    dev_class: type[Device]
    claims: tuple[Claim, ...]
    metadata_schema: MetadataSchema = field(default_factory=MetadataSchema)
    #: re-raise plugin failures instead of keeping the device (the registry's strict mode)
    strict: bool = False
    #: a deprecated parse / from_spec hook of the plugin (devframe.core.compat), if any
    legacy_parse: Callable[..., Any] | None = None
    legacy_from_spec: Callable[..., Any] | None = None
    #: the deprecated hooks' class for a class such a hook returned (cached per class)
    legacy_adapt: Callable[[type[Device]], type[Device]] | None = None

    def parse(self, element: etree._Element) -> Device:
        """The dev_object for one claimed element (metadata is bound afterwards)."""
        if self.legacy_parse is None:
            device = self.dev_class(element)
        else:
            device = self._adopt(self.legacy_parse(element, self.dev_type, None), "devframe_parse_device")
        device._route = self
        return device

    def from_spec(self, spec: Mapping[str, Any]) -> Device:
        """The dev_object for one dev_spec (the class's ``from_spec``)."""
        if self.legacy_from_spec is None:
            device = self.dev_class.from_spec(spec)
            if not isinstance(device, self.dev_class):
                raise PluginError(
                    self.plugin,
                    f"{self.dev_class.__name__}.from_spec returned {type(device).__name__}, "
                    f"expected a {self.dev_class.__name__}",
                )
        else:
            device = self._adopt(self.legacy_from_spec(spec, self.dev_type), "devframe_device_from_spec")
        device._route = self
        return device

    def _adopt(self, device: Any, hook: str) -> Device:
        """A device made by a deprecated hook, given the adapted class (same layout)."""
        base = self.dev_class.__mro__[1]
        if not isinstance(device, base if issubclass(base, Device) else self.dev_class):
            raise PluginError(
                self.plugin,
                f"{hook} returned {type(device).__name__}, expected a {self.dev_class.__name__} "
                f"for dev_type {self.dev_type!r}",
            )
        if type(device) is base:
            device.__class__ = self.dev_class
        elif type(device) is not self.dev_class and self.legacy_adapt is not None:
            # A subclass of the declared class: the plugin's other old hooks apply to it too.
            device.__class__ = self.legacy_adapt(type(device))
        return device

    def failed(self, operation: str, device: Device, exc: Exception) -> None:
        """A call into the plugin's class failed: log it with the device; strict mode raises."""
        alias_el = next(device.element.iterchildren("alias"), None)
        get_logger().error(
            "plugin failed; the device is kept",
            plugin=self.plugin,
            dev_type=self.dev_type,
            operation=operation,
            alias=alias_el.get("name") if alias_el is not None else None,
            error=repr(exc),
        )
        self.raise_if_strict(exc, f"{self.dev_class.__name__}.{operation} failed for {device.describe()}")

    def probe_identity(self, element: etree._Element) -> Any:
        """The identity the class gives ``element`` without making a full device (for an
        element whose device could not be made); None when that fails too."""
        try:
            probe = self.dev_class.__new__(self.dev_class)
            Device.__init__(probe, element)
            found = probe.identity()
        except Exception:  # noqa: BLE001 - a best effort on a path that already failed
            return None
        return found if valid_identity(found) else None

    def raise_if_strict(self, exc: Exception, what: str) -> None:
        """In strict mode, a plugin failure is raised (as a PluginError naming ``what``)."""
        if not self.strict:
            return
        if isinstance(exc, PluginError):
            raise exc
        raise PluginError(self.plugin, f"{what}: {exc!r}") from exc


class _Narrowed:
    """Routes for one tag split by an attribute value (plus an optional catch-all)."""

    __slots__ = ("attr", "by_value")

    def __init__(self, attr: str) -> None:
        self.attr = attr
        self.by_value: dict[str, Route] = {}

    def pick(self, element: etree._Element) -> Route | None:
        return self.by_value.get(element.get(self.attr, ""))


class Registry:
    """Loaded plugins and the lookup tables built from them. Use :func:`create_registry`."""

    def __init__(self, *, strict: bool = False) -> None:
        self.strict = strict
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.routes: dict[str, Route] = {}
        #: dev_spec ``type`` -> route, for classes whose engine name differs (spec_type)
        self.spec_routes: dict[str, Route] = {}
        #: tag -> Route, or _Narrowed when claims split the tag by an attribute
        self.by_tag: dict[str, Route | _Narrowed] = {}

    @property
    def _log(self) -> Any:
        # Looked up on each use: a registry outlives the moment it was built, and the
        # application may configure logging (renderer, level) after that.
        return get_logger()

    # -- loading ------------------------------------------------------------------------

    def _fail(self, info: PluginInfo, error: BaseException | str, *, cause: BaseException | None = None) -> None:
        info.state = "broken"
        info.error = str(error)
        self._log.error("plugin broken", plugin=info.name, error=info.error)
        if self.strict:
            if isinstance(error, DevframeError):
                raise error from cause
            raise PluginError(info.name, str(error)) from cause

    def add_plugin(
        self,
        plugin: object,
        name: str,
        *,
        distribution: str | None = None,
        version: str | None = None,
        module: str | None = None,
    ) -> PluginInfo:
        """Register one plugin object (module, class or instance) under ``name``."""
        info = PluginInfo(name=name, state="loaded", distribution=distribution, version=version, module=module)
        if module is None and isinstance(plugin, ModuleType):
            info.module = plugin.__name__
        self.plugins[name] = info
        try:
            self.pm.register(plugin, name=name)
        except ValueError as exc:  # name or object registered already
            self._fail(info, PluginError(name, f"cannot register: {exc}"), cause=exc)
            return info
        except pluggy.PluginValidationError as exc:
            self._fail(info, PluginError(name, f"invalid hookimpl: {exc}"), cause=exc)
            return info
        except Exception as exc:  # noqa: BLE001 - isolate any plugin failure
            self._fail(info, PluginError(name, f"cannot register: {exc!r}"), cause=exc)
            return info
        try:
            self._validate_hooks(plugin, info)
            deprecated = [hook for hook in info.hooks if hook in DEPRECATED_HOOKS]
            if deprecated:
                warn_deprecated(name, deprecated)
                # Also in the log: Python shows a DeprecationWarning only to tests and __main__.
                self._log.warning("plugin uses deprecated hooks", plugin=name, hooks=deprecated)
            declared = self._collect_types(plugin, info)
            self._add_routes(info, declared)
        except DevframeError as exc:
            self.pm.unregister(name=name)
            self._drop_routes(name)
            self._fail(info, exc, cause=exc)
        except Exception as exc:  # noqa: BLE001 - isolate any plugin failure
            self.pm.unregister(name=name)
            self._drop_routes(name)
            self._fail(info, PluginError(name, f"failed while registering: {exc!r}"), cause=exc)
        return info

    def _validate_hooks(self, plugin: object, info: PluginInfo) -> None:
        hooks = []
        for caller in self.pm.get_hookcallers(plugin) or []:
            if caller.spec is None:
                known = sorted(n for n in dir(hookspecs) if n.startswith("devframe_"))
                raise PluginError(
                    info.name,
                    f"implements unknown hook {caller.name!r} (known hooks: {', '.join(known)})",
                )
            hooks.append(caller.name)
        info.hooks = sorted(hooks)

    def _impl(self, hook_name: str, plugin_name: str) -> pluggy.HookImpl | None:
        caller: pluggy.HookCaller = getattr(self.pm.hook, hook_name)
        for impl in caller.get_hookimpls():
            if impl.plugin_name == plugin_name and not (impl.hookwrapper or impl.wrapper):
                return impl
        return None

    def _collect_types(self, plugin: object, info: PluginInfo) -> list[DeviceType]:
        """The device classes the plugin registers (and those of its deprecated hook)."""
        declared: list[DeviceType] = []
        impl = self._impl("devframe_register_device_types", info.name)
        if impl is not None:

            def register(dev_class: type[Device]) -> None:
                if not isinstance(dev_class, type) or not issubclass(dev_class, Device):
                    raise PluginError(info.name, f"registered {dev_class!r}: expected a devframe.Device subclass")
                dev_type = dev_class.dev_type
                if not isinstance(dev_type, str) or not dev_type:
                    raise PluginError(info.name, f"registered {dev_class.__name__}, which declares no dev_type")
                declared.append(DeviceType(dev_type, dev_class, dev_class.claims, dev_class.description))

            if impl.argnames:
                impl.function(register)
            else:
                impl.function()
        old = self._impl("devframe_device_types", info.name)
        if old is not None:
            result = old.function()
            if isinstance(result, DeviceType):
                result = [result]
            if result is not None:
                if not isinstance(result, (list, tuple)) or not all(isinstance(t, DeviceType) for t in result):
                    raise PluginError(
                        info.name,
                        f"devframe_device_types must return a list of DeviceType, got {result!r:.200}",
                    )
                declared.extend(result)
        return declared

    def _owner_of_claim(self, claim: Claim) -> tuple[Route, Claim] | None:
        for route in self.routes.values():
            for existing in route.claims:
                if existing.overlaps(claim):
                    return route, existing
        return None

    def _add_routes(self, info: PluginInfo, declared: list[DeviceType]) -> None:
        new_routes: list[Route] = []
        seen_types: set[str] = set()
        for dtype in declared:
            if dtype.dev_type in self.routes:
                other = self.routes[dtype.dev_type].plugin
                raise ClaimConflictError(
                    info.name,
                    f"dev_type {dtype.dev_type!r} is already provided by plugin {other!r}; "
                    f"plugins {other!r} and {info.name!r} both declare it",
                )
            if dtype.dev_type in seen_types:
                raise PluginError(info.name, f"declares dev_type {dtype.dev_type!r} twice")
            seen_types.add(dtype.dev_type)
            spec_type = dtype.dev_class.spec_type
            if spec_type and spec_type != dtype.dev_type:
                taken = self.routes.get(spec_type) or self.spec_routes.get(spec_type)
                if taken is not None or spec_type in seen_types:
                    other = taken.plugin if taken is not None else info.name
                    raise ClaimConflictError(
                        info.name,
                        f"dev_spec type {spec_type!r} of dev_type {dtype.dev_type!r} is already a dev_spec type "
                        f"of plugin {other!r}",
                    )
                seen_types.add(spec_type)
            for claim in dtype.claims:
                owner = self._owner_of_claim(claim)
                if owner is not None:
                    route, existing = owner
                    raise ClaimConflictError(
                        info.name,
                        f"claim {claim} of dev_type {dtype.dev_type!r} overlaps claim {existing} "
                        f"of plugin {route.plugin!r} (dev_type {route.dev_type!r}); "
                        f"plugins {route.plugin!r} and {info.name!r} cannot both parse it",
                    )
                for earlier in new_routes:
                    for mine in earlier.claims:
                        if mine.overlaps(claim):
                            raise PluginError(
                                info.name, f"claims {claim} twice ({earlier.dev_type!r} and {dtype.dev_type!r})"
                            )
            new_routes.append(self._make_route(info.name, dtype))
        for route in new_routes:
            self.routes[route.dev_type] = route
            spec_type = route.dev_class.spec_type
            if spec_type and spec_type != route.dev_type:
                self.spec_routes[spec_type] = route
            for claim in route.claims:
                if claim.attr is None:
                    self.by_tag[claim.tag] = route
                else:
                    slot = self.by_tag.get(claim.tag)
                    if not isinstance(slot, _Narrowed):
                        slot = self.by_tag[claim.tag] = _Narrowed(claim.attr)
                    for value in claim.values:
                        slot.by_value[value] = route
        info.dev_types = [r.dev_type for r in new_routes]
        info.claims = [str(c) for r in new_routes for c in r.claims]

    def _make_route(self, plugin_name: str, dtype: DeviceType) -> Route:
        old = {
            name: (impl.function, tuple(impl.argnames))
            for name in DEPRECATED_HOOKS[1:]
            if (impl := self._impl(name, plugin_name)) is not None
        }
        dev_class = dtype.dev_class
        legacy_parse = legacy_from_spec = None
        legacy_adapt = None
        if old:
            dev_class, _ = adapt_class(plugin_name, dtype, old)

            @functools.cache
            def legacy_adapt(cls: type[Device]) -> type[Device]:
                return adapt_class(plugin_name, DeviceType(dtype.dev_type, cls, dtype.claims, dtype.description), old)[
                    0
                ]

            if "devframe_parse_device" in old:
                legacy_parse = _positional(*old["devframe_parse_device"], ("element", "dev_type", "metadata"))
            if "devframe_device_from_spec" in old:
                legacy_from_spec = _positional(*old["devframe_device_from_spec"], ("spec", "dev_type"))
        elif dtype.claims != dev_class.claims or (dtype.description and dtype.description != dev_class.description):
            # A DeviceType (deprecated form) narrowing the class's claims: route to a
            # subclass that carries them, so the class still describes its type alone.
            dev_class, _ = adapt_class(plugin_name, dtype, {})
        return Route(
            dev_type=dtype.dev_type,
            plugin=plugin_name,
            dev_class=dev_class,
            claims=dtype.claims,
            metadata_schema=dev_class.metadata_schema,
            strict=self.strict,
            legacy_parse=legacy_parse,
            legacy_from_spec=legacy_from_spec,
            legacy_adapt=legacy_adapt,
        )

    def _drop_routes(self, plugin_name: str) -> None:
        for spec_type in [t for t, r in self.spec_routes.items() if r.plugin == plugin_name]:
            del self.spec_routes[spec_type]
        for dev_type in [t for t, r in self.routes.items() if r.plugin == plugin_name]:
            route = self.routes.pop(dev_type)
            for claim in route.claims:
                slot = self.by_tag.get(claim.tag)
                if slot is route:
                    del self.by_tag[claim.tag]
                elif isinstance(slot, _Narrowed):
                    for value in claim.values:
                        if slot.by_value.get(value) is route:
                            del slot.by_value[value]
                    if not slot.by_value:
                        del self.by_tag[claim.tag]

    def add_blocked(
        self, name: str, *, distribution: str | None = None, version: str | None = None, module: str | None = None
    ) -> None:
        self.plugins[name] = PluginInfo(
            name=name, state="blocked", distribution=distribution, version=version, module=module
        )

    def add_broken(self, name: str, error: BaseException | str, **meta: Any) -> None:
        info = PluginInfo(name=name, state="broken", **meta)
        self.plugins[name] = info
        self._fail(info, error if isinstance(error, DevframeError) else PluginError(name, str(error)))

    # -- routing ------------------------------------------------------------------------

    def route_for(self, element: etree._Element) -> Route | None:
        """The route claiming this `<devices>` child, or None."""
        slot = self.by_tag.get(element.tag)
        if slot is None or isinstance(slot, Route):
            return slot
        return slot.pick(element)

    def parse_element(self, element: etree._Element, metadata: Mapping[str, Any] | None = None) -> Device:
        """One `<devices>` child to its dev_object (UnknownDevice when nobody claims it)."""
        slot = self.by_tag.get(element.tag)
        route = slot if slot is None or isinstance(slot, Route) else slot.pick(element)
        if route is None:
            return UnknownDevice(element, metadata=metadata)
        try:
            device = route.parse(element)
        except Exception as exc:  # noqa: BLE001 - a plugin error must not lose the device
            return self.parse_failed(route, element, metadata, exc)
        if metadata is not None:
            device.bind_metadata(metadata)  # type: ignore[arg-type]
        return device

    def parse_failed(
        self, route: Route, element: etree._Element, metadata: Mapping[str, Any] | None, exc: Exception
    ) -> Device:
        alias_el = element.find("alias")
        alias = alias_el.get("name") if alias_el is not None else None
        self._log.error(
            "plugin failed to parse device; kept as UnknownDevice",
            plugin=route.plugin,
            dev_type=route.dev_type,
            operation="parse",
            tag=element.tag,
            alias=alias,
            error=repr(exc),
        )
        route.raise_if_strict(exc, f"{route.dev_class.__name__} failed to parse <{element.tag}> alias={alias!r}")
        device = FailedDevice(element, metadata=metadata)
        device._failed_identity = route.probe_identity(element)
        device.error = f"plugin {route.plugin!r} failed: {exc!r}"
        return device

    def device_from_spec(self, spec: Mapping[str, Any]) -> Device:
        """Build a dev_object from a dev_spec; an unknown type becomes an UnknownDevice.

        A spec of a known type that its class cannot build is a :class:`SpecError`
        naming the key (never a placeholder device): a value that does not fit its
        field, or the keys the class's ``read_spec`` could not use. When the class
        raised something other than a DevframeError, the failure is also logged with
        the plugin (strict mode raises a :class:`PluginError` instead).
        """
        if not isinstance(spec, Mapping):
            raise SpecError(f"a dev_spec must be a dict, got {type(spec).__name__}: {quoted(redact_value(spec), 100)}")
        dev_type = spec.get("type")
        if not isinstance(dev_type, str) or not dev_type:
            raise SpecError(f"dev_spec has no 'type' (dev_type): {quoted(redact_value(dict(spec)))}")
        route = self.routes.get(dev_type) or self.spec_routes.get(dev_type)
        if route is None:
            device = UnknownDevice.from_spec(spec)
            self._log.warning("dev_spec of unknown type kept as UnknownDevice", dev_type=dev_type)
            device.error = f"no plugin provides dev_type {dev_type!r}"
            return device
        if route.legacy_from_spec is not None:
            check_spec(spec)  # a deprecated hook gets the same checked spec as a class does
        try:
            return route.from_spec(spec)
        except SpecReadError as exc:  # the class could not use keys it read itself
            self._from_spec_failed(route, spec, exc.cause)
            raise
        except PluginError as exc:  # the plugin answered wrongly: reported, and raised
            self._from_spec_failed(route, spec, exc)
            raise
        except DevframeError:
            raise  # the spec itself is bad: the plugin said so
        except Exception as exc:  # a plugin bug: reported, and the spec refused by name
            self._from_spec_failed(route, spec, exc)
            raise SpecError(
                f"dev_spec of type {dev_type!r} cannot be built by plugin {route.plugin!r}: {describe_exception(exc)}"
            ) from exc

    def _from_spec_failed(self, route: Route, spec: Mapping[str, Any], exc: Exception) -> None:
        """Report a class failing on a dev_spec (strict mode raises a PluginError)."""
        self._log.error(
            "plugin failed to build device from its dev_spec; the spec is refused",
            plugin=route.plugin,
            dev_type=route.dev_type,
            operation="from_spec",
            device_id=spec.get("deviceId"),
            alias=spec.get("alias"),
            error=describe_exception(exc),
        )
        route.raise_if_strict(
            exc, f"from_spec failed for dev_type {route.dev_type!r} (deviceId {quoted(spec.get('deviceId'), 80)})"
        )

    def build(self, device: Device) -> etree._Element:
        """The element to serialize for ``device`` (its class's ``build``, guarded)."""
        return device.built_element()

    # -- collected hooks ------------------------------------------------------------------

    def call_collected(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a collected hook on every loaded plugin, isolating failures.

        Returns ``(plugin name, result)`` pairs in registration order.
        """
        results: list[tuple[str, Any]] = []
        caller = getattr(self.pm.hook, hook_name)
        for impl in caller.get_hookimpls():  # registration order (pluggy calls them reversed)
            if impl.hookwrapper or impl.wrapper:
                continue
            args = [kwargs[name] for name in impl.argnames]
            try:
                result = impl.function(*args)
            except DevframeError:
                raise
            except Exception as exc:
                self._log.error("plugin hook failed", plugin=impl.plugin_name, hook=hook_name, error=repr(exc))
                if self.strict:
                    raise PluginError(impl.plugin_name, f"{hook_name} failed: {exc!r}") from exc
                continue
            if result is not None:
                results.append((impl.plugin_name, result))
        return results

    @property
    def loaded(self) -> list[str]:
        return [name for name, info in self.plugins.items() if info.state == "loaded"]

    def __repr__(self) -> str:
        return f"<Registry plugins={self.loaded} dev_types={sorted(self.routes)}>"


def _positional(function: Callable[..., Any], argnames: Sequence[str], offered: Sequence[str]) -> Callable[..., Any]:
    picks = [offered.index(name) for name in argnames]
    return lambda *args: function(*[args[i] for i in picks])


def create_registry(
    *,
    entry_points: bool = True,
    plugins: Iterable[tuple[str, object]] = (),
    only: Iterable[str] | None = None,
    env: Mapping[str, str] | None = None,
    strict: bool | None = None,
) -> Registry:
    """Build a registry.

    ``entry_points``: load plugins registered under the ``devframe`` entry-point group.
    ``plugins``: extra ``(name, plugin object)`` pairs registered after them (tests,
    embedding applications). ``only``: load just these entry-point names (overrides
    ``DEVFRAME_LOAD_PLUGINS``). ``env``: the environment to read (default
    ``os.environ``). ``strict``: re-raise plugin failures (default from
    ``DEVFRAME_STRICT_PLUGINS``).
    """
    env = os.environ if env is None else env
    if strict is None:
        strict = _env_flag(env, "DEVFRAME_STRICT_PLUGINS")
    registry = Registry(strict=strict)
    allow = list(only) if only is not None else _env_list(env, "DEVFRAME_LOAD_PLUGINS")
    block = set(_env_list(env, "DEVFRAME_DISABLE_PLUGINS") or [])
    if entry_points:
        found = sorted(find_entry_points(ENTRY_POINT_GROUP), key=lambda e: e.name)
        seen: dict[str, EntryPointRef] = {}
        for ep in found:
            dist_name, version = ep.distribution, ep.version
            meta = {"distribution": dist_name, "version": version, "module": ep.value}
            if ep.name in seen:
                first = seen[ep.name]
                first_dist = first.distribution
                if first.value == ep.value and first_dist == dist_name:
                    registry._log.warning(
                        "entry point found twice (installed twice?); loaded once",
                        plugin=ep.name,
                        distribution=dist_name,
                    )
                    continue
                registry._log.error(
                    "duplicate plugin name",
                    plugin=ep.name,
                    first=f"{first_dist}:{first.value}",
                    second=f"{dist_name}:{ep.value}",
                )
                dup_name = f"{ep.name}@{dist_name or ep.value}"
                registry.add_broken(
                    dup_name,
                    PluginError(
                        ep.name,
                        f"duplicate entry-point name: {first.value} (distribution {first_dist}) and "
                        f"{ep.value} (distribution {dist_name}) both register {ep.name!r}; only the first is loaded",
                    ),
                    **meta,
                )
                continue
            seen[ep.name] = ep
            if (allow is not None and ep.name not in allow) or ep.name in block:
                registry.add_blocked(ep.name, **meta)
                continue
            try:
                obj = ep.load()
            except Exception as exc:  # noqa: BLE001 - a plugin that cannot import is isolated
                registry.add_broken(ep.name, PluginError(ep.name, f"cannot import {ep.value}: {exc!r}"), **meta)
                continue
            registry.add_plugin(obj, ep.name, **meta)
    for name, obj in plugins:
        if name in block:
            registry.add_blocked(name)
            continue
        registry.add_plugin(obj, name)
    registry._log.debug("registry built", plugins=registry.loaded, dev_types=sorted(registry.routes))
    return registry
