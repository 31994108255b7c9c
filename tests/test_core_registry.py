"""Issue 2 item 3: the plugin registry (factory, entry points, validation, isolation)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from devframe import (
    Claim,
    ClaimConflictError,
    DevframeError,
    Device,
    DeviceTypeRegister,
    PluginError,
    create_registry,
    hookimpl,
    parse_domain,
)

BUILTIN = {"drive", "nic", "graphics", "sound", "video", "controller"}


@contextmanager
def captured() -> Iterator[list[dict[str, Any]]]:
    """structlog events of the block; leaves structlog's configuration as it found it."""
    was_configured = structlog.is_configured()
    old = structlog.get_config()
    with capture_logs() as logs:
        yield logs
    if was_configured:
        structlog.configure(**old)
    else:
        structlog.reset_defaults()


class Gadget(Device):
    dev_type = "gadget"
    tag = "gadget"


class Gizmo(Device):
    dev_type = "gizmo"
    tag = "gizmo"


class GadgetPlugin:
    @hookimpl
    def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
        register(Gadget)


class GizmoPlugin:
    @hookimpl
    def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
        register(Gizmo)


def _registry(*plugins: tuple[str, object], strict: bool | None = None, env: dict[str, str] | None = None) -> Any:
    return create_registry(entry_points=False, plugins=plugins, strict=strict, env=env or {})


# -- factory ----------------------------------------------------------------------------


def test_importing_devframe_builds_no_registry() -> None:
    code = textwrap.dedent(
        """
        import sys
        import devframe
        from devframe.core import domain, registry
        calls = []
        real = registry.create_registry
        def spy(*a, **k):
            calls.append(1)
            return real(*a, **k)
        registry.create_registry = spy
        domain.create_registry = spy
        import devframe.core.dispatch, devframe.core.safexml
        assert domain._default_registry is None, "a registry exists right after import"
        assert not any(isinstance(v, registry.Registry) for m in list(sys.modules.values())
                       if (getattr(m, "__name__", "") or "").startswith("devframe")
                       for v in vars(m).values()), "a module-level Registry exists"
        devframe.parse_domain("<domain><devices/></domain>")
        assert calls == [1], calls
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_each_call_builds_a_new_registry() -> None:
    first = _registry(("gadget", GadgetPlugin()))
    second = _registry(("gadget", GadgetPlugin()))
    assert first is not second
    assert first.plugins["gadget"].state == "loaded"
    assert first.routes["gadget"].plugin == "gadget"


def test_builtin_plugins_come_through_entry_points() -> None:
    registry = create_registry(env={})
    loaded = {name for name, info in registry.plugins.items() if info.state == "loaded"}
    assert loaded >= BUILTIN, registry.plugins
    for name in BUILTIN:
        info = registry.plugins[name]
        assert info.distribution == f"devframe-{name}"
        assert info.module and info.module.startswith(f"devframe_{name}")
    assert {"disk", "interface", "graphics", "sound", "video", "controller"} <= set(registry.routes)


# -- validation ---------------------------------------------------------------------------


class UnknownHookPlugin:
    @hookimpl
    def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
        register(Gadget)

    @hookimpl
    def devframe_register_device_typs(self, register: DeviceTypeRegister) -> None:  # misspelt on purpose
        register(Gizmo)


class WrongArgPlugin:
    @hookimpl
    def devframe_register_device_types(self, registrar: Any) -> None:  # the spec says "register"
        registrar(Gadget)


def test_unknown_hook_name_breaks_the_plugin_and_names_the_hook() -> None:
    registry = _registry(("typo", UnknownHookPlugin()), ("gizmo", GizmoPlugin()))
    info = registry.plugins["typo"]
    assert info.state == "broken"
    assert "devframe_register_device_typs" in (info.error or "")
    assert "gadget" not in registry.routes, "a broken plugin must leave no route behind"
    assert registry.plugins["gizmo"].state == "loaded"
    assert "gizmo" in registry.routes


def test_wrong_argument_name_breaks_the_plugin() -> None:
    registry = _registry(("wrongarg", WrongArgPlugin()), ("gadget", GadgetPlugin()))
    info = registry.plugins["wrongarg"]
    assert info.state == "broken"
    assert "registrar" in (info.error or "") and "devframe_register_device_types" in (info.error or "")
    assert registry.plugins["gadget"].state == "loaded"


def test_a_plugin_breaking_at_registration_is_logged() -> None:
    with captured() as logs:
        _registry(("typo", UnknownHookPlugin()))
    events = [e for e in logs if e.get("plugin") == "typo" and e["log_level"] == "error"]
    assert events, logs
    assert "devframe_register_device_typs" in events[0]["error"]


# -- claims ---------------------------------------------------------------------------------


class Gadget2(Device):
    dev_type = "gadget2"
    tag = "gadget"


class OtherGadgetPlugin:
    """Another dev_type claiming the tag <gadget>."""

    @hookimpl
    def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
        register(Gadget2)


class GadgetThing(Device):
    """The dev_type 'gadget' again, claiming another tag."""

    dev_type = "gadget"
    tag = "thing"


class SameTypePlugin:
    @hookimpl
    def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
        register(GadgetThing)


def _narrow(dev_type: str, *values: str) -> object:
    dev_class = type(
        f"Narrow_{dev_type}",
        (Device,),
        {"dev_type": dev_type, "tag": "gadget", "claims": (Claim("gadget", attr="type", values=values),)},
    )

    class Narrow:
        @hookimpl
        def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
            register(dev_class)

    return Narrow()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (GadgetPlugin(), OtherGadgetPlugin()),
        (GadgetPlugin(), SameTypePlugin()),
        (_narrow("g_pci", "pci", "usb"), _narrow("g_usb", "usb", "scsi")),
        (_narrow("g_pci", "pci"), OtherGadgetPlugin()),
    ],
    ids=["same-tag", "same-dev_type", "overlapping-narrowed", "narrowed-vs-whole-tag"],
)
def test_conflicting_claims_break_the_second_plugin_naming_both(first: object, second: object) -> None:
    registry = _registry(("alpha", first), ("beta", second))
    assert registry.plugins["alpha"].state == "loaded"
    info = registry.plugins["beta"]
    assert info.state == "broken"
    assert "'alpha'" in (info.error or "") and "'beta'" in (info.error or ""), info.error
    assert all(route.plugin == "alpha" for route in registry.routes.values())
    with pytest.raises(ClaimConflictError) as caught:
        _registry(("alpha", first), ("beta", second), strict=True)
    assert "'alpha'" in str(caught.value) and "'beta'" in str(caught.value)


def test_disjoint_narrowed_claims_share_a_tag() -> None:
    registry = _registry(("pci", _narrow("g_pci", "pci")), ("usb", _narrow("g_usb", "usb")))
    assert registry.plugins["pci"].state == registry.plugins["usb"].state == "loaded"
    domain = parse_domain(
        '<domain><devices><gadget type="usb"/><gadget type="pci"/><gadget type="isa"/><gadget/></devices></domain>',
        registry=registry,
    )
    assert [(d.plugin, d.dev_type) for d in domain.devices] == [
        ("usb", "g_usb"),
        ("pci", "g_pci"),
        (None, "gadget"),
        (None, "gadget"),
    ]


# -- failing plugins ------------------------------------------------------------------------


class RaisingTypesPlugin:
    @hookimpl
    def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
        raise RuntimeError("boom in register_device_types")


class BadTypesPlugin:
    @hookimpl
    def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
        register("not a Device class")  # type: ignore[arg-type]


class Typeless(Device):
    tag = "gadget"  # but no dev_type


class NoDevTypePlugin:
    @hookimpl
    def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
        register(Typeless)


class TwicePlugin:
    @hookimpl
    def devframe_register_device_types(self, register: DeviceTypeRegister) -> None:
        register(Gadget)
        register(Gadget)


@pytest.mark.parametrize(
    ("plugin", "needle"),
    [
        (RaisingTypesPlugin(), "boom in register_device_types"),
        (BadTypesPlugin(), "'not a Device class': expected a devframe.Device subclass"),
        (NoDevTypePlugin(), "Typeless, which declares no dev_type"),
        (TwicePlugin(), "declares dev_type 'gadget' twice"),
        (UnknownHookPlugin(), "devframe_register_device_typs"),
        (WrongArgPlugin(), "registrar"),
    ],
    ids=["raising-register", "not-a-class", "no-dev_type", "same-class-twice", "unknown-hook", "wrong-arg"],
)
def test_broken_plugin_is_isolated_and_strict_mode_raises(plugin: object, needle: str) -> None:
    registry = _registry(("bad", plugin), ("gizmo", GizmoPlugin()))
    assert registry.plugins["bad"].state == "broken"
    assert needle in (registry.plugins["bad"].error or "")
    assert "bad" not in registry.loaded
    assert registry.plugins["gizmo"].state == "loaded"
    assert set(registry.routes) == {"gizmo"}
    domain = parse_domain("<domain><devices><gadget/><gizmo/></devices></domain>", registry=registry)
    assert [type(d).__name__ for d in domain.devices] == ["UnknownDevice", "Gizmo"]

    with pytest.raises(PluginError) as caught:
        _registry(("bad", plugin), ("gizmo", GizmoPlugin()), strict=True)
    assert caught.value.plugin == "bad"
    assert needle in str(caught.value)
    with pytest.raises(PluginError):
        _registry(("bad", plugin), env={"DEVFRAME_STRICT_PLUGINS": "1"})


def test_same_plugin_object_registered_twice_is_refused() -> None:
    plugin = GadgetPlugin()
    registry = _registry(("one", plugin), ("two", plugin))
    assert registry.plugins["one"].state == "loaded"
    assert registry.plugins["two"].state == "broken"


# -- entry points from a distribution on sys.path ----------------------------------------------


class Dists:
    """Fake installed distributions (``*.dist-info`` with ``entry_points.txt``) in a temp dir."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.modules: list[str] = []
        monkeypatch.syspath_prepend(str(root))

    def add(self, dist: str, entries: dict[str, str], modules: dict[str, str], *, where: Path | None = None) -> None:
        base = where or self.root
        base.mkdir(parents=True, exist_ok=True)
        info = base / f"{dist.replace('-', '_')}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        lines = "".join(f"{name} = {target}\n" for name, target in entries.items())
        (info / "entry_points.txt").write_text(f"[devframe]\n{lines}")
        for module, source in modules.items():
            (base / f"{module}.py").write_text(textwrap.dedent(source))
            self.modules.append(module)

    def cleanup(self) -> None:
        for module in self.modules:
            sys.modules.pop(module, None)


@pytest.fixture
def dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Dists]:
    d = Dists(tmp_path, monkeypatch)
    yield d
    d.cleanup()


GOOD_PLUGIN = """
    from devframe import Device, hookimpl

    class {cls}(Device):
        dev_type = "{dev_type}"
        tag = "{dev_type}"

    @hookimpl
    def devframe_register_device_types(register):
        register({cls})
"""


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def test_plugin_from_a_third_party_distribution_loads(dists: Dists) -> None:
    mod, ep = _unique("dfp_good"), _unique("good")
    dists.add("dfp-good", {ep: mod}, {mod: GOOD_PLUGIN.format(cls="Widget", dev_type="widget")})
    registry = create_registry(env={"DEVFRAME_LOAD_PLUGINS": ep})
    info = registry.plugins[ep]
    assert info.state == "loaded", info.error
    assert (info.distribution, info.version, info.module) == ("dfp-good", "1.0", mod)
    assert info.dev_types == ["widget"]
    domain = parse_domain("<domain><devices><widget/></devices></domain>", registry=registry)
    assert type(domain.devices[0]).__name__ == "Widget"
    assert domain.devices[0].plugin == ep


def test_plugin_failing_to_import_is_broken_and_the_rest_works(dists: Dists) -> None:
    bad_mod, good_mod = _unique("dfp_bad"), _unique("dfp_ok")
    bad, good = _unique("bad"), _unique("ok")
    dists.add("dfp-bad", {bad: bad_mod}, {bad_mod: "raise ImportError('missing native library')\n"})
    dists.add("dfp-ok", {good: good_mod}, {good_mod: GOOD_PLUGIN.format(cls="Widget", dev_type="widget")})
    env = {"DEVFRAME_LOAD_PLUGINS": f"{bad},{good},drive"}
    with captured() as logs:
        registry = create_registry(env=env)
    info = registry.plugins[bad]
    assert info.state == "broken"
    assert "missing native library" in (info.error or "") and bad_mod in (info.error or "")
    assert info.distribution == "dfp-bad"
    assert registry.plugins[good].state == "loaded"
    assert registry.plugins["drive"].state == "loaded"
    assert any(e.get("plugin") == bad and e["log_level"] == "error" for e in logs), logs
    with pytest.raises(PluginError, match="missing native library"):
        create_registry(env={**env, "DEVFRAME_STRICT_PLUGINS": "1"})


def test_entry_point_to_a_missing_module_is_broken(dists: Dists) -> None:
    ep = _unique("ghost")
    dists.add("dfp-ghost", {ep: "dfp_no_such_module_anywhere"}, {})
    registry = create_registry(env={"DEVFRAME_LOAD_PLUGINS": ep})
    assert registry.plugins[ep].state == "broken"
    assert "dfp_no_such_module_anywhere" in (registry.plugins[ep].error or "")


def test_load_plugins_allow_list() -> None:
    registry = create_registry(env={"DEVFRAME_LOAD_PLUGINS": "drive, nic"})
    assert set(registry.loaded) == {"drive", "nic"}
    assert {registry.plugins[n].state for n in BUILTIN - {"drive", "nic"}} == {"blocked"}
    assert set(registry.routes) == {"disk", "interface"}


def test_empty_load_plugins_loads_none() -> None:
    registry = create_registry(env={"DEVFRAME_LOAD_PLUGINS": ""})
    assert registry.loaded == []
    assert registry.routes == {}
    assert {registry.plugins[n].state for n in BUILTIN} == {"blocked"}
    domain = parse_domain("<domain><devices><disk/></devices></domain>", registry=registry)
    assert type(domain.devices[0]).__name__ == "UnknownDevice"


def test_disable_plugins_blocks() -> None:
    registry = create_registry(env={"DEVFRAME_DISABLE_PLUGINS": "video,sound"})
    assert registry.plugins["video"].state == "blocked"
    assert registry.plugins["sound"].state == "blocked"
    assert "video" not in registry.routes and "sound" not in registry.routes
    assert registry.plugins["drive"].state == "loaded"
    blocked_extra = _registry(("gadget", GadgetPlugin()), env={"DEVFRAME_DISABLE_PLUGINS": "gadget"})
    assert blocked_extra.plugins["gadget"].state == "blocked"
    assert "gadget" not in blocked_extra.routes


def test_environment_is_read_from_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVFRAME_LOAD_PLUGINS", "graphics")
    assert create_registry().loaded == ["graphics"]


def test_duplicate_entry_point_names_are_noticed(dists: Dists) -> None:
    ep = _unique("dup")
    first, second = _unique("dfp_first"), _unique("dfp_second")
    dists.add("dfp-first", {ep: first}, {first: GOOD_PLUGIN.format(cls="Widget", dev_type="widget")})
    dists.add("dfp-second", {ep: second}, {second: GOOD_PLUGIN.format(cls="Sprocket", dev_type="sprocket")})
    with captured() as logs:
        registry = create_registry(env={"DEVFRAME_LOAD_PLUGINS": ep})
    loaded = registry.plugins[ep]
    assert loaded.state == "loaded"
    dups = [info for name, info in registry.plugins.items() if name != ep and name.startswith(ep)]
    assert len(dups) == 1 and dups[0].state == "broken"
    assert "duplicate" in (dups[0].error or "")
    assert first in (dups[0].error or "") and second in (dups[0].error or "")
    assert len(registry.routes) == 1, "only one of the two same-named plugins may load"
    assert any("duplicate" in e["event"] for e in logs), logs


def test_same_distribution_seen_twice_on_sys_path_loads_once(dists: Dists, tmp_path: Path) -> None:
    ep, mod = _unique("twice"), _unique("dfp_twice")
    dists.add("dfp-twice", {ep: mod}, {mod: GOOD_PLUGIN.format(cls="Widget", dev_type="widget")})
    other = tmp_path / "again"
    dists.add("dfp-twice", {ep: mod}, {}, where=other)
    sys.path.insert(0, str(other))
    try:
        registry = create_registry(env={"DEVFRAME_LOAD_PLUGINS": ep})
    finally:
        sys.path.remove(str(other))
    assert registry.plugins[ep].state == "loaded"
    assert [name for name in registry.plugins if name.startswith(ep)] == [ep]


def test_plugin_errors_are_devframe_errors() -> None:
    assert issubclass(PluginError, DevframeError)
    assert issubclass(ClaimConflictError, PluginError)
