"""Issue 16 item 3: ``devframe inspect`` and ``inspect --json`` stream.

What is checked: the streamed output is what reading the whole document printed, on every
sample domain (and with the streaming machinery forced on small documents: tiny chunks, no
held rows); metadata binds whether `<metadata>` comes before `<devices>` (libvirt's order)
or after; errors in a document are one-line user errors even after rows were printed; peak
memory of a large inspect stays below lxml's tree of the same document (a ratio of two child
processes' peak RSS, not a timing); progress shows on stderr only when it is a terminal.
"""

from __future__ import annotations

import copy
import io
import json
import os
import pty
import re
import select
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

import devframe
from devframe import DevframeError, XMLError, parse_domain
from devframe.cli import inspect as inspect_module
from devframe.cli import main
from devframe.cli.inspect import inspect_stream, spec_map, table_rows
from devframe.cli.jsonout import RedactedJSON
from devframe.cli.output import render_table
from devframe.core import stream as stream_module
from devframe.core.log import redact_value
from devframe.core.stream import DomainStream
from devframe.testing import corpus_files

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "domain.xml"
DEVFRAME = Path(sys.executable).with_name("devframe")
OVIRT_SAMPLE = next(p for p in corpus_files() if p.name == "ovirt-metadata.xml")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVFRAME_")}
    env.update(extra)
    return env


def invoke(*args: str, input: bytes | None = None) -> Result:
    overrides: dict[str, str | None] = {k: None for k in os.environ if k.startswith("DEVFRAME_")}
    return CliRunner().invoke(main, list(args), input=input, env=overrides, catch_exceptions=False)


# -- what reading the whole document printed (the implementation before streaming) ----------------


def whole_table(xml: bytes) -> str:
    domain = parse_domain(xml)
    rows = table_rows(domain)
    header = f"domain {domain.name or '?'}  uuid {domain.uuid or '?'}  devices {len(rows)}\n"
    return header + "".join(line + "\n" for line in render_table(rows, inspect_module.HEADER, wide=True))


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), default=str, ensure_ascii=False)


def whole_json(xml: bytes) -> str:
    """The dev_spec_map's layout: dev_types indented as ``indent=2`` would, a dev_spec per line."""
    specs = spec_map(parse_domain(xml))
    if not specs:
        return "{}\n"
    lists = [
        f"  {json.dumps(dev_type, ensure_ascii=False)}: [\n" + ",\n".join("    " + compact(s) for s in items) + "\n  ]"
        for dev_type, items in specs.items()
    ]
    return "{\n" + ",\n".join(lists) + "\n}\n"


def streamed(xml: bytes, *, as_json: bool) -> str:
    out = io.StringIO()
    inspect_stream(io.BytesIO(xml), as_json=as_json, out=out, err=io.StringIO())
    return out.getvalue()


@pytest.fixture
def forced(monkeypatch: pytest.MonkeyPatch) -> None:
    """Streaming as a huge document gets it: 97-byte chunks (so devices are cut anywhere, the
    metadata decision is taken with <devices> open), printed from the first device."""
    monkeypatch.setattr(stream_module, "CHUNK_SIZE", 97)
    monkeypatch.setattr(inspect_module, "HOLD_BYTES", 0)


def table_cells(text: str) -> list[list[str]]:
    # Column widths differ once rows are printed as they come; the cells do not.
    return [line.split() for line in text.splitlines()]


# -- identical output --------------------------------------------------------------------------


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_cli_output_is_what_the_whole_document_printed(path: Path) -> None:
    xml = path.read_bytes()
    table = invoke("inspect", str(path))
    assert table.exit_code == 0, table.stderr
    assert table.stdout == whole_table(xml)
    as_json = invoke("inspect", "--json", str(path))
    assert as_json.exit_code == 0, as_json.stderr
    assert as_json.stdout == whole_json(xml)
    stdin = invoke("inspect", "--json", "-", input=xml)
    assert stdin.stdout == as_json.stdout


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_forced_streaming_prints_the_same(path: Path, forced: None) -> None:
    xml = path.read_bytes()
    assert streamed(xml, as_json=True) == whole_json(xml)
    assert table_cells(streamed(xml, as_json=False)) == table_cells(whole_table(xml))


def test_a_document_larger_than_the_held_bytes_streams_its_table(monkeypatch: pytest.MonkeyPatch) -> None:
    xml = EXAMPLE.read_bytes()
    monkeypatch.setattr(inspect_module, "HOLD_BYTES", len(xml) - 1)
    text = streamed(xml, as_json=False)
    whole = whole_table(xml)
    assert text.splitlines()[0] == whole.splitlines()[0]  # name, uuid and count from the first pass
    assert table_cells(text) == table_cells(whole)
    assert text != whole  # widths known before the first row: it did stream
    header = text.splitlines()[1]
    widest_plugin = max(len(route.plugin) for route in devframe.default_registry().routes.values())
    assert header.index("ALIAS") - header.index("PLUGIN") == widest_plugin + 2
    monkeypatch.setattr(inspect_module, "HOLD_BYTES", len(xml))
    assert streamed(xml, as_json=False) == whole  # up to the limit: exactly as read whole


def test_json_of_interleaved_dev_types_is_one_document_in_first_seen_order(forced: None) -> None:
    # Disks, NICs and sounds alternate: later dev_types wait in spools until the first is done.
    body = "".join(
        f"<disk type='file' device='disk'><source file='/d{i}'/><target dev='vd{chr(97 + i)}' bus='virtio'/></disk>"
        f"<interface type='network'><mac address='52:54:00:00:00:{i:02x}'/><source network='n'/></interface>"
        "<sound model='ich9'/>"
        for i in range(20)
    )
    xml = f"<domain type='kvm'><name>mixed</name><devices>{body}</devices></domain>".encode()
    text = streamed(xml, as_json=True)
    assert text == whole_json(xml)
    assert list(json.loads(text)) == ["disk", "interface", "sound"]


def test_spooled_dev_types_go_to_a_temporary_file_and_back(forced: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inspect_module, "SPOOL_MEMORY", 64)  # every later dev_type spills to disk
    xml = EXAMPLE.read_bytes()
    assert streamed(xml, as_json=True) == whole_json(xml)


def test_no_devices_and_an_empty_devices_element(forced: None) -> None:
    for xml in (b"<domain><name>a</name></domain>", b"<domain><name>a</name><devices/></domain>"):
        assert streamed(xml, as_json=True) == whole_json(xml) == "{}\n"
        assert table_cells(streamed(xml, as_json=False)) == table_cells(whole_table(xml))


# -- metadata: before <devices> (libvirt's order) or after ---------------------------------------


def metadata_moved(xml: bytes, *, after_devices: bool) -> bytes:
    """The document with its `<metadata>` right after `<devices>`, or right before (libvirt's
    order puts it after `<name>`, `<uuid>`, ...: before in any case)."""
    root = etree.fromstring(xml)
    metadata = root.find("metadata")
    devices = root.find("devices")
    assert metadata is not None and devices is not None
    root.remove(metadata)
    if after_devices:
        devices.addnext(metadata)
    else:
        devices.addprevious(metadata)
    moved = etree.tostring(root)
    assert (moved.index(b"<metadata") > moved.index(b"<devices")) is after_devices
    return moved


def metadata_moved_after_devices(xml: bytes) -> bytes:
    return metadata_moved(xml, after_devices=True)


def test_metadata_after_devices_still_binds(forced: None) -> None:
    xml = metadata_moved_after_devices(OVIRT_SAMPLE.read_bytes())
    text = streamed(xml, as_json=True)
    assert text == whole_json(xml)
    bound = [spec for specs in json.loads(text).values() for spec in specs if "domainID" in spec or "network" in spec]
    assert bound, "the sample's disk and NIC metadata is in their specs"


def test_metadata_after_devices_with_a_whole_chunk_and_after_a_first_pass() -> None:
    xml = metadata_moved_after_devices(OVIRT_SAMPLE.read_bytes())
    # One chunk: the devices are complete when first seen, so the stream reads on to the end.
    phases: list[str] = []
    stream = DomainStream(io.BytesIO(xml), progress=lambda s: phases.append(s.phase))
    specs = [device.to_spec() for device in stream]
    assert specs == [device.to_spec() for device in parse_domain(xml).devices]
    assert "scanning" not in phases
    # Tiny chunks: <devices> is open when the first devices are made: a first pass reads the metadata.
    phases.clear()
    stream = DomainStream(io.BytesIO(xml), progress=lambda s: phases.append(s.phase), chunk_size=97)
    assert [device.to_spec() for device in stream] == specs
    assert "scanning" in phases


def test_one_first_pass_serves_the_outline_and_the_binding() -> None:
    xml = metadata_moved_after_devices(OVIRT_SAMPLE.read_bytes())
    phases: list[str] = []
    stream = DomainStream(io.BytesIO(xml), progress=lambda s: phases.append(s.phase), chunk_size=97)
    whole = parse_domain(xml)
    assert stream.outline().devices == len(whole.devices)  # before reading: a first pass
    assert [device.to_spec() for device in stream] == [device.to_spec() for device in whole.devices]
    passes = [phase for i, phase in enumerate(phases) if i == 0 or phases[i - 1] != phase]
    assert passes == ["scanning", "reading"]


def test_metadata_before_devices_takes_one_pass() -> None:
    phases: list[str] = []
    xml = metadata_moved(OVIRT_SAMPLE.read_bytes(), after_devices=False)
    stream = DomainStream(io.BytesIO(xml), progress=lambda s: phases.append(s.phase), chunk_size=97)
    assert [d.to_spec() for d in stream] == [d.to_spec() for d in parse_domain(xml).devices]
    assert set(phases) == {"reading"}


def test_the_word_metadata_in_a_comment_costs_a_pass_not_a_binding(forced: None) -> None:
    xml = EXAMPLE.read_bytes().replace(b"<devices>", b"<devices><!-- <metadata> is elsewhere -->", 1)
    root = etree.fromstring(xml)
    metadata = root.find("metadata")
    assert metadata is not None
    root.remove(metadata)  # no metadata at all, but the bytes "<metadata" are there
    xml = etree.tostring(root)
    assert streamed(xml, as_json=True) == whole_json(xml)


def test_a_utf16_document_is_read_whole_for_its_metadata(forced: None) -> None:
    text = metadata_moved_after_devices(OVIRT_SAMPLE.read_bytes()).decode()
    xml = ('<?xml version="1.0" encoding="UTF-16"?>\n' + text).encode("utf-16")
    assert streamed(xml, as_json=True) == whole_json(xml)


def test_a_device_claimed_twice_by_one_entry_is_refused_after_streaming(forced: None) -> None:
    # The first device was handed over and freed; the entry still knows it was taken.
    alias = f"ua-{uuid.UUID(int=7)}"
    devices = f"<sound model='ich9'><alias name='{alias}'/></sound>" * 2
    xml = (
        "<domain xmlns:ovirt-vm='http://ovirt.org/vm/1.0'><name>twice</name><metadata><ovirt-vm:vm>"
        f"<ovirt-vm:device alias='{alias}'><ovirt-vm:x>1</ovirt-vm:x></ovirt-vm:device>"
        f"</ovirt-vm:vm></metadata><devices>{devices}</devices></domain>"
    ).encode()
    with pytest.raises(DevframeError) as whole:
        parse_domain(xml)
    with pytest.raises(DevframeError) as caught:
        streamed(xml, as_json=True)
    assert type(caught.value) is type(whole.value)
    assert "matches two devices" in str(caught.value) and "<sound>" in str(caught.value)


# -- errors ----------------------------------------------------------------------------------------


def one_line_error(result: Result, *needles: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("devframe: error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def test_an_error_after_rows_were_printed_is_still_one_line(tmp_path: Path, forced: None) -> None:
    path = tmp_path / "cut.xml"
    good = EXAMPLE.read_bytes()
    path.write_bytes(good[: good.index(b"</devices>")] + b"<disk>\n</domain>\n")
    result = invoke("inspect", "--json", str(path))
    one_line_error(result, str(path), "line ")
    # The first dev_type was streamed before the error (later ones wait for their turn).
    assert result.stdout.startswith('{\n  "emulator": [\n') and "qemu-system-x86_64" in result.stdout
    # The table's header needs the first pass, which meets the error before any row.
    table = invoke("inspect", str(path))
    one_line_error(table, str(path), "line ")
    assert table.stdout == ""


def test_a_small_document_with_an_error_prints_nothing(tmp_path: Path) -> None:
    path = tmp_path / "cut.xml"
    good = EXAMPLE.read_bytes()
    path.write_bytes(good[: good.index(b"</devices>")] + b"<disk>\n</domain>\n")
    for args in (["inspect", str(path)], ["inspect", "--json", str(path)]):
        result = invoke(*args)
        one_line_error(result, str(path))
        assert result.stdout == ""


@pytest.mark.parametrize(
    ("xml", "needle"),
    [
        (b"<network><devices><disk/></devices></network>", "expected <domain>"),
        (b"<domain><devices><disk></devices></domain>", "line 1"),
        (b'<!DOCTYPE domain [<!ENTITY x SYSTEM "file:///etc/hostname">]><domain><name>&x;</name></domain>', "refused"),
        (b'<!DOCTYPE domain SYSTEM "http://127.0.0.1:9/evil.dtd"><domain><devices/></domain>', "refused"),
        (b"<domain><name>&undefined;</name></domain>", "entity"),
        (b"", "empty"),
    ],
)
def test_bad_documents_are_refused_as_the_whole_parse_refuses_them(xml: bytes, needle: str, forced: None) -> None:
    with pytest.raises(DevframeError) as whole:
        parse_domain(xml)
    for as_json in (False, True):
        with pytest.raises(DevframeError) as caught:
            streamed(xml, as_json=as_json)
        assert needle.lower() in str(caught.value).lower(), str(caught.value)
        assert isinstance(caught.value, type(whole.value)) or isinstance(whole.value, type(caught.value))


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("billion_laughs", "refused"),
        ("quadratic_blowup", "refused"),
        ("parameter_entity_internal", "refused"),
        ("deep_nesting", "depth"),
        ("invalid_utf8", "encoding"),
    ],
)
def test_hostile_documents_are_refused_by_the_stream(case: str, needle: str) -> None:
    from test_hostile_xml import build  # the hostile documents of issue 9's tests

    data = build(case, "")
    xml = data.encode() if isinstance(data, str) else data
    with pytest.raises(XMLError) as caught:
        list(DomainStream(io.BytesIO(xml), chunk_size=4096))
    assert needle in str(caught.value).lower(), str(caught.value)


@pytest.mark.parametrize("count", [63, 64, 65, 40_000])
def test_namespace_declarations_are_limited_as_parse_xml_limits_them(count: int) -> None:
    limit = devframe.ParseLimits().max_namespaces
    declared = " ".join(f'xmlns:n{i}="urn:example:{i}"' for i in range(count))
    text = f"<domain {declared}><name>ns</name><devices><sound model='ich9'/></devices></domain>"
    for xml in (text.encode(), ('<?xml version="1.0" encoding="UTF-16"?>' + text).encode("utf-16")):
        stream = DomainStream(io.BytesIO(xml), chunk_size=4096)
        if count <= limit:
            assert [device.dev_type for device in stream] == ["sound"]
            continue
        with pytest.raises(XMLError, match=f"namespace declarations refused: more than the limit of {limit}"):
            list(stream)
    # Declarations anywhere count, inside <devices> too; the word in a text does not.
    spread = "".join(f"<x:e xmlns:x='urn:{i}'/>" for i in range(limit + 1))
    with pytest.raises(XMLError, match="namespace declarations refused"):
        list(DomainStream(io.BytesIO(f"<domain><devices>{spread}</devices></domain>".encode()), chunk_size=64))
    wordy = f"<domain><description>{'xmlns ' * 1000}</description><devices/></domain>".encode()
    assert list(DomainStream(io.BytesIO(wordy))) == []


def test_the_size_limit_is_applied_to_a_stream(tmp_path: Path) -> None:
    path = tmp_path / "d.xml"
    path.write_bytes(EXAMPLE.read_bytes())
    with pytest.raises(DevframeError, match="limit of 1000 bytes"):
        list(DomainStream(path, limits=devframe.ParseLimits(max_bytes=1000)))
    # A file that grows after it was measured is still stopped as it is fed.
    growing = io.BytesIO(EXAMPLE.read_bytes())
    stream = DomainStream(growing, limits=devframe.ParseLimits(max_bytes=len(growing.getvalue())))
    growing.seek(0, os.SEEK_END)
    growing.write(b"<!--" + b"x" * 5000 + b"-->")
    with pytest.raises(XMLError, match="limit"):
        list(stream)


def test_a_stream_is_read_once() -> None:
    stream = DomainStream(EXAMPLE)
    assert len(list(stream)) == len(parse_domain(EXAMPLE.read_bytes()).devices)
    with pytest.raises(DevframeError, match="read once"):
        list(stream)


# -- the JSON encoder --------------------------------------------------------------------------------


class Opaque:
    def __str__(self) -> str:
        return "opaque"


def encoder_values() -> list[object]:
    """Values at and past every bound the encoder checks, and every sample device's spec."""
    from collections import OrderedDict
    from enum import IntEnum

    class Level(IntEnum):
        HIGH = 3

    values: list[object] = [
        {},
        [],
        {"a": []},
        {"passwd": "x", "cephSecret": {"deep": 1}, "iscsiPassword": None, "key": [1, 2], "Token": 0},
        {"xml": "<graphics passwd='s3cret'/>", "text": 'a "quoted" line\nand a tab\t and ünïcödé'},
        {1: "int key", 2.5: "float key", None: "none key"},
        {True: "bool key", False: 0},
        {"floats": [0.1, 1e300, float("inf"), float("-inf"), float("nan"), -0.0]},
        {"tuple": (1, "two", None, False), "ordered": OrderedDict(b=1, a={"passphrase": "p"})},
        {"enum": Level.HIGH, "error": ValueError("secret=abc"), "big": 10**30},
        {"nest": {"a": {"b": {"c": [[{"d": "e"}]]}}}},
    ]
    deep: object = "leaf"
    for _ in range(60):
        deep = {"x": deep, "y": [1, "z"]}
    values.append(deep)
    # Past redact_value's 10,000 values, and an int past Python's int/str limit.
    values += [{"many": list(range(12_000)), "after": "x"}, [{"a": i, "passwd": "p"} for i in range(6_000)]]
    values += [{"huge": 10**5000, "negative": -(10**5000), "list": [10**5000]}]
    # At and past the bounds the C encoder's text is checked against: 50 and 51 levels deep,
    # 10,000 and 10,001 values, an integer of 640 and 641 digits, secrets a search must find.
    for levels in (50, 51):
        nested: object = 0
        for _ in range(levels):
            nested = [nested]
        values.append(nested)
    values += [[0] * 9_999, [0] * 10_000, {"n": 10**639, "m": [-(10**640)]}]
    values += [{"x": "COO\u212aIES"}, {"pa\u017f\u017fword": "x"}, {"a": [{"b": "<secret usage='x'/>"}]}]
    for spec_file in corpus_files():
        values += [device.to_spec() for device in parse_domain(spec_file.read_bytes()).devices if not device.error]
    return values


def test_the_encoder_writes_what_json_dumps_of_the_redacted_value_writes() -> None:
    encoder = RedactedJSON()
    for value in encoder_values():
        assert encoder.dumps(value) == compact(redact_value(value)), value


@pytest.mark.parametrize("size", [1, 2, 7, 64, 10_000])
def test_the_encoder_writes_a_batch_as_it_writes_each_value(size: int) -> None:
    # dumps_many searches the texts of a batch at once: the same text for every value,
    # whatever its neighbours (secrets, non-ASCII text, values past a bound, refused ones).
    values = encoder_values()
    encoder = RedactedJSON()
    expected = [encoder.dumps(value) for value in values]
    got = [text for i in range(0, len(values), size) for text in encoder.dumps_many(values[i : i + size])]
    assert got == expected
    assert encoder.dumps_many([]) == []


def digits_at(offset: int, count: int) -> str:
    return json.dumps({"pad": "x" * offset, "n": "7" * count}, separators=(",", ":"))


def secret_search_texts() -> list[str]:
    texts: list[str] = []
    for value in encoder_values():
        try:
            texts.append(compact(value))
        except ValueError:  # an int past Python's int/str limit
            texts.append(compact(redact_value(value)))
    # a needle at a text's start, at its end, cut across two texts; odd cases of case
    texts += ['"key":1', '{"a":"passw', 'ord"}', '{"x":"tok', 'en"}', "TOKEN", "cookie", '"Usage"', "", "\n"]
    texts += ['{"x":"COO\u212aIES"}', '{"pa\u017f\u017fword":1}', "\u00e9t\u00e9", "k\u00e9y"]
    # digit runs of 640 and 641 at every offset against the sampling stride, and split in two
    for offset in (0, 1, 63, 64, 65, 127, 300):
        texts += [digits_at(offset, 640), digits_at(offset, 641)]
    texts += ["1" * 400, "1" * 400, "2" * 641 + "a"]
    return texts


@pytest.mark.parametrize("size", [1, 2, 3, 5, 16, 64, 1_000])
def test_a_batch_secret_search_finds_what_each_search_finds(size: int) -> None:
    from devframe.core.log import json_may_hold_secret, json_texts_holding_secrets

    texts = secret_search_texts()
    for start in range(0, len(texts), size):
        batch = texts[start : start + size]
        expected = [i for i, text in enumerate(batch) if json_may_hold_secret(text)]
        assert json_texts_holding_secrets(batch) == expected, batch
    assert json_texts_holding_secrets([]) == []
    # a needle found in one text, and again at the very start of the next
    assert json_texts_holding_secrets(['{"key":1}', '"key":2', "x", "token"]) == [0, 1, 3]
    # the cases above are what they say: each kind is found, and a clean run is not
    found = set(json_texts_holding_secrets(texts))
    assert {texts.index(digits_at(64, 641)), texts.index("TOKEN"), texts.index('"Usage"')} <= found
    assert texts.index(digits_at(64, 640)) not in found and texts.index('{"x":"tok') not in found


#: pieces of texts the batch search must judge as each search does: needle fragments (so
#: needles form across pieces and across texts), digits (runs of any length), non-ASCII
#: letters that match needles when case is ignored, separators
_PIECES = ["key", '"', "ey", "to", "ken", "Pass", "wd", "word", "usage", "auth", "cookie", "secret"]
_PIECES += ["0" * 330, "1" * 37, "9", "\u212a", "\u017f", "\u00e9", "\n", ",", "{", "x" * 50]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join), max_size=12))
def test_a_batch_secret_search_is_each_search_on_any_texts(texts: list[str]) -> None:
    from devframe.core.log import json_may_hold_secret, json_texts_holding_secrets

    assert json_texts_holding_secrets(texts) == [i for i, text in enumerate(texts) if json_may_hold_secret(text)]


def test_specs_written_in_batches_of_any_size_print_the_same(forced: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for size in (1, 3):
        monkeypatch.setattr(inspect_module, "SPEC_BATCH", size)
        for path in corpus_files():
            xml = path.read_bytes()
            assert streamed(xml, as_json=True) == whole_json(xml), (size, path.name)


def test_the_encoder_redacts_what_json_would_write_with_str() -> None:
    # json.dumps(default=str) writes str(value) as it is; the encoder redacts it as text.
    class Leaky:
        def __str__(self) -> str:
            return "passwd='hunter2'"

    text = RedactedJSON().dumps({"obj": Leaky(), "plain": Opaque()})
    assert "hunter2" not in text and '"opaque"' in text


# -- the table's key fields -------------------------------------------------------------------------


def shown_as_before(fields: dict[Any, Any]) -> str:
    """The key fields' text as the table wrote it before the fast path: redact, then show."""
    return " ".join(f"{name}={inspect_module._show(value)}" for name, value in redact_value(fields).items())


class Word(str):
    """A str subclass: redact_value's isinstance rules, not the fast path's exact types."""


def key_fields_values() -> list[dict[Any, Any]]:
    """Every sample device's key fields (as _key_fields builds them), and fields at each
    rule of redact_value: secret keys (None or not), secrets in text, huge integers, lists
    and dicts holding secrets, subclasses, non-ASCII case folding, the budget's end."""
    values: list[dict[Any, Any]] = [
        {},
        {"passwd": "x", "cephSecret": {"deep": 1}, "iscsiPassword": None, "Token": 0, "model": "virtio"},
        {"xml": "<graphics passwd='s3cret'/>", "text": "two words", "empty": "", "quote": 'a"b'},
        {"n": 10**639, "m": -(10**640), "huge": 10**5000, "f": 1.5, "nan": float("nan"), "none": None},
        {"yes": True, "no": False, "list": ["main", "passwd='x'"], "codecs": [{"type": "micro", "token": "t"}]},
        {"word": Word("plain"), "secret_word": Word("passwd=x"), "error": ValueError("secret=abc")},
        {"kelvin": "COO\u212aIES", "long_s": "pa\u017f\u017fword=1", "accent": "\u00e9t\u00e9"},
        {"auth": "<secret usage='x'/>", "cookie": "cookies", 3: "int key", None: "none key"},
        {"after_list": "x", "many": list(range(10_050)), "late": "passwd=y", "late_int": 7},
        {f"k{i}": i for i in range(10_003)} | {"last": "s"},
    ]
    for path in corpus_files():
        for device in parse_domain(path.read_bytes()).devices:
            fields = dict(device.summary())
            fields["unmapped"] = ",".join(device.unmapped_spec_keys)
            if device.error:
                fields["error"] = device.error
            values.append(fields)
    return values


def test_key_fields_are_shown_as_redacting_them_first_showed_them() -> None:
    for fields in key_fields_values():
        assert inspect_module._fields_text(fields) == shown_as_before(fields), fields


_CELL = st.one_of(
    st.lists(st.sampled_from([*_PIECES, " ", "=", "'", "<secret ", "/>"]), max_size=8).map("".join),
    st.integers(min_value=-(10**700), max_value=10**700),
    st.sampled_from([None, True, False, 0.5, 10**640, 10**641]),
    st.builds(Word, st.sampled_from(["x", "passwd=1", "a b"])),
    st.lists(st.sampled_from(["x", "token=1", "a b"]), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["model", "passwd", "sessionToken", "type", "xml", "mode", "x"]), _CELL))
def test_key_fields_are_shown_as_before_for_any_scalars(fields: dict[str, object]) -> None:
    assert inspect_module._fields_text(fields) == shown_as_before(fields)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from([*_PIECES, "<secret ", "=", " "]), max_size=10).map("".join), max_size=8))
def test_texts_kept_by_redaction_are_only_texts_redaction_keeps(texts: list[str]) -> None:
    from devframe.core.log import redact_text, texts_kept_by_redact_text

    if texts_kept_by_redact_text(texts):
        assert all(redact_text(text) == text for text in texts)


def test_texts_kept_by_redaction_answers_plain_ascii_cells_at_once() -> None:
    from devframe.core.log import texts_kept_by_redact_text

    assert texts_kept_by_redact_text(["virtio", "qcow2", "vda", ""])
    assert texts_kept_by_redact_text(["pass", "wd"])  # joined by a line break: no word across two
    assert texts_kept_by_redact_text([])
    for odd in (["x", "cookies"], ["\u00e9t\u00e9"], ["TOKEN"], ["a", "my-secret-b"]):
        assert not texts_kept_by_redact_text(odd), odd  # then each cell is asked alone


# -- progress ---------------------------------------------------------------------------------------------


def run_with_pty_stderr(args: list[str], env: dict[str, str]) -> tuple[int, bytes, str]:
    """Run the installed program with stderr on a pseudo-terminal; (status, stdout, stderr)."""
    master, slave = pty.openpty()
    out_read, out_write = os.pipe()
    proc = subprocess.Popen([str(DEVFRAME), *args], stdout=out_write, stderr=slave, env=env, cwd=REPO)
    os.close(slave)
    os.close(out_write)
    got = {master: b"", out_read: b""}
    open_fds = [master, out_read]
    while open_fds:
        ready, _, _ = select.select(open_fds, [], [], 60)
        if not ready:
            proc.kill()
            pytest.fail("devframe inspect did not finish")
        for fd in ready:
            try:
                data = os.read(fd, 1 << 16)
            except OSError:  # EIO: the child's side of the terminal is closed
                data = b""
            if data:
                got[fd] += data
            else:
                open_fds.remove(fd)
    proc.wait(timeout=60)
    os.close(master)
    os.close(out_read)
    return proc.returncode, got[out_read], got[master].decode(errors="replace")


def test_progress_shows_on_a_terminal_stderr_and_is_wiped() -> None:
    status, out, err = run_with_pty_stderr(["inspect", "--json", str(EXAMPLE)], clean_env(DEVFRAME_PROGRESS_AFTER="0"))
    assert status == 0, err
    assert "devframe inspect: " in err and "devices" in err
    assert re.search(r"devices\r +\r", err), err  # the line is wiped (spaces, back to column 0)
    assert json.loads(out) == json.loads(whole_json(EXAMPLE.read_bytes()))  # stdout untouched


def test_no_progress_before_the_delay_even_on_a_terminal() -> None:
    status, _, err = run_with_pty_stderr(["inspect", str(EXAMPLE)], clean_env())
    assert status == 0 and err == ""


def test_no_progress_when_stderr_is_not_a_terminal() -> None:
    result = subprocess.run(
        [str(DEVFRAME), "inspect", "--json", str(EXAMPLE)],
        capture_output=True,
        env=clean_env(DEVFRAME_PROGRESS_AFTER="0"),
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0
    assert b"devframe inspect:" not in result.stderr and b"\r" not in result.stderr  # notes only, no progress


def test_a_bad_progress_delay_is_a_user_error() -> None:
    result = subprocess.run(
        [str(DEVFRAME), "inspect", str(EXAMPLE)],
        capture_output=True,
        text=True,
        env=clean_env(DEVFRAME_PROGRESS_AFTER="soon"),
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 2 and "DEVFRAME_PROGRESS_AFTER" in result.stderr


# -- memory -------------------------------------------------------------------------------------------------


def large_domain(path: Path, devices: int, entry_every: int = 4, values: int = 1) -> int:
    """Write a domain of about ``devices`` devices (copies of the example's, aliases made unique,
    one in ``entry_every`` with a metadata entry by alias, of ``values`` values) to ``path``; the
    exact number of devices."""
    devices_el = etree.fromstring(EXAMPLE.read_bytes()).find("devices")
    assert devices_el is not None
    # Copies declare only the namespaces they use: none (the document may declare 64 at most).
    templates = [
        etree.tostring(copy.deepcopy(child), encoding="unicode") for child in devices_el if isinstance(child.tag, str)
    ]
    alias = re.compile(r"<alias name=\"[^\"]*\"/>")
    count = 0
    with path.open("w") as out:
        out.write("<domain type='kvm' xmlns:ovirt-vm='http://ovirt.org/vm/1.0'><name>large</name>")
        entries = []
        body = []
        while count < devices:
            for template in templates:
                name = f"ua-{uuid.UUID(int=count + 1)}"
                body.append(alias.sub(f'<alias name="{name}"/>', template))
                if count % entry_every == 0 and alias.search(template):
                    keys = [f"n{i or ''}" for i in range(values)]  # n, n1, n2, ...
                    value = "".join(f"<ovirt-vm:{key} type='int'>{count}</ovirt-vm:{key}>" for key in keys)
                    entries.append(f"<ovirt-vm:device alias='{name}'>{value}</ovirt-vm:device>")
                count += 1
        out.write("<metadata><ovirt-vm:vm>" + "".join(entries) + "</ovirt-vm:vm></metadata><devices>")
        out.write("\n".join(body))
        out.write("</devices></domain>\n")
    return count


#: runs argv[2:] with stdout to argv[1] and prints its peak RSS: a child forked from this small
#: process, not from the test process, whose pages a child counts until it execs
_MEASURE = """
import os, subprocess, sys
with open(sys.argv[1], "wb") as out:
    child = subprocess.Popen(sys.argv[2:], stdout=out)
    _, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def peak_rss_kib(args: list[str], stdout: Path) -> int:
    """Run ``args`` as a child, stdout to ``stdout``; its peak resident set (ru_maxrss, KiB)."""
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(stdout), *args],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=REPO,
        timeout=900,
    )
    status, peak = result.stdout.split()
    assert result.returncode == 0 and status == "0", result.stderr
    return int(peak)


@pytest.mark.slow
def test_inspect_json_of_200k_devices_stays_below_lxmls_tree(tmp_path: Path) -> None:
    domain = tmp_path / "large.xml"
    devices = large_domain(domain, 200_000)
    lxml_tree = "import sys; from lxml import etree; t = etree.parse(sys.argv[1]); list(t.getroot()[-1])"
    lxml_peak = peak_rss_kib([sys.executable, "-c", lxml_tree, str(domain)], tmp_path / "lxml.out")
    out = tmp_path / "inspect.json"
    inspect_peak = peak_rss_kib([str(DEVFRAME), "inspect", "--json", str(domain)], out)
    # The whole document read at once holds lxml's tree and more (every dev_object and spec): more
    # than 1x (6.1 GB for a 200 MB domain before streaming). Streaming holds the interpreter with
    # every plugin, the metadata section and one chunk's devices: 0.1x here.
    ratio = inspect_peak / lxml_peak
    assert ratio < 0.3, f"inspect --json peak {inspect_peak} KiB, lxml's tree {lxml_peak} KiB: {ratio:.2f}"
    text = out.read_text()
    assert text.startswith('{\n  "emulator": [\n') and text.endswith("\n  ]\n}\n")
    assert text.count('\n    {"type":') == devices  # one spec per device, a line each


@pytest.mark.slow
def test_the_table_holds_the_metadata_section_once(tmp_path: Path) -> None:
    # The table's header needs the device count: a first pass, whose tree (all but the devices)
    # binds the devices. The reading pass parses `<metadata>` again; kept, that second copy
    # made the table's peak 1.62x --json's here (an entry of eight values per device); 0.91x
    # without it.
    domain = tmp_path / "large.xml"
    devices = large_domain(domain, 100_000, entry_every=1, values=8)
    json_peak = peak_rss_kib([str(DEVFRAME), "inspect", "--json", str(domain)], tmp_path / "inspect.json")
    table_peak = peak_rss_kib([str(DEVFRAME), "inspect", "--wide", str(domain)], tmp_path / "inspect.txt")
    ratio = table_peak / json_peak
    assert ratio < 1.25, f"inspect's table peak {table_peak} KiB, --json's {json_peak} KiB: {ratio:.2f}"
    rows = (tmp_path / "inspect.txt").read_text().splitlines()
    assert len(rows) == 2 + devices  # the outline, the column heads, a row per device
    # every device with an alias got its entry (n, which no plugin maps) from the first pass's tree
    aliased = [row for row in rows[2:] if " ua-" in row]
    assert len(aliased) > devices // 3 and all("unmapped=n" in row for row in aliased)
