"""The ``<watchdog>`` dev_class: a hardware watchdog timer and what the host does when it fires.

Models libvirt's ``<watchdog>`` element (formatdomain "Watchdog devices")::

    <watchdog model='i6300esb' action='reset'>
      <alias name='ua-...'/>
      <acpi index='2'/>
      <address type='pci' .../>
    </watchdog>

Models: ``i6300esb`` (PCI), ``ib700`` (ISA), ``diag288`` (s390x) and ``itco`` (the
q35 chipset's TCO timer; libvirt 11.x, not in 9.0's schema). Actions: ``reset``,
``shutdown``, ``poweroff``, ``pause``, ``none``, ``dump`` and ``inject-nmi``.

dev_spec mapping (engine key on the left, XML place on the right). VDSM sent
``{"type": "watchdog", "device": "watchdog", "specParams": {"model": "i6300esb",
"action": "reset"}}``:

======================== ==========================================================
``device``               always ``"watchdog"`` (VDSM's word; the model is below)
``alias``                ``alias@name``
``deviceId``             the ``<deviceId>`` of a ``ua-<deviceId>`` alias
``address``              the direct child ``address`` (a dict)
``specParams.model``     ``@model``
``specParams.action``    ``@action``
``specParams.acpiIndex`` ``acpi@index``
======================== ==========================================================

Defaults: a spec without ``specParams.model`` builds an ``i6300esb`` (the schema
requires a model; i6300esb is the one VDSM defaulted to, a PCI device every PCI
machine takes). ``action`` is left out when the spec has none, so libvirt applies its
own default (``reset``). A value that is not a string is a :class:`devframe.SpecError`
naming the key; other strings are kept (a newer libvirt may know them). An element
without ``@model`` is kept, and ``problems()`` reports it.
"""

from __future__ import annotations

from typing import ClassVar

from devframe import AcpiIndex, Choice, Device, Field, Identity

__all__ = ["WATCHDOG_ACTIONS", "WATCHDOG_MODELS", "Watchdog"]

#: Every watchdog ``@model`` of libvirt 11.3's schema (``itco`` is not in 9.0's).
WATCHDOG_MODELS = ("i6300esb", "ib700", "diag288", "itco")
#: Every ``@action`` of the schema.
WATCHDOG_ACTIONS = ("reset", "shutdown", "poweroff", "pause", "none", "dump", "inject-nmi")


class Watchdog(AcpiIndex, Device):
    """A watchdog timer. Identity without an alias: its model."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "watchdog"
    identity_devtype: ClassVar[str | None] = "watchdog"  # every identity() holds it
    tag: ClassVar[str] = "watchdog"
    description: ClassVar[str] = "watchdog timers (<watchdog model=... action=...>)"
    child_order: ClassVar[tuple[str, ...]] = ("alias", "acpi", "address")

    model = Field(
        "@model",
        Choice(*WATCHDOG_MODELS),
        spec="specParams.model",
        default="i6300esb",
        required=True,
        doc="watchdog model",
    )
    action = Field("@action", Choice(*WATCHDOG_ACTIONS), spec="specParams.action", doc="what the host does")

    def identity(self) -> Identity | None:
        """The model (libvirt gives a guest one watchdog per model). None without one."""
        model = self.element.get("model")
        return {"devtype": "watchdog", "model": model} if model else None
