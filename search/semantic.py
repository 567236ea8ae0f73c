"""Semantic evidence: cosines of query vectors with every item, and with the best passage.

The item scan is one matrix product per segment over the memory-mapped vectors (float32,
float16 or int8, embedding.vector_dtype); it is the only pass over every row. In a large archive
(relevance.sketch_min_rows) it is two-staged: the pass over every row reads the segments'
sketches (a quarter of the vectors' size, segment.Sketch), and only the best
`relevance.sketch_candidates` rows by the estimate are scored on their full vectors. Passage cosines
are computed for the items worth it: the best `relevance.passage_candidates` items by item
cosine, their passages gathered. Long items (at least `relevance.long_item_passages`
passages) have their passages stored first in each segment, so that
`relevance.scan_long_items` can check them all on every query as one contiguous slice; it is
off, since at 100k items it doubled a query's work without bringing the first 20 results closer
to a reading of every passage (README "Relevance").
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from . import segment
from .fusion import first_rows
from .parallel import PASS_ROWS, SERIAL, VECTOR_ROWS, Splitter
from .segment import SCALES, Segment
from .snapshot import Snapshot

DENSE_SHARE = 0.25  # re-scoring more than this share of a segment's rows scans it whole, in order,
# rather than gathering the rows one by one (a gather costs several times a sequential read)


def limit_blas_threads(threads: int = 1) -> None:
    """Let BLAS use one thread per product in this process (a server: concurrent requests take
    the other core). The scans are memory-bound, so a second thread buys little on two cores, and
    OpenBLAS's threads meeting on every call cost far more than they save when the machine is
    busy: the block-wise int8 scan took fifteen times longer with two threads under load."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # threadpoolctl comes with sentence-transformers (scikit-learn)
        return
    threadpool_limits(threads, user_api="blas")


def scan(vectors: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """(rows, k) float32 cosines of stored vectors with k float32 query vectors (unit length).
    float16 and integer rows are converted a small block at a time into one reused float32 buffer,
    which stays in the CPU cache for the product (converting large blocks costs a pass through
    memory of four bytes a component, as much as scanning float32 vectors)."""
    q = np.ascontiguousarray(queries.T, dtype=np.float32)
    if vectors.dtype == np.float32:
        return segment.product(vectors, q)
    chunk = segment.SCAN_CHUNK
    out = np.empty((len(vectors), q.shape[1]), dtype=np.float32)
    buffer = np.empty((min(chunk, len(vectors)), vectors.shape[1]), dtype=np.float32)
    for start in range(0, len(vectors), chunk):
        block = buffer[: min(chunk, len(vectors) - start)]
        np.copyto(block, vectors[start : start + len(block)], casting="unsafe")
        np.matmul(block, q, out=out[start : start + len(block)])
    if vectors.dtype in SCALES:
        out *= 1.0 / SCALES[vectors.dtype]
    return out


@dataclass(frozen=True)
class TwoStage:
    """When and how the item scan is two-staged (config.toml relevance.sketch_*)."""

    min_rows: int
    candidates: int
    dims: int  # directions of a sketch computed in memory for a segment stored without one

    @classmethod
    def from_settings(cls, settings) -> "TwoStage":  # noqa: ANN001 (search.config.Settings)
        return cls(settings.relevance.sketch_min_rows, settings.relevance.sketch_candidates, settings.embedding.sketch_dims)

    def applies(self, rows: int) -> bool:
        return self.dims > 0 and rows >= self.min_rows and rows > self.candidates


def item_cosines(snapshot: Snapshot, queries: np.ndarray, two_stage: TwoStage | None = None,
                 split: Splitter = SERIAL) -> np.ndarray:
    """(rows, k) cosines over all segments: exact, or (two-staged) exact for the best candidates
    by the sketches' estimate and the estimate for the others. The estimate is not capped at the
    lowest exact cosine, as unread passages are (_unexamined): it is unbiased, and the candidates
    picked for a high estimate include rows whose exact cosine is far lower (at a million rows
    the lowest sat below the median row), so such a cap would drop most of a broad match set."""
    return scored(snapshot, queries, two_stage, split)[0]


def scored(snapshot: Snapshot, queries: np.ndarray, two_stage: TwoStage | None = None,
           split: Splitter = SERIAL) -> tuple[np.ndarray, np.ndarray | None]:
    """item_cosines, and the rows scored exactly (sorted; None: every row)."""
    if snapshot.size == 0:
        return np.zeros((0, len(queries)), dtype=np.float32), None
    if two_stage is None or not two_stage.applies(snapshot.size):
        return _every_row(snapshot, split, lambda seg, lo, hi: scan(seg.vectors[lo:hi], queries)), None
    estimates = _every_row(snapshot, split, lambda seg, lo, hi: seg.sketch(two_stage.dims).estimate(queries, lo, hi))
    top = _top_rows(estimates, two_stage.candidates, split)
    estimates[top] = exact_cosines(snapshot, queries, top, split)
    return estimates, top


def _every_row(snapshot: Snapshot, split: Splitter, read: Callable[[Segment, int, int], np.ndarray]) -> np.ndarray:
    """read(segment, lo, hi) (local rows) over every row, in row order, the rows split by `split`
    at a multiple of SCAN_CHUNK rows within a segment. BLAS sums a last block of fewer rows in
    another order than a full one, and the converting scans go SCAN_CHUNK rows at a time, so
    any other split point changes a few cosines in the last bit, and a near tie's order with it."""
    bases = snapshot.bases

    def align(row: int) -> int:
        base = int(bases[np.searchsorted(bases, row, side="right") - 1])
        return base + (row - base) // segment.SCAN_CHUNK * segment.SCAN_CHUNK

    def span(lo: int, hi: int) -> np.ndarray:
        pieces = []
        for k, seg in enumerate(snapshot.segments):
            base = int(snapshot.bases[k])
            a, b = max(lo - base, 0), min(hi - base, seg.rows)
            if a < b:
                pieces.append(read(seg, a, b))
        return np.concatenate(pieces)
    return np.concatenate(split.over_rows(snapshot.size, VECTOR_ROWS, span, align))


def _split_rows(snapshot: Snapshot, rows: np.ndarray, split: Splitter,
                work: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """work(part of rows) for consecutive parts of some rows (sorted), stacked in order, split
    between segments only: a segment's rows are gathered, or its array scanned (_gathered), as
    they would be unsplit, so every value is the same bit for bit."""
    bases = snapshot.bases

    def align(position: int) -> int:  # the first of the rows in the segment holding rows[position]
        base = bases[np.searchsorted(bases, rows[position], side="right") - 1]
        return int(np.searchsorted(rows, base))
    return np.concatenate(split.over_rows(len(rows), VECTOR_ROWS, lambda lo, hi: work(rows[lo:hi]), align))


def exact_cosines(snapshot: Snapshot, queries: np.ndarray, rows: np.ndarray, split: Splitter = SERIAL) -> np.ndarray:
    """(len(rows), k) cosines of some rows (sorted, unique) from their full vectors."""
    def part(some: np.ndarray) -> np.ndarray:
        out = np.zeros((len(some), queries.shape[0]), dtype=np.float32)
        for seg, lo, hi, local in _per_segment(snapshot, some):
            out[lo:hi] = _gathered(seg.vectors, local, queries)
        return out
    return _split_rows(snapshot, rows, split, part)


def best_passages(snapshot: Snapshot, queries: np.ndarray, item_cos: np.ndarray, candidates: int,
                  scan_long: bool = False, split: Splitter = SERIAL) -> np.ndarray:
    """(rows, k) cosine of each row's best passage, read for the best `candidates` rows by item
    cosine (see _unexamined for the others)."""
    if snapshot.size == 0:
        return item_cos.copy()
    top = _top_rows(item_cos, candidates, split)
    best = _unexamined(item_cos, top, passage_maxima(snapshot, queries, top, split))
    for k, seg in enumerate(snapshot.segments) if scan_long else ():
        n_long = int(seg.meta.get("long_passages", 0))
        if n_long:
            starts, owners = seg.long_runs
            best[int(snapshot.bases[k]) + owners] = np.maximum.reduceat(scan(seg.passages[:n_long], queries), starts, axis=0)
    return best


def _top_rows(item_cos: np.ndarray, count: int, split: Splitter = SERIAL) -> np.ndarray:
    """Rows among the best `count` by item cosine for any of the queries, ties broken by row
    (picked within each span of rows, then among those: the same rows however they are split)."""
    rows = item_cos.shape[0]
    if rows <= count:
        return np.arange(rows, dtype=np.int64)

    def best_in(lo: int, hi: int) -> np.ndarray:
        if hi - lo <= count:
            return np.arange(lo, hi, dtype=np.int64)
        span = np.arange(lo, hi, dtype=np.int64)
        picked = [first_rows(span, -item_cos[lo:hi, j], count) for j in range(item_cos.shape[1])]
        return np.sort(picked[0]) if len(picked) == 1 else np.unique(np.concatenate(picked))  # sort: 4x faster

    spans = split.over_rows(rows, PASS_ROWS, best_in)
    if len(spans) == 1:
        return spans[0]
    pool = np.concatenate(spans)  # sorted: the spans are in row order
    return pool[_top_rows(item_cos[pool], count)]


def _passage_index(seg: Segment, local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    starts = np.asarray(seg.passage_start[local], dtype=np.int64)
    counts = np.asarray(seg.passage_count[local], dtype=np.int64)
    owners = np.repeat(local, counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(starts, counts) + offsets, owners


def _gathered(array: np.ndarray, idx: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Cosines of some rows (sorted) of one stored array: gathered one by one, or, for more than
    DENSE_SHARE of the rows, the whole array read in order (a gather costs several times a
    sequential read per row)."""
    if len(idx) > DENSE_SHARE * len(array):
        return scan(array, queries)[idx]
    return scan(array[idx], queries)


def _per_segment(snapshot: Snapshot, rows: np.ndarray) -> Iterator[tuple[Segment, int, int, np.ndarray]]:
    """(segment, lo, hi, local rows) for each segment holding some of the rows (sorted):
    rows[lo:hi] are its rows, local their numbers within it."""
    for s, seg in enumerate(snapshot.segments):
        base = int(snapshot.bases[s])
        lo, hi = np.searchsorted(rows, [base, base + seg.rows])
        if lo < hi:
            yield seg, int(lo), int(hi), rows[lo:hi] - base


def passage_maxima(snapshot: Snapshot, queries: np.ndarray, rows: np.ndarray, split: Splitter = SERIAL) -> np.ndarray:
    """(len(rows), k) cosine of the best passage of each of some rows (sorted, unique)."""
    def part(some: np.ndarray) -> np.ndarray:
        best = np.full((len(some), queries.shape[0]), -1.0, dtype=np.float32)
        for seg, lo, _hi, local in _per_segment(snapshot, some):
            idx, owners = _passage_index(seg, local)
            scores = _gathered(seg.passages, idx, queries)
            starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
            best[lo + np.searchsorted(local, owners[starts])] = np.maximum.reduceat(scores, starts, axis=0)
        return best
    return _split_rows(snapshot, rows, split, part)


def rescore(snapshot: Snapshot, queries: np.ndarray, rows: np.ndarray, candidates: int,
            split: Splitter = SERIAL) -> tuple[np.ndarray, np.ndarray]:
    """Item and best-passage cosines of some rows only (sorted, unique), (len(rows), k) each, as
    the first pass measures them (passages read for the best `candidates` by item cosine): the
    second pass of pseudo-relevance feedback scores the plausible matches again, not the corpus."""
    items = exact_cosines(snapshot, queries, rows, split)
    top = _top_rows(items, candidates)
    return items, _unexamined(items, top, passage_maxima(snapshot, queries, rows[top], split))


def _unexamined(item_cos: np.ndarray, top: np.ndarray, maxima: np.ndarray) -> np.ndarray:
    """Best-passage cosines: measured for the rows `top`, and for the others (lower by item
    cosine, their passages not read) their item cosine, but never above the lowest measured
    one. The item vector, a mean, usually sits closer to a query than any one passage does, so
    an unread row left at its item cosine would outrank the rows whose passages were read."""
    best = item_cos.copy()
    if len(top) < len(best) and len(top):
        np.minimum(best, maxima.min(axis=0), out=best)
    best[top] = maxima
    return best
