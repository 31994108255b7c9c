"""devframe.testing's helpers, which plugin tests build on: they must hold for any XML a
plugin's tests may give them."""

from __future__ import annotations

import pytest
from lxml import etree

from devframe.testing import canonical

# XML names may hold any letter (XML 1.0 fifth edition, NameStartChar): attribute and
# element names in Latin-1, CJK, and astral planes are well-formed.
ASTRAL = "\U00020000"  # a CJK letter beyond the BMP (Extension B)
NON_ASCII = f'<devices ü="1" 名前="x"><é {ASTRAL}="2">t</é></devices>'


@pytest.mark.parametrize(
    "given",
    [
        NON_ASCII,
        NON_ASCII.encode("utf-8"),
        etree.fromstring(NON_ASCII),
        ('<?xml version="1.0" encoding="ISO-8859-1"?><devices ü="1"/>').encode("latin-1"),
    ],
    ids=["str", "utf-8 bytes", "element", "latin-1 bytes"],
)
def test_canonical_takes_non_ascii_names(given: str | bytes | etree._Element) -> None:
    text = canonical(given)
    assert 'ü="1"' in text
    if not isinstance(given, bytes) or b"ISO-8859-1" not in given:
        assert text == canonical(NON_ASCII)
        assert '名前="x"' in text and f'<é {ASTRAL}="2">t</é>' in text


def test_canonical_compares_what_devframe_promises() -> None:
    # attribute order, quotes, empty-element form and whitespace-only text do not count ...
    assert canonical("<a y='2' x='1'>\n  <b/>\n</a>") == canonical('<a x="1" y="2"><b></b></a>')
    # ... text, names and values do
    assert canonical("<a x='1'>t</a>") != canonical("<a x='1'>u</a>")
    assert canonical("<a ü='1'/>") != canonical("<a u='1'/>")
