"""Semantic evidence: cosines of query vectors with every item, and with the best passage.

The item scan is one matrix product per segment over the memory-mapped vectors (float32,
float16 or int8, embedding.vector_dtype); it is the only pass over every row. Passage cosines
are computed for the items worth it: the best `relevance.passage_candidates` items by item
cosine, their passages gathered. Long items (at least `relevance.long_item_passages`
passages) have their passages stored first in each segment, so that
`relevance.scan_long_items` can check them all on every query as one contiguous slice; it is
off, since at 100k items it doubled a query's work and changed neither the first 20 results
nor a match set (README "Relevance").
"""
from __future__ import annotations

import numpy as np

from .segment import INT8_SCALE, Segment
from .snapshot import Snapshot

SCAN_CHUNK = 2048  # rows converted at a time when the stored type is not float32 (3 MB as float32)
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
    float16 and int8 rows are converted a small block at a time into one reused float32 buffer,
    which stays in the CPU cache for the product (converting large blocks costs a pass through
    memory of four bytes a component, as much as scanning float32 vectors)."""
    q = np.ascontiguousarray(queries.T, dtype=np.float32)
    if vectors.dtype == np.float32:
        return np.asarray(vectors @ q)
    out = np.empty((len(vectors), q.shape[1]), dtype=np.float32)
    buffer = np.empty((min(SCAN_CHUNK, len(vectors)), vectors.shape[1]), dtype=np.float32)
    for start in range(0, len(vectors), SCAN_CHUNK):
        block = buffer[: min(SCAN_CHUNK, len(vectors) - start)]
        np.copyto(block, vectors[start : start + len(block)], casting="unsafe")
        np.matmul(block, q, out=out[start : start + len(block)])
    if vectors.dtype == np.int8:
        out *= 1.0 / INT8_SCALE
    return out


def item_cosines(snapshot: Snapshot, queries: np.ndarray) -> np.ndarray:
    """(rows, k) cosines over all segments."""
    if snapshot.size == 0:
        return np.zeros((0, len(queries)), dtype=np.float32)
    return np.concatenate([scan(seg.vectors, queries) for seg in snapshot.segments])


def best_passages(snapshot: Snapshot, queries: np.ndarray, item_cos: np.ndarray, candidates: int,
                  scan_long: bool = False) -> np.ndarray:
    """(rows, k) cosine of each row's best passage; rows not examined keep their item cosine.
    (The item vector, a mean, usually sits closer to a query than any one passage does.)"""
    best = item_cos.copy()
    if snapshot.size == 0:
        return best
    top = _top_rows(item_cos, candidates)
    examined = np.zeros(len(best), dtype=bool)
    examined[top] = True
    if scan_long:
        for k, seg in enumerate(snapshot.segments):
            if seg.meta.get("long_passages", 0):
                examined[int(snapshot.bases[k]) + np.asarray(seg.long_owner)] = True
    best[examined] = -1.0
    for k, seg in enumerate(snapshot.segments):
        base = int(snapshot.bases[k])
        n_long = int(seg.meta.get("long_passages", 0)) if scan_long else 0
        if n_long:
            scores = scan(seg.passages[:n_long], queries)
            starts, owners = seg.long_runs
            rows = base + owners
            best[rows] = np.maximum(best[rows], np.maximum.reduceat(scores, starts, axis=0))
        local = top[(top >= base) & (top < base + seg.rows)] - base
        local = local[np.asarray(seg.passage_start[local]) >= n_long] if n_long else local  # long rows done
        if len(local):
            idx, owners = _passage_index(seg, local)
            scores = scan(seg.passages[idx], queries)
            _max_by_owner(best, base, owners, scores)
    return best


def _top_rows(item_cos: np.ndarray, count: int) -> np.ndarray:
    """Rows among the best `count` by item cosine for any of the queries."""
    rows = item_cos.shape[0]
    if rows <= count:
        return np.arange(rows, dtype=np.int64)
    picked = [np.argpartition(-item_cos[:, j], count - 1)[:count] for j in range(item_cos.shape[1])]
    return np.unique(np.concatenate(picked)).astype(np.int64)


def _passage_index(seg: Segment, local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    starts = np.asarray(seg.passage_start[local], dtype=np.int64)
    counts = np.asarray(seg.passage_count[local], dtype=np.int64)
    owners = np.repeat(local, counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(starts, counts) + offsets, owners


def _max_by_owner(best: np.ndarray, base: int, owners: np.ndarray, scores: np.ndarray) -> None:
    """best[base + owner] = max(best, max of the owner's passage scores); owners come in runs."""
    if not len(owners):
        return
    starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
    maxima = np.maximum.reduceat(scores, starts, axis=0)
    rows = base + owners[starts]
    best[rows] = np.maximum(best[rows], maxima)


def rescore(snapshot: Snapshot, queries: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Item and best-passage cosines of some rows only (sorted, unique), (len(rows), k) each:
    the second pass of pseudo-relevance feedback re-scores the plausible matches, not the corpus."""
    k = queries.shape[0]
    items = np.zeros((len(rows), k), dtype=np.float32)
    best = np.full((len(rows), k), -1.0, dtype=np.float32)
    for s, seg in enumerate(snapshot.segments):
        base = int(snapshot.bases[s])
        lo, hi = np.searchsorted(rows, [base, base + seg.rows])
        if lo == hi:
            continue
        local = rows[lo:hi] - base
        if len(local) > DENSE_SHARE * seg.rows:  # most of the segment: read it in order
            items[lo:hi] = scan(seg.vectors, queries)[local]
            starts, owners = seg.passage_runs
            per_row = np.full((seg.rows, k), -1.0, dtype=np.float32)
            if len(starts):
                per_row[owners] = np.maximum.reduceat(scan(seg.passages, queries), starts, axis=0)
            best[lo:hi] = per_row[local]
            continue
        items[lo:hi] = scan(seg.vectors[local], queries)
        idx, owners = _passage_index(seg, local)
        scores = scan(seg.passages[idx], queries)
        starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]]) if len(owners) else np.zeros(0, int)
        if len(starts):
            maxima = np.maximum.reduceat(scores, starts, axis=0)
            positions = lo + np.searchsorted(local, owners[starts])
            best[positions] = maxima
    return items, best
