"""The ``<tpm>`` dev_class: a Trusted Platform Module.

Models libvirt's ``<tpm>`` element (formatdomain "TPM device"; schema ``tpm``,
``tpm-backend`` and its parts)::

    <tpm model='tpm-crb'>
      <backend type='emulator' version='2.0' persistent_state='yes' debug='3'>
        <source type='file' path='/var/lib/swtpm/vm.state'/>   (libvirt 11: file or dir)
        <encryption secret='6dd3e4a5-1d76-44ce-961f-f119f5aad935'/>
        <active_pcr_banks><sha256/><sha384/></active_pcr_banks>
        <profile source='local:restricted' removeDisabled='check' name='...'/>  (libvirt 11)
      </backend>
      <alias name='ua-...'/>
      <address type='spapr-vio' .../>
    </tpm>

with ``<backend type='passthrough'><device path='/dev/tpm0'/></backend>`` or
``<backend type='external'><source type='unix' mode='connect' path='/run/swtpm.sock'/>``.

dev_spec mapping; ``type``, ``device`` and ``specParams.model`` are VDSM's
(``{"type": "tpm", "device": "tpm", "specParams": {"model": "tpm-crb"}}``), the rest
follows libvirt's names:

====================================== =============================================================
``device``                             always ``"tpm"`` (VDSM's word; the model is a specParam)
``alias`` / ``deviceId``               ``alias@name`` (``ua-<deviceId>``)
``address``                            the direct child ``address`` (a dict)
``specParams.model``                   ``@model`` (tpm-tis, tpm-crb, tpm-spapr, spapr-tpm-proxy)
``specParams.backend``                 ``backend@type`` (passthrough, emulator, external)
``specParams.version``                 ``backend@version`` (1.2, 2.0)
``specParams.persistentState``         ``backend@persistent_state`` (bool, yes/no; emulator)
``specParams.debug``                   ``backend@debug`` (0..255; emulator, libvirt 11)
``specParams.devicePath``              ``backend/device@path`` (passthrough: the host TPM)
``specParams.source.type``             ``backend/source@type`` (emulator: file, dir; external: unix)
``specParams.source.path``             ``backend/source@path`` (emulator state; external socket)
``specParams.source.mode``             ``backend/source@mode`` (external: connect)
``specParams.encryptionSecret``        ``backend/encryption@secret``: the UUID of the libvirt
                                       secret that encrypts the emulator's state. A reference,
                                       not the secret's value, so not redacted.
``specParams.activePcrBanks.<b>``      ``backend/active_pcr_banks/<b>`` present (true) for each
                                       bank b of sha1, sha256, sha384, sha512 (absent: no key)
``specParams.profile.source``          ``backend/profile@source`` (libvirt 11)
``specParams.profile.removeDisabled``  ``backend/profile@removeDisabled`` (check, fips-host)
``specParams.profile.name``            ``backend/profile@name`` (libvirt 11, set by libvirt)
====================================== =============================================================

Defaults: a spec without ``specParams.backend`` gets the backend VDSM always wrote,
``emulator`` with ``version`` 2.0 (unless the spec names a version); but one with
``devicePath`` gets ``passthrough`` and one with a ``unix`` source or a source ``mode``
gets ``external``. An external source without ``type``/``mode`` gets ``unix``/``connect``,
the only values libvirt allows (and requires). ``model`` is left to libvirt when a spec
omits it (it picks tpm-tis, tpm-crb or tpm-spapr for the machine). A spec value that
cannot be used is a :class:`devframe.SpecError` naming its key; so is an emulator
``source.path`` without ``source.type`` (file or dir cannot be guessed).

Identity without an alias: the model (a domain has at most one TPM of each model, e.g.
``tpm-spapr`` beside a ``spapr-tpm-proxy``); a TPM without a model is ``{devtype: tpm}``.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from devframe import (
    ON_OFF,
    STR,
    YES_NO,
    Choice,
    Device,
    ElementView,
    Field,
    FieldValueError,
    Flag,
    Identity,
    IntRange,
    Pattern,
    SpecError,
)

__all__ = ["BACKENDS", "MODELS", "PCR_BANKS", "Tpm"]

MODELS = ("tpm-tis", "tpm-crb", "tpm-spapr", "spapr-tpm-proxy")
BACKENDS = ("passthrough", "emulator", "external")
VERSIONS = ("1.2", "2.0")
PCR_BANKS = ("sha1", "sha256", "sha384", "sha512")
SOURCE_TYPES = ("file", "dir", "unix")

#: the backend VDSM wrote for every TPM (a spec without ``specParams.backend``)
DEFAULT_BACKEND = "emulator"
DEFAULT_VERSION = "2.0"

T = TypeVar("T")


# -- kinds ---------------------------------------------------------------------------------


UINT8 = IntRange(0, 255, name="uint8")
UUID = Pattern("UUID", r"[a-fA-F0-9]{32}|[a-fA-F0-9]{8}-([a-fA-F0-9]{4}-){3}[a-fA-F0-9]{12}")
PROFILE_NAME = Pattern("profile name", r"[A-Za-z0-9.\-:]+")


# -- fields whose bad spec values are SpecErrors ------------------------------------------------


def _spec_error(view: ElementView, key: str, reason: str, value: object) -> SpecError:
    return SpecError(f"{view.describe()}: dev_spec key {key!r}: {reason} (got {value!r:.80})")


class SpecField(Field[T]):
    """A :class:`devframe.Field` whose unusable dev_spec value is a ``SpecError`` naming the key.

    devframe's own fields raise ``FieldValueError`` there (a DevframeError, not a
    SpecError). Text fields (plain and Choice) take only strings from a spec: an engine's
    ``7`` or ``2.0`` is no name, path or model.
    """

    def apply_spec_value(self, view: ElementView, value: Any) -> None:
        key = self.spec or self.name
        textual = isinstance(self.kind, Choice) or self.kind is STR
        if textual and value is not None and not isinstance(value, str):
            raise _spec_error(view, key, f"expected a string, got {type(value).__name__}", value)
        try:
            super().apply_spec_value(view, value)
        except FieldValueError as exc:
            raise _spec_error(view, key, exc.reason, exc.value) from None


class Presence(Flag):
    """An empty child element as a bool that is only in the spec when present (a PCR bank)."""

    def spec_value(self, view: ElementView) -> Any:
        return True if self.__get__(view, type(view)) else None

    def __set__(self, view: ElementView, value: bool | None) -> None:
        """As :class:`devframe.Flag`; removing the last bank also removes the emptied
        ``<active_pcr_banks>`` (an empty list is not what the removal asked for)."""
        was_present = self.__get__(view, type(view))
        super().__set__(view, value)
        if not was_present or value:
            return
        chain = [view.element]
        for step in self.steps[:-1]:
            child = next(chain[-1].iterchildren(step), None)
            if child is None:
                return
            chain.append(child)
        for node in reversed(chain[1:]):
            if node.attrib or len(node) or (node.text or "").strip():
                break
            parent = node.getparent()
            if parent is not None:
                parent.remove(node)

    def apply_spec_value(self, view: ElementView, value: Any) -> None:
        if isinstance(value, str):
            try:
                value = ON_OFF.coerce(value)
            except ValueError:
                raise _spec_error(view, self.spec or self.name, "expected a bool", value) from None
        if not isinstance(value, bool):
            raise _spec_error(view, self.spec or self.name, f"expected a bool, got {type(value).__name__}", value)
        self.__set__(view, value)


# -- the device --------------------------------------------------------------------------------


class Tpm(Device):
    """A TPM (see the module docstring). Identity: its model."""

    dev_type: ClassVar[str] = "tpm"
    tag: ClassVar[str] = "tpm"
    description: ClassVar[str] = "TPM devices (<tpm model=...><backend type=...>)"
    child_order: ClassVar[tuple[str, ...]] = ("backend", "alias", "address")

    model = SpecField("@model", Choice(*MODELS), spec="specParams.model", doc="TPM device model")
    backend = SpecField("backend@type", Choice(*BACKENDS), spec="specParams.backend", doc="backend type")
    version = SpecField("backend@version", Choice(*VERSIONS), spec="specParams.version", doc="TPM version")
    persistent_state = SpecField("backend@persistent_state", YES_NO, spec="specParams.persistentState")
    debug = SpecField("backend@debug", UINT8, spec="specParams.debug", doc="swtpm log level (emulator)")
    # Nested children of <backend>, declared in libvirt's order (they are appended in it).
    device_path = SpecField("backend/device@path", STR, spec="specParams.devicePath", doc="host TPM (passthrough)")
    source_type = SpecField("backend/source@type", Choice(*SOURCE_TYPES), spec="specParams.source.type")
    source_path = SpecField("backend/source@path", STR, spec="specParams.source.path", doc="state or socket path")
    source_mode = SpecField("backend/source@mode", Choice("connect"), spec="specParams.source.mode")
    encryption_secret = SpecField(
        "backend/encryption@secret", UUID, spec="specParams.encryptionSecret", doc="libvirt secret UUID (a reference)"
    )
    pcr_sha1 = Presence("backend/active_pcr_banks/sha1", spec="specParams.activePcrBanks.sha1")
    pcr_sha256 = Presence("backend/active_pcr_banks/sha256", spec="specParams.activePcrBanks.sha256")
    pcr_sha384 = Presence("backend/active_pcr_banks/sha384", spec="specParams.activePcrBanks.sha384")
    pcr_sha512 = Presence("backend/active_pcr_banks/sha512", spec="specParams.activePcrBanks.sha512")
    profile_source = SpecField("backend/profile@source", PROFILE_NAME, spec="specParams.profile.source")
    profile_remove_disabled = SpecField(
        "backend/profile@removeDisabled", Choice("check", "fips-host"), spec="specParams.profile.removeDisabled"
    )
    profile_name = SpecField("backend/profile@name", PROFILE_NAME, spec="specParams.profile.name")

    @property
    def active_pcr_banks(self) -> list[str]:
        """The active PCR banks, in libvirt's order (empty: none listed)."""
        banks = next(self.element.iterchildren("backend"), None)
        listed = next(banks.iterchildren("active_pcr_banks"), None) if banks is not None else None
        if listed is None:
            return []
        present = {child.tag for child in listed if isinstance(child.tag, str)}
        return [bank for bank in PCR_BANKS if bank in present]

    # -- dev_spec -------------------------------------------------------------------------

    def read_spec(self, rest: dict[str, Any]) -> None:
        """The backend's required values, where the spec leaves them out (see module doc)."""
        if self.backend is None:
            if self.device_path is not None:
                self.backend = "passthrough"
            elif self.source_type == "unix" or self.source_mode is not None:
                self.backend = "external"
            else:
                self.backend = DEFAULT_BACKEND
                if self.version is None:
                    self.version = DEFAULT_VERSION
        backend = self.backend
        if Field.raw(Tpm.source_path, self) is not None:
            if backend == "external":
                if self.source_type is None:
                    self.source_type = "unix"
                if self.source_mode is None:
                    self.source_mode = "connect"
            elif backend == "emulator" and self.source_type is None:
                raise SpecError(
                    f"{self.describe()}: an emulator state 'specParams.source.path' needs "
                    "dev_spec key 'specParams.source.type' (file or dir)"
                )

    # -- identity and display -------------------------------------------------------------

    def identity(self) -> Identity | None:
        """The model, read from the element (a TPM without one: just the kind)."""
        model = self.element.get("model")
        return {"devtype": "tpm", "model": model} if model else {"devtype": "tpm"}

    def summary(self) -> dict[str, Any]:
        """Key fields for ``devframe inspect``: model, backend, version, paths. Never raises."""
        out: dict[str, Any] = {}
        shown: tuple[tuple[str, Field[Any]], ...] = (
            ("model", Tpm.model),
            ("backend", Tpm.backend),
            ("version", Tpm.version),
            ("device", Tpm.device_path),
            ("source", Tpm.source_path),
            ("persistent_state", Tpm.persistent_state),
            ("encryption_secret", Tpm.encryption_secret),
            ("profile", Tpm.profile_source),
        )
        for key, field in shown:
            raw = field.raw(self)
            if raw is not None:
                out[key] = raw if field.check(self) is None else f"<invalid {raw!r}>"
        banks = self.active_pcr_banks
        if banks:
            out["active_pcr_banks"] = ",".join(banks)
        return out
