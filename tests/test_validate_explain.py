"""Issue 19 item 6: ``devframe validate`` says which device, which attribute or element,
and what libvirt's schema expects there, with the line; a placeholder is named as one.

Against the machine's libvirt schema (/usr/share/libvirt/schemas/domain.rng), as the
command uses it; nothing outside the repository is read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devframe.core.safexml import parse_xml
from devframe.schema_explain import explain, schema_grammar
from devframe.testing import SAMPLE_DOMAINS, wrap_in_domain

DEVFRAME = Path(sys.executable).with_name("devframe")

BAD = """<domain type='kvm'>
  <name>bad</name>
  <memory>65536</memory>
  <sysinfo type='smbios'><system><entry name='product'>OS-NAME:</entry></system></sysinfo>
  <os><type>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='DRIVE-PATH:'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/images/b.img'/>
      <target dev='vdb' bus='nonsense'/>
    </disk>
    <sound model='kazoo'/>
    <video><model type='qxl' vram='lots'/></video>
    <rng model='virtio' colour='blue'><backend model='random'>/dev/urandom</backend></rng>
  </devices>
</domain>
"""


def validate(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVFRAME_") and k not in ("COLUMNS", "NO_COLOR")}
    return subprocess.run(
        [str(DEVFRAME), "validate", *args, str(path)], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    path = tmp_path / "bad.xml"
    path.write_text(BAD)
    return path


def test_each_problem_names_device_place_expectation_and_line(bad: Path) -> None:
    out = validate(bad)
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert lines[0] == (
        f"{bad}:8: disk:0 (vda): <disk> <source> @file: 'DRIVE-PATH:' is an unresolved placeholder: resolve it "
        "on the host first (devframe run, or devframe.prepare_domain); libvirt's schema expects: "
        "string (pattern (/|[a-zA-Z]:\\\\).+), string (pattern \\[[^\\]]+\\] .+)"
    )
    assert lines[1].startswith(f"{bad}:13: disk:1 (vdb): <disk> <target> @bus: 'nonsense' is not a value")
    assert "'virtio'" in lines[1] and "'scsi'" in lines[1] and "'sata'" in lines[1]
    assert lines[2].startswith(f"{bad}:15: sound:0 (kazoo): <sound> @model: 'kazoo' is not a value")
    assert "'ich9'" in lines[2]
    assert lines[3].startswith(f"{bad}:16: video:0 (qxl): <video> <model> @vram: 'lots' is not a value")
    assert "unsignedInt" in lines[3]
    assert lines[4].startswith(f"{bad}:17: rng:0 (virtio): <rng> @colour: attribute colour is not allowed on <rng>")
    assert "model" in lines[4].split("expects: ")[1].split(", ")
    assert lines[5] == (
        f"{bad}:4: note: <sysinfo> <system> <entry> (text): 'OS-NAME:' is an unresolved placeholder: the schema "
        "accepts the text, so libvirt would take it literally (devframe run, or devframe.prepare_domain, resolves it)"
    )
    assert len(lines) == 6
    assert out.stderr == f"{bad}: invalid (5 problems)\n"


def test_json(bad: Path) -> None:
    out = validate(bad, "--json")
    assert out.returncode == 1
    result: dict[str, Any] = json.loads(out.stdout)
    assert result["valid"] is False and result["source"] == str(bad)
    first = result["problems"][0]
    assert first == {
        "line": 8,
        "device": "disk:0 (vda)",
        "where": "<disk> <source> @file",
        "problem": first["problem"],
        "expected": first["expected"],
        "placeholder": "DRIVE-PATH:",
    }
    assert [p["device"] for p in result["problems"]] == [
        "disk:0 (vda)",
        "disk:1 (vdb)",
        "sound:0 (kazoo)",
        "video:0 (qxl)",
        "rng:0 (virtio)",
    ]
    assert [n["placeholder"] for n in result["notes"]] == ["OS-NAME:"]
    assert result["libxml2"] and all({"line", "message"} == set(m) for m in result["libxml2"])
    valid = validate(Path(SAMPLE_DOMAINS) / "minimal.xml", "--json")
    assert valid.returncode == 0
    assert json.loads(valid.stdout) == {
        "source": str(Path(SAMPLE_DOMAINS) / "minimal.xml"),
        "valid": True,
        "problems": [],
        "notes": [],
        "libxml2": [],
    }


def test_an_element_the_schema_does_not_allow_and_a_problem_outside_devices() -> None:
    report = explain(parse_xml(wrap_in_domain("<sound model='ich9'><wat/></sound>")))
    (problem,) = report.problems
    assert (problem.device, problem.where) == ("sound:0 (ich9)", "<sound> <wat>")
    assert problem.problem.startswith("element <wat> is not allowed in <sound>")
    assert "<codec>" in problem.expected and "<address>" in problem.expected
    outside = explain(parse_xml("<domain type='kvm'><name>x</name><memory>1</memory><bogus/><devices/></domain>"))
    (problem,) = outside.problems
    assert problem.device is None and problem.where == "<bogus>" and "<devices>" in problem.expected


def test_one_bad_device_does_not_hide_another() -> None:
    devices = "<watchdog model='nonsense'/><panic model='nope'/>"
    report = explain(parse_xml(wrap_in_domain(devices)))
    assert [(p.device, p.where) for p in report.problems] == [
        ("watchdog:0 (nonsense)", "<watchdog> @model"),
        ("panic:0 (nope)", "<panic> @model"),
    ]


def test_in_a_child_with_a_time_limit_the_same_answer(bad: Path) -> None:
    document = parse_xml(BAD)
    assert explain(document, timeout=60) == explain(document)


def test_the_grammar_reads_libvirts_patterns() -> None:
    grammar = schema_grammar()
    disks = grammar.element_patterns(["domain", "devices", "disk"])
    assert disks
    attributes, children = grammar.allowed(disks)
    assert {"type", "device"} <= set(attributes) and {"source", "target", "driver"} <= set(children)
    targets = grammar.element_patterns(["domain", "devices", "disk", "target"])
    bus = [a for p in targets for a in grammar.inside(p)[1] if grammar.name_of(a) == "bus"]
    assert {"'virtio'", "'scsi'", "'sata'", "'ide'"} <= set(grammar.values(bus))


@pytest.mark.parametrize("name", ["v11-crypto-pstore.xml", "v11-storage-network.xml"])
def test_libvirt_11_documents_are_explained_against_an_older_schema(name: str) -> None:
    """These samples use 11.x-only elements: against the machine's 9.0 schema each
    problem still names its device or element."""
    out = validate(Path(SAMPLE_DOMAINS) / name)
    assert out.returncode == 1
    problems = [line for line in out.stdout.splitlines() if ": note: " not in line]
    assert problems and all(line.split(":")[1].isdigit() for line in problems)
    named = [line for line in problems if "no single attribute or element" not in line]
    assert len(named) >= len(problems) // 2, problems
