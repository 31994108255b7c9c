"""The ``<audio>`` dev_class: an audio backend, the host side of the guest's sound cards.

Models libvirt's ``<audio>`` element (formatdomain "Audio backends"): not a guest
device (no alias, no address) but a ``<devices>`` child that sound cards and graphics
refer to by ``id`` (``<sound><audio id='1'/></sound>``)::

    <audio id='1' type='pulseaudio' timerPeriod='100' serverName='unix:/run/pulse/native'>
      <input mixingEngine='yes' fixedSettings='yes' voices='1' bufferLength='100'
             name='vm-in' streamName='mic' latency='20000'>
        <settings frequency='44100' channels='2' format='s16'/>
      </input>
      <output .../>
    </audio>

Backend types (``@type``) of libvirt 11.3's schema: ``none``, ``alsa``, ``coreaudio``,
``dbus``, ``jack``, ``oss``, ``pipewire`` (11.x; not in 9.0's schema), ``pulseaudio``,
``sdl``, ``spice`` and ``file``. ``<input>`` and ``<output>`` take the same attributes;
which of them a backend has is in the table (every backend has the common ones and
``<settings>``).

dev_spec mapping (engine key on the left, XML place on the right). VDSM had no audio
backend, so the spec follows the general rule: ``device`` is the backend type, every
attribute a ``specParams`` key; ``<input>`` and ``<output>`` are the dicts
``specParams.input`` and ``specParams.output``, keyed alike (``D`` below stands for
either):

==================================== ==================================================
``device``                           ``@type``. An element without ``@type`` gives
                                     ``"audio"``, which builds none, so the round trip
                                     is exact.
``deviceId``                         kept in the device's metadata (libvirt gives an
                                     audio backend no ``<alias>``)
``specParams.id``                    ``@id`` (int 0..255; what sound cards name)
``specParams.timerPeriod``           ``@timerPeriod`` (microseconds)
``specParams.tryMMap``               ``@tryMMap`` (oss; bool, yes/no)
``specParams.exclusive``             ``@exclusive`` (oss; bool, yes/no)
``specParams.dspPolicy``             ``@dspPolicy`` (oss; int)
``specParams.runtimeDir``            ``@runtimeDir`` (pipewire)
``specParams.serverName``            ``@serverName`` (pulseaudio)
``specParams.sdlDriver``             ``@driver`` (sdl: esd, alsa, arts, pulseaudio;
                                     not ``specParams.driver``, which every other kind
                                     uses for the dict of ``<driver>`` attributes)
``specParams.path``                  ``@path`` (file: the file written)
``specParams.D.mixingEngine``        ``D@mixingEngine`` (bool, yes/no)
``specParams.D.fixedSettings``       ``D@fixedSettings`` (bool, yes/no)
``specParams.D.voices``              ``D@voices`` (int)
``specParams.D.bufferLength``        ``D@bufferLength`` (microseconds)
``specParams.D.dev``                 ``D@dev`` (alsa, oss: host device)
``specParams.D.bufferCount``         ``D@bufferCount`` (coreaudio, oss, sdl)
``specParams.D.serverName``          ``D@serverName`` (jack)
``specParams.D.clientName``          ``D@clientName`` (jack)
``specParams.D.connectPorts``        ``D@connectPorts`` (jack: port name pattern)
``specParams.D.exactName``           ``D@exactName`` (jack; bool, yes/no)
``specParams.D.tryPoll``             ``D@tryPoll`` (oss; bool, yes/no)
``specParams.D.name``                ``D@name`` (pipewire, pulseaudio: source/sink)
``specParams.D.streamName``          ``D@streamName`` (pipewire, pulseaudio)
``specParams.D.latency``             ``D@latency`` (pipewire, pulseaudio; microseconds)
``specParams.D.settings.frequency``  ``D/settings@frequency`` (Hz)
``specParams.D.settings.channels``   ``D/settings@channels``
``specParams.D.settings.format``     ``D/settings@format`` (s8, u8, s16, u16, s32, u32,
                                     f32)
==================================== ==================================================

Numbers are read in decimal or ``0x`` hex, as the schema allows, and written in
decimal; engines may send them as strings.

Defaults (the schema requires ``@id`` and ``@type``): a spec without
``specParams.id`` gets id 1 (the first backend, and the one a sound card without
``<audio>`` plays to), a spec without ``device`` the ``none`` backend (sound cards
work, nothing is played: the one backend every host has). A value a field cannot hold
(an id over 255, ``"loud"`` for a voice count) is a :class:`devframe.SpecError`
naming the key; strings outside the documented sets are kept (a newer libvirt may
know them). An element without ``@id`` is kept, and ``problems()`` reports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from devframe import INT, STR, YES_NO, Choice, Device, ElementView, Field, FieldValueError, Identity, Kind, SpecError

__all__ = ["AUDIO_TYPES", "SAMPLE_FORMATS", "SDL_DRIVERS", "UINT8", "UINT32", "Audio", "SpecField", "UIntRange"]

#: Every backend ``@type`` of libvirt 11.3's schema (``pipewire`` is not in 9.0's).
AUDIO_TYPES = ("none", "alsa", "coreaudio", "dbus", "jack", "oss", "pipewire", "pulseaudio", "sdl", "spice", "file")
#: ``settings@format`` values.
SAMPLE_FORMATS = ("s8", "u8", "s16", "u16", "s32", "u32", "f32")
#: SDL's ``@driver`` values.
SDL_DRIVERS = ("esd", "alsa", "arts", "pulseaudio")

_NO_TYPE = "audio"  # the spec ``device`` of an audio element without @type (Device.spec_device)

T = TypeVar("T")


class SpecField(Field[T]):
    """A field whose unusable dev_spec value is a :class:`devframe.SpecError` naming the key.

    (The core reports it as a ``FieldValueError``; engines catch ``SpecError`` for bad specs.)
    """

    def apply_spec_value(self, view: ElementView, value: Any) -> None:
        try:
            super().apply_spec_value(view, value)
        except FieldValueError as exc:
            raise SpecError(f"{exc.device}: dev_spec key {self.spec!r}: {exc.reason} (got {exc.value!r:.80})") from None


class UIntRange(Kind[int]):
    """An unsigned int up to ``high`` (the schema's uint8 / uint32: decimal or ``0x`` hex)."""

    python_type = int

    def __init__(self, high: int) -> None:
        self.high = high
        self.name = f"int(0..{high})"

    def _checked(self, value: int) -> int:
        if not 0 <= value <= self.high:
            raise ValueError(f"out of range 0..{self.high}")
        return value

    def parse(self, raw: str) -> int:
        return self._checked(INT.parse(raw))

    def format(self, value: int) -> str:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected int, got {type(value).__name__}")
        return str(self._checked(value))

    def coerce(self, value: object) -> int:
        return self._checked(INT.coerce(value))


UINT8 = UIntRange(0xFF)
UINT32 = UIntRange(0xFFFFFFFF)


class Audio(Device):
    """An audio backend. Identity: its id (what sound cards refer to it by)."""

    dev_type: ClassVar[str] = "audio"
    tag: ClassVar[str] = "audio"
    description: ClassVar[str] = "audio backends (<audio id=... type=...>)"
    # libvirt's schema has no <alias> for audio backends: the engine's deviceId lives in metadata.
    has_alias: ClassVar[bool] = False
    metadata_keys: ClassVar[Mapping[str, type | None]] = {"deviceId": str}
    child_order: ClassVar[tuple[str, ...]] = ("input", "output")

    id = SpecField("@id", UINT8, spec="specParams.id", default=1, doc="backend id, named by sound cards")
    type = SpecField("@type", Choice(*AUDIO_TYPES), spec="device", default="none", doc="backend type")
    timer_period = SpecField("@timerPeriod", UINT32, spec="specParams.timerPeriod", doc="timer period, us")
    # oss
    try_mmap = SpecField("@tryMMap", YES_NO, spec="specParams.tryMMap", doc="oss: try mmap")
    exclusive = SpecField("@exclusive", YES_NO, spec="specParams.exclusive", doc="oss: exclusive device access")
    dsp_policy = SpecField("@dspPolicy", INT, spec="specParams.dspPolicy", doc="oss: DSP policy")
    # pipewire, pulseaudio, sdl, file
    runtime_dir = SpecField("@runtimeDir", STR, spec="specParams.runtimeDir", doc="pipewire: runtime directory")
    server_name = SpecField("@serverName", STR, spec="specParams.serverName", doc="pulseaudio: server")
    sdl_driver = SpecField("@driver", Choice(*SDL_DRIVERS), spec="specParams.sdlDriver", doc="sdl: audio driver")
    path = SpecField("@path", STR, spec="specParams.path", doc="file: the file written")

    # <input>: what the guest records
    input_mixing_engine = SpecField("input@mixingEngine", YES_NO, spec="specParams.input.mixingEngine")
    input_fixed_settings = SpecField("input@fixedSettings", YES_NO, spec="specParams.input.fixedSettings")
    input_voices = SpecField("input@voices", UINT32, spec="specParams.input.voices")
    input_buffer_length = SpecField("input@bufferLength", UINT32, spec="specParams.input.bufferLength")
    input_dev = SpecField("input@dev", STR, spec="specParams.input.dev", doc="alsa, oss: host device")
    input_buffer_count = SpecField("input@bufferCount", UINT32, spec="specParams.input.bufferCount")
    input_server_name = SpecField("input@serverName", STR, spec="specParams.input.serverName", doc="jack")
    input_client_name = SpecField("input@clientName", STR, spec="specParams.input.clientName", doc="jack")
    input_connect_ports = SpecField("input@connectPorts", STR, spec="specParams.input.connectPorts", doc="jack")
    input_exact_name = SpecField("input@exactName", YES_NO, spec="specParams.input.exactName", doc="jack")
    input_try_poll = SpecField("input@tryPoll", YES_NO, spec="specParams.input.tryPoll", doc="oss")
    input_name = SpecField("input@name", STR, spec="specParams.input.name", doc="pipewire, pulseaudio: source")
    input_stream_name = SpecField("input@streamName", STR, spec="specParams.input.streamName")
    input_latency = SpecField("input@latency", UINT32, spec="specParams.input.latency", doc="us")
    input_frequency = SpecField("input/settings@frequency", UINT32, spec="specParams.input.settings.frequency")
    input_channels = SpecField("input/settings@channels", UINT32, spec="specParams.input.settings.channels")
    input_format = SpecField("input/settings@format", Choice(*SAMPLE_FORMATS), spec="specParams.input.settings.format")

    # <output>: what the guest plays
    output_mixing_engine = SpecField("output@mixingEngine", YES_NO, spec="specParams.output.mixingEngine")
    output_fixed_settings = SpecField("output@fixedSettings", YES_NO, spec="specParams.output.fixedSettings")
    output_voices = SpecField("output@voices", UINT32, spec="specParams.output.voices")
    output_buffer_length = SpecField("output@bufferLength", UINT32, spec="specParams.output.bufferLength")
    output_dev = SpecField("output@dev", STR, spec="specParams.output.dev", doc="alsa, oss: host device")
    output_buffer_count = SpecField("output@bufferCount", UINT32, spec="specParams.output.bufferCount")
    output_server_name = SpecField("output@serverName", STR, spec="specParams.output.serverName", doc="jack")
    output_client_name = SpecField("output@clientName", STR, spec="specParams.output.clientName", doc="jack")
    output_connect_ports = SpecField("output@connectPorts", STR, spec="specParams.output.connectPorts", doc="jack")
    output_exact_name = SpecField("output@exactName", YES_NO, spec="specParams.output.exactName", doc="jack")
    output_try_poll = SpecField("output@tryPoll", YES_NO, spec="specParams.output.tryPoll", doc="oss")
    output_name = SpecField("output@name", STR, spec="specParams.output.name", doc="pipewire, pulseaudio: sink")
    output_stream_name = SpecField("output@streamName", STR, spec="specParams.output.streamName")
    output_latency = SpecField("output@latency", UINT32, spec="specParams.output.latency", doc="us")
    output_frequency = SpecField("output/settings@frequency", UINT32, spec="specParams.output.settings.frequency")
    output_channels = SpecField("output/settings@channels", UINT32, spec="specParams.output.settings.channels")
    output_format = SpecField(
        "output/settings@format", Choice(*SAMPLE_FORMATS), spec="specParams.output.settings.format"
    )

    def read_spec(self, rest: dict[str, Any]) -> None:
        """Build no ``@type`` for ``device == "audio"``: what an element without one reports."""
        if rest.get("device") == _NO_TYPE:
            self.type = None

    def problems(self) -> list[str]:
        """Every field's problem, and a missing ``@id``: libvirt requires it, and a spec
        built from such an element would get the default id, so it cannot round-trip."""
        found = super().problems()
        if self.element.get("id") is None:
            found.append("field 'id' (@id): missing (libvirt requires the backend's id)")
        return found

    def identity(self) -> Identity | None:
        """The id, in decimal (``0x1`` and ``1`` are one backend); None without an id."""
        raw = self.element.get("id")
        if not raw:
            return None
        try:
            text = str(INT.parse(raw))
        except ValueError:
            text = raw  # kept as written: identity never raises
        return {"devtype": "audio", "id": text}
