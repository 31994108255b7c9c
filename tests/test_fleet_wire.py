"""The fleet's wire text: an event made with its JSON text (cloudevents.Event) encodes to
exactly what the general encoder writes of the same values, and the secret test searched
the text that is sent. Every test runs with each codec: orjson (the nats extra's, where
installed) and the stdlib's; the two read and write the same values."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from fleet_hosts import PASSWORD
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from without_orjson import run_without_orjson

import devframe
from devframe.fleet import EventFactory, cloudevents
from devframe.fleet.cloudevents import (
    _ENCODER,
    ADDED,
    CHANGED,
    REMOVED,
    Event,
    FleetMessageError,
    decode_message,
    encode,
    encode_batch,
)

REGISTRY = devframe.create_registry()
NIC = REGISTRY.device_from_spec({"type": "interface", "device": "bridge", "macAddr": "52:54:00:00:00:01"})
SPICE = REGISTRY.device_from_spec({"type": "graphics", "device": "spice", "specParams": {"password": PASSWORD}})
DISK = REGISTRY.device_from_spec(
    {"type": "disk", "device": "disk", "path": "/var/lib/images/a.qcow2", "target": "vda", "serial": "s1"}
)


@pytest.fixture(autouse=True, params=["orjson", "stdlib"])
def codec(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The wire's codec for one test: orjson's (the dev group installs it, so its absence
    fails here rather than skipping), or the stdlib's, which devframe uses without orjson."""
    if request.param == "orjson":
        assert cloudevents.orjson is not None, "orjson is in the dev group: run ./scripts/bootstrap"
        assert cloudevents._load is cloudevents._orjson_loads
    else:
        monkeypatch.setattr(cloudevents, "_encode", cloudevents._stdlib_encode)
        monkeypatch.setattr(cloudevents, "_plain_encode", cloudevents._stdlib_plain_encode)
        monkeypatch.setattr(cloudevents, "_load", cloudevents._stdlib_loads)
    return str(request.param)


def _same(a: Any, b: Any) -> bool:
    """Equal decoded JSON, types included (1, 1.0 and True apart), NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return a == b or (math.isnan(a) and math.isnan(b))
    if type(a) is list:
        return len(a) == len(b) and all(map(_same, a, b))
    if type(a) is dict:
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _reads_the_same(sent: str | bytes, expected: str | bytes) -> bool:
    """``sent`` is ``expected``, byte for byte, or (orjson's floats: 1e-7 for 1e-07) the
    same values read back."""
    return sent == expected or _same(json.loads(sent), json.loads(expected))


def _written(event: Any) -> bytes:
    """The general path: the event's values through the encoder, not its kept text."""
    return _ENCODER.encode(dict(event)).encode()


def _events(factory: EventFactory, domain: str | None, key: str, alias: str | None) -> list[Any]:
    nic_spec = NIC.to_spec()
    return [
        factory.device(ADDED, domain, "u-1", key, NIC, spec=nic_spec, ids=(alias, None)),
        factory.device(ADDED, domain, "u-1", key, DISK),  # the spec built here
        factory.device(ADDED, domain, "u-1", key, SPICE, spec=SPICE.to_spec(secrets=True)),  # redacted
        factory.device(REMOVED, domain, "u-1", key, NIC, redacted=nic_spec, ids=(alias, "dev-1")),
        factory.device(CHANGED, domain, "u-1", key, NIC, changes={"link": ("up", "down")}, spec=nic_spec),
        factory.device(
            CHANGED, domain, "u-1", key, NIC, changes={"link": ("up", None)}, spec=nic_spec, new_key=key + "/2"
        ),
        factory.device(CHANGED, domain, "u-1", key, NIC, changes={"link": ("a", "b")}, new_key=key),
        factory.device(  # a secret's change: the diff and the spec walked
            CHANGED, domain, "u-1", key, SPICE, changes={"specParams.password": (PASSWORD, "x")}
        ),
        factory.device(  # the spec and diff clean apart, the pair not: a secret word in the diff
            CHANGED, domain, "u-1", key, NIC, changes={"x": ("<graphics passwd='a'/>", "b")}, spec=nic_spec
        ),
        factory.device(CHANGED, domain, "u-1", key, NIC, changes={"n": (1, 2.5)}, spec={"type": "x", "v": 10**30}),
    ]


def test_each_device_event_is_sent_as_the_encoder_writes_its_values() -> None:
    factory = EventFactory("h\u00e9.example", "qemu+ssh://r\u00f6ot@h/system", run='run"1')
    events = _events(factory, 'vm "one"', "ua-\u2603", "net0")
    for event in events:
        assert isinstance(event, Event) and event.text is not None
        assert encode(event) == _written(event), event
    assert encode_batch(events) == _ENCODER.encode([dict(e) for e in events]).encode()
    mixed = [factory.guest_synced("vm", "u-1", ["a"]), *events, factory.host_synced(["u-1"])]
    assert encode_batch(mixed) == _ENCODER.encode([dict(e) for e in mixed]).encode()
    assert decode_message(encode_batch(mixed))[0] == json.loads(_ENCODER.encode(mixed))
    # what the secret test left out is nowhere in the text that is sent
    assert PASSWORD not in encode_batch(events).decode()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    host=st.text(min_size=1, max_size=12),
    domain=st.none() | st.text(max_size=12),
    key=st.text(max_size=12),
    alias=st.none() | st.text(max_size=8),
    value=st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
)
def test_any_names_and_values_encode_as_the_general_path(
    codec: str, host: str, domain: str | None, key: str, alias: str | None, value: Any
) -> None:
    factory = EventFactory(host, f"test:///{host}")
    spec = {"type": "interface", "macAddr": "52:54:00:00:00:01", "v": value}
    events = [
        *_events(factory, domain, key, alias),
        factory.device(CHANGED, domain, key, key, NIC, changes={key: (value, alias)}, spec=spec, new_key=alias),
    ]
    for event in events:
        try:
            expected = _written(event)
        except UnicodeEncodeError:  # a lone surrogate: neither path can send it
            with pytest.raises(UnicodeEncodeError):
                encode(event)
            continue
        if codec == "stdlib":
            assert encode(event) == expected
        else:
            assert _reads_the_same(encode(event), expected)


def test_an_event_changed_after_it_was_made_is_written_from_its_values() -> None:
    factory = EventFactory("h", "test:///default")
    changes: list[Callable[[Any], object]] = [
        lambda e: e.__setitem__("subject", "other"),
        lambda e: e.pop("subject"),
        lambda e: e.update(type="org.devframe.device.other"),
        lambda e: e.setdefault("extra", 1),
        lambda e: e.__delitem__("time"),
        lambda e: e.popitem(),
    ]
    for change in changes:
        event = factory.device(ADDED, "vm", "u", "k", NIC)
        assert isinstance(event, Event) and event.text is not None
        change(event)
        assert event.text is None
        assert encode(event) == _written(event)
        assert encode_batch([event, event]) == _ENCODER.encode([dict(event)] * 2).encode()
    event = factory.device(ADDED, "vm", "u", "k", NIC)
    assert isinstance(event, Event)
    event |= {"extra": 2}
    assert event.text is None and json.loads(encode(event))["extra"] == 2


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=10)
    | st.builds(object),  # no JSON type: the wire writes its str(), the secret test walks it
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6) | st.integers() | st.booleans() | st.none(), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=JSON_VALUES)
def test_the_writers_made_once_write_what_the_encoders_write(codec: str, value: Any) -> None:
    from devframe.fleet.cloudevents import _PLAIN_JSON, _encode, _plain_encode

    written = _encode(value)
    expected = _ENCODER.encode(value)
    assert written == expected if codec == "stdlib" else _reads_the_same(written, expected)
    try:
        expected = _PLAIN_JSON.encode(value)
    except TypeError:
        with pytest.raises(TypeError):
            _plain_encode(value)
    else:
        written = _plain_encode(value)
        assert written == expected if codec == "stdlib" else _reads_the_same(written, expected)


FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [1e-7, 1e16, 1e22, 5e-324, 1.7976931348623157e308, 0.1, -0.0, 1e-5, 123456789.12345679]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.lists(FLOATS | st.integers(), max_size=6))
def test_each_codec_writes_numbers_that_read_back_the_same(value: list[Any]) -> None:
    # orjson writes an exponent without "+" or a leading zero, and refuses integers past
    # 64 bits and NaN (the stdlib's writes them): the same values either way.
    for encode_ in (cloudevents._encode, cloudevents._plain_encode):
        written = encode_(value)
        assert _reads_the_same(written, _ENCODER.encode(value))
        assert _same(cloudevents._load(written.encode()), json.loads(_ENCODER.encode(value)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=JSON_VALUES, pretty=st.booleans())
def test_each_codec_reads_what_the_stdlib_reads(value: Any, pretty: bool) -> None:
    # any producer's spelling of the same JSON (spaces, ASCII escapes, NaN): one reading
    text = json.dumps(value, default=str, ensure_ascii=pretty, indent=1 if pretty else None)
    try:
        payload = text.encode()
    except UnicodeEncodeError:  # a lone surrogate: only its escape can be sent
        payload = json.dumps(value, default=str).encode()
    expected = json.loads(payload)
    assert _same(cloudevents._load(payload), expected)
    assert _same(cloudevents._load(payload.decode()), expected)


@pytest.mark.parametrize(
    "payload",
    [b"", b"{", b"[1,]", b"\xff\xfe", b'{"a":1}x', b"nul", b'"\\ud800', b"[" * 100_000, "{\u00e9}", b"01"],
)
def test_each_codec_refuses_what_the_stdlib_refuses(payload: bytes | str) -> None:
    with pytest.raises(FleetMessageError) as raised:
        cloudevents._load(payload)
    with pytest.raises(FleetMessageError) as stdlib:
        cloudevents._stdlib_loads(payload)
    assert str(raised.value) == str(stdlib.value)  # the stdlib's words for it: the same log line
    with pytest.raises(FleetMessageError):
        decode_message(payload)


def test_an_event_copied_pickled_or_made_from_keys_writes_what_its_values_say() -> None:
    import copy
    import pickle

    factory = EventFactory("h", "test:///default")
    event = factory.device(ADDED, "vm", "u", "k", NIC)
    for other in (copy.copy(event), copy.deepcopy(event), pickle.loads(pickle.dumps(event))):
        assert other == event and encode(other) == encode(event) == _written(event)
    made = Event.fromkeys(["a", "b"], 1)
    assert isinstance(made, Event) and made.text is None and encode(made) == b'{"a":1,"b":1}'
    assert type(event | {"x": 1}) is dict  # a new mapping: no text carried over


def test_without_orjson_the_stdlib_writes_and_reads() -> None:
    # The codec is chosen in the subprocess, so both of the fixture's runs check the same thing.
    run_without_orjson(
        "from devframe.fleet import cloudevents as c\n"
        "assert c.orjson is None and c._load is c._stdlib_loads\n"
        "assert c._encode is c._stdlib_encode and c._plain_encode is c._stdlib_plain_encode\n"
        "e = c.EventFactory('h', 'test:///default').host_synced(['u'])\n"
        "assert c.decode(c.encode(e)) == e"
    )


@pytest.mark.parametrize(
    "value",
    [
        {"a": None, "b": float("nan")},
        [None, float("inf"), -float("inf")],
        {"alias": None, "v": (1, None)},
        {"a": None, "n": 10**20},
        {"s": "null", "t": ["nullable", None]},
    ],
)
def test_a_null_is_kept_only_where_it_reads_back_as_the_value(value: Any) -> None:
    # orjson writes NaN and the infinities as null: such a text goes to the stdlib's writer
    for encode_, stdlib in (
        (cloudevents._encode, cloudevents._stdlib_encode),
        (cloudevents._plain_encode, cloudevents._stdlib_plain_encode),
    ):
        assert encode_(value) == stdlib(value)
