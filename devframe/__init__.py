"""devframe: libvirt domain XML, engine dev_specs and legacy conf as one typed dev_map.

Public API (see README.md)::

    parse_domain(xml) -> Domain          Domain.dev_map / .devices / .to_xml()
    device_from_spec(spec) -> Device     Device.to_xml() / .to_spec() / .alias
    create_registry(...)                 plugins through the "devframe" entry points
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devframe.core.chardev import (
    CHAR_PROTOCOLS,
    CHAR_SOURCE_MODES,
    CHAR_TYPES,
    CONSOLE_TARGET_TYPES,
    SERIAL_TARGET_MODELS,
    SERIAL_TARGET_TYPES,
    SHARED_TARGET_TYPES,
    CharSource,
    CharSourceElement,
    SourceSeclabel,
    TextList,
)
from devframe.core.common import AcpiIndex, Bootable, VirtioOptions
from devframe.core.compat import DeviceType
from devframe.core.device import Device, DeviceMetadata, UnknownDevice
from devframe.core.devtype import Claim, MetadataSchema, SpecAlias
from devframe.core.domain import (
    DeviceList,
    DevMap,
    Domain,
    default_registry,
    load_domain,
    parse_domain,
    reset_default_registry,
)
from devframe.core.errors import (
    ClaimConflictError,
    DevframeError,
    DomainError,
    FieldValueError,
    MetadataError,
    PluginError,
    SpecError,
    SpecValueError,
    XMLError,
)
from devframe.core.fields import (
    ABS_PATH,
    HEX_UINT,
    INT,
    LIVE,
    OCTAL_MODE,
    ON_OFF,
    POSITIVE,
    STR,
    UINT,
    UINT8,
    UINT32,
    ULONG,
    UNIT,
    UUID,
    YES_NO,
    AddressField,
    Chain,
    Child,
    Children,
    Choice,
    ElementView,
    EmptyElements,
    Field,
    Flag,
    IntRange,
    Kind,
    Live,
    Pattern,
    PresentFlag,
)
from devframe.core.hookspecs import DeviceTypeRegister, hookimpl
from devframe.core.identity import USER_ALIAS_PREFIX, Identity, address_text, device_id_from_alias, user_alias
from devframe.core.log import REDACTED, RedactingFilter, get_logger, redact_secrets
from devframe.core.prepare import prepare_domain
from devframe.core.registry import ENTRY_POINT_GROUP, PluginInfo, Registry, create_registry
from devframe.core.resolve import HostFacts, PlaceholderError, Resolvers, checked_path
from devframe.core.safexml import ParseLimits, parse_xml
from devframe.core.specflow import (
    ARCHES,
    ConfView,
    check_arch,
    dev_map_from_spec_list,
    dev_spec_map_from_spec_list,
    domain_from_conf,
    domain_from_spec_list,
    spec_list_from_domain,
    spec_list_from_legacy_conf,
)
from devframe.core.xmledit import first_child

__version__ = "0.1.0"

__all__ = [
    "ABS_PATH",
    "ARCHES",
    "CHAR_PROTOCOLS",
    "CHAR_SOURCE_MODES",
    "CHAR_TYPES",
    "CONSOLE_TARGET_TYPES",
    "ENTRY_POINT_GROUP",
    "HEX_UINT",
    "INT",
    "LIVE",
    "OCTAL_MODE",
    "ON_OFF",
    "POSITIVE",
    "REDACTED",
    "SERIAL_TARGET_MODELS",
    "SERIAL_TARGET_TYPES",
    "SHARED_TARGET_TYPES",
    "STR",
    "UINT",
    "UINT8",
    "UINT32",
    "ULONG",
    "UNIT",
    "USER_ALIAS_PREFIX",
    "UUID",
    "YES_NO",
    "AcpiIndex",
    "AddressField",
    "Bootable",
    "Chain",
    "CharSource",
    "CharSourceElement",
    "Child",
    "Children",
    "Choice",
    "Claim",
    "ClaimConflictError",
    "ConfView",
    "DevMap",
    "DevframeError",
    "Device",
    "DeviceList",
    "DeviceMetadata",
    "DeviceType",
    "DeviceTypeRegister",
    "Domain",
    "DomainError",
    "ElementView",
    "EmptyElements",
    "Field",
    "FieldValueError",
    "Flag",
    "HostFacts",
    "Identity",
    "IntRange",
    "Kind",
    "Live",
    "MetadataError",
    "MetadataSchema",
    "ParseLimits",
    "Pattern",
    "PlaceholderError",
    "PluginError",
    "PluginInfo",
    "PresentFlag",
    "RedactingFilter",
    "Registry",
    "Resolvers",
    "SourceSeclabel",
    "SpecAlias",
    "SpecError",
    "SpecValueError",
    "TextList",
    "UnknownDevice",
    "VirtioOptions",
    "XMLError",
    "address_text",
    "check_arch",
    "checked_path",
    "create_registry",
    "default_registry",
    "dev_map_from_spec_list",
    "dev_spec_map_from_spec_list",
    "device_from_spec",
    "device_id_from_alias",
    "domain_from_conf",
    "domain_from_spec_list",
    "first_child",
    "get_logger",
    "hookimpl",
    "load_domain",
    "parse_domain",
    "parse_xml",
    "prepare_domain",
    "redact_secrets",
    "reset_default_registry",
    "spec_list_from_domain",
    "spec_list_from_legacy_conf",
    "user_alias",
]


def device_from_spec(spec: Mapping[str, Any], *, registry: Registry | None = None) -> Device:
    """Build a dev_object from an engine dev_spec dict (routed by ``spec['type']``).

    A spec of a type no plugin provides becomes an :class:`UnknownDevice` (kept and
    reported through its ``error``), not an exception.
    """
    return (registry or default_registry()).device_from_spec(spec)
