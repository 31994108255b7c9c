"""Issue 2 acceptance: every corpus domain rebuilds losslessly (C14N 2.0, whitespace-only text stripped)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from devframe import default_registry, parse_domain

REPO = Path(__file__).resolve().parents[1]
CORPUS = (REPO.parent / "shared" / "corpus").resolve()


def _corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        raise RuntimeError(f"the corpus is missing: expected domain XML under {CORPUS} (../shared/corpus)")
    files = sorted(CORPUS.rglob("*.xml"))
    if not files:
        raise RuntimeError(f"no *.xml files under {CORPUS}")
    return files


FILES = _corpus_files()


def canon(text: str) -> str:
    return ET.canonicalize(text, strip_text=True, with_comments=True)


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def test_corpus_is_present_and_not_trivial() -> None:
    assert len(FILES) >= 10, FILES
    registry = default_registry()
    assert {"disk", "interface", "graphics", "sound", "video", "controller"} <= set(registry.routes), (
        "the lossless test must run with every built-in plugin installed"
    )


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_parse_then_to_xml_is_lossless(path: Path) -> None:
    text = _read(path)
    domain = parse_domain(text, source=str(path))
    assert canon(domain.to_xml()) == canon(text)


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_noop_edit_round_is_lossless(path: Path) -> None:
    text = _read(path)
    domain = parse_domain(text, source=str(path))
    devices = domain.devices
    if devices:
        last = devices[-1]
        before = devices[-2] if len(devices) > 1 else None
        domain.remove(last)
        # Serialize in between, so <devices> really is rebuilt without, then with, the device.
        assert canon(domain.to_xml()) != canon(text)
        if before is None:
            domain.add(last)
        else:
            domain.add(last, after=before)
        assert domain.devices == devices
    assert canon(domain.to_xml()) == canon(text)


@pytest.mark.parametrize("path", FILES[:: max(1, len(FILES) // 10)], ids=lambda p: p.name)
def test_bytes_input_is_lossless_too(path: Path) -> None:
    raw = path.read_bytes()
    assert canon(parse_domain(raw).to_xml()) == canon(raw.decode("utf-8"))
