"""benchmarks/spec_bound.py measures to_spec without its readers' cost: its instant readers
must give the very specs the real ones give, and leave the real ones in place after."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
from benchmark_scripts import benchmark_module

import devframe


@pytest.fixture(scope="module")
def bound() -> ModuleType:
    return benchmark_module("spec_bound")


@pytest.mark.parametrize("name", ["mix", "varied"])
def test_instant_readers_give_the_readers_specs(bound: ModuleType, name: str, tmp_path: Path) -> None:
    xml = bound.GENERATORS[name](300)
    path = tmp_path / "domain.xml"
    path.write_bytes(xml)
    answers = bound.prepared(xml, path, name)
    plans = answers.plans
    # one answer per device, and a second for each device read again from its copy without secrets
    assert len(devframe.parse_domain(xml).devices) <= len(answers.answers)
    real = {cls: plan.reader for cls, plan in plans.items()}
    with bound.instant_readers(answers):
        instant = {plan.reader for plan in plans.values()}
        assert len(instant) == 1 and not instant & set(real.values())
        for device in devframe.parse_domain(xml).devices:
            device.to_spec()
    with pytest.raises(StopIteration):  # one pass took every answer, in order
        answers.next()
    assert {cls: plan.reader for cls, plan in plans.items()} == real


def test_a_wrong_answer_is_caught(bound: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    xml = bound.GENERATORS["mix"](100)
    path = tmp_path / "domain.xml"
    path.write_bytes(xml)
    answers_of = bound._answers

    def spoiled(domain: devframe.Domain) -> object:
        answers = answers_of(domain)
        found, returned = answers.answers[5]
        answers.answers[5] = ({**found, "alias": "ua-other"}, returned)
        return answers

    monkeypatch.setattr(bound, "_answers", spoiled)
    with pytest.raises(SystemExit, match="other specs than the readers"):
        bound.prepared(xml, path, "mix")
