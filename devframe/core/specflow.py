"""The dev_spec flows: legacy conf -> dev_spec_list -> dev_spec_map -> dev_map -> domain.

The core owns none of the legacy keys: every plugin converts the part of a legacy
conf it owns (hook ``devframe_spec_list_from_legacy_conf``). The engine's own
``conf['devices']`` is never stored: :class:`ConfView` computes it from the dev_map.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from lxml import etree

from devframe.core.device import Device
from devframe.core.domain import Domain, default_registry
from devframe.core.errors import DevframeError, PluginError, SpecError
from devframe.core.log import get_logger, redact_value
from devframe.core.registry import Registry

__all__ = [
    "ARCHES",
    "ConfView",
    "check_arch",
    "dev_map_from_spec_list",
    "dev_spec_map_from_spec_list",
    "domain_from_conf",
    "domain_from_spec_list",
    "spec_list_from_domain",
    "spec_list_from_legacy_conf",
]

#: Guest architectures devframe knows, with the machine type it defaults to and
#: whether that machine has ACPI (PCI hotplug on x86 needs it).
ARCHES: dict[str, tuple[str, bool]] = {
    "x86_64": ("pc", True),
    "ppc64": ("pseries", False),
    "ppc64le": ("pseries", False),
    "s390x": ("s390-ccw-virtio", False),
    "aarch64": ("virt", True),
}


def check_arch(arch: object) -> str:
    """Return ``arch`` when devframe knows it, else raise a DevframeError naming it."""
    if not isinstance(arch, str) or arch not in ARCHES:
        raise DevframeError(f"unknown arch {arch!r}: expected one of {', '.join(ARCHES)}")
    return arch


def spec_list_from_legacy_conf(
    conf: Mapping[str, Any], arch: str, *, registry: Registry | None = None
) -> list[dict[str, Any]]:
    """Deprecated: convert a legacy (pre-3.3 engine) flat VM conf to a dev_spec_list.

    Every plugin converts the keys it owns; the lists are concatenated in plugin order.
    Emits a DeprecationWarning and a log line naming the legacy keys used.
    """
    warnings.warn(
        "legacy conf is deprecated (engines before 3.3); send device specs or domain XML",
        DeprecationWarning,
        stacklevel=2,
    )
    if not isinstance(conf, Mapping):
        raise SpecError(f"legacy conf must be a dict, got {type(conf).__name__}")
    check_arch(arch)
    registry = registry or default_registry()
    owned = {key for _, keys in registry.call_collected("devframe_legacy_conf_keys") for key in keys}
    used = sorted(key for key in conf if key in owned)
    get_logger(arch=arch).warning("legacy conf converted (deprecated)", legacy_keys=used, vm=conf.get("vmId"))
    specs: list[dict[str, Any]] = []
    for plugin, result in registry.call_collected("devframe_spec_list_from_legacy_conf", conf=conf, arch=arch):
        if not isinstance(result, list) or not all(isinstance(s, dict) for s in result):
            # Treated like a plugin that raised (call_collected): logged, named, strict raises.
            error = PluginError(
                plugin,
                f"devframe_spec_list_from_legacy_conf returned {type(result).__name__} {result!r:.200}, "
                "expected a list of dev_spec dicts",
            )
            get_logger(arch=arch).error(
                "plugin hook failed", plugin=plugin, hook="devframe_spec_list_from_legacy_conf", error=str(error)
            )
            if registry.strict:
                raise error
            continue
        specs.extend(result)
    return specs


def dev_spec_map_from_spec_list(specs: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Group a dev_spec_list by dev_type, keeping order within each type."""
    if isinstance(specs, (str, bytes)) or not isinstance(specs, Sequence):
        raise SpecError(f"a dev_spec_list must be a list of dicts, got {type(specs).__name__}")
    spec_map: dict[str, list[Mapping[str, Any]]] = {}
    for index, spec in enumerate(specs):
        if not isinstance(spec, Mapping):
            raise SpecError(f"dev_spec_list[{index}] must be a dict, got {type(spec).__name__}")
        dev_type = spec.get("type")
        if not isinstance(dev_type, str) or not dev_type:
            raise SpecError(f"dev_spec_list[{index}] has no 'type' (dev_type): {redact_value(dict(spec))!r:.200}")
        spec_map.setdefault(dev_type, []).append(spec)
    return spec_map


def _devices_from_specs(specs: Sequence[Mapping[str, Any]], registry: Registry) -> list[Device]:
    devices = []
    for index, spec in enumerate(specs):
        try:
            devices.append(registry.device_from_spec(spec))
        except DevframeError as exc:
            raise SpecError(f"dev_spec_list[{index}] (type {spec.get('type')!r}): {exc}") from exc
    return devices


def dev_map_from_spec_list(
    specs: Sequence[Mapping[str, Any]], *, registry: Registry | None = None
) -> dict[str, list[Device]]:
    """dev_spec_list -> dev_spec_map -> dev_map ``{dev_type: [dev_object]}``.

    A spec of a type no plugin provides becomes an UnknownDevice (kept, with ``error``
    saying why), not an exception.
    """
    registry = registry or default_registry()
    spec_map = dev_spec_map_from_spec_list(specs)
    return {dev_type: _devices_from_specs(group, registry) for dev_type, group in spec_map.items()}


def domain_from_spec_list(
    specs: Sequence[Mapping[str, Any]],
    *,
    name: str,
    uuid: str,
    memory_kib: int,
    vcpus: int,
    arch: str,
    machine: str | None = None,
    domain_type: str = "kvm",
    registry: Registry | None = None,
) -> Domain:
    """A whole domain built from a dev_spec_list; its XML validates against domain.rng."""
    check_arch(arch)
    if not isinstance(name, str) or not name.strip():
        raise DevframeError(f"domain name must be a non-empty string, got {name!r}")
    try:
        import uuid as uuidlib  # here, not at the top: it loads platform and hashlib (start-up)

        uuid = str(uuidlib.UUID(str(uuid)))
    except ValueError:
        raise DevframeError(f"domain uuid {uuid!r} is not a UUID") from None
    for label, value in (("memory_kib", memory_kib), ("vcpus", vcpus)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise DevframeError(f"{label} must be a positive int, got {value!r}")
    default_machine, acpi = ARCHES[arch]
    registry = registry or default_registry()
    root = etree.Element("domain", type=domain_type)
    etree.SubElement(root, "name").text = name
    etree.SubElement(root, "uuid").text = uuid
    etree.SubElement(root, "memory", unit="KiB").text = str(memory_kib)
    etree.SubElement(root, "currentMemory", unit="KiB").text = str(memory_kib)
    etree.SubElement(root, "vcpu", placement="static").text = str(vcpus)
    os_el = etree.SubElement(root, "os")
    etree.SubElement(os_el, "type", arch=arch, machine=machine or default_machine).text = "hvm"
    if acpi:
        features = etree.SubElement(root, "features")
        etree.SubElement(features, "acpi")
    for event, action in (("on_poweroff", "destroy"), ("on_reboot", "restart"), ("on_crash", "destroy")):
        etree.SubElement(root, event).text = action
    etree.SubElement(root, "devices")
    etree.indent(root, space="  ")
    domain = Domain(root.getroottree(), registry=registry, source=f"specs for {name}")
    for device in _devices_from_specs(specs, registry):
        domain.add(device)
    return domain


def domain_from_conf(conf: Mapping[str, Any], *, arch: str | None = None, registry: Registry | None = None) -> Domain:
    """A domain from an engine VM conf: its ``devices`` list, or (deprecated) legacy keys.

    Reads ``vmName``, ``vmId``, ``memSize`` (MiB), ``smp`` and ``arch`` (or the
    ``arch`` argument; default x86_64).
    """
    if not isinstance(conf, Mapping):
        raise SpecError(f"VM conf must be a dict, got {type(conf).__name__}")
    arch = check_arch(arch or conf.get("arch") or "x86_64")
    for key in ("vmName", "vmId"):
        if not conf.get(key):
            raise SpecError(f"VM conf has no {key!r}")
    try:
        memory_kib = int(conf.get("memSize", 1024)) * 1024
        vcpus = int(conf.get("smp", 1))
    except (TypeError, ValueError) as exc:
        raise SpecError(f"VM conf 'memSize'/'smp' must be integers: {exc}") from None
    registry = registry or default_registry()
    devices = conf.get("devices")
    if devices is None:
        specs = spec_list_from_legacy_conf(conf, arch, registry=registry)
    elif isinstance(devices, Sequence) and not isinstance(devices, (str, bytes)):
        specs = list(devices)
    else:
        raise SpecError(f"VM conf 'devices' must be a list of dev_specs, got {type(devices).__name__}")
    return domain_from_spec_list(
        specs,
        name=str(conf["vmName"]),
        uuid=str(conf["vmId"]),
        memory_kib=memory_kib,
        vcpus=vcpus,
        arch=arch,
        registry=registry,
    )


def spec_list_from_domain(domain: Domain, *, secrets: bool = False) -> list[dict[str, Any]]:
    """The dev_spec_list of a domain: ``to_spec()`` of each device, in order (``secrets``:
    with the devices' secrets, see :meth:`devframe.Device.to_spec`)."""
    return [device.to_spec(secrets=secrets) for device in domain.devices]


class ConfView(Mapping[str, Any]):
    """An engine VM conf whose ``devices`` is computed from the dev_map on each read.

    The dev_map stays the one source of truth: there is no ``conf['devices']`` copy
    to keep in sync. Other keys come from ``base``.
    """

    def __init__(self, domain: Domain, base: Mapping[str, Any] | None = None) -> None:
        self._domain = domain
        self._base = dict(base or {})
        self._base.pop("devices", None)

    def __getitem__(self, key: str) -> Any:
        if key == "devices":
            return spec_list_from_domain(self._domain)
        return self._base[key]

    def __iter__(self) -> Iterator[str]:
        yield from self._base
        yield "devices"

    def __len__(self) -> int:
        return len(self._base) + 1
