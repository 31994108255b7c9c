"""The ``<rng>`` dev_class: a virtio random number generator.

::

    <rng model='virtio'>                                   <!-- virtio-transitional, virtio-non-transitional -->
      <rate bytes='1234' period='2000'/>                   <!-- at most 1234 bytes per 2000 ms -->
      <backend model='random'>/dev/urandom</backend>       <!-- a host file -->
      <driver iommu='on' ats='on' packed='on' page_per_vq='on'/>
      <alias name='ua-...'/>
      <acpi index='4'/>
      <address type='pci' .../>
    </rng>
    <rng model='virtio'>
      <backend model='egd' type='tcp'>                     <!-- an entropy daemon over a chardev -->
        <source mode='connect' host='192.0.2.1' service='708'/>
        <protocol type='raw'/>
      </backend>
    </rng>
    <rng model='virtio'><backend model='builtin'/></rng>   <!-- QEMU's own generator -->

dev_spec mapping (engine key on the left, XML place on the right). VDSM's spec is
``{"type": "rng", "device": "virtio", "specParams": {"source": "urandom", "bytes": "1234",
"period": "2000"}}``:

================================ =============================================================
``device``                       ``@model`` (virtio, virtio-transitional,
                                 virtio-non-transitional); default ``virtio``; ``rng``: an
                                 element without ``@model``
``alias``                        ``alias@name``
``deviceId``                     the ``<deviceId>`` of a ``ua-<deviceId>`` alias
``address``                      the direct child ``address``
``specParams.source``            ``backend@model`` and, for ``random``, the backend's file
                                 (VDSM's names, table below); default ``urandom``
``specParams.path``              the ``random`` backend's file when it is not the one
                                 ``source`` names; ``""``: no file (the hypervisor's default)
``specParams.bytes``             ``rate@bytes`` (int; engines send text too)
``specParams.period``            ``rate@period`` (ms, int)
``specParams.backendType``       ``backend@type``, the egd chardev type
                                 (:data:`devframe.CHAR_TYPES`)
``specParams.sources``           the egd chardev's ``<source>`` elements (the core's
                                 chardev source dicts, :mod:`devframe.core.chardev`)
``specParams.protocol``          ``backend/protocol@type`` (raw, telnet, telnets, tls)
``specParams.log.file``          ``backend/log@file``
``specParams.log.append``        ``backend/log@append`` (bool, on/off)
``specParams.driver.iommu``      ``driver@iommu`` (bool, on/off)
``specParams.driver.ats``        ``driver@ats`` (bool, on/off)
``specParams.driver.packed``     ``driver@packed`` (bool, on/off)
``specParams.driver.pagePerVq``  ``driver@page_per_vq`` (bool, on/off); these four are the
                                 core's VirtioOptions, as on every virtio device
``specParams.acpiIndex``         ``acpi@index``
================================ =============================================================

VDSM's ``source``, both ways:

============= ================================================== =========================
``source``    XML                                                back to a spec
============= ================================================== =========================
``urandom``   ``<backend model='random'>/dev/urandom</backend>`` ``urandom``
``random``    ``<backend model='random'>/dev/random</backend>``  ``random``
``hwrng``     ``<backend model='random'>/dev/hwrng</backend>``   ``hwrng``
(any of them) ``<backend model='random'>/dev/other</backend>``   ``random`` + ``path``
              (with ``specParams.path``)
``random``    ``<backend model='random'/>`` (``path: ""``)       ``random`` + ``path: ""``
``egd``       ``<backend model='egd' type=...>`` + chardev       ``egd``
``builtin``   ``<backend model='builtin'/>``                     ``builtin``
============= ================================================== =========================

Refused from a spec (``SpecError`` naming the key): an unknown ``source``; a ``path``
with a backend other than random; an egd backend without ``backendType``; chardev keys
with a backend other than egd; a ``period`` without ``bytes``. Read from XML, the same
(and an rng without a backend) are ``problems()``. An egd source libvirt refuses (tcp
without host, ...) is valid in its schema: built, and reported by ``problems()``.
Nothing here is secret.
"""

from __future__ import annotations

from typing import Any, ClassVar

from devframe import (
    INT,
    STR,
    AcpiIndex,
    CharSource,
    Choice,
    Device,
    Field,
    Identity,
    SpecError,
    VirtioOptions,
    first_child,
)

__all__ = ["BACKEND_MODELS", "MODELS", "RANDOM_FILES", "SOURCES", "Rng"]

#: ``@model``
MODELS = ("virtio", "virtio-transitional", "virtio-non-transitional")
#: ``backend@model``
BACKEND_MODELS = ("random", "egd", "builtin")
#: VDSM's ``specParams.source`` names of a ``random`` backend, and the file each reads
RANDOM_FILES = {"urandom": "/dev/urandom", "random": "/dev/random", "hwrng": "/dev/hwrng"}
#: every ``specParams.source`` a spec may give
SOURCES = (*RANDOM_FILES, "egd", "builtin")

_SOURCE_BY_FILE = {path: name for name, path in RANDOM_FILES.items()}
_DEFAULT_SOURCE = "urandom"  # VDSM's and libvirt's recommendation: non-blocking


class Rng(CharSource, VirtioOptions, AcpiIndex, Device):
    """A virtio RNG. Identity without an alias: its model and backend model."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "rng"
    identity_devtype: ClassVar[str | None] = "rng"  # every identity() holds it
    tag: ClassVar[str] = "rng"
    description: ClassVar[str] = "random number generators (<rng model=...><backend model=...>)"
    child_order: ClassVar[tuple[str, ...]] = ("rate", "backend", "driver", "alias", "acpi", "address")
    # The egd backend's character device is the core's model, one element down.
    char_path: ClassVar[str] = "backend"
    char_type_spec: ClassVar[str] = "specParams.backendType"

    model = Field("@model", Choice(*MODELS), spec="device", default="virtio", absent_spec="rng", doc="virtio flavour")
    backend_model = Field("backend@model", Choice(*BACKEND_MODELS), doc="random, egd or builtin (spec: source)")
    backend_path = Field("backend", STR, doc="the random backend's file (spec: source, path)")
    rate_bytes = Field("rate@bytes", INT, spec="specParams.bytes", doc="bytes per period")
    rate_period = Field("rate@period", INT, spec="specParams.period", doc="period, ms")

    # -- dev_spec -------------------------------------------------------------------------

    @property
    def source(self) -> str | None:
        """VDSM's name for the backend (``urandom``, ``random``, ``hwrng``, ``egd``,
        ``builtin``); None without a backend. Never raises."""
        backend = first_child(self.element, "backend")  # libvirt writes it first
        if backend is None:
            return None
        model = backend.get("model")
        if model == "random":
            return _SOURCE_BY_FILE.get(Rng.backend_path.raw(self) or "", "random")
        return model

    def write_spec(self, spec: dict[str, Any]) -> None:
        source = self.source
        if source is None:
            return
        params = spec["specParams"]
        params["source"] = source
        if self.backend_model == "random":
            path = self.backend_path
            if path is None or _SOURCE_BY_FILE.get(path) != source:
                params["path"] = path or ""

    def read_spec(self, rest: dict[str, Any]) -> None:
        params = rest.get("specParams")
        params = params if isinstance(params, dict) else {}
        source = params.pop("source", None)
        path = params.pop("path", None)
        if path is not None and not isinstance(path, str):
            raise SpecError(f"dev_spec key 'specParams.path' of an rng: expected a file path, got {path!r:.60}")
        if source is None:
            source = _DEFAULT_SOURCE if path is None else "random"
        if not isinstance(source, str) or source not in SOURCES:
            raise SpecError(
                f"dev_spec key 'specParams.source' of an rng: expected one of {SOURCES}, got {source!r:.60}"
            )
        if source in RANDOM_FILES:
            self.backend_model = "random"
            self.backend_path = (RANDOM_FILES[source] if path is None else path) or None
        else:
            if path is not None:
                raise SpecError(f"dev_spec key 'specParams.path' of an rng: the {source} backend reads no file")
            self.backend_model = source
        self._model_first()
        self.check_rule()
        super().read_spec(rest)

    def _model_first(self) -> None:
        """Put ``model`` first on a spec-built ``<backend>``, where libvirt writes it."""
        backend = first_child(self.element, "backend")  # libvirt writes it first
        if backend is None or next(iter(backend.attrib), "model") == "model":
            return
        attrs: dict[str, str] = {str(k): str(v) for k, v in backend.attrib.items()}
        backend.attrib.clear()
        backend.set("model", attrs.pop("model"))
        for name, value in attrs.items():
            backend.set(name, value)

    # -- checks, identity, display --------------------------------------------------------

    def rule_problem(self) -> tuple[str, str] | None:
        """(dev_spec key, reason) when the backend or rate is one libvirt refuses, else None."""
        element = self.element
        rate = next(element.iterchildren("rate"), None)
        if rate is not None and rate.get("bytes") is None:
            return "specParams.bytes", "a <rate> needs bytes"
        backend = next(element.iterchildren("backend"), None)
        if backend is None:
            return "specParams.source", "an rng needs a <backend>"
        model = backend.get("model")
        if model == "egd":
            if backend.get("type") is None:
                return "specParams.backendType", "the egd backend needs a chardev type"
            return None
        if model is None:
            return "specParams.source", "an rng needs a backend model"
        if model not in BACKEND_MODELS:
            return "specParams.source", f"backend model {model!r} has no dev_spec source name"
        for name in ("char_type", "sources", "protocol", "log_file", "log_append"):
            field = self.fields[name]
            # Read without converting: problems() must not raise on a value that does not fit.
            present = field.raw(self) is not None if isinstance(field, Field) else bool(getattr(self, name))
            if present:
                return field.spec or name, "only the egd backend has a character device"
        return None

    def identity(self) -> Identity | None:
        """Model and backend model (identical rngs pair in document order)."""
        found = {"devtype": "rng"}
        model = self.element.get("model")
        if model:
            found["model"] = model
        backend = first_child(self.element, "backend")  # libvirt writes it first
        backend_model = backend.get("model") if backend is not None else None
        if backend_model:
            found["backend"] = backend_model
        return found if len(found) > 1 else None

    def summary(self) -> dict[str, Any]:
        """Model, VDSM's source name, the file or chardev, the rate."""
        out = self.shown_values(("model", "backend_model", "backend_path", "rate_bytes", "rate_period"))
        source = self.source
        if source is not None:
            out["source"] = source
        chardev = self.char_source_text()
        if chardev:
            out["chardev"] = chardev
        return out
