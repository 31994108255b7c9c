"""The ``<sound>`` dev_class.

dev_spec mapping (engine keys on the left, XML place on the right):

=========================== =====================================================================
``device``                  ``@model`` (sb16, es1370, pcspk, ac97, ich6, ich7, ich9, usb, virtio)
``alias``                   ``alias@name``
``deviceId``                the ``<deviceId>`` of a ``ua-<deviceId>`` alias
``address``                 the direct child ``address`` (a dict)
``specParams.multichannel`` ``@multichannel`` (bool, yes/no; usb model)
``specParams.codecs``       ``codec@type`` of each ``<codec>`` (``[{"type": ...}]``)
``specParams.audioId``      ``audio@id`` (the ``<audio>`` backend it plays to)
``specParams.streams``      ``driver@streams`` (virtio model)
``specParams.acpiIndex``    ``acpi@index``
=========================== =====================================================================

A spec without ``device`` builds ``ich6`` (the schema requires a model).
"""

from __future__ import annotations

from typing import ClassVar

from devframe import INT, YES_NO, AcpiIndex, Children, Choice, Device, ElementView, Field, Identity, address_text

MODELS = ("sb16", "es1370", "pcspk", "ac97", "ich6", "ich7", "ich9", "usb", "virtio")


class Codec(ElementView):
    """One ``<codec type='...'/>`` of a sound card."""

    tag = "codec"
    type = Field("@type", Choice("duplex", "micro", "output"), spec="type")


class Sound(AcpiIndex, Device):
    """A sound card. Identity without an alias: its guest address."""

    dev_type: ClassVar[str] = "sound"
    tag: ClassVar[str] = "sound"
    description: ClassVar[str] = "sound cards (<sound model=...>)"
    child_order: ClassVar[tuple[str, ...]] = ("driver", "codec", "audio", "alias", "acpi", "address")

    model = Field("@model", Choice(*MODELS), spec="device", default="ich6", doc="sound card model")
    multichannel = Field("@multichannel", YES_NO, spec="specParams.multichannel")
    codecs = Children("codec", Codec, spec="specParams.codecs", doc="HDA codecs")
    audio_id = Field("audio@id", INT, spec="specParams.audioId", doc="the <audio> backend it plays to")
    streams = Field("driver@streams", INT, spec="specParams.streams", doc="PCM streams (virtio)")

    def identity(self) -> Identity | None:
        address = address_text(self.raw_address())
        return {"devtype": "sound", "address": address} if address else None
