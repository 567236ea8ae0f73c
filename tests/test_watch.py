"""The watched folder: new, changed and deleted files reach the index within seconds; a burst is
one run; a file being written is not read half-written; a SIGKILLed watcher leaves the index
whole and the next one catches up. Real watchdog, real indexing with the default model."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from indexer.build import build
from indexer.ingest import parse_file
from indexer.watch import FolderWatcher
from search.store import read_manifest

from .inputs import stop_process

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]
BULLETIN = Path(sys.executable).parent / "bulletin"
MAX = 50 * 1024 * 1024
# Generous: the machine is shared; the watcher itself waits debounce + settle (under 2 s here).
WAIT_SECONDS = 60


def wait_for(condition, timeout: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the index")
        time.sleep(0.1)


def indexed_ids(index: Path) -> set[str]:
    manifest = read_manifest(index)
    if manifest is None:
        return set()
    files = json.loads((index / manifest.generation / "files.json").read_text(encoding="utf-8"))
    return {i for ids in files.values() for i in ids}


def ids_of(path: Path) -> set[str]:
    return {i.id for i in parse_file(path, MAX, 40).items}


@pytest.fixture
def watched(tmp_path, settings, engine):
    """A watcher on an empty folder, running in a thread with the session's model."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    index = tmp_path / "index"
    quick = replace(settings.with_index(index), watch=replace(settings.watch, debounce_seconds=0.5, settle_seconds=0.3))
    reports = []
    watcher = FolderWatcher([folder], quick, embedder=engine.embedder, on_report=reports.append)
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    wait_for(lambda: watcher.runs >= 1)  # the first sync of the (empty) folder
    yield folder, index, watcher, reports
    watcher.stop()
    thread.join(timeout=30)


def test_new_changed_and_deleted_files(watched, sample_dir):
    folder, index, watcher, _ = watched
    target = folder / "37.txt"
    shutil.copy(sample_dir / "000_edfc72c731b145e7.txt", target)
    original = ids_of(target)
    wait_for(lambda: indexed_ids(index) == original)

    target.write_text(target.read_text(encoding="utf-8").replace("9000 余万元", "9001 余万元"), encoding="utf-8")
    changed = ids_of(target)
    assert changed != original
    wait_for(lambda: indexed_ids(index) == changed)

    sub = folder / "2023"
    sub.mkdir()
    shutil.copy(sample_dir / "002_2394bc59f5f8de19.txt", sub / "35.txt")
    wait_for(lambda: indexed_ids(index) == changed | ids_of(sub / "35.txt"))

    target.unlink()
    wait_for(lambda: indexed_ids(index) == ids_of(sub / "35.txt"))
    shutil.rmtree(sub)
    wait_for(lambda: indexed_ids(index) == set())


def test_a_burst_of_500_files_is_one_run(watched, sample_dir):
    folder, index, watcher, reports = watched
    runs = watcher.runs
    text = (sample_dir / "003_130ae1c1cc3f7681.txt").read_bytes()
    for n in range(500):
        (folder / f"copy-{n:03d}.txt").write_bytes(text)  # the same items: embedded once
    wait_for(lambda: indexed_ids(index) == ids_of(folder / "copy-000.txt"))
    time.sleep(1.5)  # anything left over would start a second run now
    assert watcher.runs == runs + 1
    assert reports[-1].files == 500 and not reports[-1].failed


def test_a_file_being_written_is_not_read_half_written(watched, sample_dir):
    folder, index, watcher, _ = watched
    data = (sample_dir / "001_e28acd27cb44be7e.txt").read_bytes()
    target = folder / "35.txt"
    chunks = [data[i : i + 400] for i in range(0, len(data), 400)]
    runs = watcher.runs
    with target.open("wb") as fh:  # a slow copy: a chunk every 0.15 s, for about 3 s
        for chunk in chunks:
            fh.write(chunk)
            fh.flush()
            time.sleep(0.15)
            assert indexed_ids(index) == set(), "a half-written file was indexed"
    wait_for(lambda: indexed_ids(index) == ids_of(target))
    assert watcher.runs == runs + 1


def test_unsupported_and_temporary_files_are_ignored(watched, sample_dir):
    folder, index, watcher, _ = watched
    runs = watcher.runs
    (folder / "~$37.doc").write_bytes(b"lock")
    (folder / "notes.exe").write_bytes(b"MZ")
    (folder / "37.txt.part").write_bytes(b"partial")
    time.sleep(2)
    assert watcher.runs == runs and indexed_ids(index) == set()


def test_failed_runs_are_retried_later_each_time(tmp_path, settings, engine, sample_dir):
    """An index folder that cannot be written (here: a file where the folder should be) fails
    every run; the watcher keeps trying, but the waits double instead of retrying every tick."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(sample_dir / "000_edfc72c731b145e7.txt", folder / "37.txt")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("x")
    quick = replace(settings.with_index(blocked), watch=replace(settings.watch, debounce_seconds=0.2,
                                                                 settle_seconds=0.1, retry_max_seconds=1.6))
    failed_at: list[float] = []
    watcher = FolderWatcher([folder], quick, embedder=engine.embedder, on_error=lambda exc: failed_at.append(time.monotonic()))
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: len(failed_at) >= 5, timeout=WAIT_SECONDS)
    finally:
        watcher.stop()
        thread.join(timeout=WAIT_SECONDS)
    gaps = np.diff(failed_at[:5])
    assert watcher.runs == 0 and watcher.failures >= 5
    # waits of 0.4, 0.8, 1.6, 1.6 s (capped): each gap at least its wait, never a tight loop
    assert all(gap >= wait for gap, wait in zip(gaps, (0.4, 0.8, 1.6, 1.6))), gaps
    assert blocked.read_text() == "x"  # nothing written over what was there


def test_sigkill_mid_run_leaves_the_index_whole_and_a_new_watcher_catches_up(tmp_path, sample_dir, settings, engine):
    folder = tmp_path / "inbox"
    folder.mkdir()
    index = tmp_path / "index"
    shutil.copy(sample_dir / "000_edfc72c731b145e7.txt", folder / "37.txt")
    build([folder], settings.with_index(index), embedder=engine.embedder)  # the session's model: no second load
    before = indexed_ids(index)

    env = {**os.environ, "BULLETIN_KILL_AT": "segment_written"}  # the indexer SIGKILLs itself mid-run
    killed = subprocess.Popen([str(BULLETIN), "--index", str(index), "watch", str(folder)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1)
    shutil.copy(sample_dir / "001_e28acd27cb44be7e.txt", folder / "35.txt")
    assert killed.wait(timeout=WAIT_SECONDS * 2) == -signal.SIGKILL
    assert indexed_ids(index) == before  # the old generation, complete

    from search.engine import SearchEngine

    engine = SearchEngine(settings.with_index(index))
    try:
        assert engine.search("融资", mode="keyword")["total"] > 0
    finally:
        engine.close()

    again = subprocess.Popen([str(BULLETIN), "--index", str(index), "watch", str(folder)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: indexed_ids(index) == before | ids_of(folder / "35.txt"), timeout=WAIT_SECONDS * 2)
    finally:
        stop_process(again, signal.SIGINT)


def test_serve_watches_the_configured_folders(tmp_path, sample_dir, settings, engine):
    import socket
    import urllib.request

    folder = tmp_path / "inbox"
    folder.mkdir()
    index = tmp_path / "index"
    shutil.copy(sample_dir / "000_edfc72c731b145e7.txt", folder / "37.txt")
    build([folder], settings.with_index(index), embedder=engine.embedder)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "config.toml"
    # the session's model cache, as the other served tests use: a cache of its own would make the
    # server export the model once first (a minute on a CPU without bf16) while the watcher waits
    config.write_text(f'[index]\npath = "index"\n[embedding]\ncache_dir = "{settings.embedding.cache_dir}"\n'
                      '[watch]\nfolders = ["inbox"]\ndebounce_seconds = 0.5\n', encoding="utf-8")
    server = subprocess.Popen([str(BULLETIN), "--config", str(config), "serve", "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def items() -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/stats", timeout=5) as response:
                return json.loads(response.read())["items"]
        except OSError:
            return -1

    try:
        wait_for(lambda: items() == 9, timeout=WAIT_SECONDS * 2)
        shutil.copy(sample_dir / "003_130ae1c1cc3f7681.txt", folder / "45.txt")
        wait_for(lambda: items() == 18)
    finally:
        stop_process(server, signal.SIGTERM)
