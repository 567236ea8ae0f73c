"""BM25F over term-count matrices: the hot path of keyword search.

whoosh scores in Python, posting by posting: at 50k items a common word costs hundreds
of milliseconds. The indexer therefore also keeps, per generation, the analyzer's token
counts for every item (rows in ids.json order, one column per term, one matrix per field);
here they become one sparse matrix of BM25F weights, and a query is a few column sums.
The formula is whoosh's BM25F: idf = ln(N / (df + 1)) + 1 per field, the field boost
multiplying the term frequency before saturation, k1 = 1.2, b = 0.75; a test checks the
ranking against whoosh's own scorer.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

K1 = 1.2
B = 0.75
FIELDS = ("title", "text")
COUNTS_FILE = "counts.npz"
VOCAB_FILE = "vocab.json"


@dataclass
class TermCounts:
    vocab: list[str]
    matrices: dict[str, sparse.csr_matrix]  # field -> rows x terms, int32 counts

    @property
    def rows(self) -> int:
        return next(iter(self.matrices.values())).shape[0]

    def save(self, folder: Path) -> None:
        arrays = {}
        for field, m in self.matrices.items():
            arrays[f"{field}_data"], arrays[f"{field}_indices"], arrays[f"{field}_indptr"] = m.data, m.indices, m.indptr
        with (folder / COUNTS_FILE).open("wb") as fh:
            np.savez(fh, **arrays)
        (folder / VOCAB_FILE).write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "TermCounts":
        vocab = json.loads((folder / VOCAB_FILE).read_text(encoding="utf-8"))
        with np.load(folder / COUNTS_FILE) as arrays:
            matrices = {
                f: sparse.csr_matrix((arrays[f"{f}_data"], arrays[f"{f}_indices"], arrays[f"{f}_indptr"]),
                                     shape=(len(arrays[f"{f}_indptr"]) - 1, len(vocab)))
                for f in FIELDS
            }
        return cls(vocab, matrices)


def update_counts(old: TermCounts | None, keep_rows: Sequence[int],
                  new_rows: Sequence[dict[str, Counter[str]]]) -> TermCounts:
    """Old rows kept (in the given order) followed by the new items' counts; the vocabulary only grows."""
    vocab = list(old.vocab) if old else []
    index = {term: n for n, term in enumerate(vocab)}
    parts: dict[str, list[tuple[list[int], list[int], list[int]]]] = {f: [] for f in FIELDS}
    for field in FIELDS:
        data, indices, indptr = [], [], [0]
        for row in new_rows:
            for term, count in row[field].items():
                col = index.get(term)
                if col is None:
                    col = index[term] = len(vocab)
                    vocab.append(term)
                indices.append(col)
                data.append(count)
            indptr.append(len(indices))
        parts[field].append((data, indices, indptr))
    matrices = {}
    for field in FIELDS:
        data, indices, indptr = parts[field][0]
        new = sparse.csr_matrix((np.asarray(data, dtype=np.int32), np.asarray(indices, dtype=np.int32),
                                 np.asarray(indptr, dtype=np.int64)), shape=(len(new_rows), len(vocab)))
        if old is not None:
            kept = old.matrices[field][np.asarray(keep_rows, dtype=np.int64)] if len(keep_rows) else \
                sparse.csr_matrix((0, len(old.vocab)), dtype=np.int32)
            kept = sparse.csr_matrix((kept.data, kept.indices, kept.indptr), shape=(kept.shape[0], len(vocab)))
            new = sparse.vstack([kept, new], format="csr", dtype=np.int32)
        matrices[field] = new
    return TermCounts(vocab, matrices)


class BM25FScorer:
    def __init__(self, counts: TermCounts, boosts: dict[str, float]) -> None:
        self.index = {term: n for n, term in enumerate(counts.vocab)}
        rows = counts.rows
        total: sparse.csr_matrix | None = None
        present: sparse.csr_matrix | None = None
        for field, tf in counts.matrices.items():
            weights = self._field_weights(tf.astype(np.float32), boosts.get(field, 1.0), rows)
            total = weights if total is None else total + weights
            hit = (tf > 0).astype(np.int8)
            present = hit if present is None else present + hit
        self.weights = total.tocsc() if total is not None else sparse.csc_matrix((rows, 0))
        self.present = present.tocsc() if present is not None else sparse.csc_matrix((rows, 0))
        self.rows = rows

    @staticmethod
    def _field_weights(tf: sparse.csr_matrix, boost: float, n: int) -> sparse.csr_matrix:
        if n == 0 or tf.nnz == 0:
            return sparse.csr_matrix(tf.shape, dtype=np.float32)
        lengths = np.asarray(tf.sum(axis=1)).ravel()
        avg = lengths.mean() or 1.0
        df = np.bincount(tf.indices, minlength=tf.shape[1])
        idf = (np.log(n / (df + 1.0)) + 1.0).astype(np.float32)
        row_of = np.repeat(np.arange(n), np.diff(tf.indptr))
        w = tf.data * boost
        norm = K1 * ((1 - B) + B * lengths[row_of] / avg)
        data = idf[tf.indices] * (w * (K1 + 1)) / (w + norm)
        return sparse.csr_matrix((data.astype(np.float32), tf.indices, tf.indptr), shape=tf.shape)

    def scores(self, terms: Iterable[str]) -> np.ndarray:
        """Summed BM25F score of the terms per row (0 where none occurs)."""
        out = np.zeros(self.rows, dtype=np.float32)
        for term in terms:
            col = self.index.get(term)
            if col is not None:
                start, end = self.weights.indptr[col], self.weights.indptr[col + 1]
                out[self.weights.indices[start:end]] += self.weights.data[start:end]  # rows unique per column
        return out

    def doc_freq(self, term: str) -> int:
        """Items holding the term in any field (the draft check scores only a draft's rarest words)."""
        col = self.index.get(term)
        return 0 if col is None else int(self.present.indptr[col + 1] - self.present.indptr[col])

    def rows_with_all(self, terms: Iterable[str]) -> np.ndarray:
        """Rows containing every term (in any field)."""
        mask = np.ones(self.rows, dtype=bool)
        any_term = False
        for term in terms:
            any_term = True
            col = self.index.get(term)
            hit = np.zeros(self.rows, dtype=bool)
            if col is not None:
                hit[self.present.indices[self.present.indptr[col] : self.present.indptr[col + 1]]] = True
            mask &= hit
        return mask if any_term else np.zeros(self.rows, dtype=bool)
