"""devframe.core.jsontext's exact writer: orjson's text where it is installed, byte for
byte what the standard library's compact writer gives (``json.dumps(value, separators=
(",", ":"), ensure_ascii=False)``), on any value; refused where the stdlib refuses."""

from __future__ import annotations

import json
from collections import OrderedDict
from enum import IntEnum
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from without_orjson import run_without_orjson

from devframe import parse_domain
from devframe.core import jsontext
from devframe.core.jsontext import REFUSED, c_writer, holds_float, orjson_texts, orjson_writer
from devframe.testing import corpus_files

PLAIN = c_writer(json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":")))
EXACT = orjson_writer(None, PLAIN, exact=True)

#: floats each spelled differently by orjson and the stdlib somewhere (exponent, small
#: numbers written out), NaN and the infinities (orjson: null), and plain ones
FLOATS = [1e-7, 1e-05, 1.5e-05, 0.0001, 1e16, 1e22, 5e-324, 1.7976931348623157e308, 0.1, -0.0, 2.5]
FLOATS += [float("nan"), float("inf"), -float("inf"), 123456789.12345679, -1e-300]

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(FLOATS)
    | st.text(max_size=12)
    | st.sampled_from(["1.5", ":1.5", "3e-", 'a\u2028b\x7f\x1f"\\', "\ud800", "vda.img", "e+"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=6) | st.integers() | st.none(), inner, max_size=4)
    ),
    max_leaves=20,
)


def expected(value: Any) -> str | None:
    """The stdlib's text, None where it refuses the value."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, check_circular=False)
    except REFUSED:
        return None


def written(value: Any) -> str | None:
    try:
        return EXACT(value)
    except REFUSED:
        return None


@pytest.fixture(autouse=True)
def _orjson_installed() -> None:
    # The dev group installs orjson: without it these tests would compare the stdlib with itself.
    assert jsontext.orjson is not None, "orjson is in the dev group: run ./scripts/bootstrap"


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=JSON_VALUES)
def test_the_exact_writer_writes_the_stdlib_text_of_any_value(value: Any) -> None:
    assert written(value) == expected(value)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(JSON_VALUES, max_size=8))
def test_texts_of_many_values_are_each_one_s_text(values: list[Any]) -> None:
    assert orjson_texts(values, PLAIN) == [expected(value) for value in values]


@pytest.mark.parametrize("number", FLOATS)
def test_every_float_is_spelled_as_the_stdlib_spells_it(number: float) -> None:
    for value in (number, [number], {"a": {"b": [1, number]}}, {"n": None, "x": number}, ["x", "1e-7", number]):
        assert written(value) == expected(value)
        assert orjson_texts([{"a": "b"}, value, ["c"]], PLAIN)[1] == expected(value)
        if number == number and abs(number) not in (0.0, float("inf")):
            # orjson's own text of it is seen as holding a float: alone and among others
            raw = jsontext.orjson.dumps(value)
            assert holds_float(raw) and holds_float(b'{"a":1}\n' + raw + b"\n[2]")


def test_a_float_is_found_only_in_a_number() -> None:
    assert not holds_float(b'{"path":"/a/b.img","v":"9.2","u":"00000000-0000-1e-0000","n":[1,-2]}')
    assert not holds_float(b'{"e":"e+","x":"3e-","y":".5"}\n["1.2.3x"]')
    for text in (b"0.5", b"[-1e-7]", b'{"a":1e+16}', b'["x",2.5]', b"[1]\n3.25", b'{"a":"x"}\n-0.0'):
        assert holds_float(text), text
    assert holds_float(b'{"s":"a:1.5"}')  # a string like a number after ':' is a false alarm: harmless


def test_subclasses_and_refused_values_go_to_the_stdlib() -> None:
    class Level(IntEnum):
        HIGH = 3

    class Word(str):
        pass

    class Hiding(dict[str, int]):
        """A dict whose items() the stdlib writes (orjson would write its storage)."""

        def items(self) -> Any:
            return [(key, value) for key, value in super().items() if key != "hidden"]

    values: list[Any] = [
        OrderedDict(b=1, a=[2]),
        {"level": Level.HIGH, "word": Word("w")},
        {"outer": Hiding(shown=1, hidden=2)},
        {1: "int key", None: "none key"},
        {"big": 10**30},
        {"surrogate": "\ud800"},
        {"obj": object()},
        [[[[0]]]],
    ]
    deep: Any = 0
    for _ in range(300):  # past orjson's depth limit, within the stdlib's
        deep = [deep]
    values.append(deep)
    for value in values:
        assert written(value) == expected(value)
    assert orjson_texts(values, PLAIN) == [expected(value) for value in values]


def test_every_sample_spec_is_written_as_the_stdlib_writes_it() -> None:
    specs = [device.to_spec() for path in corpus_files() for device in parse_domain(path.read_bytes()).devices]
    assert len(specs) > 100
    assert orjson_texts(specs, PLAIN) == [expected(spec) for spec in specs]
    assert [written(spec) for spec in specs] == [expected(spec) for spec in specs]


def test_without_orjson_the_stdlib_writes() -> None:
    run_without_orjson(
        "from devframe.core import jsontext as j\n"
        "from devframe.cli import jsonout\n"
        "assert j.orjson is None and jsonout._TEXT is jsonout._PLAIN\n"
        "assert j.orjson_texts([{'a': 1e-05}, object()], jsonout._PLAIN) == ['{\"a\":1e-05}', None]"
    )
