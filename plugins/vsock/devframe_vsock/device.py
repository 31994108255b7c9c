"""The ``<vsock>`` dev_class: a virtio socket device (AF_VSOCK between host and guest).

Models libvirt's ``<vsock>`` element (formatdomain "Vsock"), every attribute and child
of libvirt 11.3's schema (libvirt 9.0's is the same)::

    <vsock model='virtio'>
      <cid auto='no' address='3'/>
      <alias name='ua-...'/>
      <acpi index='5'/>
      <address type='pci' .../>
      <driver iommu='on' ats='on' packed='on' page_per_vq='on'/>
    </vsock>

dev_spec mapping (engine key on the left, XML place on the right). VDSM and the oVirt
engine had no vsock device, so every key but ``device`` is under ``specParams``:

================================ ===================================================
``device``                       ``@model`` (virtio, virtio-transitional,
                                 virtio-non-transitional). A vsock without a model
                                 gives ``"vsock"``, which builds none (libvirt then
                                 uses virtio), so the round trip is exact.
``alias``                        ``alias@name``
``deviceId``                     the ``<deviceId>`` of a ``ua-<deviceId>`` alias
``address``                      the direct child ``address`` (a dict)
``specParams.cid``               ``cid@address`` (int, 0 .. 2**32-1): the guest's
                                 context id
``specParams.auto``              ``cid@auto`` (bool, yes/no): libvirt picks a free
                                 context id itself
``specParams.acpiIndex``         ``acpi@index``
``specParams.driver.iommu``      ``driver@iommu`` (bool, on/off)
``specParams.driver.ats``        ``driver@ats`` (bool, on/off)
``specParams.driver.packed``     ``driver@packed`` (bool, on/off)
``specParams.driver.pagePerVq``  ``driver@page_per_vq`` (bool, on/off)
================================ ===================================================

Engines send numbers as strings as often as ints; both are accepted, ``to_spec`` gives
ints. A value that cannot be used (a cid that is no unsigned 32-bit int, a model that
is not a string) is a :class:`devframe.SpecError` naming the key.

Defaults: a spec without ``device`` builds ``model='virtio'``. No attribute or child is
required by the schema; a spec without ``cid`` builds no ``<cid>``, and libvirt then
takes ``auto='yes'`` (it only assumes ``auto='no'`` when an address is given).

Metadata by design: ``custom`` (the engine's device custom properties).

Identity without an alias: the model (a domain has at most one vsock).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from devframe import UINT32, YES_NO, AcpiIndex, Choice, Device, Field, Identity, VirtioOptions

__all__ = ["MODELS", "Vsock"]

#: Every ``@model`` libvirt's schema allows for ``<vsock>``.
MODELS = ("virtio", "virtio-transitional", "virtio-non-transitional")

_NO_MODEL = "vsock"  # the spec ``device`` of a vsock without @model (Device.spec_device)


class Vsock(VirtioOptions, AcpiIndex, Device):
    """A virtio vsock device. Identity without an alias: its model."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "vsock"
    identity_devtype: ClassVar[str | None] = "vsock"  # every identity() holds it
    tag: ClassVar[str] = "vsock"
    description: ClassVar[str] = "virtio sockets (<vsock model=...><cid .../>)"
    # libvirt writes the children in this order; new ones are put in place.
    child_order: ClassVar[tuple[str, ...]] = ("cid", "alias", "acpi", "address", "driver")
    # The engine's device custom properties: metadata by design, as for every kind.
    metadata_keys: ClassVar[Mapping[str, type | None]] = {"custom": dict}

    model = Field("@model", Choice(*MODELS), spec="device", default="virtio", absent_spec=_NO_MODEL, doc="vsock model")
    # auto before address: the order libvirt writes them in
    cid_auto = Field("cid@auto", YES_NO, spec="specParams.auto", doc="libvirt assigns a free context id")
    cid = Field("cid@address", UINT32, spec="specParams.cid", doc="the guest's context id")

    def identity(self) -> Identity | None:
        """The model (a domain has at most one vsock); None without one."""
        model = self.element.get("model")
        return {"devtype": "vsock", "model": model} if model else None

    def summary(self) -> dict[str, Any]:
        """Key fields for ``devframe inspect``: model (``(default)`` without one) and cid
        first, then the driver options."""
        out = super().summary()
        out.setdefault("model", "(default)")
        return {**{k: out[k] for k in ("model", "cid", "cid_auto") if k in out}, **out}
