"""Hybrid ranking: the calibrated evidence model (search/relevance.py) is the default; reciprocal
rank fusion and a convex combination of normalised scores remain as options
(search.fusion = "rrf" | "weighted"), measured against it in README.

With the two options the match set is the union of what keyword mode and semantic mode
match on their own; only the order differs.
"""
from __future__ import annotations

import numpy as np

from .parallel import PASS_ROWS, SERIAL, Splitter


def rrf(keyword: np.ndarray, semantic: np.ndarray, candidates: np.ndarray, k: int, depth: int) -> np.ndarray:
    """Σ 1 / (k + rank) over the two rankings, each cut at `depth` (rows beyond add nothing)."""
    out = np.zeros(len(keyword), dtype=np.float64)
    for scores in (keyword, semantic):
        ranked = ranked_rows(candidates, scores, depth)
        out[ranked] += 1.0 / (k + np.arange(1, len(ranked) + 1))
    return out


def weighted(keyword: np.ndarray, semantic: np.ndarray, candidates: np.ndarray, ratio: float) -> np.ndarray:
    """(1 − ratio) × keyword + ratio × semantic, each min-max normalised over the candidates."""
    return (1 - ratio) * _minmax(keyword, candidates) + ratio * _minmax(semantic, candidates)


def _minmax(scores: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    out = np.zeros(len(scores), dtype=np.float64)
    values = scores[candidates].astype(np.float64)
    if len(values):
        low, high = float(values.min()), float(values.max())
        out[candidates] = (values - low) / (high - low) if high > low else 1.0
    return out


def ranked_rows(rows: np.ndarray, scores: np.ndarray, limit: int | None = None, split: Splitter = SERIAL) -> np.ndarray:
    """rows by score descending, ties by row (stable, so pages never overlap); with `limit`, only
    the first `limit` of that order, found without sorting every row (a page of a large match set):
    the first of each span of `split`, then the first of those."""
    if limit is not None and limit < len(rows):
        count = max(limit, 0)
        spans = split.spans(len(rows), PASS_ROWS)
        if len(spans) > 1:
            rows = np.concatenate(split.run([lambda lo=lo, hi=hi: first_rows(rows[lo:hi], -scores[rows[lo:hi]], min(count, hi - lo))
                                             for lo, hi in spans]))
        rows = first_rows(rows, -scores[rows], count)
    return rows[np.lexsort((rows, -scores[rows]))]


def first_rows(rows: np.ndarray, keys: np.ndarray, count: int) -> np.ndarray:
    """The `count` rows that come first in the order (key, row), unordered: those with a key
    below the count-th smallest, then as many of the rows tied with it as fit, smallest first."""
    if count == 0:
        return rows[:0]
    kth = np.partition(keys, count - 1)[count - 1]
    better = np.flatnonzero(keys < kth)
    tied = np.flatnonzero(keys == kth)
    tied = tied[np.argsort(rows[tied], kind="stable")[: count - len(better)]]
    return rows[np.concatenate([better, tied])]
