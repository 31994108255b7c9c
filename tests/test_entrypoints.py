"""devframe's entry-point reader gives importlib.metadata's answer, without importing it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from devframe.core.entrypoints import EntryPointRef, find_entry_points


def _importlib_view(group: str) -> list[tuple[str, str, str | None, str | None]]:
    rows = []
    for ep in metadata.entry_points(group=group):
        dist = ep.dist
        rows.append((ep.name, ep.value, dist.metadata["Name"] if dist else None, dist.version if dist else None))
    return sorted(rows)


def _ours(group: str) -> list[tuple[str, str, str | None, str | None]]:
    return sorted((e.name, e.value, e.distribution, e.version) for e in find_entry_points(group))


def _dist(root: Path, dir_name: str, entry_points: str, metadata_text: str | None = None) -> Path:
    info = root / dir_name
    info.mkdir(parents=True)
    (info / "entry_points.txt").write_text(entry_points)
    if metadata_text is not None:
        name = "PKG-INFO" if dir_name.endswith(".egg-info") else "METADATA"
        (info / name).write_text(metadata_text)
    return info


@pytest.mark.parametrize("group", ["devframe", "console_scripts", "pytest11", "no-such-group"])
def test_same_answer_as_importlib_on_this_environment(group: str) -> None:
    assert _ours(group) == _importlib_view(group)


def test_every_installed_plugin_is_found() -> None:
    names = {e.name for e in find_entry_points("devframe")}
    # the core plugins are installed in every environment the suite runs in
    assert {"drive", "nic", "graphics", "sound", "video", "controller"} <= names


def test_layout_cases_match_importlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    _dist(
        first,
        "alpha_pkg-1.2.dist-info",
        "# a comment\n[devframe]\n a = alpha.mod:Plug [extra1]\nb=alpha.other\n[console_scripts]\nx = y:z\n",
        "Metadata-Version: 2.1\nName: Alpha.Pkg\nVersion: 1.2\n\nName: not-this-body\n",
    )
    # the same distribution again later on the path: importlib.metadata takes the first
    _dist(second, "alpha_pkg-9.9.dist-info", "[devframe]\na = shadowed:Plug\n", "Name: alpha-pkg\nVersion: 9.9\n")
    _dist(second, "beta-0.3.egg-info", "[devframe]\nbeta = beta.plugin:obj.attr\n", "Name: beta\nVersion: 0.3\n")
    # no metadata file: no name or version, as importlib.metadata says
    _dist(second, "gamma-2.0.dist-info", "[devframe]\ngamma = gamma\n")
    (second / "old.egg-info").write_text("Name: old\n")  # a distutils file, not a directory
    monkeypatch.syspath_prepend(str(second))
    monkeypatch.syspath_prepend(str(first))
    monkeypatch.syspath_prepend(str(tmp_path / "missing"))
    assert _ours("devframe") == _importlib_view("devframe")
    ours = {e.name: e for e in find_entry_points("devframe")}
    assert ours["a"] == EntryPointRef("a", "alpha.mod:Plug [extra1]", "Alpha.Pkg", "1.2")
    assert ours["gamma"].distribution is None and ours["gamma"].version is None


def test_zip_on_the_path_falls_back_to_importlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("zipped-1.0.dist-info/METADATA", "Name: zipped\nVersion: 1.0\n")
        zf.writestr("zipped-1.0.dist-info/entry_points.txt", "[devframe]\nzipped = zipped_mod:P\n")
    monkeypatch.syspath_prepend(str(archive))
    found = {e.name: e for e in find_entry_points("devframe")}
    assert found["zipped"] == EntryPointRef("zipped", "zipped_mod:P", "zipped", "1.0")


def test_load_resolves_module_and_dotted_attribute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ep_target_mod.py").write_text("class Outer:\n    class Inner:\n        pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        loaded = EntryPointRef("t", "ep_target_mod:Outer.Inner [x]").load()
        assert getattr(loaded, "__qualname__", None) == "Outer.Inner"
        module = EntryPointRef("m", "ep_target_mod").load()
        assert getattr(module, "__name__", None) == "ep_target_mod"
        with pytest.raises(ValueError, match="malformed value"):
            EntryPointRef("bad", "not a value!").load()
    finally:
        sys.modules.pop("ep_target_mod", None)


def test_devframe_plugins_does_not_import_importlib_metadata() -> None:
    # the point of the module: start-up without the email package (issue 14, cold start)
    code = (
        "import sys; from devframe.cli import main; "
        "sys.argv=['devframe','plugins'];\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('METADATA-LOADED' if 'importlib.metadata' in sys.modules else 'clean', file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert "clean" in out.stderr.splitlines()[-1], out.stderr[-2000:]
    assert "disk" in out.stdout
