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
from typing import ClassVar

from devframe import INT, STR, UINT8, UINT32, YES_NO, Choice, Device, Field, Identity

__all__ = ["AUDIO_TYPES", "SAMPLE_FORMATS", "SDL_DRIVERS", "Audio"]

#: Every backend ``@type`` of libvirt 11.3's schema (``pipewire`` is not in 9.0's).
AUDIO_TYPES = ("none", "alsa", "coreaudio", "dbus", "jack", "oss", "pipewire", "pulseaudio", "sdl", "spice", "file")
#: ``settings@format`` values.
SAMPLE_FORMATS = ("s8", "u8", "s16", "u16", "s32", "u32", "f32")
#: SDL's ``@driver`` values.
SDL_DRIVERS = ("esd", "alsa", "arts", "pulseaudio")

_NO_TYPE = "audio"  # the spec ``device`` of an audio element without @type (Device.spec_device)


class Audio(Device):
    """An audio backend. Identity: its id (what sound cards refer to it by)."""

    __slots__ = ()  # one object per device when parsing: no __dict__ beside it

    dev_type: ClassVar[str] = "audio"
    identity_devtype: ClassVar[str | None] = "audio"  # every identity() holds it
    tag: ClassVar[str] = "audio"
    description: ClassVar[str] = "audio backends (<audio id=... type=...>)"
    # libvirt's schema has no <alias> for audio backends: the engine's deviceId lives in metadata.
    has_alias: ClassVar[bool] = False
    metadata_keys: ClassVar[Mapping[str, type | None]] = {"deviceId": str}
    child_order: ClassVar[tuple[str, ...]] = ("input", "output")

    id = Field("@id", UINT8, spec="specParams.id", default=1, required=True, doc="backend id, named by sound cards")
    type = Field("@type", Choice(*AUDIO_TYPES), spec="device", default="none", absent_spec=_NO_TYPE, doc="backend type")
    timer_period = Field("@timerPeriod", UINT32, spec="specParams.timerPeriod", doc="timer period, us")
    # oss
    try_mmap = Field("@tryMMap", YES_NO, spec="specParams.tryMMap", doc="oss: try mmap")
    exclusive = Field("@exclusive", YES_NO, spec="specParams.exclusive", doc="oss: exclusive device access")
    dsp_policy = Field("@dspPolicy", INT, spec="specParams.dspPolicy", doc="oss: DSP policy")
    # pipewire, pulseaudio, sdl, file
    runtime_dir = Field("@runtimeDir", STR, spec="specParams.runtimeDir", doc="pipewire: runtime directory")
    server_name = Field("@serverName", STR, spec="specParams.serverName", doc="pulseaudio: server")
    sdl_driver = Field("@driver", Choice(*SDL_DRIVERS), spec="specParams.sdlDriver", doc="sdl: audio driver")
    path = Field("@path", STR, spec="specParams.path", doc="file: the file written")

    # <input>: what the guest records
    input_mixing_engine = Field("input@mixingEngine", YES_NO, spec="specParams.input.mixingEngine")
    input_fixed_settings = Field("input@fixedSettings", YES_NO, spec="specParams.input.fixedSettings")
    input_voices = Field("input@voices", UINT32, spec="specParams.input.voices")
    input_buffer_length = Field("input@bufferLength", UINT32, spec="specParams.input.bufferLength")
    input_dev = Field("input@dev", STR, spec="specParams.input.dev", doc="alsa, oss: host device")
    input_buffer_count = Field("input@bufferCount", UINT32, spec="specParams.input.bufferCount")
    input_server_name = Field("input@serverName", STR, spec="specParams.input.serverName", doc="jack")
    input_client_name = Field("input@clientName", STR, spec="specParams.input.clientName", doc="jack")
    input_connect_ports = Field("input@connectPorts", STR, spec="specParams.input.connectPorts", doc="jack")
    input_exact_name = Field("input@exactName", YES_NO, spec="specParams.input.exactName", doc="jack")
    input_try_poll = Field("input@tryPoll", YES_NO, spec="specParams.input.tryPoll", doc="oss")
    input_name = Field("input@name", STR, spec="specParams.input.name", doc="pipewire, pulseaudio: source")
    input_stream_name = Field("input@streamName", STR, spec="specParams.input.streamName")
    input_latency = Field("input@latency", UINT32, spec="specParams.input.latency", doc="us")
    input_frequency = Field("input/settings@frequency", UINT32, spec="specParams.input.settings.frequency")
    input_channels = Field("input/settings@channels", UINT32, spec="specParams.input.settings.channels")
    input_format = Field("input/settings@format", Choice(*SAMPLE_FORMATS), spec="specParams.input.settings.format")

    # <output>: what the guest plays
    output_mixing_engine = Field("output@mixingEngine", YES_NO, spec="specParams.output.mixingEngine")
    output_fixed_settings = Field("output@fixedSettings", YES_NO, spec="specParams.output.fixedSettings")
    output_voices = Field("output@voices", UINT32, spec="specParams.output.voices")
    output_buffer_length = Field("output@bufferLength", UINT32, spec="specParams.output.bufferLength")
    output_dev = Field("output@dev", STR, spec="specParams.output.dev", doc="alsa, oss: host device")
    output_buffer_count = Field("output@bufferCount", UINT32, spec="specParams.output.bufferCount")
    output_server_name = Field("output@serverName", STR, spec="specParams.output.serverName", doc="jack")
    output_client_name = Field("output@clientName", STR, spec="specParams.output.clientName", doc="jack")
    output_connect_ports = Field("output@connectPorts", STR, spec="specParams.output.connectPorts", doc="jack")
    output_exact_name = Field("output@exactName", YES_NO, spec="specParams.output.exactName", doc="jack")
    output_try_poll = Field("output@tryPoll", YES_NO, spec="specParams.output.tryPoll", doc="oss")
    output_name = Field("output@name", STR, spec="specParams.output.name", doc="pipewire, pulseaudio: sink")
    output_stream_name = Field("output@streamName", STR, spec="specParams.output.streamName")
    output_latency = Field("output@latency", UINT32, spec="specParams.output.latency", doc="us")
    output_frequency = Field("output/settings@frequency", UINT32, spec="specParams.output.settings.frequency")
    output_channels = Field("output/settings@channels", UINT32, spec="specParams.output.settings.channels")
    output_format = Field("output/settings@format", Choice(*SAMPLE_FORMATS), spec="specParams.output.settings.format")

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
