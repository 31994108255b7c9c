"""The ``<crypto>`` dev_class: a virtio crypto accelerator (not in libvirt 9.0's schema).

Models libvirt's ``<crypto>`` element (formatdomain "Crypto"), every attribute and
child of libvirt 11.3's schema::

    <crypto model='virtio' type='qemu'>
      <backend model='builtin' queues='1'/>
      <driver iommu='on' ats='on' packed='on' page_per_vq='on'/>
      <alias name='ua-...'/>
      <address type='pci' .../>
    </crypto>

dev_spec mapping (engine key on the left, XML place on the right). VDSM and the oVirt
engine had no crypto device, so every key but ``device`` is under ``specParams``:

================================ ==================================================
``device``                       ``@model`` (virtio). An element without a model
                                 gives ``"crypto"``, which builds none, so the
                                 round trip is exact.
``alias``                        ``alias@name``
``deviceId``                     the ``<deviceId>`` of a ``ua-<deviceId>`` alias
``address``                      the direct child ``address`` (a dict)
``specParams.type``              ``@type`` (qemu)
``specParams.backend``           ``backend@model`` (builtin: QEMU's own
                                 implementation; lkcf: the host kernel's crypto API)
``specParams.queues``            ``backend@queues`` (int >= 1)
``specParams.driver.iommu``      ``driver@iommu`` (bool, on/off)
``specParams.driver.ats``        ``driver@ats`` (bool, on/off)
``specParams.driver.packed``     ``driver@packed`` (bool, on/off)
``specParams.driver.pagePerVq``  ``driver@page_per_vq`` (bool, on/off)
================================ ==================================================

Engines send numbers as strings as often as ints; both are accepted, ``to_spec`` gives
ints. A value that cannot be used (queues that are no positive int, a model or backend
that is not a string) is a :class:`devframe.SpecError` naming the key.

Defaults: the schema requires ``@model``, ``@type`` and ``<backend model=...>``; a spec
without them builds ``model='virtio'``, ``type='qemu'`` (the only values libvirt
knows) and ``<backend model='builtin'/>`` (the backend that needs nothing on the host).
``queues`` is left to libvirt.

Identity without an alias: model and backend model (devices that share both pair in
document order).
"""

from __future__ import annotations

from typing import Any, ClassVar

from devframe import POSITIVE, Choice, Device, Field, Identity, VirtioOptions

__all__ = ["BACKENDS", "MODELS", "TYPES", "Crypto"]

#: Every ``@model``, ``@type`` and ``backend@model`` libvirt 11.3's schema allows.
MODELS = ("virtio",)
TYPES = ("qemu",)
BACKENDS = ("builtin", "lkcf")

_NO_MODEL = "crypto"  # the spec ``device`` of an element without @model (Device.spec_device)


class Crypto(VirtioOptions, Device):
    """A virtio crypto device. Identity without an alias: model and backend."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "crypto"
    identity_devtype: ClassVar[str | None] = "crypto"  # every identity() holds it
    tag: ClassVar[str] = "crypto"
    description: ClassVar[str] = "virtio crypto devices (<crypto model=... type=...><backend .../>)"
    # libvirt writes the children in this order; new ones are put in place.
    child_order: ClassVar[tuple[str, ...]] = ("backend", "driver", "alias", "address")

    model = Field("@model", Choice(*MODELS), spec="device", default="virtio", absent_spec=_NO_MODEL, doc="crypto model")
    type = Field("@type", Choice(*TYPES), spec="specParams.type", default="qemu", doc="implementation (qemu)")
    backend = Field(
        "backend@model", Choice(*BACKENDS), spec="specParams.backend", default="builtin", doc="backend model"
    )
    queues = Field("backend@queues", POSITIVE, spec="specParams.queues", doc="backend queues")

    def summary(self) -> dict[str, Any]:
        """Key fields for ``devframe inspect``: model, type and backend first, then the
        driver options."""
        out = super().summary()
        return {**{k: out[k] for k in ("model", "type", "backend", "queues") if k in out}, **out}

    def identity(self) -> Identity | None:
        """Model and backend model, each where the element has it; None with neither."""
        element = self.element  # read directly: binding asks every device without an alias
        identity = {"devtype": "crypto"}
        model = element.get("model")
        if model:
            identity["model"] = model
        backend_element = next(element.iterchildren("backend"), None)
        backend = backend_element.get("model") if backend_element is not None else None
        if backend:
            identity["backend"] = backend
        return identity if len(identity) > 1 else None
