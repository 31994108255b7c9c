"""The ``<video>`` dev_class.

Models libvirt's ``<video>`` element (formatdomain "Video devices")::

    <video>
      <driver name='qemu|vhostuser' vgaconf='io|on|off' iommu='on' ats='on' packed='on' page_per_vq='on'/>
      <model type='qxl' ram='65536' vram='65536' vram64='0' vgamem='16384' heads='1' primary='yes'
             blob='on' edid='on'>
        <acceleration accel3d='yes' accel2d='no' rendernode='/dev/dri/renderD128'/>
        <resolution x='1920' y='1080'/>
      </model>
      <alias name='ua-...'/>
      <acpi index='3'/>
      <address type='pci' .../>
    </video>

dev_spec mapping (engine key on the left, XML place on the right):

=============================== ===============================================
``device``                      ``model@type`` (vga, cirrus, vmvga, xen, vbox,
                                qxl, virtio, gop, bochs, ramfb, none). A video
                                element without ``<model>`` gives ``"video"``,
                                which builds no ``<model>`` (the hypervisor's
                                default model), so the round trip is exact.
``alias``                       ``alias@name``
``deviceId``                    the ``<deviceId>`` of a ``ua-<deviceId>`` alias
``address``                     the direct child ``address`` (a dict)
``specParams.vram``             ``model@vram`` (KiB, int)
``specParams.vram64``           ``model@vram64`` (KiB, qxl)
``specParams.ram``              ``model@ram`` (KiB, qxl)
``specParams.vgamem``           ``model@vgamem`` (KiB, qxl)
``specParams.heads``            ``model@heads``
``specParams.primary``          ``model@primary`` (bool, yes/no)
``specParams.blob``             ``model@blob`` (bool, on/off; virtio; libvirt
                                11, not in 9.0's schema)
``specParams.edid``             ``model@edid`` (bool, on/off; newer than libvirt
                                11.3's schema, kept typed for the libvirt that
                                writes it)
``specParams.accel3d``          ``model/acceleration@accel3d`` (bool)
``specParams.accel2d``          ``model/acceleration@accel2d`` (bool)
``specParams.rendernode``       ``model/acceleration@rendernode`` (path)
``specParams.resolution.x``     ``model/resolution@x``
``specParams.resolution.y``     ``model/resolution@y``
``specParams.driver.name``      ``driver@name`` (qemu, vhostuser)
``specParams.driver.vgaconf``   ``driver@vgaconf`` (io, on, off)
``specParams.driver.iommu``     ``driver@iommu`` (bool, on/off)
``specParams.driver.ats``       ``driver@ats`` (bool, on/off)
``specParams.driver.packed``    ``driver@packed`` (bool, on/off)
``specParams.driver.pagePerVq`` ``driver@page_per_vq`` (bool, on/off)
``specParams.acpiIndex``        ``acpi@index``
=============================== ===============================================

Engines send the numbers as strings (``'vram': '65536'``) as often as ints; both are
accepted, and ``to_spec`` gives ints (the schema's ``unsignedInt``: no negative
value). Everything else in the element (unknown attributes, children, namespaced
extensions) is kept as it is.

Defaults: a spec without ``device`` builds a ``<video/>`` without a model, which is
what libvirt itself does with it: it picks the model for the guest's architecture and
machine (x86_64: vga or cirrus depending on QEMU, ppc64: vga, aarch64/s390x: virtio),
which a dev_spec alone cannot know. No video attribute is required by the schema.

Metadata by design: ``custom`` (the engine's device custom properties).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from devframe import (
    ON_OFF,
    STR,
    UINT,
    YES_NO,
    AcpiIndex,
    Choice,
    Device,
    Field,
    Identity,
    VirtioOptions,
    address_text,
)

__all__ = ["MODEL_TYPES", "Video"]

#: Every ``model@type`` libvirt documents for ``<video>``.
MODEL_TYPES = ("vga", "cirrus", "vmvga", "xen", "vbox", "qxl", "virtio", "gop", "bochs", "ramfb", "none")

_NO_MODEL = "video"  # the spec ``device`` of a video without <model> (Device.spec_device)


def _model_from_spec(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a video model name, got {type(value).__name__}")
    return value


class Video(VirtioOptions, AcpiIndex, Device):
    """A video card. Identity without an alias: its guest address."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "video"
    identity_devtype: ClassVar[str | None] = "video"  # every identity() holds it
    tag: ClassVar[str] = "video"
    description: ClassVar[str] = "video cards (<video><model type=...>)"
    child_order: ClassVar[tuple[str, ...]] = ("driver", "model", "alias", "acpi", "address")

    metadata_keys: ClassVar[Mapping[str, type | None]] = {"custom": dict}

    model_type = Field("model@type", Choice(*MODEL_TYPES), spec="device", from_spec=_model_from_spec, doc="video model")
    vram = Field("model@vram", UINT, spec="specParams.vram", doc="video memory, KiB")
    vram64 = Field("model@vram64", UINT, spec="specParams.vram64", doc="64-bit video memory, KiB (qxl)")
    ram = Field("model@ram", UINT, spec="specParams.ram", doc="RAM bar, KiB (qxl)")
    vgamem = Field("model@vgamem", UINT, spec="specParams.vgamem", doc="VGA framebuffer, KiB (qxl)")
    heads = Field("model@heads", UINT, spec="specParams.heads", doc="number of screens")
    primary = Field("model@primary", YES_NO, spec="specParams.primary", doc="the primary video device")
    blob = Field("model@blob", ON_OFF, spec="specParams.blob", doc="blob resources (virtio-gpu)")
    edid = Field("model@edid", ON_OFF, spec="specParams.edid", doc="EDID for the guest (newer than libvirt 11.3)")
    accel3d = Field("model/acceleration@accel3d", YES_NO, spec="specParams.accel3d")
    accel2d = Field("model/acceleration@accel2d", YES_NO, spec="specParams.accel2d")
    rendernode = Field("model/acceleration@rendernode", STR, spec="specParams.rendernode", doc="host DRM render node")
    resolution_x = Field("model/resolution@x", UINT, spec="specParams.resolution.x", doc="minimum resolution width")
    resolution_y = Field("model/resolution@y", UINT, spec="specParams.resolution.y", doc="minimum resolution height")
    driver_name = Field("driver@name", Choice("qemu", "vhostuser"), spec="specParams.driver.name")
    vgaconf = Field("driver@vgaconf", Choice("io", "on", "off"), spec="specParams.driver.vgaconf")

    def read_spec(self, rest: dict[str, Any]) -> None:
        """Build no ``<model>`` for ``device == "video"``: what a video without one reports."""
        if rest.get("device") == _NO_MODEL:
            self.model_type = None

    def identity(self) -> Identity | None:
        """The guest address (video cards have no other identity than alias and address)."""
        address = address_text(self.raw_address())
        return {"devtype": "video", "address": address} if address else None

    def summary(self) -> dict[str, Any]:
        """Key fields for ``devframe inspect``: model first, then sizes and options."""
        out = super().summary()
        if "model_type" not in out:
            out = {"model_type": "(default)", **out}
        return out
