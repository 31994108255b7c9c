"""The ``<sound>`` dev_class.

dev_spec mapping (engine keys on the left, XML place on the right):

================================ ================================================================
``device``                       ``@model`` (sb16, es1370, pcspk, ac97, ich6, ich7, ich9, usb,
                                 virtio)
``alias``                        ``alias@name``
``deviceId``                     the ``<deviceId>`` of a ``ua-<deviceId>`` alias
``address``                      the direct child ``address`` (a dict)
``specParams.multichannel``      ``@multichannel`` (bool, yes/no; usb model)
``specParams.streams``           ``@streams`` (virtio model; unsigned)
``specParams.codecs``            ``codec@type`` of each ``<codec>`` (``[{"type": ...}]``)
``specParams.audioId``           ``audio@id`` (the ``<audio>`` backend it plays to; uint8)
``specParams.driver.iommu``      ``driver@iommu`` (bool, on/off; virtio model)
``specParams.driver.ats``        ``driver@ats`` (bool, on/off)
``specParams.driver.packed``     ``driver@packed`` (bool, on/off)
``specParams.driver.pagePerVq``  ``driver@page_per_vq`` (bool, on/off)
``specParams.acpiIndex``         ``acpi@index``
================================ ================================================================

A spec without ``device`` builds ``ich6`` (the schema requires a model). ``multichannel``,
``streams``, the virtio model and its ``<driver>`` are newer than libvirt 9.0's schema
(libvirt 11.3 has them). An element written with ``<driver streams=.../>`` (no libvirt
writes that; the schema puts ``streams`` on ``<sound>``) keeps it as unmodeled XML.

Metadata by design: ``custom`` (the engine's device custom properties).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from devframe import (
    UINT8,
    YES_NO,
    AcpiIndex,
    Children,
    Choice,
    Device,
    ElementView,
    Field,
    Identity,
    IntRange,
    VirtioOptions,
    address_text,
)

#: libvirt's uint32 (the stream count)
UINT32 = IntRange(0, 0xFFFFFFFF, name="uint32")

MODELS = ("sb16", "es1370", "pcspk", "ac97", "ich6", "ich7", "ich9", "usb", "virtio")


class Codec(ElementView):
    """One ``<codec type='...'/>`` of a sound card."""

    tag = "codec"
    type = Field("@type", Choice("duplex", "micro", "output"), spec="type")


class Sound(VirtioOptions, AcpiIndex, Device):
    """A sound card. Identity without an alias: its guest address."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "sound"
    identity_devtype: ClassVar[str | None] = "sound"  # every identity() holds it
    tag: ClassVar[str] = "sound"
    description: ClassVar[str] = "sound cards (<sound model=...>)"
    child_order: ClassVar[tuple[str, ...]] = ("driver", "codec", "audio", "alias", "acpi", "address")

    metadata_keys: ClassVar[Mapping[str, type | None]] = {"custom": dict}

    model = Field("@model", Choice(*MODELS), spec="device", default="ich6", doc="sound card model")
    multichannel = Field("@multichannel", YES_NO, spec="specParams.multichannel", doc="usb audio")
    streams = Field("@streams", UINT32, spec="specParams.streams", doc="PCM streams (virtio)")
    codecs = Children("codec", Codec, spec="specParams.codecs", doc="HDA codecs")
    audio_id = Field("audio@id", UINT8, spec="specParams.audioId", doc="the <audio> backend it plays to")

    def identity(self) -> Identity | None:
        address = address_text(self.raw_address())
        return {"devtype": "sound", "address": address} if address else None
