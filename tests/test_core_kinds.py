"""The core's value kinds and field helpers that device kinds share (devframe/core/fields.py):
libvirt's number and text types, the element's own text, presence flags, required values,
the spec word for "no value", summary values and element-wide rules."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from lxml import etree

import devframe
from devframe import (
    ABS_PATH,
    HEX_UINT,
    OCTAL_MODE,
    POSITIVE,
    STR,
    UINT8,
    UINT32,
    ULONG,
    UNIT,
    UUID,
    Choice,
    Device,
    Field,
    FieldValueError,
    Flag,
    IntRange,
    PresentFlag,
    SpecError,
)
from devframe.testing import canonical

# -- numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "low", "high"),
    [(UINT8, 0, 255), (UINT32, 0, 2**32 - 1), (ULONG, 0, 2**64 - 1), (POSITIVE, 1, None)],
)
def test_bounded_ints_take_their_range_in_decimal_or_hex(kind: Any, low: int, high: int | None) -> None:
    assert kind.parse(str(low)) == low
    assert kind.parse(hex(low + 16)) == low + 16
    with pytest.raises(ValueError, match="out of range"):
        kind.parse(str(low - 1))
    if high is not None:
        assert kind.parse(str(high)) == high
        with pytest.raises(ValueError, match="out of range"):
            kind.parse(str(high + 1))
        with pytest.raises(ValueError, match="out of range"):
            kind.format(high + 1)
    assert kind.coerce(str(low + 1)) == kind.coerce(low + 1) == low + 1
    with pytest.raises(TypeError):
        kind.coerce(True)


def test_positive_has_no_upper_bound() -> None:
    assert POSITIVE.parse(str(2**80)) == 2**80


def test_a_decimal_range_refuses_hex() -> None:
    decimal = IntRange(0, name="size", decimal=True)
    assert decimal.parse(" 42 ") == 42
    for raw in ("0x10", "1e3", "١٢", ""):
        with pytest.raises(ValueError):
            decimal.parse(raw)
    with pytest.raises(ValueError, match="out of range"):
        decimal.parse("-1")
    with pytest.raises(ValueError):
        decimal.coerce("0x10")
    assert IntRange(0).parse("0x10") == 16  # the default reads both, as libvirt mostly does


def test_hexuint_reads_hex_with_or_without_prefix_and_writes_0x() -> None:
    assert HEX_UINT.parse("0x100000000") == 2**32
    assert HEX_UINT.parse("100") == 0x100  # libvirt's hexuint: bare digits are hex too
    assert HEX_UINT.parse("0XfF") == 255
    assert HEX_UINT.format(2**32) == "0x100000000"
    assert HEX_UINT.coerce(255) == HEX_UINT.coerce("ff") == 255
    for raw in ("", "0x", "0xg", "-1", "12 34"):
        with pytest.raises(ValueError):
            HEX_UINT.parse(raw)
    with pytest.raises(ValueError):
        HEX_UINT.format(-1)
    with pytest.raises(TypeError):
        HEX_UINT.format(True)


# -- text ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (ABS_PATH, ["/usr/bin/qemu", "C:\\qemu.exe"], ["usr/bin", "/", "", "/a\nb"]),
        (UNIT, ["b", "bytes", "KiB", "k", "MB", "G", "e"], ["KiBB", "parsec", "", "1"]),
        (
            UUID,
            ["6a1f0e2d-3b4c-4d5e-8f60-00000000a0a0", "6A1F0E2D3B4C4D5E8F6000000000A0A0"],
            ["6a1f0e2d", "6a1f0e2d-3b4c-4d5e-8f60-00000000a0ag", ""],
        ),
        (OCTAL_MODE, ["0644", "755", "7"], ["0999", "u+rwx", "07777", ""]),
    ],
)
def test_libvirt_text_types(kind: Any, good: list[str], bad: list[str]) -> None:
    for text in good:
        assert kind.parse(text) == text and kind.format(text) == text and kind.coerce(text) == text
    for text in bad:
        with pytest.raises(ValueError, match=kind.name):
            kind.parse(text)
        with pytest.raises(ValueError):
            kind.coerce(text)  # checked where a spec gives it, so the spec key is named
    with pytest.raises(TypeError):
        kind.coerce(644)


def test_text_kinds_take_only_text_from_a_spec() -> None:
    """An engine's 7 or 2.0 is no name, path or model; a Choice takes no empty string."""
    with pytest.raises(TypeError, match="string"):
        STR.coerce(7)
    assert STR.coerce("") == ""
    versions = Choice("1.2", "2.0")
    for value in (2.0, 7, True, ["2.0"]):
        with pytest.raises(TypeError):
            versions.coerce(value)
    with pytest.raises(ValueError, match="non-empty"):
        versions.coerce("")
    assert versions.coerce("3.0") == "3.0"  # unknown names are kept, as when read


# -- a device to exercise the fields ------------------------------------------------------------


class Gizmo(Device):
    dev_type: ClassVar[str] = "gizmo"
    tag: ClassVar[str] = "gizmo"
    child_order: ClassVar[tuple[str, ...]] = ("binary", "source", "target", "alias", "address")

    model = Field("@model", Choice("a", "b"), spec="device", default="a", absent_spec="gizmo", required=True)
    path = Field(".", ABS_PATH, spec="path", doc="own text")
    base = Field("target@base", HEX_UINT, spec="specParams.base")
    label = Field("@label", STR, spec="specParams.label")
    token = Field("@token", STR, spec="specParams.token", secret=True)
    pmem = PresentFlag("source/pmem", spec="specParams.pmem")
    readonly = Flag("target/readonly", spec="specParams.readonly")

    def rule_problem(self) -> tuple[str, str] | None:
        if self.element.get("model") == "b" and self.element.get("label") is None:
            return "specParams.label", "model b needs a label"
        return None

    def read_spec(self, rest: dict[str, Any]) -> None:
        self.check_rule()


def _gizmo(xml: str) -> Gizmo:
    return Gizmo(etree.fromstring(xml))


def test_own_text_reads_writes_and_removes_the_elements_text() -> None:
    gizmo = _gizmo("<gizmo model='a'>/usr/bin/x<alias name='g0'/></gizmo>")
    assert Gizmo.path.steps == () and Gizmo.path.attr is None
    assert gizmo.path == "/usr/bin/x"
    gizmo.path = "/opt/y"
    assert canonical(gizmo.element) == canonical("<gizmo model='a'>/opt/y<alias name='g0'/></gizmo>")
    gizmo.path = None
    assert canonical(gizmo.element) == canonical("<gizmo model='a'><alias name='g0'/></gizmo>")
    # indentation before children is no value
    assert _gizmo("<gizmo>\n  <alias name='g0'/>\n</gizmo>").path is None
    with pytest.raises(FieldValueError, match="path"):
        gizmo.path = "relative"
    assert Gizmo.from_spec({"type": "gizmo", "path": "/bin/g"}).to_xml() == '<gizmo model="a">/bin/g</gizmo>'


def test_a_flag_names_a_child_element() -> None:
    with pytest.raises(ValueError):
        Flag(".")
    with pytest.raises(ValueError):
        Flag("target@readonly")


def test_absent_spec_builds_no_value_and_round_trips() -> None:
    bare = _gizmo("<gizmo>/bin/g</gizmo>")
    spec = bare.to_spec()
    assert spec["device"] == "gizmo"  # what an element without @model reports
    again = Gizmo.from_spec(spec)
    assert again.element.get("model") is None and again.to_spec() == spec
    assert Gizmo.from_spec({"type": "gizmo"}).element.get("model") == "a"  # missing: the default
    assert Gizmo.from_spec({"type": "gizmo", "device": "b", "specParams": {"label": "l"}}).model == "b"


def test_a_required_value_that_is_missing_is_a_problem() -> None:
    problems = _gizmo("<gizmo>/bin/g</gizmo>").problems()
    assert problems == ["field 'model' (@model): missing (libvirt requires it)"]
    assert _gizmo("<gizmo model='a'>/bin/g</gizmo>").problems() == []


def test_spec_values_of_text_fields_are_text() -> None:
    for params in ({"label": 7}, {"label": 2.0}):
        with pytest.raises(SpecError, match=r"specParams\.label"):
            Gizmo.from_spec({"type": "gizmo", "specParams": params})
    for device in (7, "", ["a"]):
        with pytest.raises(SpecError, match="device"):
            Gizmo.from_spec({"type": "gizmo", "device": device})
    with pytest.raises(SpecError, match="'path'"):
        Gizmo.from_spec({"type": "gizmo", "path": "bin/g"})


def test_hexuint_field_from_a_spec_and_back() -> None:
    gizmo = Gizmo.from_spec({"type": "gizmo", "specParams": {"base": 2**32}})
    target = gizmo.element.find("target")
    assert target is not None and target.get("base") == "0x100000000"
    assert gizmo.to_spec()["specParams"]["base"] == 2**32


def test_a_flag_removal_takes_the_containers_it_leaves_empty() -> None:
    gizmo = _gizmo("<gizmo model='a'><source><pmem/></source><target base='0x1'><readonly/></target></gizmo>")
    gizmo.pmem = False
    gizmo.readonly = False
    # <source> held only the flag and goes with it; <target> keeps its base.
    assert canonical(gizmo.element) == canonical("<gizmo model='a'><target base='0x1'/></gizmo>")
    gizmo.readonly = True
    assert canonical(gizmo.element) == canonical("<gizmo model='a'><target base='0x1'><readonly/></target></gizmo>")


def test_present_flag_is_in_the_spec_only_when_present() -> None:
    assert "pmem" not in _gizmo("<gizmo model='a'/>").to_spec()["specParams"]
    assert _gizmo("<gizmo model='a'/>").to_spec()["specParams"]["readonly"] is False  # a plain Flag: always
    assert _gizmo("<gizmo model='a'><source><pmem/></source></gizmo>").to_spec()["specParams"]["pmem"] is True
    for word, present in ((True, True), ("yes", True), ("on", True), ("1", True), (False, False), ("no", False)):
        built = Gizmo.from_spec({"type": "gizmo", "specParams": {"pmem": word}})
        assert built.pmem is present, word
    for bad in (1, 0, "maybe", [True]):
        with pytest.raises(SpecError, match=r"specParams\.pmem"):
            Gizmo.from_spec({"type": "gizmo", "specParams": {"pmem": bad}})


def test_shown_values_are_the_text_as_written() -> None:
    gizmo = _gizmo("<gizmo model='c' label='x' token='s3cret'><target base='zz'/></gizmo>")
    shown = gizmo.shown_values(["model", ("where", "base"), "label", "token", "path"])
    assert shown == {"model": "c", "where": "<invalid 'zz'>", "label": "x", "token": "***"}
    assert list(shown) == ["model", "where", "label", "token"]
    assert "s3cret" not in repr(shown)


def test_a_rule_problem_is_reported_and_refused_from_a_spec() -> None:
    broken = _gizmo("<gizmo model='b'/>")
    assert broken.rule_problem() == ("specParams.label", "model b needs a label")
    assert "model b needs a label" in broken.problems()
    with pytest.raises(SpecError, match=r"'specParams\.label'.*needs a label"):
        broken.check_rule()
    with pytest.raises(SpecError, match=r"specParams\.label"):
        Gizmo.from_spec({"type": "gizmo", "device": "b"})
    assert _gizmo("<gizmo model='b' label='l'/>").rule_problem() is None


def test_the_new_names_are_public() -> None:
    for name in (
        "ABS_PATH", "HEX_UINT", "OCTAL_MODE", "POSITIVE", "UINT8", "UINT32", "ULONG", "UNIT", "UUID", "PresentFlag",
    ):  # fmt: skip
        assert name in devframe.__all__ and hasattr(devframe, name)
