"""Build or update the index incrementally, crash-safe, in segments.

A file is the unit of update: its items replace what it gave last time (a folder given
again also drops the items of files that have disappeared from it). Only items with new ids
are embedded and analysed; they become one new segment (several for very large runs), and
the items they replace are marked deleted in their old segments. Nothing else is rewritten:
the new generation folder hard-links every unchanged file of the previous one. When
`index.merge_factor` segments of a similar size pile up they are merged (their live rows
re-analysed from the stored records, vectors copied), as Lucene does. The run ends by
replacing manifest.json atomically: a reader sees the old generation or the new one.
"""
from __future__ import annotations

import datetime as dt
import itertools
import math
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from search import records
from search.analysis import analyse_all, fingerprint, get_analyzer
from search.background import load_background
from search.config import Settings
from search.embedding import Embedder, ItemVectors
from search.item import Item
from search.passages import split_items
from search.segment import FIELDS, STRINGS, Segment, SegmentInput, decode_vectors, write_segment
from search.store import (
    BACKGROUND,
    FILES,
    MANIFEST,
    SEGMENTS,
    IndexUnavailable,
    Manifest,
    SegmentEntry,
    fsync_dir,
    load_deleted,
    read_json,
    read_manifest,
    read_segments,
    save_deleted,
    write_json_atomic,
)
from search.units import UnitAliases

from .faults import checkpoint
from .ingest import FileResult, find_files, parse_file
from .lock import index_lock

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
    merged: int = 0  # segments merged in this run
    seconds: float = 0.0
    generation: str | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage

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
    return fingerprint(settings.analysis.user_dict, settings.analysis.stop_words)


def build(paths: Sequence[str | Path], settings: Settings, rebuild: bool = False,
          progress: ProgressFactory = silent, embedder: Embedder | None = None,
          forget: Sequence[str | Path] = ()) -> BuildReport:
    """Index the files under paths; one indexer per index folder at a time (others wait).

    forget: files or folders whose indexed files are dropped if they no longer exist (the
    watcher passes deleted files, and its folders when it starts). Without it a file that
    has disappeared keeps its items: an unmounted share must not empty the index.
    """
    with index_lock(Path(settings.index.path), settings.index.lock_wait_seconds):
        return _Build(settings, rebuild, progress, embedder).run(paths, forget)


@dataclass
class _Old:
    """The generation being updated."""

    gen: Path | None = None
    manifest: Manifest | None = None
    entries: list[SegmentEntry] = field(default_factory=list)
    files: dict[str, list[str]] = field(default_factory=dict)
    location: dict[str, tuple[int, int]] = field(default_factory=dict)  # live id -> (segment, row)
    unit_columns: list[tuple[list[str], np.ndarray, np.ndarray]] = field(default_factory=list)  # per segment
    aliased: set[str] = field(default_factory=set)  # live ids stored under a unit name [units.aliases] maps

    def units(self, item_id: str) -> tuple[str, ...]:
        """The units an item is stored under."""
        k, row = self.location[item_id]
        names, indptr, codes = self.unit_columns[k]
        return tuple(names[c] for c in codes[indptr[row] : indptr[row + 1]])


class _Build:
    def __init__(self, settings: Settings, rebuild: bool, progress: ProgressFactory, embedder: Embedder | None) -> None:
        self.settings = settings
        self.rebuild = rebuild
        self.progress = progress
        self.index_dir = Path(settings.index.path)
        self.embedder = embedder or Embedder(settings.embedding, settings.base_dir)
        self.report = BuildReport()
        self.analyzer = get_analyzer(settings.analysis.user_dict, settings.analysis.stop_words)
        self.aliases = UnitAliases(settings.units.aliases)
        self.relabelled: set[str] = set()  # kept items rewritten only because their units changed

    def run(self, paths: Sequence[str | Path], forget: Sequence[str | Path]) -> BuildReport:
        started = time.perf_counter()
        self.index_dir.mkdir(parents=True, exist_ok=True)
        old = self._open_old()
        results = self._parse(paths)
        new_files = self._new_files(old, results, forget)
        items_by_id: dict[str, Item] = {}
        for result in results:
            if not result.error:
                for item in result.items:
                    items_by_id.setdefault(item.id, item)
        added, removed = self._diff(old, new_files, items_by_id)
        if old.manifest is not None and not added and not removed and new_files == old.files:
            self.report.generation = old.manifest.generation
            self.report.seconds = time.perf_counter() - started
            return self.report
        gen_name = _next_generation(self.index_dir)
        gen = self.index_dir / gen_name
        try:
            self._write_generation(old, gen, added, removed, new_files)
        except BaseException:
            shutil.rmtree(gen, ignore_errors=True)
            raise
        _drop_old_generations(self.index_dir, keep=gen_name)
        self.report.generation = gen_name
        self.report.seconds = time.perf_counter() - started
        return self.report

    # ------------------------------------------------------------ old state
    def _open_old(self) -> _Old:
        manifest = None if self.rebuild else read_manifest(self.index_dir)
        old = _Old()
        if manifest is None:
            return old
        if manifest.model != self.embedder.name:
            raise IndexUnavailable(
                f"索引由模型 {manifest.model!r} 生成，而配置的是 {self.embedder.name!r}；请用 bulletin index --rebuild 重建"
            )
        if manifest.analysis and manifest.analysis != analysis_fingerprint(self.settings):
            raise IndexUnavailable(
                "索引建立后词典或停用词表（analysis.user_dict / analysis.stop_words）已改变，新旧条目会切分不一致；"
                "请用 bulletin index --rebuild 重建"
            )
        if manifest.vector_dtype != self.settings.embedding.vector_dtype:
            raise IndexUnavailable(
                f"索引的向量类型是 {manifest.vector_dtype}，配置的是 {self.settings.embedding.vector_dtype}；"
                "请用 bulletin index --rebuild 重建"
            )
        old.manifest = manifest
        old.gen = self.index_dir / manifest.generation
        _drop_old_generations(self.index_dir, keep=manifest.generation)  # what a killed run left behind
        old.entries = read_segments(old.gen)
        old.files = read_json(old.gen / FILES, {})
        # Whole columns at a time: a million-item index is read in about a second, not row by row.
        for k, entry in enumerate(old.entries):
            folder = old.gen / entry.name
            names = read_json(folder / STRINGS, {}).get("units", [])
            indptr, codes = np.load(folder / "unit_indptr.npy"), np.load(folder / "unit_codes.npy")
            old.unit_columns.append((names, indptr, codes))
            dead = load_deleted(old.gen / entry.deleted, entry.rows) if entry.deleted else np.zeros(entry.rows, bool)
            live = np.flatnonzero(~dead)
            ids = np.load(folder / "ids.npy")[live].astype("U16").tolist()
            old.location.update(zip(ids, zip(itertools.repeat(k), live.tolist())))
            renamed = [c for c, name in enumerate(names) if self.aliases.apply((name,)) != (name,)]
            if renamed:
                row_has = np.zeros(entry.rows, dtype=bool)
                row_has[np.repeat(np.arange(entry.rows), np.diff(indptr))[np.isin(codes, renamed)]] = True
                old.aliased.update(ids[n] for n in np.flatnonzero(row_has[live]))
        return old

    def _parse(self, paths: Sequence[str | Path]) -> list[FileResult]:
        stage = time.perf_counter()
        files = list(find_files(paths))
        self.report.files = len(files)
        bar = self.progress("解析", len(files))
        results = []
        for path in files:
            results.append(parse_file(path, self.settings.max_file_bytes, self.settings.parser.brief_title_max_chars,
                                      self.aliases))
            bar.update(1)
        bar.close()
        self.report.timings["parse"] = time.perf_counter() - stage
        checkpoint("parsed")
        return results

    def _new_files(self, old: _Old, results: list[FileResult], forget: Sequence[str | Path]) -> dict[str, list[str]]:
        new_files = forget_vanished(old.files, forget)
        for result in results:
            if result.error:
                self.report.failed.append(result)
                continue  # a file that fails now keeps what it gave before: nothing is lost
            new_files[str(Path(result.path).resolve())] = [i.id for i in result.items]
        return new_files

    def _diff(self, old: _Old, new_files: dict[str, list[str]], items_by_id: dict[str, Item]) -> tuple[list[Item], list[str]]:
        wanted = list(dict.fromkeys(i for ids in new_files.values() for i in ids))
        wanted_set = set(wanted)
        old_ids = old.location
        added = [items_by_id[i] for i in wanted if i not in old_ids]
        removed = [i for i in old_ids if i not in wanted_set]
        replaced_slots = {(key, pos) for key, ids in old.files.items() if new_files.get(key) != ids
                          for pos, item_id in enumerate(ids) if item_id not in wanted_set}
        r = self.report
        r.updated = sum(1 for key, ids in new_files.items() if old.files.get(key) != ids
                        for pos, item_id in enumerate(ids) if item_id not in old_ids and (key, pos) in replaced_slots)
        r.added = len(added) - r.updated
        r.removed = len(removed) - r.updated
        relabelled = self._relabelled(old, wanted, items_by_id)
        self.relabelled = {i.id for i in relabelled}
        added, removed = added + relabelled, removed + [i.id for i in relabelled]  # rewritten last: see _vectors
        r.updated += len(relabelled)
        r.unchanged = len(wanted) - len(added)
        r.total = len(wanted)
        return added, removed

    def _relabelled(self, old: _Old, wanted: list[str], items_by_id: dict[str, Item]) -> list[Item]:
        """Kept items whose units change (the id does not depend on them): read again this run
        with other units, or stored under a name that [units.aliases] now maps to another. So an
        alias added to config.toml reaches every indexed item on the next run of any folder."""
        changed: list[Item] = []
        stale: list[str] = []
        for item_id in wanted:
            if item_id not in old.location:
                continue  # a new item
            item = items_by_id.get(item_id)
            if item is not None:
                if tuple(dict.fromkeys(item.units)) != old.units(item_id):
                    changed.append(item)
            elif item_id in old.aliased:  # apply(stored) != stored: some stored name is renamed
                stale.append(item_id)
        if stale:
            reader = records.RecordReader(old.gen / records.WHOOSH_DIR)
            try:
                changed += [self.aliases.item(reader.item(*old.location[i])) for i in stale]
            finally:
                reader.close()
        return changed

    # ------------------------------------------------------- new generation
    def _write_generation(self, old: _Old, gen: Path, added: list[Item], removed: list[str],
                          new_files: dict[str, list[str]]) -> None:
        settings = self.settings
        gen.mkdir(parents=True)
        whoosh_dir = gen / records.WHOOSH_DIR
        entries = [SegmentEntry(e.name, e.rows, e.deleted, e.dead) for e in old.entries]
        if old.gen is not None:
            _link_tree(old.gen / records.WHOOSH_DIR, whoosh_dir)
            for entry in entries:
                _link_tree(old.gen / entry.name, gen / entry.name)
                if entry.deleted:
                    os.link(old.gen / entry.deleted, gen / entry.deleted)
        else:
            records.create(whoosh_dir)

        # Vectors are made one segment's batch at a time (a large run never holds every passage
        # vector at once); the first batch before anything is written, as for a small run.
        chunk = max(1, settings.index.segment_items)
        embedding = 0.0

        def embed(start: int) -> ItemVectors:
            nonlocal embedding
            began = time.perf_counter()
            vectors = self._vectors(old, added[start : start + chunk])
            embedding += time.perf_counter() - began
            checkpoint("embedded")
            return vectors

        vectors = embed(0)
        first_embedding = embedding
        stage = time.perf_counter()
        self._tombstones(gen, entries, old, removed)
        next_number = _next_segment_number(entries)
        terms = self._terms(added)
        first = True
        for start in range(0, max(len(added), 1 if removed else 0), chunk):
            batch = added[start : start + chunk]
            if start:
                vectors = embed(start)
            writer = records.RecordWriter(whoosh_dir)
            try:
                if first:
                    writer.delete(removed)
                writer.add(batch)
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            first = False
            checkpoint("records_committed")
            if batch:
                name = f"seg-{next_number:06d}"
                next_number += 1
                batch_terms = [next(terms) for _ in batch]
                self._write_segment(gen / name, entries, batch, batch_terms, vectors, 0)
                entries.append(SegmentEntry(name, len(batch)))
                checkpoint("segment_written")
        self.report.timings["embedding"] = embedding
        self.report.timings["keyword_index"] = time.perf_counter() - stage - (embedding - first_embedding)

        stage = time.perf_counter()
        self._merge(gen, entries)
        background = load_background(settings.relevance.background, self.embedder, settings.embedding.cache_dir,
                                     settings.embedding.passage_chars)
        write_json_atomic(gen / BACKGROUND, background.to_dict())
        write_json_atomic(gen / FILES, new_files)
        write_json_atomic(gen / SEGMENTS, [e.to_dict() for e in entries])
        fsync_dir(gen)
        count = sum(e.rows - e.dead for e in entries)
        manifest = Manifest(
            generation=gen.name, model=self.embedder.name, dim=self.embedder.dim, count=count,
            updated=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            analysis=analysis_fingerprint(settings), vector_dtype=settings.embedding.vector_dtype,
            files=len(new_files),
        )
        write_json_atomic(self.index_dir / MANIFEST, manifest.to_dict(),
                          before_replace=lambda: checkpoint("manifest_temp_written"))
        checkpoint("manifest_replaced")  # the commit point is behind us
        self.report.timings["write"] = time.perf_counter() - stage

    def _vectors(self, old: _Old, added: list[Item]) -> ItemVectors:
        """Vectors of the items to write, in their order: embedded for new text, copied from the
        old segments for items rewritten only because their units changed (they come last)."""
        fresh = [i for i in added if i.id not in self.relabelled]
        if len(fresh) == len(added):
            return self._embed(fresh)
        assert old.manifest is not None  # relabelled items exist only in an old generation
        dim = old.manifest.dim
        embedded = self._embed(fresh) if fresh else ItemVectors(  # no model needed to rename units
            np.zeros((0, dim), np.float32), np.zeros((0, dim), np.float32), np.zeros(1, np.int64), np.zeros((0, 2), np.int32))
        segments: dict[int, Segment] = {}
        items, passages, spans, indptr = [embedded.items], [embedded.passages], [embedded.spans], [embedded.indptr]
        for item in added[len(fresh):]:
            k, row = old.location[item.id]
            seg = segments.get(k) or segments.setdefault(k, Segment(old.gen / old.entries[k].name))
            a, b = seg.passage_rows(row)
            items.append(decode_vectors(seg.vectors[row:row + 1]))
            passages.append(decode_vectors(seg.passages[a:b]))
            spans.append(np.asarray(seg.passage_spans[a:b]))
            indptr.append(np.array([indptr[-1][-1] + (b - a)], dtype=np.int64))
        return ItemVectors(np.concatenate(items).astype(np.float32), np.concatenate(passages).astype(np.float32),
                           np.concatenate(indptr).astype(np.int64), np.concatenate(spans))

    def _embed(self, items: list[Item]) -> ItemVectors:
        batch = split_items([(i.title, i.text) for i in items], self.settings.embedding.passage_chars)
        bar = self.progress("向量", len(batch.texts))
        try:
            return self.embedder.embed_items(batch, progress=bar.update)
        finally:
            bar.close()

    def _terms(self, items: list[Item]) -> Iterator[tuple[list[str], list[str]]]:
        """(title terms, text terms) per item, analysed once, in a worker process for large runs."""
        analysed = analyse_all([getattr(i, f) for i in items for f in FIELDS], self.analyzer)
        for _item in items:
            yield next(analysed), next(analysed)

    def _write_segment(self, folder: Path, entries: list[SegmentEntry], batch: list[Item],
                       batch_terms: list[tuple[list[str], list[str]]], vectors: ItemVectors, start: int) -> None:
        a, b = vectors.indptr[start], vectors.indptr[start + len(batch)]
        data = SegmentInput(
            items=batch,
            title_terms=[t for t, _ in batch_terms],
            text_terms=[t for _, t in batch_terms],
            vectors=vectors.items[start : start + len(batch)],
            passages=vectors.passages[a:b],
            passage_indptr=vectors.indptr[start : start + len(batch) + 1] - a,
            passage_spans=vectors.spans[a:b],
            avg_lengths=self._avg_lengths(folder.parent, entries, batch_terms),
        )
        emb = self.settings.embedding
        write_segment(folder, data, emb.vector_dtype, emb.passage_dtype, self.settings.search.title_boost,
                      self.settings.relevance.long_item_passages, emb.sketch_dims)

    def _avg_lengths(self, gen: Path, entries: list[SegmentEntry], batch_terms: list[tuple[list[str], list[str]]]) -> dict[str, float]:
        """BM25's average field lengths over the whole index as it will be (old segments' totals
        plus this batch), so a small new segment is weighed like the rest."""
        totals = {f: 0.0 for f in FIELDS}
        rows = 0
        for entry in entries:
            meta = read_json(gen / entry.name / "meta.json")
            rows += entry.rows
            for f in FIELDS:
                totals[f] += meta["lengths"][f"{f}_total"]
        rows += len(batch_terms)
        totals["title"] += sum(len(t) for t, _ in batch_terms)
        totals["text"] += sum(len(t) for _, t in batch_terms)
        return {f: totals[f] / max(rows, 1) for f in FIELDS}

    def _tombstones(self, gen: Path, entries: list[SegmentEntry], old: _Old, removed: list[str]) -> None:
        by_segment: dict[int, list[int]] = {}
        for item_id in removed:
            k, row = old.location[item_id]
            by_segment.setdefault(k, []).append(row)
        for k, rows in by_segment.items():
            entry = entries[k]
            dead = load_deleted(gen / entry.deleted, entry.rows) if entry.deleted else np.zeros(entry.rows, bool)
            dead[rows] = True
            name = f"del-{entry.name}-{gen.name}.npy"
            if entry.deleted:
                (gen / entry.deleted).unlink()  # the link to the old generation's file, not the file
            save_deleted(gen / name, dead)
            entry.deleted, entry.dead = name, int(dead.sum())
        checkpoint("tombstones_written")

    # ---------------------------------------------------------------- merges
    def _merge(self, gen: Path, entries: list[SegmentEntry]) -> None:
        """Merge segments as Lucene's log merge policy does: when merge_factor segments sit at the
        same size level (powers of merge_factor), or a segment is mostly deleted rows, they are
        rewritten as one, up to index.segment_items rows."""
        factor = max(2, self.settings.index.merge_factor)
        cap = self.settings.index.segment_items
        while True:
            chosen = _merge_choice(entries, factor, cap)
            if not chosen:
                return
            self._merge_segments(gen, entries, chosen)
            self.report.merged += len(chosen)
            checkpoint("merged")

    def _merge_segments(self, gen: Path, entries: list[SegmentEntry], chosen: list[int]) -> None:
        whoosh_dir = gen / records.WHOOSH_DIR
        items: list[Item] = []
        vectors, passages, spans, indptr = [], [], [], [0]
        reader = records.RecordReader(whoosh_dir)
        try:
            for k in chosen:
                entry = entries[k]
                seg = Segment(gen / entry.name)
                dead = load_deleted(gen / entry.deleted, entry.rows) if entry.deleted else np.zeros(entry.rows, bool)
                for row in np.flatnonzero(~dead):
                    items.append(reader.item(k, int(row)))
                    a, b = seg.passage_rows(int(row))
                    passages.append(decode_vectors(seg.passages[a:b]))
                    spans.append(np.asarray(seg.passage_spans[a:b]))
                    indptr.append(indptr[-1] + (b - a))
                live = np.flatnonzero(~dead)
                vectors.append(decode_vectors(seg.vectors[live]))
        finally:
            reader.close()
        writer = records.RecordWriter(whoosh_dir)
        if not items:  # nothing alive: the segments simply go
            try:
                writer.drop(chosen)
            except BaseException:
                writer.cancel()
                raise
            for k in sorted(chosen, reverse=True):
                self._remove_segment(gen, entries.pop(k))
            return
        writer.cancel()
        terms = list(self._terms(items))
        name = f"seg-{_next_segment_number(entries):06d}"
        remaining = [e for n, e in enumerate(entries) if n not in set(chosen)]
        dim = self.embedder.dim
        merged = ItemVectors(
            np.concatenate(vectors) if vectors else np.zeros((0, dim), np.float32),
            np.concatenate(passages) if passages else np.zeros((0, dim), np.float32),
            np.asarray(indptr, dtype=np.int64),
            np.concatenate(spans) if spans else np.zeros((0, 2), np.int32),
        )
        self._write_segment(gen / name, remaining, items, terms, merged, 0)
        writer = records.RecordWriter(whoosh_dir)
        try:
            writer.merge(chosen)
        except BaseException:
            writer.cancel()
            raise
        for k in sorted(chosen, reverse=True):
            self._remove_segment(gen, entries.pop(k))
        entries.append(SegmentEntry(name, len(items)))

    @staticmethod
    def _remove_segment(gen: Path, entry: SegmentEntry) -> None:
        shutil.rmtree(gen / entry.name)
        if entry.deleted:
            (gen / entry.deleted).unlink()


def forget_vanished(files: dict[str, list[str]], forget: Sequence[str | Path]) -> dict[str, list[str]]:
    """files without the entries of files that are gone and lie at or under a forgotten path."""
    roots = [Path(p).resolve() for p in forget]
    if not roots:
        return dict(files)
    return {
        key: ids for key, ids in files.items()
        if Path(key).exists() or not any(Path(key) == root or root in Path(key).parents for root in roots)
    }


def _merge_choice(entries: list[SegmentEntry], factor: int, cap: int) -> list[int]:
    """Positions of segments to merge now, or [] (see _Build._merge)."""
    for n, e in enumerate(entries):
        if e.rows and e.dead * 2 > e.rows:
            return [n]
    levels: dict[int, list[int]] = {}
    for n, e in enumerate(entries):
        live = max(1, e.rows - e.dead)
        levels.setdefault(int(math.log(live, factor)), []).append(n)
    for level in sorted(levels):
        group = levels[level]
        if len(group) >= factor:
            picked, size = [], 0
            for n in group:
                live = entries[n].rows - entries[n].dead
                if size + live > cap and picked:
                    break
                picked.append(n)
                size += live
            if len(picked) > 1:
                return picked
    return []


def _next_generation(index_dir: Path) -> str:
    existing = [int(p.name.split("-")[1]) for p in index_dir.glob("gen-*") if p.name.split("-")[1].isdigit()]
    number = max(existing + [0]) + 1
    return f"gen-{number:06d}"


def _next_segment_number(entries: Sequence[SegmentEntry]) -> int:
    return max([int(e.name.split("-")[1]) for e in entries] + [0]) + 1


def _link_tree(source: Path, target: Path) -> None:
    """Hard-link every file of a folder into a new one (copy where links are unsupported).
    Segment and whoosh files are never modified in place, so sharing inodes is safe."""
    target.mkdir(parents=True)
    for path in source.iterdir():
        if not path.is_file() or path.name.endswith("WRITELOCK"):
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
    state = "索引已是最新，没有变化。" if not report.changed and not report.failed else ""
    return (
        f"{state}新增 {report.added}，更新 {report.updated}，未变 {report.unchanged}，删除 {report.removed}，"
        f"共 {report.total} 条；{report.files} 个文件{failed}；用时 {report.seconds:.1f} 秒"
    )
