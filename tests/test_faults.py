"""Faults: the indexer killed at every stage, a full or read-only disk, stale locks, a broken
index under a server. After each, the index opens and holds the old or the new state."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from indexer.faults import KILL_ENV, POINTS
from reliability.chaos import ForkRunner
from search.engine import SearchEngine
from search.store import MANIFEST

from .synthetic import write_jsonl

BULLETIN = Path(sys.executable).parent / "bulletin"
pytestmark = pytest.mark.subprocess
EXTRA = 40


def index_cmd(index: Path, *paths: Path, config: Path | None = None) -> list[str]:
    cmd = [str(BULLETIN)]
    if config:
        cmd += ["--config", str(config)]
    return cmd + ["--index", str(index), "index", *map(str, paths)]


def count(settings, index: Path) -> int:
    engine = SearchEngine(settings.with_index(index))
    try:
        assert engine.search("融资", mode="keyword")["total"] >= 2  # searchable, not just openable
        return engine.stats()["items"]
    finally:
        engine.close()


@pytest.fixture(scope="module")
def base_index(sample_index):
    """The session's sample index (copied by each test, never written): not embedded again."""
    return Path(sample_index.index.path)


@pytest.fixture
def index_copy(tmp_path, base_index):
    target = tmp_path / "ix"
    shutil.copytree(base_index, target)
    return target


@pytest.fixture(scope="module")
def extra(tmp_path_factory, sample_items):
    return write_jsonl(sample_items, EXTRA, tmp_path_factory.mktemp("extra") / "extra.jsonl", seed=11)


CLI_POINT = "manifest_replaced"  # killed in the real `bulletin index` (every stage run); the others in a fork


def forked_build(settings, src: Path, point: str, log: Path) -> int:
    """The wait status of build() killed at `point` in a child forked from this process, with
    vectors from a hash of the text (reliability/chaos.py): no model load per stage."""
    run = ForkRunner(settings, src, log.parent).start(point)
    return os.waitpid(run.pid, 0)[1]


@pytest.mark.slow
def test_kill_at_every_stage(index_copy, extra, settings, tmp_path):
    """merge_factor = 2: the run's new segment merges with the sample's, so the merge stage is
    reached too. The stages before the commit are killed in forked runs of the same build(); the
    last, just after the commit, in the real CLI with the real model, which has then gone
    through every stage; a further run finds nothing to do and leaves the index as it is."""
    config = tmp_path / "merging.toml"
    config.write_text((Path(settings.source).read_text(encoding="utf-8")
                       .replace("merge_factor = 8", "merge_factor = 2")
                       .replace('cache_dir = "var/models"', f'cache_dir = "{settings.embedding.cache_dir}"')), encoding="utf-8")
    merging = replace(settings, index=replace(settings.index, merge_factor=2)).with_index(index_copy)
    outcomes = {}
    for point in POINTS:
        if point == CLI_POINT:
            run = subprocess.run(index_cmd(index_copy, extra, config=config), env={**os.environ, KILL_ENV: point},
                                 capture_output=True, text=True, timeout=600)
            assert run.returncode == -signal.SIGKILL, (point, run.stderr[-500:])
        else:
            status = forked_build(merging, extra, point, tmp_path / "fork.log")
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, \
                (point, status, (tmp_path / "fork.log").read_text(errors="replace")[-500:])
        outcomes[point] = count(settings, index_copy)
        expected = 38 + EXTRA if point == "manifest_replaced" else 38
        assert outcomes[point] == expected, (point, outcomes)
        if point == "manifest_replaced":
            break
    assert set(outcomes) == set(POINTS)
    final = subprocess.run(index_cmd(index_copy, extra, config=config), capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr
    assert count(settings, index_copy) == 38 + EXTRA
    segments = json.loads((index_copy / json.loads((index_copy / MANIFEST).read_text())["generation"]
                           / "segments.json").read_text())
    assert len(segments) == 1  # merged
    assert len(list(index_copy.glob("gen-*"))) <= 2  # unfinished generations were swept away


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    if os.geteuid() != 0 or not _mount_tmpfs(mount, "12M"):
        pytest.skip("needs root to mount a small tmpfs (CI runs as root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_disk_full_and_read_only(small_disk, base_index, extra, settings):
    index = small_disk / "ix"
    shutil.copytree(base_index, index)
    filler = small_disk / "filler"
    with filler.open("wb") as fh:  # leave almost nothing free
        try:
            while True:
                fh.write(b"\0" * 65536)
        except OSError:
            pass
    full = subprocess.run(index_cmd(index, extra), capture_output=True, text=True, timeout=600)
    assert full.returncode == 1 and "磁盘空间不足" in full.stderr and "Traceback" not in full.stderr, full.stderr[-800:]
    assert count(settings, index) == 38
    filler.unlink()
    assert not [g for g in index.glob("gen-*") if g.name != json.loads((index / MANIFEST).read_text())["generation"]
                and g.name > json.loads((index / MANIFEST).read_text())["generation"]]

    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    read_only = subprocess.run(index_cmd(index, extra), capture_output=True, text=True, timeout=600)
    assert read_only.returncode == 1 and "只读" in read_only.stderr and "Traceback" not in read_only.stderr
    assert count(settings, index) == 38  # still searchable from a read-only disk
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    done = subprocess.run(index_cmd(index, extra), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert count(settings, index) == 38 + EXTRA


def test_stale_locks_and_leftovers_are_harmless(index_copy, extra, settings):
    manifest = json.loads((index_copy / MANIFEST).read_text())
    (index_copy / ".indexer.lock").write_text("12345")  # left by a crashed run: the lock itself died with it
    (index_copy / manifest["generation"] / "MAIN_WRITELOCK").write_text("")
    half = index_copy / "gen-999998"
    half.mkdir()
    (half / "vectors.npy").write_bytes(b"partial")
    (index_copy / f".manifest.json{uuid.uuid4().hex[:6]}").write_text("{half")
    run = subprocess.run(index_cmd(index_copy, extra), capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert count(settings, index_copy) == 38 + EXTRA
    assert not half.exists()


def test_a_running_indexer_blocks_a_second(tmp_path, index_copy, extra, settings):
    config = tmp_path / "config.toml"  # everything default but a short wait, and the shared model cache
    config.write_text(f'[index]\nlock_wait_seconds = 1\n[embedding]\ncache_dir = "{settings.embedding.cache_dir}"\n',
                      encoding="utf-8")
    fd = os.open(index_copy / ".indexer.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        busy = subprocess.run(index_cmd(index_copy, extra, config=config), capture_output=True, text=True, timeout=600)
    finally:
        os.close(fd)
    assert busy.returncode == 1 and "另一个索引进程" in busy.stderr
    assert count(settings, index_copy) == 38
    assert subprocess.run(index_cmd(index_copy, extra, config=config), capture_output=True, timeout=600).returncode == 0


@pytest.mark.parametrize("damage", ["missing", "garbage_manifest", "truncated_vectors", "missing_generation"])
def test_serve_refuses_a_broken_index(tmp_path, base_index, damage):
    index = tmp_path / "ix"
    if damage != "missing":
        shutil.copytree(base_index, index)
        manifest = json.loads((index / MANIFEST).read_text())
        gen = index / manifest["generation"]
        if damage == "garbage_manifest":
            (index / MANIFEST).write_text("{not json")
        elif damage == "truncated_vectors":
            vectors = next(gen.glob("seg-*")) / "vectors.npy"
            data = vectors.read_bytes()
            vectors.unlink()  # a new file: the hard-linked original in base_index stays whole
            vectors.write_bytes(data[: len(data) // 2])
        else:
            shutil.rmtree(gen)
    run = subprocess.run([str(BULLETIN), "--index", str(index), "serve", "--port", "0"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    assert "无法打开索引" in run.stderr and "Traceback" not in run.stderr


def test_health_reports_a_broken_new_generation(tmp_path, base_index, engine):
    from search.service import SearchService
    from web import create_app

    index = tmp_path / "ix"
    shutil.copytree(base_index, index)
    cfg = engine.settings.with_index(index)
    client = create_app(cfg, SearchService(cfg, embedder=engine.embedder)).test_client()
    assert client.get("/api/health").get_json()["status"] == "ok"
    manifest = json.loads((index / MANIFEST).read_text())
    manifest["generation"] = "gen-424242"
    (index / MANIFEST).write_text(json.dumps(manifest))
    health = client.get("/api/health").get_json()
    assert health["status"] == "degraded" and "gen-424242" in health["error"]["message"]
    assert client.get("/api/search?q=融资").status_code == 200  # still answering from the last good index
