"""Schema validation with a time limit: libxml2's RelaxNG engine is exponential in the
optional attributes of one element (a disk <driver> with 18 attributes, valid, takes ~6
minutes against libvirt's domain.rng), so `devframe validate` stops it and says why."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest

from devframe.schema import SchemaTimeoutError, domain_schema_problems, validate_domain_xml
from devframe.testing import wrap_in_domain

DRIVER = (
    'name="qemu" type="qcow2" cache="none" error_policy="stop" rerror_policy="stop" io="native" '
    'ioeventfd="on" event_idx="on" copy_on_read="on" discard="unmap" iothread="1" detect_zeroes="on" '
    'queues="4" queue_size="256" iommu="on" ats="on" packed="on" page_per_vq="on"'
)
SLOW = wrap_in_domain(
    f'<disk type="file" device="disk"><driver {DRIVER}/><source file="/x.img"/><target dev="vda" bus="virtio"/></disk>'
)
INVALID = wrap_in_domain('<disk type="nonsense" device="disk"><target dev="vda"/></disk>')


def test_a_runaway_validation_is_stopped_and_named() -> None:
    with pytest.raises(SchemaTimeoutError, match=r"did not finish within 0\.5 s") as caught:
        domain_schema_problems(SLOW, source="slow.xml", timeout=0.5)
    assert "slow.xml" in str(caught.value) and "optional attributes" in str(caught.value)
    assert multiprocessing.active_children() == []  # the child was stopped, not left running


def test_validation_in_a_child_finds_what_it_finds_in_process() -> None:
    in_process = validate_domain_xml(INVALID)
    assert in_process  # really invalid
    assert validate_domain_xml(INVALID, timeout=60) == in_process
    assert validate_domain_xml(wrap_in_domain(), timeout=60) == []


def test_cli_validate_stops_at_its_timeout(tmp_path: Path) -> None:
    path = tmp_path / "slow.xml"
    path.write_text(SLOW)
    devframe = Path(sys.executable).with_name("devframe")
    out = subprocess.run(
        [str(devframe), "validate", "--timeout", "1", str(path)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 2, out
    assert "did not finish within 1 s" in out.stderr and str(path) in out.stderr
