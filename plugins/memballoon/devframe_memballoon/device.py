"""The ``<memballoon>`` dev_class: the memory balloon (VDSM's ``balloon`` device).

Models libvirt's ``<memballoon>`` element (formatdomain "Memory balloon device")::

    <memballoon model='virtio' autodeflate='on' freePageReporting='on'>
      <stats period='10'/>
      <alias name='ua-...'/>
      <acpi index='3'/>
      <address type='pci' .../>
      <driver iommu='on' ats='on' packed='on' page_per_vq='on'/>
    </memballoon>

dev_spec mapping (engine key on the left, XML place on the right). VDSM named the kind
``balloon`` and sent ``{"type": "balloon", "device": "memballoon", "specParams":
{"model": "virtio"}}``; specs of type ``balloon`` or ``memballoon`` both build it,
``to_spec`` writes ``balloon``, and the dev_map key stays ``memballoon``:

================================= =====================================================
``type``                          ``"balloon"`` (``spec_type``)
``device``                        always ``"memballoon"`` (VDSM's word; the model is
                                  below)
``alias``                         ``alias@name``
``deviceId``                      the ``<deviceId>`` of a ``ua-<deviceId>`` alias
``address``                       the direct child ``address`` (a dict)
``specParams.model``              ``@model`` (virtio, virtio-transitional,
                                  virtio-non-transitional, xen, none)
``specParams.autodeflate``        ``@autodeflate`` (bool, on/off)
``specParams.freePageReporting``  ``@freePageReporting`` (bool, on/off)
``specParams.stats.period``       ``stats@period`` (seconds between statistics
                                  updates, an int >= 1)
``specParams.driver.iommu``       ``driver@iommu`` (bool, on/off)
``specParams.driver.ats``         ``driver@ats`` (bool, on/off)
``specParams.driver.packed``      ``driver@packed`` (bool, on/off)
``specParams.driver.pagePerVq``   ``driver@page_per_vq`` (bool, on/off)
``specParams.acpiIndex``          ``acpi@index``
================================= =====================================================

Defaults: a spec without ``specParams.model`` builds a ``virtio`` balloon (the schema
requires a model; virtio is the one libvirt adds to a QEMU guest itself). Other keys
VDSM's balloon specs carried (``target``, ``minimum``: the balloon's size, which is no
part of the element) are kept in the device's metadata by design (``metadata_keys``,
ints). A value a field cannot hold is a :class:`devframe.SpecError` naming the key; a
model outside the list is kept (a newer libvirt may know it). An element without
``@model`` is kept, and ``problems()`` reports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from devframe import (
    ON_OFF,
    POSITIVE,
    AcpiIndex,
    Choice,
    Device,
    Field,
    Identity,
    VirtioOptions,
)

__all__ = ["BALLOON_MODELS", "Memballoon"]

#: Every memballoon ``@model`` of the schema.
BALLOON_MODELS = ("virtio", "virtio-transitional", "virtio-non-transitional", "xen", "none")


class Memballoon(VirtioOptions, AcpiIndex, Device):
    """The memory balloon. Identity without an alias: its model (a guest has one)."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "memballoon"
    identity_devtype: ClassVar[str | None] = "memballoon"  # every identity() holds it
    spec_type: ClassVar[str] = "balloon"
    tag: ClassVar[str] = "memballoon"
    description: ClassVar[str] = "the memory balloon (<memballoon model=...>; dev_spec type 'balloon')"
    # libvirt writes <stats>, the device info, then <driver> last.
    child_order: ClassVar[tuple[str, ...]] = ("stats", "alias", "acpi", "address", "driver")
    # VDSM's balloon size (KiB): the domain's <currentMemory>, no part of the element.
    metadata_keys: ClassVar[Mapping[str, type | None]] = {"target": int, "minimum": int}

    model = Field(
        "@model", Choice(*BALLOON_MODELS), spec="specParams.model", default="virtio", required=True, doc="balloon model"
    )
    autodeflate = Field("@autodeflate", ON_OFF, spec="specParams.autodeflate", doc="deflate on guest OOM")
    free_page_reporting = Field(
        "@freePageReporting", ON_OFF, spec="specParams.freePageReporting", doc="guest reports free pages"
    )
    stats_period = Field("stats@period", POSITIVE, spec="specParams.stats.period", doc="statistics period, s")

    def identity(self) -> Identity | None:
        """The model: a guest has at most one balloon. None without a model."""
        model = self.element.get("model")
        return {"devtype": "memballoon", "model": model} if model else None
