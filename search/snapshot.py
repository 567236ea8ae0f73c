"""One generation of the index opened for reading: segments, tombstones, whoosh records.

Segment arrays stay memory-mapped; the few per-row columns that filters and facets scan
(kind, date, issue, series, units, live) are concatenated once into process memory (a few
bytes a row). Opening needs no pass over the items: start-up is a handful of file opens,
and a service reopening a new generation reuses the segments it already has open.
"""
from __future__ import annotations

import functools
from collections.abc import Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .background import Background
from .item import KINDS, Item
from .records import WHOOSH_DIR, RecordReader
from .segment import NO_DATE, Segment, code_date, concat_unit_codes, decode_vectors, term_hash
from .store import BACKGROUND, FILES, IndexUnavailable, Manifest, load_deleted, read_json, read_segments


@dataclass
class TermHits:
    """Where a term occurs across segments, rows global."""

    rows: np.ndarray  # int64
    weights: np.ndarray  # float32 saturated BM25F weight
    title_rows: np.ndarray  # int64
    df: int


class Snapshot:
    def __init__(self, index_dir: Path, manifest: Manifest,
                 segment_cache: MutableMapping[str, Segment] | None = None) -> None:
        self.manifest = manifest
        self.gen = index_dir / manifest.generation
        entries = read_segments(self.gen)
        cache = segment_cache if segment_cache is not None else {}
        try:
            self.segments = [cache.get(e.name) or Segment(self.gen / e.name) for e in entries]
            for seg in self.segments:
                cache[seg.name] = seg
            self.records = RecordReader(self.gen / WHOOSH_DIR)
            self.background = Background.from_dict(read_json(self.gen / BACKGROUND))
        except (OSError, ValueError, KeyError) as exc:
            raise IndexUnavailable(f"索引 {self.gen.name} 不完整或已损坏（{exc}）；请用 bulletin index --rebuild 重建") from exc
        if self.records.sizes != [s.rows for s in self.segments]:
            self.records.close()
            raise IndexUnavailable(f"索引 {self.gen.name} 的条目库与段不一致；请用 bulletin index --rebuild 重建")
        self.bases = np.concatenate([[0], np.cumsum([s.rows for s in self.segments])]).astype(np.int64)
        self.size = int(self.bases[-1])  # rows, deleted ones included
        deleted = [load_deleted(self.gen / e.deleted, e.rows) if e.deleted else np.zeros(e.rows, bool) for e in entries]
        self.live = ~np.concatenate(deleted) if deleted else np.zeros(0, bool)
        self.count = int(self.live.sum())
        self._columns()
        self._files: dict | None = None
        self._closed = False

    def _columns(self) -> None:
        segs = self.segments

        def cat(name: str, dtype: type) -> np.ndarray:
            parts = [np.asarray(getattr(s, name)) for s in segs]
            return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)

        self.kind = cat("kind", np.int8)
        self.date = cat("date", np.int32)
        self.issue = cat("issue", np.int32)
        self.series_names = sorted({n for s in segs for n in s.series_names})
        index = {n: i for i, n in enumerate(self.series_names)}
        self.series = np.concatenate([np.array([index[n] for n in s.series_names] + [-1], dtype=np.int32)[np.asarray(s.series)]
                                      for s in segs]) if segs else np.zeros(0, np.int32)
        self.unit_names = sorted({n for s in segs for n in s.unit_names})
        self.unit_index = {n: i for i, n in enumerate(self.unit_names)}
        self.unit_indptr, self.unit_codes = concat_unit_codes(segs, self.unit_index)
        self.unit_rows = np.repeat(np.arange(self.size, dtype=np.int64), np.diff(self.unit_indptr))
        self.no_unit = np.diff(self.unit_indptr) == 0  # rows without a reporting unit
        m = self.background.mean
        self.generic = np.concatenate([_generic(s, m) for s in segs]) - self.background.generic_offset \
            if segs else np.zeros(0, np.float32)

    @functools.cached_property
    def month_index(self) -> tuple[int, int, np.ndarray]:
        """(first month, number of months, per row its month's index — `number of months` when
        undated): facets count months and years with one bincount instead of converting and
        sorting every matching date. Months count from 1970-01 (numpy's datetime64[M])."""
        dated = self.date != NO_DATE
        months = self.date[dated].astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        low = int(months.min()) if len(months) else 0
        span = int(months.max()) - low + 1 if len(months) else 0
        index = np.full(self.size, span, dtype=np.intp)
        index[dated] = months - low
        return low, span, index

    @functools.cached_property
    def month_kind(self) -> np.ndarray:
        """Per row one code for its (month index, kind) pair: facets count months and kinds with
        one bincount, then sum along either axis."""
        return self.month_index[2] * len(KINDS) + self.kind.astype(np.intp)

    @functools.cached_property
    def live_rows(self) -> np.ndarray:
        """The live rows' numbers (every semantic query's feedback ranks among them)."""
        return np.flatnonzero(self.live)

    @functools.cached_property
    def unit_codes_wide(self) -> np.ndarray:
        """unit_codes as numpy's index type, which bincount wants (no conversion every query)."""
        return self.unit_codes.astype(np.intp)

    # ---------------------------------------------------------------- lookups
    def locate(self, row: int) -> tuple[Segment, int, int]:
        k = int(np.searchsorted(self.bases, row, side="right")) - 1
        return self.segments[k], k, row - int(self.bases[k])

    def row_of_id(self, item_id: str) -> int | None:
        for k, seg in enumerate(self.segments):
            row = seg.row_of_id(item_id)
            if row >= 0 and self.live[self.bases[k] + row]:
                return int(self.bases[k] + row)
        return None

    def item(self, row: int) -> Item:
        _seg, k, local = self.locate(row)
        return self.records.item(k, local)

    def item_id(self, row: int) -> str:
        seg, _k, local = self.locate(row)
        return seg.ids[local].decode("ascii")

    def term(self, term: str) -> TermHits:
        h = term_hash(term)
        found = []
        for k, seg in enumerate(self.segments):
            col = seg.column(h)
            if col >= 0:
                found.append((int(self.bases[k]), *seg.postings(col), seg.title_postings(col)))
        if not found:
            empty = np.zeros(0, np.int64)
            return TermHits(empty, np.zeros(0, np.float32), empty, 0)
        # One output array each, filled segment by segment (no per-segment copies to concatenate).
        rows = np.empty(sum(len(r) for _b, r, _w, _t in found), dtype=np.int64)
        titles = np.empty(sum(len(t) for _b, _r, _w, t in found), dtype=np.int64)
        weights = np.concatenate([w for _b, _r, w, _t in found])
        at = tat = 0
        for base, r, _w, t in found:
            np.add(r, base, out=rows[at : at + len(r)], dtype=np.int64)
            np.add(t, base, out=titles[tat : tat + len(t)], dtype=np.int64)
            at += len(r)
            tat += len(t)
        return TermHits(rows, np.asarray(weights), titles, len(rows))

    def df(self, term: str) -> int:
        """How many rows hold a term (deleted ones too, as `term(...).df`), from the postings'
        offsets: IDF and a draft's rarest words need no posting list."""
        h = term_hash(term)
        return sum(seg.doc_count(col) for seg in self.segments if (col := seg.column(h)) >= 0)

    def dfs(self, terms: Sequence[str]) -> np.ndarray:
        """`df` of several terms, each segment's term column searched once for all of them: an
        item's hundred words took 7 ms one by one at a million items (27 µs a word), 0.15 ms so
        (a single term is faster through `df`)."""
        keys = np.array([term_hash(t) for t in terms], dtype=np.uint64)
        out = np.zeros(len(keys), dtype=np.int64)
        for seg in self.segments:
            if not len(seg.terms):
                continue
            cols = np.minimum(np.searchsorted(seg.terms, keys), len(seg.terms) - 1)
            held = seg.terms[cols] == keys
            found = cols[held]
            out[held] += seg.post_indptr[found + 1] - seg.post_indptr[found]
        return out

    def vectors_of(self, rows: np.ndarray) -> np.ndarray:
        """float32 vectors of some rows (a gather from the memory maps)."""
        out = np.zeros((len(rows), self.manifest.dim), dtype=np.float32)
        for k, seg in enumerate(self.segments):
            inside = (rows >= self.bases[k]) & (rows < self.bases[k + 1])
            if inside.any():
                out[inside] = decode_vectors(seg.vectors[rows[inside] - self.bases[k]])
        return out

    def passages_of(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """(vectors, spans) of one row's passages."""
        seg, _k, local = self.locate(row)
        a, b = seg.passage_rows(local)
        return decode_vectors(seg.passages[a:b]), np.asarray(seg.passage_spans[a:b])

    def titles_and_dates(self) -> tuple[list[str], list[str | None]]:
        """Titles and dates of the live rows (for search-as-you-type)."""
        titles: list[str] = []
        for seg in self.segments:
            titles += seg.titles(self.gen / seg.name)
        live = np.flatnonzero(self.live)
        return [titles[r] for r in live], [code_date(int(d)) for d in self.date[live]]

    @property
    def files(self) -> dict:
        if self._files is None:
            self._files = read_json(self.gen / FILES, {})
        return self._files

    def iter_items(self) -> Iterator[tuple[int, Item]]:
        """Every live item with its row (reads all records: for tools and tests, not for queries)."""
        for row in np.flatnonzero(self.live):
            yield int(row), self.item(int(row))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.records.close()


def _generic(seg: Segment, mean: np.ndarray) -> np.ndarray:
    """How close each row is to the background mean (cached on the segment: it is reused
    across generations)."""
    key = mean.tobytes()
    cached = getattr(seg, "_generic", None)
    if cached is None or cached[0] != key:
        values = np.zeros(seg.rows, dtype=np.float32)
        for start in range(0, seg.rows, 65536):
            values[start : start + 65536] = decode_vectors(seg.vectors[start : start + 65536]) @ mean
        seg._generic = (key, values)  # type: ignore[attr-defined]
        cached = seg._generic  # type: ignore[attr-defined]
    return cached[1]
