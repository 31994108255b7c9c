"""The ``<sound>`` dev_class.

dev_spec mapping (engine keys on the left):

========== ====================================
device     ``@model`` (``ich6``, ``ich9``, ``ac97``, ``usb``, ...)
alias      ``alias@name``
address    the direct child ``address``
codecs     ``codec@type`` of each ``<codec>`` (specParams)
audioId    ``audio@id`` (specParams)
========== ====================================
"""

from __future__ import annotations

from typing import Any, ClassVar

from devframe import INT, YES_NO, Children, Choice, Device, ElementView, Field

MODELS = ("sb16", "es1370", "pcspk", "ac97", "ich6", "ich7", "ich9", "usb", "virtio")


class Codec(ElementView):
    """One ``<codec type='...'/>`` of a sound card."""

    tag = "codec"
    type = Field("@type", Choice("duplex", "micro", "output"), spec="type")


class Sound(Device):
    """A sound card. Identity without an alias: its guest address."""

    dev_type: ClassVar[str] = "sound"
    tag: ClassVar[str] = "sound"
    child_order: ClassVar[tuple[str, ...]] = ("codec", "audio", "alias", "address")

    model = Field("@model", Choice(*MODELS), spec="device", default="ich6", doc="sound card model")
    multichannel = Field("@multichannel", YES_NO, spec="specParams.multichannel")
    codecs = Children("codec", Codec, spec="specParams.codecs", doc="HDA codecs")
    audio_id = Field("audio@id", INT, spec="specParams.audioId", doc="the <audio> backend it plays to")

    def identity(self) -> tuple[Any, ...] | None:
        address = self.address
        if address:
            return ("address",) + tuple(sorted(address.items()))
        return None
