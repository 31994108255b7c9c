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

from typing import Any, ClassVar

from devframe import (
    STR,
    UINT8,
    UUID,
    YES_NO,
    Choice,
    Device,
    Field,
    Identity,
    Pattern,
    PresentFlag,
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


#: libvirt's name of a swtpm profile (``local:restricted``)
PROFILE_NAME = Pattern("profile name", r"[A-Za-z0-9.\-:]+")


# -- the device --------------------------------------------------------------------------------


class Tpm(Device):
    """A TPM (see the module docstring). Identity: its model."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "tpm"
    identity_devtype: ClassVar[str | None] = "tpm"  # every identity() holds it
    tag: ClassVar[str] = "tpm"
    description: ClassVar[str] = "TPM devices (<tpm model=...><backend type=...>)"
    child_order: ClassVar[tuple[str, ...]] = ("backend", "alias", "address")

    model = Field("@model", Choice(*MODELS), spec="specParams.model", doc="TPM device model")
    backend = Field("backend@type", Choice(*BACKENDS), spec="specParams.backend", doc="backend type")
    version = Field("backend@version", Choice(*VERSIONS), spec="specParams.version", doc="TPM version")
    persistent_state = Field("backend@persistent_state", YES_NO, spec="specParams.persistentState")
    debug = Field("backend@debug", UINT8, spec="specParams.debug", doc="swtpm log level (emulator)")
    # Nested children of <backend>, declared in libvirt's order (they are appended in it).
    device_path = Field("backend/device@path", STR, spec="specParams.devicePath", doc="host TPM (passthrough)")
    source_type = Field("backend/source@type", Choice(*SOURCE_TYPES), spec="specParams.source.type")
    source_path = Field("backend/source@path", STR, spec="specParams.source.path", doc="state or socket path")
    source_mode = Field("backend/source@mode", Choice("connect"), spec="specParams.source.mode")
    encryption_secret = Field(
        "backend/encryption@secret", UUID, spec="specParams.encryptionSecret", doc="libvirt secret UUID (a reference)"
    )
    pcr_sha1 = PresentFlag("backend/active_pcr_banks/sha1", spec="specParams.activePcrBanks.sha1")
    pcr_sha256 = PresentFlag("backend/active_pcr_banks/sha256", spec="specParams.activePcrBanks.sha256")
    pcr_sha384 = PresentFlag("backend/active_pcr_banks/sha384", spec="specParams.activePcrBanks.sha384")
    pcr_sha512 = PresentFlag("backend/active_pcr_banks/sha512", spec="specParams.activePcrBanks.sha512")
    profile_source = Field("backend/profile@source", PROFILE_NAME, spec="specParams.profile.source")
    profile_remove_disabled = Field(
        "backend/profile@removeDisabled", Choice("check", "fips-host"), spec="specParams.profile.removeDisabled"
    )
    profile_name = Field("backend/profile@name", PROFILE_NAME, spec="specParams.profile.name")

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
        out = self.shown_values(
            (
                "model",
                "backend",
                "version",
                ("device", "device_path"),
                ("source", "source_path"),
                "persistent_state",
                "encryption_secret",
                ("profile", "profile_source"),
            )
        )
        banks = self.active_pcr_banks
        if banks:
            out["active_pcr_banks"] = ",".join(banks)
        return out
