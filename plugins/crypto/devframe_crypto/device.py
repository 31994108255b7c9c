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

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from devframe import INT, Choice, Device, Field, Identity, Kind, SpecError, VirtioOptions

__all__ = ["BACKENDS", "MODELS", "POSITIVE_INT", "TYPES", "Crypto", "PositiveInt"]

T = TypeVar("T")

#: Every ``@model``, ``@type`` and ``backend@model`` libvirt 11.3's schema allows.
MODELS = ("virtio",)
TYPES = ("qemu",)
BACKENDS = ("builtin", "lkcf")

_NO_MODEL = "crypto"  # the spec ``device`` of an element without @model (Device.spec_device)


class PositiveInt(Kind[int]):
    """An int >= 1, written in decimal (libvirt's ``positiveInteger``)."""

    name = "positive int"
    python_type = int

    @staticmethod
    def _checked(value: int) -> int:
        if value < 1:
            raise ValueError("expected an int >= 1")
        return value

    def parse(self, raw: str) -> int:
        return self._checked(INT.parse(raw))

    def format(self, value: int) -> str:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected int, got {type(value).__name__}")
        return str(self._checked(value))

    def coerce(self, value: object) -> int:
        return self._checked(INT.coerce(value))


POSITIVE_INT = PositiveInt()


def _from_spec(kind: Kind[T], key: str) -> Callable[[Any], T]:
    """Convert a dev_spec value with ``kind``; one that does not fit is a SpecError naming ``key``."""

    def convert(value: Any) -> T:
        if kind.python_type is str and (not isinstance(value, str) or not value):
            raise SpecError(f"crypto spec key {key!r}: expected a non-empty string, got {value!r:.80}")
        try:
            return kind.coerce(value)
        except (ValueError, TypeError) as exc:
            raise SpecError(f"crypto spec key {key!r}: {exc} (got {value!r:.80})") from None

    return convert


def _field(path: str, kind: Kind[T], spec: str, *, default: T | None = None, doc: str = "") -> Field[T]:
    """A field whose dev_spec value is checked (a bad one is a SpecError naming ``spec``)."""
    return Field(path, kind, spec=spec, default=default, doc=doc, from_spec=_from_spec(kind, spec))


_check_model = _from_spec(Choice(*MODELS), "device")


def _model_from_spec(value: Any) -> str | None:
    # "crypto" is what an element without a model reports: it builds none (exact round trip).
    return None if value == _NO_MODEL else _check_model(value)


class Crypto(VirtioOptions, Device):
    """A virtio crypto device. Identity without an alias: model and backend."""

    dev_type: ClassVar[str] = "crypto"
    tag: ClassVar[str] = "crypto"
    description: ClassVar[str] = "virtio crypto devices (<crypto model=... type=...><backend .../>)"
    # libvirt writes the children in this order; new ones are put in place.
    child_order: ClassVar[tuple[str, ...]] = ("backend", "driver", "alias", "address")

    model = Field(
        "@model", Choice(*MODELS), spec="device", default="virtio", from_spec=_model_from_spec, doc="crypto model"
    )
    type = _field("@type", Choice(*TYPES), "specParams.type", default="qemu", doc="implementation (qemu)")
    backend = _field("backend@model", Choice(*BACKENDS), "specParams.backend", default="builtin", doc="backend model")
    queues = _field("backend@queues", POSITIVE_INT, "specParams.queues", doc="backend queues")

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
