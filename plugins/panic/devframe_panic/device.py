"""The ``<panic>`` dev_class: how the guest tells the host it panicked.

Models libvirt's ``<panic>`` element (formatdomain "Panic device")::

    <panic model='isa'>
      <alias name='ua-...'/>
      <address type='isa' iobase='0x505'/>
    </panic>

Models of libvirt 11.3's schema: ``isa`` (the ISA pvpanic port, x86), ``pseries``
(the PAPR hypervisor call, ppc64), ``hyperv`` (Hyper-V crash MSRs, x86 and aarch64),
``s390`` (diagnose 288 stop, s390x) and ``pvpanic`` (the PCI pvpanic device; new in
11.x, QEMU's ``pvpanic-pci``). There is no ``pvpanic-pci`` model name in the schema:
libvirt picks the PCI device for ``pvpanic``.

dev_spec mapping (engine key on the left, XML place on the right; VDSM had no panic
device, so the spec follows the general rule, ``device`` being the model):

============== ===============================================================
``device``     ``@model`` (isa, pseries, hyperv, s390, pvpanic). A panic
               without ``@model`` gives ``"panic"``, which builds none (libvirt
               then picks the arch's model), so the round trip is exact.
``alias``      ``alias@name``
``deviceId``   the ``<deviceId>`` of a ``ua-<deviceId>`` alias
``address``    the direct child ``address`` (a dict: isa iobase, pci, ...)
============== ===============================================================

Defaults: none are needed; the schema makes ``@model`` optional and libvirt picks the
model of the guest's arch (isa on x86, pseries on ppc64, s390 on s390x), which a
spec alone cannot know. A ``device`` that is not a string is a
:class:`devframe.SpecError` naming the key; another string is kept as the model (a
newer libvirt may know it).
"""

from __future__ import annotations

from typing import Any, ClassVar

from devframe import Choice, Device, Field, Identity, address_text

__all__ = ["PANIC_MODELS", "Panic"]

#: Every panic ``@model`` of libvirt 11.3's schema (``pvpanic`` is not in 9.0's).
PANIC_MODELS = ("isa", "pseries", "hyperv", "s390", "pvpanic")

_NO_MODEL = "panic"  # the spec ``device`` of a panic without @model (Device.spec_device)


class Panic(Device):
    """A panic notifier. Identity without an alias: its model."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "panic"
    identity_devtype: ClassVar[str | None] = "panic"  # every identity() holds it
    tag: ClassVar[str] = "panic"
    description: ClassVar[str] = "guest panic notifiers (<panic model=...>)"
    child_order: ClassVar[tuple[str, ...]] = ("alias", "address")

    model = Field(
        "@model", Choice(*PANIC_MODELS), spec="device", absent_spec=_NO_MODEL, doc="panic model (default: the arch's)"
    )

    def identity(self) -> Identity | None:
        """The model (a guest has one panic notifier per model); None without one."""
        model = self.element.get("model")
        return {"devtype": "panic", "model": model} if model else None

    def summary(self) -> dict[str, Any]:
        """The model, ``(default)`` when libvirt picks it, and the address."""
        out = super().summary()
        out.setdefault("model", "(default)")
        address = address_text(self.raw_address())
        if address:
            out["address"] = address
        return out
