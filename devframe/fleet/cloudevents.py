"""The fleet's event format: CloudEvents 1.0 in JSON, versioned by ``dataschema``.

Every event an agent sends is one JSON object (docs/fleet.md has the full format):

* ``specversion`` ``"1.0"``; ``id`` ``<run>-<n>`` (a random run id per agent start and a
  counter: unique, and kept when the event is retried or replayed from the spool, so a
  transport dedupes by it); ``source`` ``devframe://<host>``; ``type`` (below);
  ``subject`` ``<domain uuid>/<device key>`` (deviceId, else alias, else
  ``dev_type:identity``), ``<domain uuid>`` for guest events, absent for host events;
  ``time`` RFC 3339; ``datacontenttype`` ``application/json``; ``dataschema``
  :data:`DATASCHEMA` (its last part is the format version); the extension ``host``.
* ``data``: ``host``, ``uri`` (the libvirt URI), ``domain``, ``uuid`` and for device
  events ``key``, ``dev_type``, ``alias``, ``deviceId``, ``spec`` (the dev_spec with
  secrets redacted), ``changes`` (changed: ``{field: [old, new]}``, secrets redacted).

The mapping from an agent's event objects (anything with ``kind`` and ``as_dict()``)
is :func:`from_agent_event`; device changes come from :func:`device_events`.
"""

from __future__ import annotations

import datetime
import itertools
import json
import json.encoder
import math
import re
import time as time_module
import uuid as uuid_module
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from devframe.core.device import Device
from devframe.core.errors import DevframeError
from devframe.core.jsontext import c_writer as _writer
from devframe.core.jsontext import orjson
from devframe.core.jsontext import orjson_writer as _orjson_writer
from devframe.core.log import REDACTED, is_secret_key, json_may_hold_secret, redact_value
from devframe.core.secrets import registered_secret_keys

__all__ = [
    "ADDED",
    "BATCH_CONTENT_TYPE",
    "CHANGED",
    "DATASCHEMA",
    "FORMAT_VERSION",
    "GUEST_GONE",
    "GUEST_SYNCED",
    "HOST_SYNCED",
    "LIBVIRT_PREFIX",
    "PREFIX",
    "REMOVED",
    "Event",
    "EventFactory",
    "FleetMessageError",
    "KindedEvent",
    "batch_id",
    "batches",
    "check_event",
    "decode",
    "decode_message",
    "encode",
    "encode_batch",
    "event_name",
    "from_agent_event",
    "guest_of",
    "redact_changes",
    "spec_of",
    "subject_token",
]

SPECVERSION = "1.0"
#: the version of the format documented in docs/fleet.md; a consumer refuses others
FORMAT_VERSION = 1
DATASCHEMA = f"urn:devframe:fleet:event:{FORMAT_VERSION}"
#: every type devframe sends starts with this
PREFIX = "org.devframe."
ADDED = PREFIX + "device.added"
REMOVED = PREFIX + "device.removed"
CHANGED = PREFIX + "device.changed"
#: a guest's whole device list was just sent: ``data.keys`` are all its devices now
GUEST_SYNCED = PREFIX + "guest.synced"
#: the guest is no longer running on the host (stopped, gone): ``data.reason``
GUEST_GONE = PREFIX + "guest.gone"
#: a host's running guests were just listed: ``data.guests`` are their uuids
HOST_SYNCED = PREFIX + "host.synced"
#: libvirt's own events: ``org.devframe.libvirt.<kind>`` (``device-added``, ``lifecycle``)
LIBVIRT_PREFIX = PREFIX + "libvirt."

_REQUIRED = ("specversion", "id", "source", "type")
#: the wire's JSON writer: compact, UTF-8 as is; anything else JSON has no type for as its str()
_ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":"), default=str)
#: a string as _ENCODER writes it (the same function: the C one where there is one)
_string = json.encoder.encode_basestring


#: _ENCODER.encode, made once (the stdlib's: the wire's writer without orjson)
_stdlib_encode = _writer(_ENCODER)

#: the wire's writer: _ENCODER's text (orjson's where it has it)
_encode = _orjson_writer(str, _stdlib_encode)


def _text(value: Any) -> str:
    """``value`` as _ENCODER writes it (strings and None without a call into the encoder)."""
    if type(value) is str:
        return _string(value)
    return "null" if value is None else _encode(value)


#: type name -> its JSON text: an event's and a device's type are a few dozen names (a
#: device's own names are not kept: a fleet's are far more than any bound, seldom repeated soon)
_TYPE_TEXTS: dict[str, str] = {}
_MAX_TYPE_TEXTS = 1024


def _type_text(value: str) -> str:
    """``_text(value)`` for a type name, remembered (a lookup instead of a write)."""
    text = _TYPE_TEXTS.get(value) if type(value) is str else None
    if text is None:
        text = _text(value)
        if type(value) is str:
            if len(_TYPE_TEXTS) >= _MAX_TYPE_TEXTS:
                _TYPE_TEXTS.clear()
            _TYPE_TEXTS[value] = text
    return text


_SPECIAL = re.compile(r"[.*>%\s\x00-\x1f]")
_PLAIN_TOKEN = re.compile(r"[^.*>%\s\x00-\x1f]+")


class FleetMessageError(DevframeError):
    """A message on the fleet's subjects that is not a devframe event of a known format."""


class KindedEvent(Protocol):
    """Any agent event: a stable ``kind`` name and a JSON-friendly ``as_dict()``."""

    @property
    def kind(self) -> str: ...

    def as_dict(self) -> dict[str, Any]: ...


class Event(dict[str, Any]):
    """A CloudEvent as the agent made it: a plain dict to read, with its JSON text made
    once, with it (:attr:`text`; the secret test of its spec searched that same text),
    so :func:`encode` and :func:`encode_batch` do not write it again.

    Events are read-only once made (their specs are shared with the agent's snapshots
    already). Replacing or removing a top-level key drops the text, and the event is
    then written from its values; a change inside ``data`` is not seen: make a new
    event instead."""

    __slots__ = ("text",)

    def __init__(self, values: Any = (), text: str | None = None) -> None:
        super().__init__(values)
        #: the event's JSON text, as _ENCODER writes ``dict(self)``; None: write it
        self.text: str | None = text

    def __setitem__(self, key: str, value: Any) -> None:
        self.text = None
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.text = None
        super().__delitem__(key)

    def __ior__(self, other: Any) -> Event:  # type: ignore[override,misc]
        self.text = None
        super().__ior__(other)
        return self

    def pop(self, *args: Any) -> Any:
        self.text = None
        return super().pop(*args)

    def popitem(self) -> tuple[str, Any]:
        self.text = None
        return super().popitem()

    def clear(self) -> None:
        self.text = None
        super().clear()

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.text = None
        super().update(*args, **kwargs)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.text = None
        return super().setdefault(key, default)


def subject_token(text: str) -> str:
    """``text`` as one NATS subject token: ``.``, ``*``, ``>``, ``%`` and white space
    percent-encoded (reversible; hostnames keep their look otherwise)."""
    if not text:
        return "_"
    if _PLAIN_TOKEN.fullmatch(text):
        return text  # the common case: a hostname without dots, a uuid
    return "".join(f"%{ord(char):02X}" if _SPECIAL.match(char) else char for char in text)


def event_name(event_type: str) -> str:
    """The last part of a subject for an event type (``device.added``)."""
    return event_type[len(PREFIX) :] if event_type.startswith(PREFIX) else event_type


#: (whole second, its RFC 3339 text up to the ".") of the last stamp made: every event
#: gets a time, and most fall in the second before
_SECOND: tuple[int, str] = (-1, "")


def _stamp(seconds: float) -> str:
    """A POSIX time as RFC 3339, UTC, microseconds (``2026-01-02T03:04:05.123456Z``)."""
    global _SECOND
    whole = math.floor(seconds)
    micro = round((seconds - whole) * 1_000_000)
    if micro >= 1_000_000:
        whole, micro = whole + 1, micro - 1_000_000
    second = _SECOND
    if second[0] != whole:
        text = datetime.datetime.fromtimestamp(whole, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        second = _SECOND = (whole, text)  # one tuple: threads see either the old or the new
    return f"{second[1]}{micro:06d}Z"


def _now() -> str:
    return _stamp(time_module.time())


def _time(value: Any) -> str:
    if isinstance(value, (int, float)):
        try:
            return _stamp(float(value))
        except (OverflowError, ValueError, OSError):
            pass  # not a time this host can show: the event is stamped now
    return _now()


class EventFactory:
    """Makes the CloudEvents of one host: ids from one run id and a counter.

    ``host``: the host's name in the fleet (subjects, ``source``); ``uri``: its libvirt
    URI (in ``data``). Thread-safe.
    """

    def __init__(self, host: str, uri: str, *, run: str | None = None) -> None:
        if not host:
            raise DevframeError("a fleet host needs a name")
        self.host = host
        self.uri = uri
        self.source = "devframe://" + subject_token(host)
        self.run = run or uuid_module.uuid4().hex[:16]
        self._counter = itertools.count(1)
        # The JSON text of what every device event of this host repeats (see device()):
        # up to its id's number, and from its time to its data's ``domain``.
        self._id_text = f'{{"specversion":{_text(SPECVERSION)},"id":{_text(self.run)[:-1]}-'
        self._source_text = _text(self.source)
        host_text = _text(host)
        #: (uuid, domain, their texts) of the guest of the last device event
        self._guest_texts: tuple[Any, Any, str, str] = (None, None, "", "")
        self._host_data_text = (
            f'"datacontenttype":"application/json","dataschema":{_text(DATASCHEMA)},"host":{host_text},'
            f'"data":{{"host":{host_text},"uri":{_text(uri)},'
        )

    def make(
        self, event_type: str, data: dict[str, Any], *, subject: str | None = None, time: Any = None
    ) -> dict[str, Any]:
        """One CloudEvent (``data`` is taken as is: redact before)."""
        return self._event(event_type, {"host": self.host, "uri": self.uri, **data}, subject, _time(time))

    def _event(self, event_type: str, data: dict[str, Any], subject: str | None, stamp: str) -> dict[str, Any]:
        """The CloudEvent around ``data``, which names the host and URI first already."""
        # itertools.count is one C call under the GIL: no two threads get one number
        return self._envelope(next(self._counter), event_type, stamp, data, subject)

    def _envelope(
        self, number: int, event_type: str, stamp: str, data: dict[str, Any], subject: str | None
    ) -> dict[str, Any]:
        """The CloudEvent's attributes in the wire's order, event ``number`` of this run."""
        event: dict[str, Any] = {
            "specversion": SPECVERSION,
            "id": f"{self.run}-{number}",
            "source": self.source,
            "type": event_type,
            "time": stamp,
            "datacontenttype": "application/json",
            "dataschema": DATASCHEMA,
            "host": self.host,
            "data": data,
        }
        if subject:
            event["subject"] = subject
        return event

    # -- devices ------------------------------------------------------------------------

    def device(
        self,
        event_type: str,
        domain: str | None,
        uuid: str,
        key: str,
        device: Device,
        *,
        changes: Mapping[str, tuple[Any, Any]] | None = None,
        new_key: str | None = None,
        spec: Mapping[str, Any] | None = None,
        redacted: dict[str, Any] | None = None,
        ids: tuple[str | None, str | None] | None = None,
    ) -> dict[str, Any]:
        """A device added, removed or changed (``changes``: correlate's field diff;
        ``spec``: the device's to_spec() when the caller built it already;
        ``redacted``: its spec as an earlier event carried it, when it did not change;
        ``ids``: its alias and deviceId when the caller read them already).

        The event comes with its JSON text (:class:`Event`): the spec's and the diff's
        text is the one their secret test searched, the rest is written around it."""
        alias, device_id = ids if ids is not None else (device.alias, device.device_id)
        spec_text = changes_text = None
        plain: dict[str, list[Any]] | None = None
        if changes is not None:
            plain = {path: [old, new] for path, (old, new) in changes.items()}
            if redacted is None and spec is not None and "type" in spec and not _any_secret_path(device, plain):
                # One look at the spec and the diff together: most hold no secret.
                found = _clean_texts(spec, plain)
                if found is not None:
                    redacted = spec  # type: ignore[assignment]
                    spec_text, changes_text = found
            if changes_text is None:
                plain = redact_changes(device, changes)
                changes_text = _encode(plain)
        if redacted is None:
            redacted, spec_text = _spec_and_text(device, spec)
        elif spec_text is None:
            spec_text = _encode(redacted)
        data: dict[str, Any] = {
            "host": self.host,
            "uri": self.uri,
            "domain": domain,
            "uuid": uuid,
            "key": key,
            "dev_type": device.dev_type,
            "alias": alias,
            "deviceId": device_id,
            "spec": redacted,
        }
        tail = "}"
        if plain is not None:
            data["changes"] = plain
            tail = f',"changes":{changes_text}}}'
        if new_key is not None and new_key != key:
            data["new_key"] = new_key
            tail = f'{tail[:-1]},"new_key":{_text(new_key)}}}'
        number = next(self._counter)  # one C call under the GIL: no two threads get one number
        stamp = _now()
        subject = f"{uuid}/{key}"
        event = Event(self._envelope(number, event_type, stamp, data, subject), None)
        # The text _ENCODER would write, key by key (tests hold the two equal). A string's
        # text escapes it character by character: the subject's is its two parts' around "/".
        # A guest's events come together: its uuid's and name's texts are kept from the last.
        guest = self._guest_texts
        if guest[0] != uuid or guest[1] != domain or type(uuid) is not str:
            guest = self._guest_texts = (uuid, domain, _text(uuid), _text(domain))
        uuid_text, key_text = guest[2], _text(key)
        if type(uuid) is str and type(key) is str:
            subject_text = f"{uuid_text[:-1]}/{key_text[1:]}"
        else:
            subject_text = _text(subject)
        event.text = (
            f'{self._id_text}{number}","source":{self._source_text},"type":{_type_text(event_type)},'
            f'"time":"{stamp}",{self._host_data_text}'
            f'"domain":{guest[3]},"uuid":{uuid_text},"key":{key_text},'
            f'"dev_type":{_type_text(device.dev_type)},"alias":{_text(alias)},'
            f'"deviceId":{_text(device_id)},"spec":{spec_text}{tail},'
            f'"subject":{subject_text}}}'
        )
        return event

    def guest_synced(self, domain: str | None, uuid: str, keys: Iterable[str]) -> dict[str, Any]:
        data = {"domain": domain, "uuid": uuid, "keys": list(keys)}
        return self.make(GUEST_SYNCED, data, subject=uuid)

    def guest_gone(self, domain: str | None, uuid: str, reason: str) -> dict[str, Any]:
        return self.make(GUEST_GONE, {"domain": domain, "uuid": uuid, "reason": reason}, subject=uuid)

    def host_synced(self, guests: Iterable[str]) -> dict[str, Any]:
        return self.make(HOST_SYNCED, {"guests": sorted(guests)})

    def from_agent_event(self, event: KindedEvent) -> dict[str, Any]:
        """Any agent event (``kind`` and ``as_dict()``) as a CloudEvent of type
        ``org.devframe.libvirt.<kind>``, its ``as_dict()`` (redacted) as ``data``."""
        return from_agent_event(self, event)


def from_agent_event(factory: EventFactory, event: KindedEvent) -> dict[str, Any]:
    """The one mapping from an agent event object to a CloudEvent (see
    :meth:`EventFactory.from_agent_event`): works for every kind, today's and new ones."""
    body = dict(event.as_dict())
    if not _holds_nothing_secret(body):
        body = redact_value(body)
    kind = str(event.kind)
    uuid, alias = body.get("uuid"), body.get("alias")
    subject = f"{uuid}/{alias}" if uuid and alias else (uuid or None)
    data = {key: value for key, value in body.items() if key not in ("time", "kind")}
    data.setdefault("uuid", uuid)
    data["kind"] = kind
    return factory.make(LIBVIRT_PREFIX + kind, data, subject=subject, time=body.get("time"))


def spec_of(device: Device, spec: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The device's dev_spec with secrets redacted; a device whose values do not fit its
    fields is described by its error (also redacted), never dropped.

    Most dev_specs hold no secret: one search of their JSON text says so
    (:func:`~devframe.core.log.json_may_hold_secret`) and the spec is used as it is
    (not copied: events are read-only); only the others are walked and redacted."""
    return _spec_and_text(device, spec)[0]


def _spec_and_text(device: Device, spec: Mapping[str, Any] | None) -> tuple[dict[str, Any], str]:
    """:func:`spec_of` and its JSON text (for a spec without secrets, the very text its
    secret test searched)."""
    if spec is not None and "error" in spec and "type" not in spec:
        spec = None  # correlate's stand-in for a spec it could not build: say why again
    try:
        if spec is None:
            spec = device.to_spec(secrets=True)
        text = _plain_text(spec)
        if text is not None and not json_may_hold_secret(text):
            return spec, text  # type: ignore[return-value]
        out = device.redacted_spec(spec)
    except DevframeError as exc:
        out = {"type": device.dev_type, "error": redact_value(str(exc))}
    return out, _encode(out)


#: JSON text for the secret test: no ``default``, so anything not plain JSON is walked
#: (for plain JSON it writes what _ENCODER writes: that text is sent as it is)
_PLAIN_JSON = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":"))
_stdlib_plain_encode = _writer(_PLAIN_JSON)
#: _PLAIN_JSON's text (orjson's where it has it: see _orjson_writer)
_plain_encode = _orjson_writer(None, _stdlib_plain_encode)


def _plain_text(value: Any) -> str | None:
    """``value``'s JSON text, None when it is not plain JSON (then it is walked)."""
    try:
        return _plain_encode(value)
    except (TypeError, ValueError, RecursionError):
        return None


def _holds_nothing_secret(value: Any) -> bool:
    text = _plain_text(value)
    return text is not None and not json_may_hold_secret(text)


def _clean_texts(spec: Mapping[str, Any], changes: dict[str, list[Any]]) -> tuple[str, str] | None:
    """The JSON texts of a spec and its diff when neither may hold a secret (searched
    together, as the text of the pair), else None."""
    spec_text, changes_text = _plain_text(spec), _plain_text(changes)
    if spec_text is None or changes_text is None or json_may_hold_secret(f"[{spec_text},{changes_text}]"):
        return None
    return spec_text, changes_text


#: the spec paths of each device class's secret fields
_SECRET_PATHS: dict[type[Device], frozenset[str]] = {}


def _secret_paths(device: Device) -> frozenset[str]:
    cls = type(device)
    paths = _SECRET_PATHS.get(cls)
    if paths is None:
        paths = _SECRET_PATHS[cls] = frozenset(
            field.spec for field in device.fields.values() if field.secret and field.spec
        )
    return paths


def _secret_path(path: str, secret_paths: frozenset[str]) -> bool:
    return path in secret_paths or is_secret_key(path.rsplit(".", 1)[-1]) or is_secret_key(path)


#: (device class, diff path) -> whether the path names a secret, as _secret_path answers
_SECRET_PATH_ANSWERS: dict[tuple[type[Device], str], bool] = {}
#: the secret key names _SECRET_PATH_ANSWERS holds answers for (a registration clears it)
_ANSWERED_KEYS: list[Any] = [None]


def _any_secret_path(device: Device, paths: Iterable[str]) -> bool:
    """Whether any of a diff's ``paths`` names a secret of ``device`` (remembered per
    class and path: a fleet's changes name the same few paths again and again)."""
    registered = registered_secret_keys()
    if registered is not _ANSWERED_KEYS[0]:
        _SECRET_PATH_ANSWERS.clear()  # a secret key name was registered since: ask again
        _ANSWERED_KEYS[0] = registered
    cls = type(device)
    for path in paths:
        found = _SECRET_PATH_ANSWERS.get((cls, path))
        if found is None:
            if len(_SECRET_PATH_ANSWERS) >= _MAX_PATH_ANSWERS:
                _SECRET_PATH_ANSWERS.clear()
            found = _SECRET_PATH_ANSWERS[cls, path] = _secret_path(path, _secret_paths(device))
        if found:
            return True
    return False


_MAX_PATH_ANSWERS = 4096


def redact_changes(device: Device, changes: Mapping[str, tuple[Any, Any]]) -> dict[str, list[Any]]:
    """correlate's field diff as ``{field: [old, new]}`` with secret values hidden: a
    secret's change is still reported, as ``["***", "***"]``."""
    secret_paths = _secret_paths(device)
    plain = {path: [old, new] for path, (old, new) in changes.items()}
    if not _any_secret_path(device, plain) and _holds_nothing_secret(plain):
        return plain
    out: dict[str, list[Any]] = {}
    for path, (old, new) in changes.items():
        if _secret_path(path, secret_paths):
            out[path] = [REDACTED if old is not None else None, REDACTED if new is not None else None]
        else:
            out[path] = [redact_value(old), redact_value(new)]
    return out


# -- the wire -----------------------------------------------------------------------------

#: the media type of a batch: a JSON array of events (CloudEvents' JSON batch format)
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"
#: at most this many events in one batch (a guest's whole device list fits)
MAX_BATCH_EVENTS = 1000


def _event_text(event: Mapping[str, Any]) -> str:
    """One event's JSON text: the one it was made with (:class:`Event`), else written."""
    text = event.text if type(event) is Event else None
    return text if text is not None else _encode(event)


def encode(event: Mapping[str, Any]) -> bytes:
    """The JSON bytes of one event (compact, UTF-8)."""
    return _event_text(event).encode()


def encode_batch(events: Sequence[Mapping[str, Any]]) -> bytes:
    """The JSON bytes of a batch: an array of events, in order (each event's text
    joined: what encoding the list writes)."""
    return f"[{','.join(map(_event_text, events))}]".encode()


def batch_id(events: Sequence[Mapping[str, Any]]) -> str:
    """The message id of a batch, from its events' ids: ``<first id>..<last id>`` (one
    event: its id). Stable, so a batch sent again is dropped by the transport's dedupe;
    unique, since event ids are and a batch is a run of one agent's events."""
    first, last = str(events[0]["id"]), str(events[-1]["id"])
    return first if len(events) == 1 else f"{first}..{last}"


def guest_of(event: Mapping[str, Any]) -> tuple[str, str] | None:
    """(host, domain uuid) of an event about one guest, None for a host-wide event."""
    data = event.get("data")
    uuid = data.get("uuid") if isinstance(data, Mapping) else None
    if not uuid:
        return None
    return str(event.get("host") or data.get("host") or ""), str(uuid)  # type: ignore[union-attr]


def batches(events: Sequence[Mapping[str, Any]], max_events: int = MAX_BATCH_EVENTS) -> list[list[Mapping[str, Any]]]:
    """Events grouped into batches, one per guest (at most ``max_events`` each).

    A guest's events keep their order, and a batch stands where the guest's first event
    stood; a host-wide event (``host.synced``, a lost connection) is a batch of its own,
    after every event before it: a view applies ``host.synced`` knowing all guests."""
    out: list[list[Mapping[str, Any]]] = []
    open_groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for event in events:
        guest = guest_of(event)
        if guest is None:
            open_groups.clear()
            out.append([event])
            continue
        group = open_groups.get(guest)
        if group is None or len(group) >= max_events:
            group = open_groups[guest] = []
            out.append(group)
        group.append(event)
    return out


def _stdlib_loads(payload: bytes | str) -> Any:
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise FleetMessageError(f"not JSON: {exc}") from None


#: every byte 0 but the ASCII digits, 1: a run of digits becomes a run of 1s
_DIGIT_BYTES = bytes(1 if 0x30 <= byte <= 0x39 else 0 for byte in range(256))
#: orjson reads an integer beyond 64 bits as a float (the stdlib: as the integer); the
#: shortest such has 19 digits (-9223372036854775809)
_LONG_DIGITS = b"\x01" * 19


def _orjson_loads(payload: bytes | str) -> Any:
    """orjson's reading of ``payload``, the stdlib's where orjson would read other values
    or refuses it: a run of 19 digits anywhere (an integer orjson would read as a float;
    most such runs are in strings, a false alarm), ``NaN``, a lone surrogate's escape,
    nesting past orjson's limit, bad input (the stdlib's error, as without orjson)."""
    raw = payload.encode("utf-8", "surrogatepass") if isinstance(payload, str) else payload
    if _LONG_DIGITS in raw.translate(_DIGIT_BYTES):
        return _stdlib_loads(payload)
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return _stdlib_loads(payload)


#: the wire's reader: orjson's where it is installed (the same values: tests hold them equal)
_load = _stdlib_loads if orjson is None else _orjson_loads


def decode(payload: bytes | str) -> dict[str, Any]:
    """One devframe event from the wire; :class:`FleetMessageError` for anything else
    (not JSON, not a CloudEvent, another producer's type, a format version this
    release does not read)."""
    return check_event(_load(payload))


def decode_message(payload: bytes | str) -> tuple[list[dict[str, Any]], list[str]]:
    """The events of one message, a single event or a batch (a JSON array), and why
    each item of a batch that is not a devframe event was left out.
    :class:`FleetMessageError` when the message as a whole is neither."""
    value = _load(payload)
    if not isinstance(value, list):
        return [check_event(value)], []
    if not value:
        raise FleetMessageError("an empty batch")
    events: list[dict[str, Any]] = []
    problems: list[str] = []
    for index, item in enumerate(value):
        try:
            events.append(check_event(item))
        except FleetMessageError as exc:
            problems.append(f"item {index}: {exc}")
    return events, problems


def check_event(event: Any) -> dict[str, Any]:
    """``event`` (decoded JSON) when it is a devframe event of this format version,
    else :class:`FleetMessageError` saying why."""
    if type(event) is dict:
        # The common case in a few lookups (a view checks every event it applies).
        data, ident, source, kind = event.get("data"), event.get("id"), event.get("source"), event.get("type")
        if (
            event.get("specversion") == SPECVERSION
            and event.get("dataschema") == DATASCHEMA
            and type(data) is dict
            and type(data.get("host")) is str
            and type(ident) is str
            and ident
            and type(source) is str
            and source
            and type(kind) is str
            and kind.startswith(PREFIX)
        ):
            return event
    if not isinstance(event, dict):
        raise FleetMessageError(f"not a CloudEvent: a JSON {type(event).__name__}")
    missing = [name for name in _REQUIRED if not isinstance(event.get(name), str) or not event.get(name)]
    if missing:
        raise FleetMessageError(f"not a CloudEvent: no {', '.join(missing)}")
    if event["specversion"] != SPECVERSION:
        raise FleetMessageError(f"CloudEvents specversion {event['specversion']!r}, expected {SPECVERSION!r}")
    if not event["type"].startswith(PREFIX):
        raise FleetMessageError(f"event type {event['type']!r} is not devframe's ({PREFIX}*)")
    if event.get("dataschema") != DATASCHEMA:
        raise FleetMessageError(
            f"event {event['id']!r}: format {event.get('dataschema')!r}, this release reads {DATASCHEMA!r}"
        )
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("host"), str):
        raise FleetMessageError(f"event {event['id']!r}: data is not an object naming its host")
    return event
