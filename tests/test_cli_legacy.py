"""``devframe legacy``: the deprecated legacy conf path from the command line."""

from __future__ import annotations

import json

from click.testing import CliRunner
from lxml import etree

from devframe.cli import main
from devframe.testing import validate_against_schema

UUID = "6f2b1c61-0f5f-4a0e-8c55-6b5d8e0b1a11"


def _run(tmp_path, conf, *args):
    path = tmp_path / "conf.json"
    path.write_text(conf if isinstance(conf, str) else json.dumps(conf))
    return CliRunner().invoke(main, ["legacy", str(path), *args])


def test_prints_the_spec_list(tmp_path):
    result = _run(tmp_path, {"soundDevice": "ac97"}, "--arch", "x86_64")
    assert result.exit_code == 0, result.output
    specs = json.loads(result.stdout)
    assert {"type": "sound", "device": "ac97"} in specs


def test_xml_is_a_valid_domain(tmp_path):
    conf = {"vmName": "old", "vmId": UUID, "memSize": 256, "smp": 2, "soundDevice": "ich6"}
    result = _run(tmp_path, conf, "--arch", "x86_64", "--xml")
    assert result.exit_code == 0, result.output
    root = etree.fromstring(result.stdout.encode())
    assert root.findtext("name") == "old" and root.find("devices/sound").get("model") == "ich6"
    assert validate_against_schema(result.stdout) == []


def test_errors_are_one_line_with_status_2(tmp_path):
    for conf, args, needle in [
        ({"soundDevice": "ac97"}, ["--arch", "m68k"], "unknown arch 'm68k'"),
        ("[1,", ["--arch", "x86_64"], "line 1, column 4: not JSON"),
        ("[1]", ["--arch", "x86_64"], "a legacy conf is a JSON object"),
        ({"soundDevice": "ac97"}, ["--arch", "x86_64", "--xml"], "vmName"),
    ]:
        result = _run(tmp_path, conf, *args)
        assert result.exit_code == 2, (conf, result.output)
        assert needle in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
