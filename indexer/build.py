"""Build or update the index incrementally, crash-safe.

A file is the unit of update: its items replace what it gave last time. Only items
with new ids are embedded; unchanged items keep their vectors. Each run that changes
something writes a new generation folder (whoosh files hard-linked from the previous
one, then updated) and switches manifest.json to it atomically.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
import hashlib
import os
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from search import keyword
from search.analysis import analyse_all, get_analyzer
from search.bm25f import FIELDS, VOCAB_FILE, TermCounts, update_counts
from search.config import Settings
from search.embedding import Embedder
from search.item import Item
from search.store import (
    FILES,
    IDS,
    MANIFEST,
    VECTORS,
    IndexUnavailable,
    Manifest,
    fsync_dir,
    load_generation,
    read_manifest,
    save_vectors,
    write_json_atomic,
)

from .faults import checkpoint
from .ingest import FileResult, find_files, parse_file
from .lock import index_lock

WHOOSH_FILE = re.compile(r"^_?MAIN_.*\.(seg|toc)$")
GENERATIONS_KEPT = 2  # the current one and the one before (a running server may still read it)


@dataclass
class BuildReport:
    files: int = 0
    failed: list[FileResult] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    total: int = 0
    seconds: float = 0.0
    generation: str | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage: parse, embedding, keyword_index, write

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


ProgressFactory = Callable[[str, int], "Progress"]


class Progress:
    """What the builder needs of a progress bar (tqdm in the CLI, silent in tests)."""

    def update(self, n: int = 1) -> None: ...

    def close(self) -> None: ...


def silent(_label: str, _total: int) -> Progress:
    return Progress()


def analysis_fingerprint(settings: Settings) -> dict[str, str]:
    out = {}
    for name, path in (("user_dict", settings.analysis.user_dict), ("stop_words", settings.analysis.stop_words)):
        out[name] = hashlib.sha1(path.read_bytes()).hexdigest()[:12] if path.exists() else "-"
    return out


def build(paths: Sequence[str | Path], settings: Settings, rebuild: bool = False,
          progress: ProgressFactory = silent, embedder: Embedder | None = None,
          forget: Sequence[str | Path] = ()) -> BuildReport:
    """Index the files under paths; one indexer per index folder at a time (others wait).

    forget: files or folders whose indexed files are dropped if they no longer exist (the
    watcher passes deleted files, and its folders when it starts).
    """
    with index_lock(Path(settings.index.path), settings.index.lock_wait_seconds):
        return _build(paths, settings, rebuild, progress, embedder, forget)


def _build(paths: Sequence[str | Path], settings: Settings, rebuild: bool,
           progress: ProgressFactory, embedder: Embedder | None, forget: Sequence[str | Path] = ()) -> BuildReport:
    started = time.perf_counter()
    index_dir = Path(settings.index.path)
    index_dir.mkdir(parents=True, exist_ok=True)
    embedder = embedder or Embedder(settings.embedding, _base_dir(settings))
    report = BuildReport()

    manifest = None if rebuild else read_manifest(index_dir)
    if manifest is not None and manifest.model != embedder.name:
        raise IndexUnavailable(
            f"索引由模型 {manifest.model!r} 生成，而配置的是 {embedder.name!r}；请用 bulletin index --rebuild 重建"
        )
    old_ids: list[str] = []
    old_files: dict[str, list[str]] = {}
    old_vectors = np.zeros((0, 0), dtype=np.float32)
    old_gen: Path | None = None
    if manifest is not None:
        old_gen, old_ids, old_vectors, old_files = load_generation(index_dir, manifest)
        _drop_old_generations(index_dir, keep=manifest.generation)  # what a killed run left behind

    files = list(find_files(paths))
    report.files = len(files)
    stage = time.perf_counter()
    bar = progress("解析", len(files))
    results: list[FileResult] = []
    for path in files:
        results.append(parse_file(path, settings.max_file_bytes, settings.parser.brief_title_max_chars))
        bar.update(1)
    bar.close()
    report.timings["parse"] = time.perf_counter() - stage
    checkpoint("parsed")

    new_files = forget_vanished(old_files, forget)
    items_by_id: dict[str, Item] = {}
    for result in results:
        if result.error:
            report.failed.append(result)
            continue  # a file that fails now keeps what it gave before: nothing is lost
        key = str(Path(result.path).resolve())
        new_files[key] = [i.id for i in result.items]
        for item in result.items:
            items_by_id.setdefault(item.id, item)

    old_set = set(old_ids)
    wanted = list(dict.fromkeys(i for ids in new_files.values() for i in ids))
    wanted_set = set(wanted)
    added = [items_by_id[i] for i in wanted if i not in old_set]
    removed = [i for i in old_ids if i not in wanted_set]
    replaced_slots = {
        (key, pos)
        for key, ids in old_files.items()
        if new_files.get(key) != ids
        for pos, item_id in enumerate(ids)
        if item_id not in wanted_set
    }
    report.updated = sum(
        1
        for key, ids in new_files.items()
        if old_files.get(key) != ids
        for pos, item_id in enumerate(ids)
        if item_id not in old_set and (key, pos) in replaced_slots
    )
    report.added = len(added) - report.updated
    report.removed = len(removed) - report.updated
    report.unchanged = len(wanted) - len(added)
    report.total = len(wanted)

    if manifest is not None and not added and not removed and new_files == old_files:
        report.seconds = time.perf_counter() - started
        report.generation = manifest.generation
        return report

    gen_name = _next_generation(index_dir)
    gen = index_dir / gen_name
    analyzer = get_analyzer(settings.analysis.user_dict, settings.analysis.stop_words)
    schema = keyword.make_schema(analyzer, settings.search.title_boost)
    try:
        if old_gen is not None:
            _link_copy(old_gen, gen)
            ix = keyword.open_index(gen, schema)
        else:
            ix = keyword.create(gen, schema)

        stage = time.perf_counter()
        bar = progress("向量", len(added))
        new_vectors = embedder.embed_passages([embed_text(i) for i in added], progress=bar.update)
        bar.close()
        report.timings["embedding"] = time.perf_counter() - stage
        checkpoint("embedded")

        stage = time.perf_counter()
        old_counts = TermCounts.load(old_gen) if old_gen is not None and (old_gen / VOCAB_FILE).exists() else None
        if old_gen is not None and old_counts is None:
            raise IndexUnavailable("旧索引缺少词频矩阵（由旧版本生成）；请用 bulletin index --rebuild 重建")
        count_rows: list[dict[str, Counter[str]]] = []
        texts = [getattr(item, f) for item in added for f in FIELDS]
        analysed = analyse_all(texts, analyzer)  # once per text, in a worker process for large runs

        def with_tokens():
            for item in added:
                tokens = {f: next(analysed) for f in FIELDS}
                count_rows.append({f: Counter(tokens[f]) for f in FIELDS})
                yield item, tokens

        keyword.write(ix, with_tokens(), removed, settings.index.commit_every)
        checkpoint("whoosh_committed")
        ix.close()
        row_of_old_id = {item_id: n for n, item_id in enumerate(old_ids)}
        counts = update_counts(old_counts, [row_of_old_id[i] for i in old_ids if i in wanted_set], count_rows)
        counts.save(gen)
        checkpoint("counts_written")
        report.timings["keyword_index"] = time.perf_counter() - stage
        stage = time.perf_counter()

        row_of_old = {item_id: n for n, item_id in enumerate(old_ids)}
        kept = [i for i in old_ids if i in wanted_set]
        ids = kept + [i.id for i in added]
        dim = embedder.dim
        vectors = np.zeros((len(ids), dim), dtype=np.float32)
        if kept:
            vectors[: len(kept)] = old_vectors[[row_of_old[i] for i in kept]]
        if added:
            vectors[len(kept) :] = new_vectors
        save_vectors(gen / VECTORS, vectors)
        checkpoint("vectors_written")
        write_json_atomic(gen / IDS, ids)
        write_json_atomic(gen / FILES, new_files)
        fsync_dir(gen)

        new_manifest = Manifest(
            generation=gen_name,
            model=embedder.name,
            dim=dim,
            count=len(ids),
            updated=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            analysis=analysis_fingerprint(settings),
        )
        write_json_atomic(index_dir / MANIFEST, new_manifest.to_dict(), before_replace=lambda: checkpoint("manifest_temp_written"))
        checkpoint("manifest_replaced")  # the commit point is behind us
        report.timings["write"] = time.perf_counter() - stage
    except BaseException:
        shutil.rmtree(gen, ignore_errors=True)
        raise
    _drop_old_generations(index_dir, keep=gen_name)
    report.generation = gen_name
    report.seconds = time.perf_counter() - started
    return report


def forget_vanished(files: dict[str, list[str]], forget: Sequence[str | Path]) -> dict[str, list[str]]:
    """files without the entries of files that are gone and lie at or under a forgotten path."""
    roots = [Path(p).resolve() for p in forget]
    if not roots:
        return dict(files)
    return {
        key: ids for key, ids in files.items()
        if Path(key).exists() or not any(Path(key) == root or root in Path(key).parents for root in roots)
    }


def embed_text(item: Item) -> str:
    return f"{item.title}\n{item.text}"


def _base_dir(settings: Settings) -> Path:
    return settings.source.parent if settings.source else Path.cwd()


def _next_generation(index_dir: Path) -> str:
    existing = [int(p.name.split("-")[1]) for p in index_dir.glob("gen-*") if p.name.split("-")[1].isdigit()]
    number = max(existing + [0]) + 1
    return f"gen-{number:06d}"


def _link_copy(source: Path, target: Path) -> None:
    """Hard-link whoosh's segment and TOC files into the new generation (whoosh never rewrites
    them: a commit writes new names); copy when links are unsupported. Everything else — our
    vectors, ids, counts and whoosh's lock — is written afresh, never through a shared inode."""
    target.mkdir(parents=True)
    for path in source.iterdir():
        if not path.is_file() or path.name.endswith("WRITELOCK") or not WHOOSH_FILE.match(path.name):
            continue
        try:
            os.link(path, target / path.name)
        except OSError:
            shutil.copy2(path, target / path.name)


def _drop_old_generations(index_dir: Path, keep: str) -> None:
    """Remove generations older than the last GENERATIONS_KEPT, and any unfinished ones."""
    gens = sorted(p for p in index_dir.glob("gen-*") if p.is_dir())
    current = index_dir / keep
    older = [g for g in gens if g.name < keep]
    for gen in older[: max(0, len(older) - (GENERATIONS_KEPT - 1))] + [g for g in gens if g.name > keep]:
        if gen != current:
            shutil.rmtree(gen, ignore_errors=True)


def describe(report: BuildReport) -> str:
    failed = f"，失败 {len(report.failed)} 个文件" if report.failed else ""
    if not report.changed and not report.failed:
        state = "索引已是最新，没有变化。"
    else:
        state = ""
    return (
        f"{state}新增 {report.added}，更新 {report.updated}，未变 {report.unchanged}，删除 {report.removed}，"
        f"共 {report.total} 条；{report.files} 个文件{failed}；用时 {report.seconds:.1f} 秒"
    )
