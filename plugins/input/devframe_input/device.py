"""The ``<input>`` dev_class: pointing devices, keyboards and host input passthrough.

Models libvirt's ``<input>`` element (formatdomain "Input devices")::

    <input type='tablet|mouse|keyboard' bus='ps2|usb|xen|virtio' model='virtio'>
      <driver iommu='on' ats='on' packed='on' page_per_vq='on'/>
      <alias name='ua-...'/>
      <acpi index='1'/>
      <address type='usb' bus='0' port='1'/>
    </input>
    <input type='passthrough' bus='virtio'><source evdev='/dev/input/event1'/></input>
    <input type='evdev'>
      <source dev='/dev/input/event2' grab='all' grabToggle='ctrl-ctrl' repeat='on'/>
    </input>

dev_spec mapping (engine key on the left, XML place on the right). VDSM sent
``{"type": "input", "device": "tablet", "specParams": {"bus": "usb"}}``:

================================= =====================================================
``device``                        ``@type`` (mouse, tablet, keyboard, passthrough,
                                  evdev). An element without ``@type`` gives
                                  ``"input"``, which builds none, so the round trip is
                                  exact.
``alias``                         ``alias@name``
``deviceId``                      the ``<deviceId>`` of a ``ua-<deviceId>`` alias
``address``                       the direct child ``address`` (a dict)
``specParams.bus``                ``@bus`` (ps2, usb, xen, virtio; libvirt's internal
                                  parallels and none are kept too)
``specParams.model``              ``@model`` (virtio, virtio-transitional,
                                  virtio-non-transitional)
``specParams.source.evdev``       ``source@evdev`` (passthrough: host event device)
``specParams.source.dev``         ``source@dev`` (evdev: host event device)
``specParams.source.grab``        ``source@grab`` (evdev: ``all``)
``specParams.source.grabToggle``  ``source@grabToggle`` (evdev: ctrl-ctrl, alt-alt,
                                  shift-shift, meta-meta, scrolllock, ctrl-scrolllock)
``specParams.source.repeat``      ``source@repeat`` (evdev; bool, on/off)
``specParams.driver.iommu``       ``driver@iommu`` (bool, on/off)
``specParams.driver.ats``         ``driver@ats`` (bool, on/off)
``specParams.driver.packed``      ``driver@packed`` (bool, on/off)
``specParams.driver.pagePerVq``   ``driver@page_per_vq`` (bool, on/off)
``specParams.acpiIndex``          ``acpi@index``
================================= =====================================================

Defaults (libvirt's schema requires ``@type``; passthrough also requires ``@bus`` to be
virtio and a ``<source evdev>``, evdev a ``<source dev>``): a spec without ``device``
builds a ``tablet``; a passthrough spec without ``specParams.bus`` gets ``virtio``. The
bus of the other types is left to libvirt, which picks it from the machine (ps2 for a
mouse or keyboard on x86, usb for a tablet, xen on Xen PV). A passthrough spec without
``specParams.source.evdev``, or an evdev one without ``specParams.source.dev``, is a
:class:`devframe.SpecError` naming the key, as is a value a field cannot hold. Values
outside the documented sets are kept (a newer libvirt may know them).
"""

from __future__ import annotations

from typing import Any, ClassVar

from devframe import (
    ABS_PATH,
    ON_OFF,
    AcpiIndex,
    Choice,
    Device,
    Field,
    Identity,
    SpecError,
    VirtioOptions,
    address_text,
)

__all__ = ["BUSES", "GRAB_TOGGLES", "INPUT_TYPES", "MODELS", "Input"]

#: Every ``@type`` of the schema.
INPUT_TYPES = ("mouse", "tablet", "keyboard", "passthrough", "evdev")
#: The schema's buses, then the two libvirt parses but never writes for QEMU.
BUSES = ("ps2", "usb", "xen", "virtio", "parallels", "none")
#: virtio input models.
MODELS = ("virtio", "virtio-transitional", "virtio-non-transitional")
#: The key combinations that switch an evdev grab between host and guest.
GRAB_TOGGLES = ("ctrl-ctrl", "alt-alt", "shift-shift", "meta-meta", "scrolllock", "ctrl-scrolllock")

_NO_TYPE = "input"  # the spec ``device`` of an input without @type (Device.spec_device)


class Input(VirtioOptions, AcpiIndex, Device):
    """An input device. Identity without an alias: type, bus and guest address."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "input"
    identity_devtype: ClassVar[str | None] = "input"  # every identity() holds it
    tag: ClassVar[str] = "input"
    description: ClassVar[str] = "input devices (<input type=... bus=...>)"
    # libvirt writes <driver>, then <source>, then the device info.
    child_order: ClassVar[tuple[str, ...]] = ("driver", "source", "alias", "acpi", "address")

    type = Field("@type", Choice(*INPUT_TYPES), spec="device", default="tablet", absent_spec=_NO_TYPE, doc="input type")
    bus = Field("@bus", Choice(*BUSES), spec="specParams.bus", doc="bus the device sits on")
    model = Field("@model", Choice(*MODELS), spec="specParams.model", doc="virtio input model")
    evdev = Field("source@evdev", ABS_PATH, spec="specParams.source.evdev", doc="host event device (passthrough)")
    source_dev = Field("source@dev", ABS_PATH, spec="specParams.source.dev", doc="host event device (evdev)")
    grab = Field("source@grab", Choice("all"), spec="specParams.source.grab", doc="grab every device (evdev)")
    grab_toggle = Field(
        "source@grabToggle", Choice(*GRAB_TOGGLES), spec="specParams.source.grabToggle", doc="grab switch keys"
    )
    repeat = Field("source@repeat", ON_OFF, spec="specParams.source.repeat", doc="key repeat (evdev)")

    def read_spec(self, rest: dict[str, Any]) -> None:
        """Passthrough gets the virtio bus it must have; the source a passthrough or evdev
        input cannot work without is required."""
        kind = self.element.get("type")
        if kind == "passthrough":
            if self.element.get("bus") is None:
                self.bus = "virtio"
            if self.evdev is None:
                raise SpecError(f"{self.describe()}: a passthrough input needs dev_spec key 'specParams.source.evdev'")
        elif kind == "evdev" and self.source_dev is None:
            raise SpecError(f"{self.describe()}: an evdev input needs dev_spec key 'specParams.source.dev'")

    def identity(self) -> Identity | None:
        """Type, bus and guest address, those the element has (None when it has none)."""
        element = self.element
        found: dict[str, str] = {}
        for name in ("type", "bus"):
            value = element.get(name)
            if value:
                found[name] = value
        address = address_text(self.raw_address())
        if address:
            found["address"] = address
        return {"devtype": "input", **found} if found else None
