"""build(forget=...): the change the watcher needs from the builder, tested on its own.

A file that was indexed and is gone is dropped when it (or a folder above it) is named in
forget; without forget, or while the file exists, nothing changes (a file that fails to read
keeps its items, as before)."""
from __future__ import annotations

import shutil

import pytest

from indexer.build import build, forget_vanished

pytestmark = pytest.mark.slow


def test_forget_vanished_only_drops_missing_files_under_the_paths(tmp_path):
    kept = tmp_path / "a" / "kept.txt"
    kept.parent.mkdir()
    kept.write_text("x", encoding="utf-8")
    files = {str(kept): ["1"], str(tmp_path / "a" / "gone.txt"): ["2"], str(tmp_path / "b" / "gone.txt"): ["3"]}
    assert forget_vanished(files, []) == files
    assert forget_vanished(files, [tmp_path / "a"]) == {str(kept): ["1"], str(tmp_path / "b" / "gone.txt"): ["3"]}
    assert forget_vanished(files, [tmp_path / "b" / "gone.txt"]) == {k: v for k, v in files.items() if "/b/" not in k}
    assert forget_vanished(files, [kept]) == files  # it still exists


def test_build_drops_a_deleted_file_only_when_told(tmp_path, sample_dir, settings, engine):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(sample_dir / "000_edfc72c731b145e7.txt", folder / "a.txt")
    shutil.copy(sample_dir / "003_130ae1c1cc3f7681.txt", folder / "b.txt")
    index_settings = settings.with_index(tmp_path / "index")
    assert build([folder], index_settings, embedder=engine.embedder).total == 18
    (folder / "b.txt").unlink()
    report = build([folder], index_settings, embedder=engine.embedder)
    assert (report.removed, report.total) == (0, 18)  # as before: a file not seen is not a deletion
    report = build([folder], index_settings, embedder=engine.embedder, forget=[folder])
    assert (report.removed, report.total, report.changed) == (9, 9, True)
    report = build([], index_settings, embedder=engine.embedder, forget=[folder / "a.txt"])
    assert (report.removed, report.total, report.changed) == (0, 9, False)  # a.txt still exists
