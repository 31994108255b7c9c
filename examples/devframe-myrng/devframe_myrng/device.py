"""The <rng> dev_class: a virtio random number generator.

dev_spec mapping: device = model; specParams.backend = backend model;
specParams.path = the 'random' backend's entropy file; specParams.backendType and
specParams.sources = the 'egd' backend's character device; specParams.bytes /
specParams.period = the rate limit; specParams.iommu = the virtio driver option.
"""

from typing import ClassVar

from devframe import INT, ON_OFF, Children, Choice, Device, ElementView, Field, Identity, address_text


class Source(ElementView):
    """One <source> of an 'egd' backend (a socket to an entropy daemon)."""

    mode = Field("@mode", Choice("bind", "connect"), spec="mode")
    host = Field("@host", spec="host")
    service = Field("@service", spec="service")


class Rng(Device):
    dev_type: ClassVar[str] = "rng"
    tag: ClassVar[str] = "rng"
    description: ClassVar[str] = "random number generators"
    # libvirt writes these children in this order; new ones are put in place.
    child_order: ClassVar[tuple[str, ...]] = ("driver", "backend", "rate", "alias", "address")

    model = Field(
        "@model",
        Choice("virtio", "virtio-transitional", "virtio-non-transitional"),
        spec="device",
        default="virtio",
    )
    backend = Field("backend@model", Choice("random", "egd", "builtin"), spec="specParams.backend", default="random")
    path = Field("backend", spec="specParams.path", doc="entropy file of the 'random' backend")
    backend_type = Field("backend@type", spec="specParams.backendType", doc="'egd': udp, tcp, unix, ...")
    sources = Children("backend/source", Source, spec="specParams.sources")
    rate_bytes = Field("rate@bytes", INT, spec="specParams.bytes")
    rate_period = Field("rate@period", INT, spec="specParams.period")
    iommu = Field("driver@iommu", ON_OFF, spec="specParams.iommu")

    def identity(self) -> Identity | None:
        # An rng has nothing else that tells two apart: its guest address, when it has one.
        address = address_text(self.raw_address())
        return {"devtype": "rng", "address": address} if address else None
