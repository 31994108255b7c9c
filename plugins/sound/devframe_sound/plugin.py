"""Hook implementations of the sound plugin: the smallest complete devframe plugin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from devframe import DeviceType, hookimpl
from devframe_sound.device import Sound


@hookimpl
def devframe_device_types() -> list[DeviceType]:
    return [DeviceType("sound", Sound, description="sound cards (<sound model=...>)")]


@hookimpl
def devframe_parse_device(element: etree._Element, metadata: Mapping[str, Any] | None) -> Sound:
    return Sound(element, metadata=metadata)


@hookimpl
def devframe_build_device(device: Sound) -> etree._Element:
    return device.element


@hookimpl
def devframe_device_from_spec(spec: Mapping[str, Any]) -> Sound:
    return Sound.from_spec(spec)


@hookimpl
def devframe_legacy_conf_keys() -> list[str]:
    return ["soundDevice"]


@hookimpl
def devframe_spec_list_from_legacy_conf(conf: Mapping[str, Any]) -> list[dict[str, Any]]:
    model = conf.get("soundDevice")
    if not model:
        return []
    return [{"type": "sound", "device": str(model)}]
