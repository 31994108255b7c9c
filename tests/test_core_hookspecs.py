"""Issue 2 item 2: the hook specs are one module, typed, and documented."""

from __future__ import annotations

import inspect
import typing

import pluggy

import devframe
from devframe.core import hookspecs

# The hooks of today. New hooks may be added; none of these may disappear or be renamed.
REQUIRED_HOOKS = {
    "devframe_register_device_types": ("register",),
    "devframe_spec_list_from_legacy_conf": ("conf", "arch"),
    "devframe_legacy_conf_keys": (),
    "devframe_cli_commands": (),
    "devframe_register_event_sinks": ("register",),
}
# The routed hooks of issue 2, honoured for one release after issue 13 (with a warning).
DEPRECATED = {
    "devframe_device_types": (),
    "devframe_parse_device": ("element", "dev_type", "metadata"),
    "devframe_build_device": ("device",),
    "devframe_device_from_spec": ("spec", "dev_type"),
    "devframe_device_metadata": ("dev_type",),
    "devframe_metadata_identity": ("element", "dev_type"),
    "devframe_prepare_device": ("device", "resolvers"),
}


def _specs() -> dict[str, typing.Any]:
    return {
        name: obj
        for name, obj in vars(hookspecs).items()
        if callable(obj) and hasattr(obj, hookspecs.PROJECT + "_spec")
    }


def test_required_hooks_exist_with_their_argument_names() -> None:
    specs = _specs()
    for name, args in {**REQUIRED_HOOKS, **DEPRECATED}.items():
        assert name in specs, f"hook spec {name} is missing from devframe.core.hookspecs"
        assert tuple(inspect.signature(specs[name]).parameters) == args, name
    assert set(hookspecs.DEPRECATED_HOOKS) == set(DEPRECATED)


def test_every_spec_is_documented_with_receives_returns_called() -> None:
    specs = _specs()
    assert len(specs) >= len(REQUIRED_HOOKS)
    for name, spec in specs.items():
        doc = inspect.getdoc(spec) or ""
        if name in DEPRECATED:
            assert doc.startswith("Deprecated:"), f"hook spec {name}: docstring does not say it is deprecated"
            continue
        for word in ("Receives:", "Returns:", "Called:"):
            assert word in doc, f"hook spec {name}: docstring does not say {word!r}"


def test_every_spec_is_typed() -> None:
    for name, spec in _specs().items():
        hints = typing.get_type_hints(spec, globalns={**vars(hookspecs), **vars(devframe)})
        assert "return" in hints, f"hook spec {name} has no return annotation"
        for param in inspect.signature(spec).parameters:
            assert param in hints, f"hook spec {name}: argument {param!r} is not annotated"


def test_every_current_hook_is_collected_none_routed() -> None:
    """A device type is described by its class; hooks only collect registrations."""
    for name, spec in _specs().items():
        if name in DEPRECATED:
            continue
        opts = getattr(spec, hookspecs.PROJECT + "_spec")
        assert opts["firstresult"] is False, f"{name} is collected from every plugin"
        assert "collected" in (inspect.getdoc(spec) or ""), name


def test_hookimpl_is_the_public_marker_of_the_devframe_project() -> None:
    assert isinstance(devframe.hookimpl, pluggy.HookimplMarker)
    assert devframe.hookimpl.project_name == "devframe"
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    assert set(REQUIRED_HOOKS) <= {name for name in dir(pm.hook) if name.startswith("devframe_")}
